import { parseConfig } from './app-config';
import { configError } from '../../test/support/config-error';

describe('parseConfig', () => {
  it('applies the defaults of contract section 7 to an empty environment', () => {
    const config = parseConfig({});
    expect(config.kafka).toMatchObject({
      brokers: ['localhost:9092'],
      clientId: 'cms-sync',
      groupId: 'cms-sync',
      partitionsConcurrency: 3,
      ssl: false,
      sasl: null,
      topics: { product: 'product.changed', customer: 'customer.changed', order: 'order.changed' },
    });
    expect(config.db).toMatchObject({
      host: 'localhost',
      port: 3306,
      username: 'root',
      password: '',
      database: 'cms',
      poolSize: 5,
    });
    expect(config.redis).toEqual({
      host: 'localhost',
      port: 6379,
      password: '',
      ttlSeconds: { product: 300, customer: 300, order: 300 },
    });
    expect(config.http.port).toBe(3000);
    expect(config.logLevel).toBe('info');
  });

  it('treats empty and blank variables as unset', () => {
    const config = parseConfig({ DB_HOST: '', HTTP_PORT: '   ', KAFKA_BROKERS: '' });
    expect(config.db.host).toBe('localhost');
    expect(config.http.port).toBe(3000);
    expect(config.kafka.brokers).toEqual(['localhost:9092']);
  });

  it('reads set variables', () => {
    const config = parseConfig({
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9093',
      KAFKA_GROUP_ID: 'cms-sync-blue',
      KAFKA_PARTITIONS_CONCURRENCY: '8',
      DB_HOST: 'mysql',
      DB_PORT: '3307',
      DB_PASSWORD: ' s3cret ',
      DB_CONNECTION_POOL_SIZE: '20',
      HTTP_PORT: '8080',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9093']);
    expect(config.kafka.groupId).toBe('cms-sync-blue');
    expect(config.kafka.partitionsConcurrency).toBe(8);
    expect(config.db).toMatchObject({
      host: 'mysql',
      port: 3307,
      password: ' s3cret ',
      poolSize: 20,
    });
    expect(config.http.port).toBe(8080);
    expect(config.logLevel).toBe('debug');
  });

  it('lets REDIS_TTL set every entity and REDIS_TTL_<ENTITY> override one', () => {
    expect(parseConfig({ REDIS_TTL: '120', REDIS_TTL_ORDER: '30' }).redis.ttlSeconds).toEqual({
      product: 120,
      customer: 120,
      order: 30,
    });
    expect(parseConfig({ REDIS_TTL_PRODUCT: '10' }).redis.ttlSeconds).toEqual({
      product: 10,
      customer: 300,
      order: 300,
    });
  });

  it('names BOTH variables in one ConfigError for DB_CONNECTION_POOL_SIZE=abc and HTTP_PORT=70000', () => {
    const error = configError({ DB_CONNECTION_POOL_SIZE: 'abc', HTTP_PORT: '70000' });
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('DB_CONNECTION_POOL_SIZE');
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain('HTTP_PORT');
    expect(error.message).toContain('70000');
  });

  it.each([
    ['DB_PORT', '0'],
    ['DB_PORT', '3306.5'],
    ['REDIS_PORT', '65536'],
    ['KAFKA_PARTITIONS_CONCURRENCY', '0'],
    ['DB_CONNECTION_POOL_SIZE', '-1'],
    ['REDIS_TTL', 'five'],
    ['LOG_LEVEL', 'loud'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(name);
  });

  it('fails when KAFKA_SASL_MECHANISM is set without KAFKA_SASL_USERNAME', () => {
    const error = configError({ KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    expect(error.message).toContain('KAFKA_SASL_USERNAME');
  });

  it('builds SASL settings when mechanism and username are set, keeping the password as is', () => {
    const config = parseConfig({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: 'sync',
      KAFKA_SASL_PASSWORD: ' pw ',
    });
    expect(config.kafka.sasl).toEqual({
      mechanism: 'scram-sha-256',
      username: 'sync',
      password: ' pw ',
    });
  });

  it('rejects an unknown SASL mechanism', () => {
    expect(
      configError({ KAFKA_SASL_MECHANISM: 'kerberos', KAFKA_SASL_USERNAME: 'u' }).message,
    ).toContain('KAFKA_SASL_MECHANISM');
  });

  it('rejects the broker "nohost", which has no port', () => {
    const error = configError({ KAFKA_BROKERS: 'kafka-1:9092,nohost' });
    expect(error.message).toContain('KAFKA_BROKERS');
    expect(error.message).toContain('"nohost"');
  });

  it('rejects a broker list with no entries', () => {
    expect(configError({ KAFKA_BROKERS: ' , ' }).message).toContain('KAFKA_BROKERS');
  });

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['TRUE', true],
  ])('reads the boolean KAFKA_SSL=%s as %s', (value, expected) => {
    expect(parseConfig({ KAFKA_SSL: value }).kafka.ssl).toBe(expected);
    expect(parseConfig({ DB_MIGRATIONS_RUN: value }).db.migrationsRun).toBe(expected);
  });

  it('rejects a boolean that is neither true nor false', () => {
    expect(configError({ KAFKA_SSL: 'maybe' }).message).toContain('KAFKA_SSL');
  });

  it('rejects a retry maximum below the initial delay', () => {
    const error = configError({ RETRY_INITIAL_DELAY_MS: '500', RETRY_MAX_DELAY_MS: '100' });
    expect(error.message).toContain('RETRY_MAX_DELAY_MS');
  });

  it.each(['kafka:99999', 'kafka:0'])(
    'rejects the broker %s, whose port is out of range',
    (broker) => {
      expect(configError({ KAFKA_BROKERS: `ok:9092,${broker}` }).message).toContain(
        `KAFKA_BROKERS: "${broker}"`,
      );
    },
  );

  it('compresses no dead letters unless told, and names a bad KAFKA_DLQ_COMPRESSION', () => {
    expect(parseConfig({}).kafka.dlqCompression).toBe('none');
    expect(parseConfig({ KAFKA_DLQ_COMPRESSION: 'ZSTD' }).kafka.dlqCompression).toBe('zstd');
    expect(configError({ KAFKA_DLQ_COMPRESSION: 'brotli' }).message).toMatch(
      /KAFKA_DLQ_COMPRESSION: must be one of none, gzip, snappy, lz4, zstd, got "brotli"/,
    );
  });

  it('defaults to batch mode with 500 events per transaction, and names a bad SYNC_MODE', () => {
    expect(parseConfig({}).sync).toMatchObject({ mode: 'batch', batchMaxEvents: 500 });
    expect(parseConfig({ SYNC_MODE: 'event' }).sync.mode).toBe('event');
    expect(configError({ SYNC_MODE: 'bulk', SYNC_BATCH_MAX_EVENTS: '0' }).message).toMatch(
      /SYNC_MODE: must be one of event, batch, got "bulk"[\s\S]*SYNC_BATCH_MAX_EVENTS/,
    );
  });

  it('serves the status page unless STATUS_PAGE_ENABLED turns it off, and names a bad value', () => {
    expect(parseConfig({}).statusPage.enabled).toBe(true);
    expect(parseConfig({ STATUS_PAGE_ENABLED: 'false' }).statusPage.enabled).toBe(false);
    expect(configError({ STATUS_PAGE_ENABLED: 'sometimes' }).message).toContain(
      'STATUS_PAGE_ENABLED: must be true or false, got "sometimes"',
    );
  });

  it('reads DB_STATEMENT_TIMEOUT_MS with a default of 30000 and names a value below 1000', () => {
    expect(parseConfig({}).db.statementTimeoutMs).toBe(30000);
    expect(parseConfig({ DB_STATEMENT_TIMEOUT_MS: '3000' }).db.statementTimeoutMs).toBe(3000);
    expect(configError({ DB_STATEMENT_TIMEOUT_MS: '500' }).message).toContain(
      'DB_STATEMENT_TIMEOUT_MS',
    );
  });
});
