import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { type Observable, throwError } from 'rxjs';

/**
 * Nest's default RPC filter turns whatever a handler throws into a plain `{ status, message }`
 * object (and logs it at error level). kafkajs decides on the error itself: a heartbeat's
 * REBALANCE_IN_PROGRESS must reach it as its own KafkaJSProtocolError for it to rejoin at once,
 * so errors of the Kafka transport pass through unchanged. The application config is shared with
 * the microservice (`inheritAppConfig`), so HTTP errors reach this filter too: they get Nest's
 * default HTTP handling.
 */
@Catch()
export class KafkaErrorPassThroughFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() !== 'rpc') return super.catch(exception, host);
    return throwError(() => exception);
  }
}
