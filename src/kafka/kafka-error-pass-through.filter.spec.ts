import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { KafkaJSProtocolError } from 'kafkajs';
import { lastValueFrom, type Observable } from 'rxjs';
import { mustRejoinGroup } from './group-membership-error';
import { KafkaErrorPassThroughFilter } from './kafka-error-pass-through.filter';

const rebalance = () =>
  new KafkaJSProtocolError({
    type: 'REBALANCE_IN_PROGRESS',
    code: 27,
    retriable: false,
    message: 'The group is rebalancing, so a rejoin is needed',
  } as unknown as string);

describe('KafkaErrorPassThroughFilter', () => {
  it('hands a Kafka handler error on unchanged, so kafkajs can tell a rebalance', async () => {
    const host = new ExecutionContextHost([]);
    host.setType('rpc');
    const error = rebalance();
    const result = new KafkaErrorPassThroughFilter().catch(error, host) as Observable<never>;
    await expect(lastValueFrom(result)).rejects.toBe(error);
    expect(mustRejoinGroup(error)).toBe(true);
  });

  it('knows the errors that make a consumer rejoin from any other', () => {
    expect(mustRejoinGroup(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(mustRejoinGroup({ type: 'ILLEGAL_GENERATION' })).toBe(true);
    expect(mustRejoinGroup({ type: 'UNKNOWN_MEMBER_ID' })).toBe(true);
    expect(mustRejoinGroup({ type: 'OFFSET_METADATA_TOO_LARGE' })).toBe(false);
    expect(mustRejoinGroup(null)).toBe(false);
  });
});
