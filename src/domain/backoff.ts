/**
 * Exponential backoff with full jitter: a random wait between 0 and min(max, initial * 2^n), so
 * instances that failed together do not retry together.
 */
export function backoffDelay(
  failures: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failures, 30));
  return Math.floor(random() * ceiling);
}
