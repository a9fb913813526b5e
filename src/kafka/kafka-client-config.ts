import { Logger } from '@nestjs/common';
import { type KafkaConfig, logLevel, type logCreator } from 'kafkajs';
import type { AppConfig } from '../config/app-config';
import { brokerSocketFactory } from './broker-socket.factory';

/**
 * Longest a broker may leave a request unanswered before its connection is dropped and opened
 * again: well above the consumer's 5 s fetch wait and the admin's 5 s CreateTopics timeout.
 */
const BROKER_ANSWER_DEADLINE_MS = 10_000;

/**
 * kafkajs logs every error response at error level, also the broker's routine "rejoin" answers
 * to a heartbeat or commit while the group rebalances (which kafkajs handles by rejoining):
 * those are warnings here, so that error-level lines stay worth an alert.
 */
const REBALANCE_ANSWERS = new Set([
  'The group is rebalancing, so a rejoin is needed',
  'Specified group generation id is not valid',
  'This is not the correct coordinator for this group',
]);

/** Routes kafkajs' own log lines into the service's logger, as structured fields. */
const nestLogCreator: logCreator = () => {
  const logger = new Logger('kafkajs');
  return ({ level, log }) => {
    const { message, ...extra } = log;
    const line = { msg: message, ...extra };
    const routine = REBALANCE_ANSWERS.has(String((extra as { error?: unknown }).error));
    if (level === logLevel.ERROR && !routine) logger.error(line);
    else if (level === logLevel.WARN || level === logLevel.ERROR) logger.warn(line);
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
