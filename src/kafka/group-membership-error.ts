/**
 * The errors after which this consumer must rejoin its group: kafkajs' own `isRebalancing` (in
 * its errors.js, which it does not export), raised by a heartbeat or commit during a rebalance,
 * and UNKNOWN_MEMBER_ID, the coordinator's answer once it has evicted the member (after a
 * session timeout, e.g. while a broker connection went silent). kafkajs' runner rejoins on all
 * four when they reach it from a batch, so the batch path hands them on instead of retrying.
 */
const REJOIN_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
]);

export function mustRejoinGroup(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    REJOIN_TYPES.has(String((err as { type?: unknown }).type))
  );
}
