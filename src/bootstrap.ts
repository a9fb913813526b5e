import {
  type DynamicModule,
  type INestApplication,
  Logger,
  Module,
  type LogLevel as NestLogLevel,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { pinoHttp } from 'pino-http';
import { AppModule } from './app.module';
import type { AppConfig, LogLevel } from './config/app-config';
import { ConsumerStatus } from './health/consumer-status';
import { registerCompressionCodecs } from './kafka/compression-codecs';
import { installReadCommittedFilter } from './kafka/read-committed-filter';
import { KafkaConsumerServer } from './kafka/kafka-consumer.server';
import { KafkaErrorPassThroughFilter } from './kafka/kafka-error-pass-through.filter';
import { httpLoggerOptions, LoggingModule, pinoParams } from './logging/logging.module';
import { rootLogger } from './logging/root-logger';
import { insecureChoices, maskedConfig } from './logging/startup-report';
import { TracingModule } from './tracing/tracing.module';

/** Nest's levels per LOG_LEVEL: `Logger.isLevelEnabled` reads them to skip building debug lines. */
const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** The service with what observes it: structured logs and, when configured, tracing. */
@Module({})
class ObservedAppModule {
  static forRoot(config: AppConfig, consumerStatus: ConsumerStatus): DynamicModule {
    return {
      module: ObservedAppModule,
      imports: [
        LoggingModule.forRoot(rootLogger()),
        AppModule.forRoot(config, consumerStatus),
        TracingModule.forRoot(config),
      ],
    };
  }
}

/**
 * Builds and starts the hybrid application: the Kafka consumer and the HTTP server in one
 * process. Tests start the real service through this same function.
 */
export async function startApp(
  config: AppConfig,
  onFatalCrash: (error: Error) => void,
): Promise<INestApplication> {
  // Before any client exists: a fetched snappy, lz4 or zstd batch must never meet kafkajs' stubs,
  // nor a fetch with aborted transactions kafkajs' own filter (see read-committed-filter.ts).
  registerCompressionCodecs();
  installReadCommittedFilter();
  // Every line, from the first one Nest writes, is JSON through the process' pino logger.
  const pino = rootLogger(config.logLevel);
  Logger.overrideLogger(NEST_LEVELS[config.logLevel]);
  const params = pinoParams(pino);
  const logger = new PinoNestLogger(new PinoLogger(params), params);
  logger.log({ msg: 'starting', config: maskedConfig(config) }, 'cms-sync');
  for (const choice of insecureChoices(config)) logger.warn(choice, 'cms-sync');
  // One per process: the Kafka server updates it, the readiness check reads it.
  const consumerStatus = new ConsumerStatus();
  const app = await NestFactory.create(ObservedAppModule.forRoot(config, consumerStatus), {
    logger,
    bufferLogs: false,
    // A failed start rejects (main.ts logs it and exits 1) instead of process.abort().
    abortOnError: false,
  });
  app.use(pinoHttp(httpLoggerOptions(pino)));
  // Before connectMicroservice, which initialises the microservice: the two share this config.
  app.useGlobalFilters(new KafkaErrorPassThroughFilter(app.getHttpAdapter()));
  app.connectMicroservice(
    { strategy: new KafkaConsumerServer(config, onFatalCrash, consumerStatus) },
    { inheritAppConfig: true },
  );
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.listen(config.http.port, config.http.host);
  } catch (err) {
    // Half-started: close the pool, Redis and the consumer so the caller is left with nothing open.
    await app.close().catch(() => undefined);
    throw err;
  }
  logger.log(
    `ready: consuming ${Object.values(config.kafka.topics).join(', ')} as group ${config.kafka.groupId}; HTTP on ${config.http.host}:${config.http.port}`,
    'cms-sync',
  );
  return app;
}
