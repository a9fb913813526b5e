import type Redis from 'ioredis';

/**
 * Removes the keys that match `pattern` (SCAN and UNLINK, `batchSize` keys a round trip) and
 * returns how many were removed; with `dryRun` only counts them (SCAN may return a key twice
 * while Redis resizes its table, so that count can be a little high).
 */
export async function unlinkMatching(
  redis: Redis,
  pattern: string,
  batchSize: number,
  dryRun = false,
): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', batchSize);
    cursor = next;
    if (keys.length === 0) continue;
    count += dryRun ? keys.length : await redis.unlink(...keys);
  } while (cursor !== '0');
  return count;
}
