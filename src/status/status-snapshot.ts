import type { ConsumerStatusSnapshot } from '../health/consumer-status';
import type { DbPoolConnections } from '../metrics/db-pool-connections';
import type { DeadLetterSummary } from '../persistence/sync-report.repository';
import type { OutcomeRates } from './outcome-rate-history';

/** A broker or database reading, with its age and the error of a failed refresh. */
export interface Reading<T> {
  /** ISO time of the reading; null when none succeeded yet. */
  readonly readAt: string | null;
  readonly error?: string;
  readonly value: T | null;
}

export interface PartitionStatus {
  readonly topic: string;
  readonly partition: number;
  /** null: the group has committed nothing on the partition yet. */
  readonly committed: string | null;
  readonly highWatermark: string;
  readonly lag: number;
  /** Whether this instance consumes the partition; null when the group could not be read. */
  readonly ownedHere: boolean | null;
}

export interface GroupMemberStatus {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  /** `topic/partition` for each assigned partition. */
  readonly partitions: readonly string[];
  readonly thisInstance: boolean;
}

/** A dead letter as the JSON carries it: the row's summary, its time as ISO text. */
export type DeadLetterStatus = Omit<DeadLetterSummary, 'createdAt'> & {
  readonly createdAt: string;
};

/** The JSON of `GET /status`: what the status page shows, for scripts too. Never a payload. */
export interface StatusSnapshot {
  readonly generatedAt: string;
  readonly groupId: string;
  readonly partitions: Reading<readonly PartitionStatus[]>;
  readonly group: Reading<{
    readonly state: string;
    readonly members: readonly GroupMemberStatus[];
  }>;
  readonly rates: { readonly intervalMs: number; readonly samples: readonly OutcomeRates[] };
  readonly deadLetters: Reading<{
    readonly unresolved: number;
    readonly recent: readonly DeadLetterStatus[];
  }>;
  readonly dependencies: {
    readonly mysql: { readonly pool: DbPoolConnections | null };
    readonly redis: {
      readonly connection: string;
      readonly circuit: 'closed' | 'open';
      readonly hits: number;
      readonly misses: number;
      readonly errors: number;
      /** Hits over hits and misses; null before the first lookup. */
      readonly hitRate: number | null;
    };
    readonly kafka: ConsumerStatusSnapshot;
  };
  /** The configuration in effect, secrets masked as in the start-up line. */
  readonly configuration: unknown;
}
