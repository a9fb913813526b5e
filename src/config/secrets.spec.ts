import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './app-config';
import { configError } from '../../test/support/config-error';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('secrets and certificates from files', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cms-sync-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each *_FILE once, dropping one trailing line break and keeping spaces', () => {
    const config = parseConfig({
      DB_PASSWORD_FILE: file('db', ' db secret \n'),
      REDIS_PASSWORD_FILE: file('redis', 'redis-secret\r\n'),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'cms',
      KAFKA_SASL_PASSWORD_FILE: file('kafka', 'kafka-secret'),
    });
    expect(config.db.password).toBe(' db secret ');
    expect(config.redis.password).toBe('redis-secret');
    expect(config.kafka.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'cms',
      password: 'kafka-secret',
    });
  });

  it('names a *_FILE that points nowhere', () => {
    // Bad input: a path with no file behind it.
    const error = configError({ DB_PASSWORD_FILE: join(dir, 'missing') });
    expect(error.message).toContain('DB_PASSWORD_FILE');
    expect(error.message).toContain('ENOENT');
  });

  it('refuses a secret given both directly and as a file', () => {
    // Bad input: which of the two was meant is anyone's guess.
    const error = configError({ REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: file('r2', 'b') });
    expect(error.message).toContain('REDIS_PASSWORD_FILE: set either REDIS_PASSWORD or');
    expect(error.message).not.toContain('"a"');
  });

  it('turns MySQL TLS on with DB_SSL_CA, checks on unless turned off explicitly', () => {
    const ca = file('ca.pem', PEM);
    expect(parseConfig({ DB_SSL_CA: ca }).db.ssl).toEqual({
      ca: { file: ca, pem: PEM },
      rejectUnauthorized: true,
    });
    expect(
      parseConfig({ DB_SSL_CA: ca, DB_SSL_REJECT_UNAUTHORIZED: 'false' }).db.ssl
        ?.rejectUnauthorized,
    ).toBe(false);
    expect(parseConfig({ DB_SSL: 'true' }).db.ssl).toEqual({ ca: null, rejectUnauthorized: true });
    expect(parseConfig({}).db.ssl).toBeNull();
  });

  it('rejects a CA file that holds no certificate, and a CA without TLS', () => {
    // Bad input: a key pasted where the CA belongs; a CA whose TLS switch is off.
    expect(configError({ DB_SSL_CA: file('key.pem', 'not a cert') }).message).toContain(
      'DB_SSL_CA: ',
    );
    const ca = file('ca2.pem', PEM);
    expect(configError({ DB_SSL_CA: ca, DB_SSL: 'false' }).message).toContain('DB_SSL_CA');
    expect(configError({ KAFKA_SSL_CA_FILE: ca }).message).toContain(
      'KAFKA_SSL_CA_FILE: needs KAFKA_SSL=true',
    );
  });

  it('reads the Kafka TLS settings', () => {
    const ca = file('ca3.pem', PEM);
    const kafka = parseConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'no',
    }).kafka;
    expect(kafka).toMatchObject({
      ssl: true,
      sslCa: { file: ca, pem: PEM },
      sslRejectUnauthorized: false,
    });
    expect(parseConfig({}).kafka.sslRejectUnauthorized).toBe(true);
  });

  it('turns tracing on with an http(s) OTEL_EXPORTER_OTLP_ENDPOINT only', () => {
    expect(parseConfig({}).tracing).toBeNull();
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' }).tracing).toEqual({
      endpoint: 'http://otel:4318',
      serviceName: 'cms-sync',
    });
    // Bad input: a gRPC-style address without a scheme.
    expect(configError({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4317' }).message).toContain(
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
  });

  it('reads SLOW_QUERY_THRESHOLD_MS with a default of 1000', () => {
    expect(parseConfig({}).db.slowQueryThresholdMs).toBe(1000);
    expect(parseConfig({ SLOW_QUERY_THRESHOLD_MS: '250' }).db.slowQueryThresholdMs).toBe(250);
    expect(configError({ SLOW_QUERY_THRESHOLD_MS: '0' }).message).toContain(
      'SLOW_QUERY_THRESHOLD_MS',
    );
  });
});
