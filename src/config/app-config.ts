import { ENTITY_KINDS, type EntityKind } from '../domain/entity-kind';
import { ConfigError } from './config.error';
import { fileFromEnv, secretFromEnv } from './secrets';

export type SyncMode = 'event' | 'batch';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'verbose';
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type DlqCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** A PEM file named by a variable, read once at start. */
export interface CertificateFile {
  readonly file: string;
  readonly pem: string;
}

export interface AppConfig {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly groupId: string;
    readonly partitionsConcurrency: number;
    readonly ssl: boolean;
    /** CA bundle the brokers' certificates are checked against; null: Node's default CAs. */
    readonly sslCa: CertificateFile | null;
    /** False only by an explicit choice, which is logged as a warning at start. */
    readonly sslRejectUnauthorized: boolean;
    readonly sasl: {
      readonly mechanism: SaslMechanism;
      readonly username: string;
      readonly password: string;
    } | null;
    readonly topics: Readonly<Record<EntityKind, string>>;
    readonly sessionTimeoutMs: number;
    /**
     * Longest a resolved offset waits before it is committed to the group, in the background;
     * 0: kafkajs commits after every partition batch.
     */
    readonly commitIntervalMs: number;
    /** Codec of the dead-letter producer's sends. */
    readonly dlqCompression: DlqCompression;
  };
  readonly db: {
    readonly host: string;
    readonly port: number;
    readonly username: string;
    readonly password: string;
    readonly database: string;
    readonly poolSize: number;
    readonly migrationsRun: boolean;
    /** TLS to MySQL; null: plain connection. */
    readonly ssl: {
      readonly ca: CertificateFile | null;
      /** False only by an explicit choice, which is logged as a warning at start. */
      readonly rejectUnauthorized: boolean;
    } | null;
    /** Queries slower than this are logged with their duration. */
    readonly slowQueryThresholdMs: number;
    /**
     * Longest any round trip (connect, statement, BEGIN/COMMIT), any transaction and any wait for
     * a pooled connection may take; past it the connection is destroyed and the work retried.
     */
    readonly statementTimeoutMs: number;
  };
  readonly redis: {
    readonly host: string;
    readonly port: number;
    readonly password: string;
    readonly ttlSeconds: Readonly<Record<EntityKind, number>>;
  };
  /** The circuit breaker in front of Redis: a dead cache adds no per-event latency. */
  readonly redisBreaker: {
    /** Consecutive Redis failures that open the circuit. */
    readonly failures: number;
    /** How long an open circuit skips Redis before one trial call. */
    readonly cooldownMs: number;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
  };
  readonly sync: {
    readonly mode: SyncMode;
    /** Most events applied in one transaction in batch mode. */
    readonly batchMaxEvents: number;
    readonly retryInitialDelayMs: number;
    readonly retryMaxDelayMs: number;
  };
  readonly housekeeping: {
    /** processed_events rows older than this are pruned (contract section 3). */
    readonly processedEventsRetentionHours: number;
    readonly pruneIntervalMs: number;
  };
  readonly metrics: {
    /** How often sync_consumer_lag is refreshed from the broker. */
    readonly lagIntervalMs: number;
  };
  /** Readiness fails when messages wait and the consumer has not fetched for this long. */
  readonly readyMaxFetchAgeMs: number;
  readonly logLevel: LogLevel;
  /** OTLP/HTTP trace export; null: tracing off and no OpenTelemetry code loaded. */
  readonly tracing: {
    /** Base URL of the collector; spans go to <endpoint>/v1/traces. */
    readonly endpoint: string;
    readonly serviceName: string;
  } | null;
  readonly shutdownTimeoutMs: number;
  /** `GET /` (the operator's status page) and `GET /status` (its JSON); off: both 404. */
  readonly statusPage: {
    readonly enabled: boolean;
  };
}

export type Env = Readonly<Record<string, string | undefined>>;

const MAX_PORT = 65535;

/** Reads variables and collects every problem instead of stopping at the first one. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** Secrets keep surrounding whitespace: it may be part of the password. NAME_FILE works too. */
  secret(name: string): string {
    return secretFromEnv(this.env, name, this.problems);
  }

  /** The PEM file a variable names, read now so that a wrong path stops the start. */
  certificate(name: string): CertificateFile | null {
    const file = this.raw(name);
    if (file === undefined) return null;
    const pem = fileFromEnv(name, file, this.problems);
    if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----')) {
      this.problems.push(`${name}: "${file}" holds no PEM certificate`);
    }
    return { file, pem: pem ?? '' };
  }

  /** An http(s) URL, or undefined when unset. */
  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      this.problems.push(`${name}: must be an http:// or https:// URL, got "${value}"`);
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problems.push(`${name}: must be a whole number, got "${value}"`);
      return fallback;
    }
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      this.problems.push(`${name}: must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: must be true or false, got "${value}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    return this.optionalOneOf(name, allowed) ?? fallback;
  }

  optionalOneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return undefined;
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) {
      this.problems.push(`${name}: must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    return match;
  }

  list(name: string, fallback: string): string[] {
    const items = this.string(name, fallback)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) this.problems.push(`${name}: must name at least one entry`);
    for (const item of items) {
      const port = Number(/^[^\s:]+:(\d{1,5})$/.exec(item)?.[1] ?? 0);
      if (port < 1 || port > MAX_PORT) {
        this.problems.push(`${name}: "${item}" is not host:port with a port from 1 to ${MAX_PORT}`);
      }
    }
    return items;
  }

  topic(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!/^[A-Za-z0-9._-]{1,245}$/.test(value)) {
      this.problems.push(`${name}: "${value}" is not a valid Kafka topic name`);
    }
    return value;
  }
}

/**
 * Parses the environment once at start. Nothing else in the service reads process.env:
 * everything downstream receives this typed, validated object.
 */
export function parseConfig(env: Env): AppConfig {
  const r = new EnvReader(env);

  const config: AppConfig = {
    kafka: {
      brokers: r.list('KAFKA_BROKERS', 'localhost:9092'),
      clientId: r.string('KAFKA_CLIENT_ID', 'cms-sync'),
      groupId: r.string('KAFKA_GROUP_ID', 'cms-sync'),
      partitionsConcurrency: r.int('KAFKA_PARTITIONS_CONCURRENCY', 3, 1, 1000),
      ssl: r.bool('KAFKA_SSL', false),
      sslCa: r.certificate('KAFKA_SSL_CA_FILE'),
      sslRejectUnauthorized: r.bool('KAFKA_SSL_REJECT_UNAUTHORIZED', true),
      sasl: saslFrom(r),
      topics: {
        product: r.topic('KAFKA_TOPIC_PRODUCT', 'product.changed'),
        customer: r.topic('KAFKA_TOPIC_CUSTOMER', 'customer.changed'),
        order: r.topic('KAFKA_TOPIC_ORDER', 'order.changed'),
      },
      sessionTimeoutMs: r.int('KAFKA_SESSION_TIMEOUT_MS', 30000, 6000, 300000),
      commitIntervalMs: r.int('KAFKA_COMMIT_INTERVAL_MS', 100, 0, 60000),
      dlqCompression: r.oneOf('KAFKA_DLQ_COMPRESSION', 'none', [
        'none',
        'gzip',
        'snappy',
        'lz4',
        'zstd',
      ] as const),
    },
    db: {
      host: r.string('DB_HOST', 'localhost'),
      port: r.int('DB_PORT', 3306, 1, MAX_PORT),
      username: r.string('DB_USERNAME', 'root'),
      password: r.secret('DB_PASSWORD'),
      database: r.string('DB_DATABASE', 'cms'),
      poolSize: r.int('DB_CONNECTION_POOL_SIZE', 5, 1, 1000),
      migrationsRun: r.bool('DB_MIGRATIONS_RUN', true),
      ssl: dbSslFrom(r),
      slowQueryThresholdMs: r.int('SLOW_QUERY_THRESHOLD_MS', 1000, 1, 3_600_000),
      statementTimeoutMs: r.int('DB_STATEMENT_TIMEOUT_MS', 30000, 1000, 3_600_000),
    },
    redis: {
      host: r.string('REDIS_HOST', 'localhost'),
      port: r.int('REDIS_PORT', 6379, 1, MAX_PORT),
      password: r.secret('REDIS_PASSWORD'),
      ttlSeconds: ttlPerEntity(r),
    },
    redisBreaker: {
      failures: r.int('REDIS_BREAKER_FAILURES', 5, 1, 1000),
      cooldownMs: r.int('REDIS_BREAKER_COOLDOWN_MS', 5000, 1, 3_600_000),
    },
    http: {
      host: r.string('HTTP_HOST', '0.0.0.0'),
      port: r.int('HTTP_PORT', 3000, 0, MAX_PORT),
    },
    sync: {
      mode: r.oneOf('SYNC_MODE', 'batch', ['event', 'batch'] as const),
      batchMaxEvents: r.int('SYNC_BATCH_MAX_EVENTS', 500, 1, 10_000),
      retryInitialDelayMs: r.int('RETRY_INITIAL_DELAY_MS', 100, 1, 3_600_000),
      retryMaxDelayMs: r.int('RETRY_MAX_DELAY_MS', 30000, 1, 3_600_000),
    },
    housekeeping: {
      processedEventsRetentionHours: r.int('PROCESSED_EVENTS_RETENTION_HOURS', 168, 1, 87_600),
      pruneIntervalMs: r.int('PRUNE_INTERVAL_MS', 3_600_000, 100, 86_400_000),
    },
    metrics: {
      lagIntervalMs: r.int('METRICS_LAG_INTERVAL_MS', 10_000, 100, 3_600_000),
    },
    readyMaxFetchAgeMs: r.int('READY_MAX_FETCH_AGE_MS', 120_000, 1000, 3_600_000),
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['error', 'warn', 'info', 'debug', 'verbose'] as const),
    tracing: tracingFrom(r),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 30000, 1000, 3_600_000),
    statusPage: { enabled: r.bool('STATUS_PAGE_ENABLED', true) },
  };

  if (!/^[A-Za-z0-9_$]{1,64}$/.test(config.db.database)) {
    r.problems.push(`DB_DATABASE: "${config.db.database}" must be 1-64 letters, digits, _ or $`);
  }
  if (config.kafka.sslCa !== null && !config.kafka.ssl) {
    r.problems.push('KAFKA_SSL_CA_FILE: needs KAFKA_SSL=true');
  }
  if (config.sync.retryMaxDelayMs < config.sync.retryInitialDelayMs) {
    r.problems.push('RETRY_MAX_DELAY_MS: must not be smaller than RETRY_INITIAL_DELAY_MS');
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

function saslFrom(r: EnvReader): AppConfig['kafka']['sasl'] {
  const mechanism = r.optionalOneOf('KAFKA_SASL_MECHANISM', [
    'plain',
    'scram-sha-256',
    'scram-sha-512',
  ] as const);
  if (mechanism === undefined) return null;
  const username = r.string('KAFKA_SASL_USERNAME', '');
  if (username === '') {
    r.problems.push('KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set');
  }
  return { mechanism, username, password: r.secret('KAFKA_SASL_PASSWORD') };
}

function dbSslFrom(r: EnvReader): AppConfig['db']['ssl'] {
  const ca = r.certificate('DB_SSL_CA');
  const enabled = r.bool('DB_SSL', ca !== null);
  if (!enabled) {
    if (ca !== null) r.problems.push('DB_SSL_CA: set, but DB_SSL is false');
    return null;
  }
  return { ca, rejectUnauthorized: r.bool('DB_SSL_REJECT_UNAUTHORIZED', true) };
}

function tracingFrom(r: EnvReader): AppConfig['tracing'] {
  const endpoint = r.url('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint === undefined) return null;
  return { endpoint, serviceName: r.string('OTEL_SERVICE_NAME', 'cms-sync') };
}

function ttlPerEntity(r: EnvReader): Record<EntityKind, number> {
  const base = r.int('REDIS_TTL', 300, 1, 31_536_000);
  const ttl = {} as Record<EntityKind, number>;
  for (const kind of ENTITY_KINDS) {
    ttl[kind] = r.int(`REDIS_TTL_${kind.toUpperCase()}`, base, 1, 31_536_000);
  }
  return ttl;
}
