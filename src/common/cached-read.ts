export interface CachedValue<T> {
  readonly value: T;
  /** When the value was read, in ms since the epoch. */
  readonly readAt: number;
  /** Why the last refresh failed, when the value shown is an older one. */
  readonly error?: string;
}

/**
 * One value read from a slow source (a broker, a database) and reused while it is young
 * enough, so that any number of readers cost one read per `maxAgeMs`. Readers that ask while a
 * read is in flight join it. A failed read keeps the last value, marked with the error.
 */
export class CachedRead<T> {
  private last: CachedValue<T> | undefined;
  private inFlight: Promise<CachedValue<T>> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value if read within `maxAgeMs`, else a fresh one; rejects only with no value yet. */
  async get(maxAgeMs: number): Promise<CachedValue<T>> {
    if (this.last !== undefined && this.now() - this.last.readAt <= maxAgeMs) return this.last;
    return this.refresh();
  }

  /** Reads now (or joins the read in flight). */
  refresh(): Promise<CachedValue<T>> {
    this.inFlight ??= this.read()
      .then(
        (value) => (this.last = { value, readAt: this.now() }),
        (err: unknown) => {
          if (this.last === undefined) throw err;
          const error = err instanceof Error ? err.message : String(err);
          return { value: this.last.value, readAt: this.last.readAt, error };
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
