import type { TopicPartitionLag } from './consumer-offsets.repository';

export interface VerifyThresholds {
  /** Most lag allowed on any one partition; undefined: not checked. */
  readonly maxLag: number | undefined;
  /** Most unresolved dead letters allowed; undefined: not checked. */
  readonly maxUnresolved: number | undefined;
}

/** Every threshold `npm run verify` finds exceeded, each named with its flag; empty: all fine. */
export function thresholdViolations(
  lags: readonly TopicPartitionLag[],
  unresolvedDeadLetters: number,
  { maxLag, maxUnresolved }: VerifyThresholds,
): string[] {
  const violations: string[] = [];
  if (maxLag !== undefined) {
    for (const { topic, partition, lag } of lags) {
      if (lag > maxLag) {
        violations.push(
          `consumer lag ${lag} on ${topic}[${partition}] exceeds --max-lag ${maxLag}`,
        );
      }
    }
  }
  if (maxUnresolved !== undefined && unresolvedDeadLetters > maxUnresolved) {
    violations.push(
      `${unresolvedDeadLetters} unresolved dead letters exceed --max-unresolved ${maxUnresolved}`,
    );
  }
  return violations;
}
