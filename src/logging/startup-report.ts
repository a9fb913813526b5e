import type { AppConfig } from '../config/app-config';

const mask = (secret: string): string => (secret === '' ? '' : '***');

/** A URL without any user:password part. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '***';
  parsed.password = '';
  return parsed.toString();
}

/**
 * A readable copy of the configuration for the start-up line: secrets masked, certificates shown
 * by their file only.
 */
export function maskedConfig(config: AppConfig): unknown {
  return {
    ...config,
    kafka: {
      ...config.kafka,
      sslCa: config.kafka.sslCa?.file ?? null,
      sasl: config.kafka.sasl && {
        ...config.kafka.sasl,
        password: mask(config.kafka.sasl.password),
      },
    },
    db: {
      ...config.db,
      password: mask(config.db.password),
      ssl: config.db.ssl && { ...config.db.ssl, ca: config.db.ssl.ca?.file ?? null },
    },
    redis: { ...config.redis, password: mask(config.redis.password) },
    tracing: config.tracing && {
      ...config.tracing,
      endpoint: withoutCredentials(config.tracing.endpoint),
    },
  };
}

/** Settings that weaken security: allowed, but only as a choice an operator sees in the log. */
export function insecureChoices(config: AppConfig): string[] {
  const choices: string[] = [];
  if (config.kafka.ssl && !config.kafka.sslRejectUnauthorized) {
    choices.push(
      'KAFKA_SSL_REJECT_UNAUTHORIZED=false: the brokers’ TLS certificates are NOT checked',
    );
  }
  if (config.db.ssl !== null && !config.db.ssl.rejectUnauthorized) {
    choices.push(
      'DB_SSL_REJECT_UNAUTHORIZED=false: the MySQL server’s TLS certificate is NOT checked',
    );
  }
  if (config.kafka.sasl !== null && !config.kafka.ssl) {
    const { mechanism } = config.kafka.sasl;
    if (mechanism === 'plain') {
      choices.push(
        'KAFKA_SASL_MECHANISM=plain without KAFKA_SSL: the password crosses the network in clear',
      );
    }
  }
  return choices;
}
