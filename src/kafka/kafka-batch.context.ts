import { BaseRpcContext } from '@nestjs/microservices';
import type { BatchControl, IncomingMessage } from '../domain/sync-event';

type KafkaBatchContextArgs = [messages: readonly IncomingMessage[], control: BatchControl];

/** What a batch handler receives: one partition's fetched messages and the means to commit them. */
export class KafkaBatchContext extends BaseRpcContext<KafkaBatchContextArgs> {
  getMessages(): readonly IncomingMessage[] {
    return this.args[0];
  }

  getControl(): BatchControl {
    return this.args[1];
  }
}
