/**
 * kafkajs' own test for "this consumer must rejoin its group" (`isRebalancing` in kafkajs'
 * errors.js, which it does not export), raised by a heartbeat during a rebalance.
 */
const REJOIN_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
]);

export function isGroupRebalance(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    REJOIN_TYPES.has(String((err as { type?: unknown }).type))
  );
}
