import {
  ConsoleLogger,
  type INestApplication,
  type LogLevel as NestLogLevel,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import type { AppConfig, LogLevel } from './config/app-config';
import { ConsumerStatus } from './health/consumer-status';
import { KafkaConsumerServer } from './kafka/kafka-consumer.server';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** A readable copy of the configuration for the start-up line: secrets masked. */
function masked(config: AppConfig): unknown {
  const mask = (secret: string) => (secret === '' ? '' : '***');
  return {
    ...config,
    kafka: {
      ...config.kafka,
      sasl: config.kafka.sasl && {
        ...config.kafka.sasl,
        password: mask(config.kafka.sasl.password),
      },
    },
    db: { ...config.db, password: mask(config.db.password) },
    redis: { ...config.redis, password: mask(config.redis.password) },
  };
}

/**
 * Builds and starts the hybrid application: the Kafka consumer and the HTTP server in one
 * process. Tests start the real service through this same function.
 */
export async function startApp(
  config: AppConfig,
  onFatalCrash: (error: Error) => void,
): Promise<INestApplication> {
  const logger = new ConsoleLogger('cms-sync', {
    json: true,
    logLevels: NEST_LEVELS[config.logLevel],
  });
  // One per process: the Kafka server updates it, the readiness check reads it.
  const consumerStatus = new ConsumerStatus();
  const app = await NestFactory.create(AppModule.forRoot(config, consumerStatus), {
    logger,
    bufferLogs: false,
  });
  logger.log({ msg: 'starting', config: masked(config) });
  app.connectMicroservice(
    { strategy: new KafkaConsumerServer(config, onFatalCrash, consumerStatus) },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  logger.log(
    `ready: consuming ${Object.values(config.kafka.topics).join(', ')} as group ${config.kafka.groupId}; HTTP on ${config.http.host}:${config.http.port}`,
  );
  return app;
}
