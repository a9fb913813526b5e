/**
 * Where the Kafka consumer stands, as its kafkajs instrumentation events tell it:
 * - `starting`: connected or connecting, not in its group yet;
 * - `joined`: a member of its group with partitions assigned (GROUP_JOIN);
 * - `rebalancing`: the group is rebalancing and the consumer is re-joining (REBALANCING);
 * - `restarting`: kafkajs crashed on a retriable error and will start the consumer again (CRASH, restart);
 * - `crashed`: kafkajs gave up (CRASH without restart); the service ends itself;
 * - `stopped`: stopped or disconnected (STOP, DISCONNECT), e.g. while shutting down.
 */
export type ConsumerState =
  'starting' | 'joined' | 'rebalancing' | 'restarting' | 'crashed' | 'stopped';

export interface ConsumerStatusSnapshot {
  readonly state: ConsumerState;
  /** Whether the consumer has joined its group at least once since the process started. */
  readonly hasJoined: boolean;
  /** Ready to consume: joined, or in a passing state (rebalance, restart) after having joined. */
  readonly ready: boolean;
  /** The message of the last crash, first line only: never a stack. */
  readonly lastError?: string;
  /** Milliseconds since the consumer last fetched from the broker; undefined before the first. */
  readonly lastFetchAgeMs?: number;
}

const MAX_ERROR_LENGTH = 200;

/** First line of an error message, bounded, so that an HTTP answer never carries a stack. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0]?.trim() ?? '';
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}

/**
 * The Kafka consumer's state for readiness. One instance per process, created in `startApp`,
 * updated by `KafkaConsumerServer` and read by the readiness check.
 *
 * A rebalance or a retriable restart after the consumer has joined once keeps it ready:
 * rebalances are routine, and flapping readiness would make the orchestrator pull the pod.
 * Never joined, crashed for good and stopped are not ready.
 */
export class ConsumerStatus {
  private state: ConsumerState = 'starting';
  private hasJoined = false;
  private lastError: string | undefined;
  private lastFetchAt: number | undefined;
  private currentMemberId: string | undefined;

  /** A fetch came back (kafkajs' FETCH event: at least every few seconds, even when idle). */
  fetched(now = Date.now()): void {
    this.lastFetchAt = now;
  }

  /** `memberId`: the id the group coordinator gave this consumer, to tell it among the members. */
  joined(memberId?: string): void {
    this.currentMemberId = memberId;
    this.state = 'joined';
    this.hasJoined = true;
  }

  rebalancing(): void {
    this.state = 'rebalancing';
  }

  /** `restart`: kafkajs will start the consumer again by itself. */
  crashed(error: Error | string, restart: boolean): void {
    this.state = restart ? 'restarting' : 'crashed';
    this.lastError = firstLine(typeof error === 'string' ? error : error.message);
  }

  stopped(): void {
    // kafkajs disconnects before it reports a crash; a later CRASH event names the real state.
    if (this.state !== 'crashed') this.state = 'stopped';
    this.currentMemberId = undefined;
  }

  /** This consumer's member id in its group since it last joined; undefined while out of it. */
  get memberId(): string | undefined {
    return this.currentMemberId;
  }

  get ready(): boolean {
    switch (this.state) {
      case 'joined':
        return true;
      case 'rebalancing':
      case 'restarting':
        return this.hasJoined;
      case 'starting':
      case 'crashed':
      case 'stopped':
        return false;
    }
  }

  snapshot(now = Date.now()): ConsumerStatusSnapshot {
    return {
      ...(this.lastFetchAt === undefined ? {} : { lastFetchAgeMs: now - this.lastFetchAt }),
      state: this.state,
      hasJoined: this.hasJoined,
      ready: this.ready,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }
}
