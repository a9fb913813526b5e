import { performance } from 'node:perf_hooks';
import { type Connection, type ConnectionOptions, createConnection } from 'mysql2/promise';

/** One probe commit: when it started (epoch ms) and how long it took. */
export interface TimedSample {
  at: number;
  ms: number;
}

/**
 * A yardstick of the database's own commit latency during a latency run: one autocommitted
 * single-row INSERT (so one redo log write and its fsync) every `everyMs`, on a connection and in
 * a table of its own in the mode's database. When the service's tail and the probe's rise in the
 * same seconds, the wait is in the database or its disk rather than in the service.
 */
export class CommitProbe {
  readonly samples: TimedSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly db: Connection,
    everyMs: number,
  ) {
    this.loop = this.run(everyMs);
  }

  static async start(options: ConnectionOptions, everyMs = 100): Promise<CommitProbe> {
    const db = await createConnection(options);
    await db.query(
      'CREATE TABLE IF NOT EXISTS bench_commit_probe ' +
        '(id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(3) NOT NULL) ENGINE=InnoDB',
    );
    return new CommitProbe(db, everyMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.db.end();
  }

  private async run(everyMs: number): Promise<void> {
    while (this.running) {
      const at = Date.now();
      const started = performance.now();
      await this.db.query('INSERT INTO bench_commit_probe (at) VALUES (NOW(3))');
      this.samples.push({ at, ms: performance.now() - started });
      const wait = everyMs - (Date.now() - at);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
