import type { INestApplication } from '@nestjs/common';
import { startApp } from '../src/bootstrap';
import { parseConfig } from '../src/config/app-config';
import { ConsumerStatus } from '../src/health/consumer-status';
import { productEvent } from './support/events';
import { TestContext } from './support/test-context';
import { waitFor } from './support/wait-for';

/** 100 once by hand (`STARTUP_RACE_RUNS=100`); CI runs fewer, see the README. */
const RUNS = Number(process.env.STARTUP_RACE_RUNS ?? '10');
const PARTITIONS = 6;

interface Start {
  app: INestApplication | undefined;
  error: string | undefined;
}

/**
 * Two instances started at the same moment on fresh topics and a fresh database, `RUNS` times:
 * both race on CREATE DATABASE, the migration lock, the dead-letter topics and the first join of
 * the group. Every run sends one product event and waits until it is applied; any start that
 * rejects or consumer that crashes for good (what makes `main.ts` exit 1) is recorded with its
 * stack, and the test fails listing them all.
 */
describe('two instances started together on fresh topics', () => {
  it(
    `both start, join and apply, ${RUNS} times in a row`,
    async () => {
      const failures: string[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const ctx = new TestContext();
        await ctx.setUp(PARTITIONS);
        const crashes: string[] = [];
        const config = parseConfig(ctx.env({ KAFKA_PARTITIONS_CONCURRENCY: '3' }));
        const starts: Start[] = await Promise.all(
          [1, 2].map((instance) =>
            startApp(config, (error) => crashes.push(`instance ${instance}: ${error.stack}`)).then(
              (app): Start => ({ app, error: undefined }),
              (err: unknown): Start => ({
                app: undefined,
                error: `instance ${instance} failed to start: ${(err as Error).stack ?? String(err)}`,
              }),
            ),
          ),
        );
        try {
          const apps = starts.flatMap((s) => (s.app ? [s.app] : []));
          if (apps.length === 2) {
            await waitFor(
              'both consumers in the group',
              () => apps.every((app) => app.get(ConsumerStatus).snapshot().hasJoined),
              { timeoutMs: 60_000 },
            );
            await ctx.publish('product', [productEvent(run, 1)]);
            await waitFor(
              'the event applied',
              async () =>
                crashes.length > 0 ||
                (await ctx.rows('SELECT id FROM cms_products WHERE id = ?', [run])).length === 1,
              { timeoutMs: 60_000 },
            );
          }
        } catch (err) {
          failures.push(`run ${run}: ${(err as Error).message}`);
        } finally {
          for (const start of starts) await start.app?.close();
          await ctx.tearDown();
        }
        for (const problem of [...starts.flatMap((s) => s.error ?? []), ...crashes]) {
          failures.push(`run ${run}: ${problem}`);
        }
        console.log(`startup race run ${run}/${RUNS}: ${failures.length} failure(s) so far`);
      }
      expect(failures).toEqual([]);
    },
    60_000 + RUNS * 90_000,
  );
});
