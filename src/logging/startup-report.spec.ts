import { parseConfig } from '../config/app-config';
import { insecureChoices, maskedConfig } from './startup-report';

describe('the start-up report', () => {
  it('masks every secret and shows certificates by file, keeping empty secrets visibly empty', () => {
    const config = {
      ...parseConfig({
        DB_PASSWORD: 'db-secret',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'cms',
        KAFKA_SASL_PASSWORD: 'kafka-secret',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:otel-secret@collector:4318',
      }),
    };
    const withCa = {
      ...config,
      kafka: { ...config.kafka, ssl: true, sslCa: { file: '/ca.pem', pem: 'PEM-BODY' } },
    };
    const text = JSON.stringify(maskedConfig(withCa));
    for (const secret of ['db-secret', 'kafka-secret', 'otel-secret', 'PEM-BODY']) {
      expect(text).not.toContain(secret);
    }
    expect(maskedConfig(withCa)).toMatchObject({
      db: { password: '***' },
      redis: { password: '' },
      kafka: { sslCa: '/ca.pem', sasl: { username: 'cms', password: '***' } },
    });
  });

  it('names each setting that weakens security', () => {
    expect(insecureChoices(parseConfig({}))).toEqual([]);
    const choices = insecureChoices(
      parseConfig({
        KAFKA_SSL: 'true',
        KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
        DB_SSL: 'true',
        DB_SSL_REJECT_UNAUTHORIZED: 'false',
      }),
    );
    expect(choices).toHaveLength(2);
    expect(choices[0]).toContain('KAFKA_SSL_REJECT_UNAUTHORIZED=false');
    expect(choices[1]).toContain('DB_SSL_REJECT_UNAUTHORIZED=false');
    expect(
      insecureChoices(
        parseConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'cms' }),
      )[0],
    ).toContain('in clear');
  });
});
