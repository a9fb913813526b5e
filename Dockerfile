# cms-sync: build with `docker build -t cms-sync .`, or through docker-compose.yml.

# ---- build: full dependencies, compile TypeScript, then drop dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Dependencies first so that a source-only change reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code and production dependencies only ----
FROM node:20-bookworm-slim AS runtime
WORKDIR /app

ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0

# Left owned by root: the `node` user can read but not change them (the service writes no files).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

USER node
EXPOSE 3000

# Liveness through node itself (the slim image has no curl). HTTP_PORT is honoured if overridden.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 3000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Exec form, no shell in between: SIGTERM goes straight to node, which drains and exits
# within SHUTDOWN_TIMEOUT_MS (default 30 s). Give the container longer than that to stop.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
