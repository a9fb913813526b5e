#!/usr/bin/env bash
# Checks the deployment files with the real tools where they are installed:
#   promtool (Debian: apt-get install prometheus)  rule syntax, rule unit tests, scrape config
#   kubectl                                         kustomize build of deploy/k8s
# test/deploy.e2e-spec.ts checks the rest (metric names against a running service, probes,
# ConfigMap against .env.example) and needs neither tool.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v promtool >/dev/null; then
  promtool check rules deploy/prometheus/alerts.yml
  (cd deploy/prometheus && promtool test rules alerts.test.yml)
  # prometheus-kubernetes.yml is left out: Debian's promtool is built without Kubernetes
  # service discovery and rejects kubernetes_sd_configs.
  promtool check config deploy/prometheus/prometheus.yml
else
  echo "check-deploy: promtool not found, Prometheus files not checked"
fi

if command -v kubectl >/dev/null; then
  kubectl kustomize deploy/k8s >/dev/null
  echo "check-deploy: kubectl kustomize deploy/k8s builds"
else
  echo "check-deploy: kubectl not found, kustomization not built"
fi
