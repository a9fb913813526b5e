import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { parseConfig } from '../src/config/app-config';
import { productEvent } from './support/events';
import { parsePrometheusText } from './support/prometheus-text';
import { request } from './support/service-http';
import { type RunningService, TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/**
 * Metrics the deployment files may name although the service does not export them yet: the
 * only tolerance of this file. A name listed here that /metrics does export fails the test, so
 * the list empties itself as the service catches up.
 */
const NOT_YET_EXPORTED: readonly string[] = [];

/** Labels Prometheus adds to every series of a target (prometheus-kubernetes.yml adds two). */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod']);

/** Label values fixed by contract section 6; a matcher on these labels must use them. */
const CONTRACT_VALUES: Readonly<Record<string, readonly string[]>> = {
  outcome: ['applied', 'duplicate', 'stale', 'invalid', 'failed'],
  result: ['hit', 'miss', 'error'],
  state: ['in_use', 'idle', 'waiting'],
};

/** Secrets: never in the ConfigMap, mounted as files from the Secret. */
const SECRETS = ['DB_PASSWORD', 'REDIS_PASSWORD', 'KAFKA_SASL_PASSWORD'] as const;

const JOB = 'cms-sync';
const ROOT = join(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');

// ------------------------------------------------------------------ reading the files

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function yamlDocs(path: string): unknown[] {
  return loadAll(read(path)).filter((doc) => doc !== null && doc !== undefined);
}

function yamlDoc<T>(path: string): T {
  return load(read(path)) as T;
}

function jsonDoc<T>(path: string): T {
  return JSON.parse(read(path)) as T;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((file) => relative(ROOT, join(dir, file)))
    .sort();
}

/** Keys of .env.example, commented-out ones left out: the variables the service reads. */
function envExampleKeys(): Set<string> {
  return new Set(
    [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''),
  );
}

interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface DashboardTarget {
  expr?: string;
  refId: string;
  datasource?: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: DashboardTarget[];
}

interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

interface Probe {
  httpGet: { path: string; port: string | number };
}

interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}

interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes: {
          name: string;
          secret?: { secretName: string; items: { key: string; path: string }[] };
        }[];
      };
    };
  };
}

interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}

interface Secret extends K8sObject {
  stringData: Record<string, string>;
}

interface Service extends K8sObject {
  spec: {
    type: string;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}

interface PodDisruptionBudget extends K8sObject {
  spec: {
    maxUnavailable?: number;
    minAvailable?: number;
    selector: { matchLabels: Record<string, string> };
  };
}

interface ScrapeConfigFile {
  rule_files: string[];
  scrape_configs: { job_name: string }[];
}

// ------------------------------------------------------------------ PromQL

interface Selector {
  readonly metric: string;
  readonly matchers: readonly { label: string; op: string; value: string }[];
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  // Aggregations whose "by (...)" clause comes first; the clause is removed before this.
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);
const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
const TOKEN =
  /"(?:[^"\\]|\\.)*"|\d[\w.]*|([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?|\{[^}]*\}/g;

/**
 * The series selectors of a PromQL expression (a small tokenizer, enough for our files): names
 * that are neither functions, keywords, durations nor labels of by/on clauses, with matchers.
 */
function selectorsOf(expr: string): Selector[] {
  const text = expr
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const selectors: Selector[] = [];
  for (const token of text.matchAll(TOKEN)) {
    const [whole, name, braces, call] = token;
    if (name === undefined) {
      if (whole.startsWith('{')) throw new Error(`selector without a metric name in: ${expr}`);
      continue;
    }
    if (call !== undefined || PROMQL_KEYWORDS.has(name)) continue;
    const matchers = [...(braces ?? '').matchAll(MATCHER)].map((m) => ({
      label: m[1] ?? '',
      op: m[2] ?? '',
      value: m[3] ?? '',
    }));
    selectors.push({ metric: name, matchers });
  }
  return selectors;
}

/** Labels named in by/without/on/ignoring/group_x clauses. */
function groupingLabelsOf(expr: string): string[] {
  return [
    ...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g),
  ].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((label) => label.trim())
      .filter((label) => label !== ''),
  );
}

// ------------------------------------------------------------------ what the service exports

interface Exported {
  /** Every sample name a query may use: families from # TYPE plus histogram suffixes. */
  readonly names: Set<string>;
  /** Label names seen on each sample name. */
  readonly labels: Map<string, Set<string>>;
  /** Metric families (as in # TYPE lines). */
  readonly families: Set<string>;
}

function exportedFrom(text: string): Exported {
  const names = new Set<string>();
  const families = new Set<string>();
  for (const [, family, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (family === undefined) continue;
    families.add(family);
    names.add(family);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family + suffix);
  }
  const labels = new Map<string, Set<string>>();
  for (const sample of parsePrometheusText(text)) {
    const seen = labels.get(sample.name) ?? new Set<string>();
    for (const label of Object.keys(sample.labels)) seen.add(label);
    labels.set(sample.name, seen);
  }
  return { names, labels, families };
}

/** Every PromQL expression of the shipped files, with where it comes from. */
function shippedExpressions(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  const rules = yamlDoc<RuleFile>('deploy/prometheus/alerts.yml');
  for (const group of rules.groups)
    for (const rule of group.rules)
      found.push({ where: `alerts.yml ${rule.alert ?? rule.record}`, expr: rule.expr });
  const dashboard = jsonDoc<Dashboard>('deploy/grafana/cms-sync.json');
  for (const panel of dashboard.panels)
    for (const target of panel.targets ?? [])
      if (target.expr !== undefined)
        found.push({ where: `dashboard "${panel.title}" ${target.refId}`, expr: target.expr });
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const labelValues = /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/.exec(query);
    // label_values(selector, label): the selector is PromQL, the label must exist on it.
    const expr = labelValues ? `${labelValues[1]} and on (${labelValues[2]}) vector(1)` : query;
    found.push({ where: `dashboard variable $${variable.name}`, expr });
  }
  return found;
}

// ------------------------------------------------------------------ the tests

describe('deployment files (deploy/)', () => {
  it('every YAML file parses, documents included, and the dashboard is JSON', () => {
    const files = filesUnder(DEPLOY);
    const yamlFiles = files.filter((file) => /\.ya?ml$/.test(file));
    expect(yamlFiles).toEqual(
      expect.arrayContaining([
        'deploy/prometheus/alerts.yml',
        'deploy/prometheus/prometheus.yml',
        'deploy/k8s/deployment.yaml',
        'deploy/k8s/kustomization.yaml',
      ]),
    );
    // loadAll throws on the first syntax error, naming the line.
    for (const file of yamlFiles)
      expect({ file, parsed: yamlDocs(file).length > 0 }).toEqual({ file, parsed: true });
    const jsonFiles = files.filter((file) => file.endsWith('.json'));
    expect(jsonFiles).toEqual(['deploy/grafana/cms-sync.json']);
    for (const file of jsonFiles) expect(() => jsonDoc(file)).not.toThrow();
  });

  it('the PromQL tokenizer finds metric names and matchers, and nothing else', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le, entity) (rate(a_bucket{job="x", le!="1"}[5m]))) > 0.5' +
      ' and on (job) deriv(sum(max by (topic) (b))[10m:1m]) > 0 or absent(up{job=~"$job"})' +
      ' unless c offset 10m or vector(0)';
    expect(selectorsOf(expr)).toEqual([
      {
        metric: 'a_bucket',
        matchers: [
          { label: 'job', op: '=', value: 'x' },
          { label: 'le', op: '!=', value: '1' },
        ],
      },
      { metric: 'b', matchers: [] },
      { metric: 'up', matchers: [{ label: 'job', op: '=~', value: '$job' }] },
      { metric: 'c', matchers: [] },
    ]);
    expect(groupingLabelsOf(expr)).toEqual(['le', 'entity', 'job', 'topic']);
  });

  describe('Prometheus rules and scrape configs', () => {
    const rules = yamlDoc<RuleFile>('deploy/prometheus/alerts.yml').groups.flatMap((g) => g.rules);

    it('has the alerts operators need, each with a severity, summary, description and runbook', () => {
      const names = rules.map((rule) => rule.alert);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(
        expect.arrayContaining([
          'CmsSyncDown',
          'CmsSyncAbsent',
          'CmsSyncConsumerLagGrowing',
          'CmsSyncDeadLetters',
          'CmsSyncDbPoolSaturated',
          'CmsSyncRedisCircuitOpen',
          'CmsSyncEventDurationHigh',
          'CmsSyncFailedAttempts',
        ]),
      );
      for (const rule of rules) {
        expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
          alert: rule.alert,
          severity: expect.stringMatching(/^(critical|warning)$/),
        });
        for (const key of ['summary', 'description', 'runbook'])
          expect({ alert: rule.alert, key, text: rule.annotations?.[key]?.trim() ?? '' }).toEqual({
            alert: rule.alert,
            key,
            text: expect.stringMatching(/\S{3}/),
          });
      }
    });

    it('every selector of every rule is scoped to the scrape job both scrape configs name', () => {
      for (const file of ['prometheus.yml', 'prometheus-kubernetes.yml']) {
        const config = yamlDoc<ScrapeConfigFile>(`deploy/prometheus/${file}`);
        expect({ file, rules: config.rule_files }).toEqual({ file, rules: ['alerts.yml'] });
        expect(config.scrape_configs.map((c) => c.job_name)).toContain(JOB);
      }
      for (const rule of rules)
        for (const selector of selectorsOf(rule.expr))
          expect({ alert: rule.alert, selector }).toEqual({
            alert: rule.alert,
            selector: expect.objectContaining({
              matchers: expect.arrayContaining([{ label: 'job', op: '=', value: JOB }]),
            }),
          });
    });
  });

  describe('Grafana dashboard', () => {
    const dashboard = jsonDoc<Dashboard>('deploy/grafana/cms-sync.json');
    const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

    it('is importable: a DS_PROMETHEUS input that every panel, query and variable uses', () => {
      expect(dashboard.__inputs).toEqual([
        expect.objectContaining({
          name: 'DS_PROMETHEUS',
          type: 'datasource',
          pluginId: 'prometheus',
        }),
      ]);
      expect(dashboard.schemaVersion).toBe(39);
      expect(dashboard.uid).toBe(JOB);
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect({ title: panel.title, datasource: panel.datasource }).toEqual({
          title: panel.title,
          datasource: DATASOURCE,
        });
        expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) expect(target.datasource).toEqual(DATASOURCE);
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      }
    });
  });

  describe('Kubernetes manifests', () => {
    const kustomization = yamlDoc<{ resources: string[] }>('deploy/k8s/kustomization.yaml');
    const objects = kustomization.resources.flatMap((file) =>
      yamlDocs(`deploy/k8s/${file}`).map((doc) => doc as K8sObject),
    );
    const one = <T extends K8sObject>(kind: string): T => {
      const found = objects.filter((o) => o.kind === kind);
      if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
      return found[0] as T;
    };
    const deployment = one<Deployment>('Deployment');
    const configMap = one<ConfigMap>('ConfigMap');
    const service = one<Service>('Service');
    const pdb = one<PodDisruptionBudget>('PodDisruptionBudget');
    const secret = yamlDoc<Secret>('deploy/k8s/secret.example.yaml');
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0] as Container;

    it('kustomization applies every manifest but the example Secret, without a namespace', () => {
      const manifests = filesUnder(join(DEPLOY, 'k8s'))
        .map((file) => file.replace('deploy/k8s/', ''))
        .filter((file) => file !== 'kustomization.yaml' && file !== 'secret.example.yaml');
      expect([...kustomization.resources].sort()).toEqual(manifests);
      for (const object of objects) expect(object.metadata.namespace).toBeUndefined();
      expect(secret.kind).toBe('Secret');
    });

    it('probes /health and /ready on the HTTP port the ConfigMap sets, bound to 0.0.0.0', () => {
      expect(container.livenessProbe.httpGet.path).toBe('/health');
      expect(container.startupProbe.httpGet.path).toBe('/health');
      expect(container.readinessProbe.httpGet.path).toBe('/ready');
      const port = container.ports.find((p) => p.name === 'http-metrics');
      expect(port?.containerPort).toBe(Number(configMap.data.HTTP_PORT));
      for (const probe of [
        container.livenessProbe,
        container.readinessProbe,
        container.startupProbe,
      ])
        expect(probe.httpGet.port).toBe('http-metrics');
      expect(configMap.data.HTTP_HOST).toBe('0.0.0.0');
      expect(pod.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': configMap.data.HTTP_PORT,
        'prometheus.io/path': '/metrics',
      });
    });

    it('gives a graceful stop longer than SHUTDOWN_TIMEOUT_MS before the kill', () => {
      const shutdownMs = Number(configMap.data.SHUTDOWN_TIMEOUT_MS);
      expect(shutdownMs).toBeGreaterThanOrEqual(1000);
      expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownMs);
    });

    it('runs as non-root on a read-only root filesystem with limits and no capabilities', () => {
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      for (const kind of ['requests', 'limits'] as const)
        expect(Object.keys(container.resources[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
      expect(deployment.spec.replicas).toBeGreaterThan(pdb.spec.maxUnavailable ?? 0);
    });

    it('selectors of the Deployment, Service and PodDisruptionBudget match the pods', () => {
      const matches = (selector: Record<string, string>) =>
        Object.entries(selector).every(([key, value]) => pod.metadata.labels[key] === value);
      expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
      expect(matches(service.spec.selector)).toBe(true);
      expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
      expect(service.spec.type).toBe('ClusterIP');
      expect(service.spec.ports).toEqual([
        expect.objectContaining({ name: 'http-metrics', targetPort: 'http-metrics' }),
      ]);
    });

    it('the ConfigMap sets every non-secret variable of .env.example and nothing else', () => {
      const known = envExampleKeys();
      // A secret and the file variable naming it come from the Secret, never the ConfigMap.
      const secrets = new Set<string>(SECRETS.flatMap((name) => [name, `${name}_FILE`]));
      const set = Object.keys(configMap.data);
      expect(set.filter((key) => !known.has(key))).toEqual([]);
      expect(set.filter((key) => secrets.has(key))).toEqual([]);
      // A variable added to .env.example shows here: add it to deploy/k8s/configmap.yaml.
      expect([...known].filter((key) => !secrets.has(key) && !set.includes(key))).toEqual([]);
      expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    });

    it("the ConfigMap values parse with the service's own parseConfig", () => {
      const config = parseConfig(configMap.data);
      expect(config.http).toEqual({ host: '0.0.0.0', port: 3000 });
      expect(config.shutdownTimeoutMs).toBe(Number(configMap.data.SHUTDOWN_TIMEOUT_MS));
    });

    it('mounts each secret as a file from the Secret and points its _FILE variable at it', () => {
      const volume = pod.spec.volumes.find((v) => v.secret !== undefined);
      expect(volume?.secret?.secretName).toBe(secret.metadata.name);
      const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
      expect(Object.keys(env).sort()).toEqual(SECRETS.map((s) => `${s}_FILE`).sort());
      for (const name of SECRETS) {
        const key = name.toLowerCase().replace(/_/g, '-');
        expect(volume?.secret?.items).toContainEqual({ key, path: key });
        expect(env[`${name}_FILE`]).toBe(`${mount?.mountPath}/${key}`);
        expect(Object.keys(secret.stringData)).toContain(key);
      }
      expect(secret.stringData['db-password']).toMatch(/CHANGE-ME/);
    });
  });

  describe('against the real service (Kafka, MariaDB, Redis): names only what /metrics exports', () => {
    const ctx = new TestContext();
    let service: RunningService;
    let exported: Exported;

    beforeAll(async () => {
      await ctx.setUp(1);
      // A short lag refresh so that sync_consumer_lag has series within the deadline.
      service = await ctx.startService({ METRICS_LAG_INTERVAL_MS: '500' });
      // One valid event twice (a cache miss, then a hit) and one message that is not JSON (a
      // dead letter), so that every labelled family has samples to read label names from.
      const event = productEvent(1, 1);
      await ctx.publish('product', [event, event, { raw: '{not json', key: '1' }]);
      await ctx.waitForHandled(service, 'product', 3);
      const wanted = shippedExpressions()
        .flatMap(({ expr }) => selectorsOf(expr))
        .map((s) => s.metric)
        .filter((name) => name !== 'up' && !NOT_YET_EXPORTED.includes(name));
      let last = '';
      // Polls until every named metric has samples; on timeout the assertions say which lack them.
      await waitFor(
        'samples for every metric the deployment files name',
        async () => {
          last = (await request(service, '/metrics')).text;
          const { labels } = exportedFrom(last);
          return wanted.every((name) => labels.has(name));
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      ).catch(() => undefined);
      exported = exportedFrom(last);
    });

    afterAll(async () => {
      await ctx.tearDown();
    });

    it('every metric named in alerts.yml and the dashboard is exported', () => {
      const missing = shippedExpressions().flatMap(({ where, expr }) =>
        selectorsOf(expr)
          .map((s) => s.metric)
          .filter((name) => name !== 'up' && !exported.names.has(name))
          .filter((name) => !NOT_YET_EXPORTED.includes(name))
          .map((name) => `${where}: ${name}`),
      );
      expect(missing).toEqual([]);
      // Once exported, a name must leave the allow-list.
      expect(NOT_YET_EXPORTED.filter((name) => exported.names.has(name))).toEqual([]);
    });

    it('every expression names at least one metric, and every label it uses exists', () => {
      const problems: string[] = [];
      for (const { where, expr } of shippedExpressions()) {
        const selectors = selectorsOf(expr);
        if (selectors.length === 0) problems.push(`${where}: no metric in ${expr}`);
        const usable = new Set(TARGET_LABELS);
        for (const { metric, matchers } of selectors) {
          if (NOT_YET_EXPORTED.includes(metric)) continue;
          const labels = metric === 'up' ? new Set<string>() : exported.labels.get(metric);
          if (labels === undefined) {
            problems.push(`${where}: ${metric} has no samples to check labels against`);
            continue;
          }
          labels.forEach((label) => usable.add(label));
          for (const { label, op, value } of matchers) {
            if (!TARGET_LABELS.has(label) && !labels.has(label))
              problems.push(`${where}: ${metric} has no label ${label}`);
            const allowed = CONTRACT_VALUES[label];
            const values = op.endsWith('~') ? value.split('|') : [value];
            if (allowed && values.some((v) => !allowed.includes(v)))
              problems.push(`${where}: ${label}${op}"${value}" is not in the contract`);
          }
        }
        for (const label of groupingLabelsOf(expr))
          if (!usable.has(label)) problems.push(`${where}: groups by unknown label ${label}`);
      }
      expect(problems).toEqual([]);
    });

    it('the dashboard shows every sync_* metric family the service exports', () => {
      const named = new Set(
        shippedExpressions()
          .filter(({ where }) => where.startsWith('dashboard'))
          .flatMap(({ expr }) => selectorsOf(expr).map((s) => s.metric)),
      );
      const families = [...exported.families].filter((family) => family.startsWith('sync_'));
      expect(families.length).toBeGreaterThanOrEqual(6);
      const shown = (family: string) =>
        ['', '_bucket', '_sum', '_count'].some((suffix) => named.has(family + suffix));
      expect(families.filter((family) => !shown(family))).toEqual([]);
    });
  });
});
