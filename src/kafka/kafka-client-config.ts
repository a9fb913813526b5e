import { Logger } from '@nestjs/common';
import { type KafkaConfig, logLevel, type logCreator } from 'kafkajs';
import type { AppConfig } from '../config/app-config';
import { brokerSocketFactory } from './broker-socket.factory';

/**
 * Longest a broker may leave a request unanswered before its connection is dropped and opened
 * again: well above the consumer's 5 s fetch wait and the admin's 5 s CreateTopics timeout.
 */
const BROKER_ANSWER_DEADLINE_MS = 10_000;

/** Routes kafkajs' own log lines into the service's logger, as structured fields. */
const nestLogCreator: logCreator = () => {
  const logger = new Logger('kafkajs');
  return ({ level, log }) => {
    const { message, ...extra } = log;
    const line = { msg: message, ...extra };
    if (level === logLevel.ERROR) logger.error(line);
    else if (level === logLevel.WARN) logger.warn(line);
    else if (level === logLevel.INFO) logger.log(line);
    else logger.debug(line);
  };
};

/**
 * TLS settings: Node's default CAs unless KAFKA_SSL_CA_FILE names a bundle; certificate checks
 * stay on unless turned off explicitly (bootstrap logs that choice).
 */
function tlsOptions(kafka: AppConfig['kafka']): KafkaConfig['ssl'] {
  if (!kafka.ssl) return false;
  if (kafka.sslCa === null && kafka.sslRejectUnauthorized) return true;
  return {
    rejectUnauthorized: kafka.sslRejectUnauthorized,
    ...(kafka.sslCa === null ? {} : { ca: [kafka.sslCa.pem] }),
  };
}

/** The client settings the consumer and the dead-letter producer share. */
export function kafkaClientConfig(kafka: AppConfig['kafka']): KafkaConfig {
  const base: KafkaConfig = {
    clientId: kafka.clientId,
    brokers: [...kafka.brokers],
    ssl: tlsOptions(kafka),
    logCreator: nestLogCreator,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 300, retries: 10 },
    socketFactory: brokerSocketFactory(BROKER_ANSWER_DEADLINE_MS),
  };
  if (kafka.sasl === null) return base;
  const { username, password } = kafka.sasl;
  switch (kafka.sasl.mechanism) {
    case 'plain':
      return { ...base, sasl: { mechanism: 'plain', username, password } };
    case 'scram-sha-256':
      return { ...base, sasl: { mechanism: 'scram-sha-256', username, password } };
    case 'scram-sha-512':
      return { ...base, sasl: { mechanism: 'scram-sha-512', username, password } };
  }
}
