import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';

/** nestjs-pino's settings over the process' one pino logger. */
export function pinoParams(logger: PinoLogger): Params {
  return {
    pinoHttp: {
      logger,
      // Prometheus and the orchestrator's probes call every few seconds: at info they would
      // drown everything else, so requests are logged at debug whatever their status.
      customLogLevel: () => 'debug',
    },
  };
}

/** Structured JSON logs: Nest's Logger calls and (at debug) HTTP requests go through pino. */
@Module({})
export class LoggingModule {
  static forRoot(logger: PinoLogger): DynamicModule {
    return { module: LoggingModule, imports: [LoggerModule.forRoot(pinoParams(logger))] };
  }
}
