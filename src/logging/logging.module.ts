import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule, type Params } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import type { Options as HttpLoggerOptions } from 'pino-http';

/** How HTTP requests are logged (by pino-http, see bootstrap). */
export function httpLoggerOptions(logger: PinoLogger): HttpLoggerOptions {
  return {
    logger,
    // Prometheus and the orchestrator's probes call every few seconds: at info they would
    // drown everything else, so requests are logged at debug whatever their status.
    customLogLevel: () => 'debug',
  };
}

/**
 * nestjs-pino's settings over the process' one pino logger. Its request middleware is left out
 * (`forRoutes: []`): it runs each request inside an AsyncLocalStorage, and the first request
 * switches on Node's promise hooks for the whole process, so that every promise of every event
 * pays for them from then on (about 7 µs per event in event mode). bootstrap logs requests with
 * pino-http itself, which needs no store; nothing here reads a per-request logger.
 */
export function pinoParams(logger: PinoLogger): Params {
  return { pinoHttp: httpLoggerOptions(logger), forRoutes: [] };
}

/** Structured JSON logs: Nest's Logger calls and (at debug) HTTP requests go through pino. */
@Module({})
export class LoggingModule {
  static forRoot(logger: PinoLogger): DynamicModule {
    return { module: LoggingModule, imports: [LoggerModule.forRoot(pinoParams(logger))] };
  }
}
