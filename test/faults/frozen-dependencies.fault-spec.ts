import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type BrokerHandle, ensureKafkaJars, startBroker } from '../../scripts/kafka/local-kafka';
import { PrivateMariaDb } from '../support/private-mariadb';
import { PrivateRedis } from '../support/private-redis';
import { freePort } from '../support/service-process';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait-for';
import { FaultRun, syncModes } from './fault-run';

const DEADLINE_MS = 4000;
const PARTITION_MS = 20_000;

type Dependency = 'mariadb' | 'redis' | 'kafka';
type Fault = 'failover' | 'partition';

/**
 * Fault 8: a dependency that stops answering without resetting anything. The service reaches its
 * private mariadbd, redis-server and broker only through TCP proxies of the test's own (the
 * broker advertises its proxy's address, so clients stay behind it after metadata); the test's
 * own measurements go to the database directly. Mid-stream, one proxy
 * - fails over: every open connection goes silent for good (nothing is closed on the service's
 *   side), new connections get through: the service must apply again within the statement
 *   deadline plus a few seconds, without a restart;
 * - or partitions: everything is frozen for 20 s, new connections included, then thawed: the
 *   service must resume by itself.
 * In both, nothing lost and nothing applied twice, and no instance exits.
 */
describe('fault 8, a dependency stops answering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cms-sync-frozen-'));
  let mariadb: PrivateMariaDb;
  let redis: PrivateRedis;
  let broker: BrokerHandle;
  const proxies = {} as Record<Dependency, TcpProxy>;

  beforeAll(async () => {
    await ensureKafkaJars(() => undefined);
    mariadb = new PrivateMariaDb(await freePort(), dir);
    redis = new PrivateRedis(await freePort());
    proxies.mariadb = new TcpProxy(await freePort(), mariadb.port);
    proxies.redis = new TcpProxy(await freePort(), redis.port);
    const kafkaPort = await freePort();
    proxies.kafka = new TcpProxy(await freePort(), kafkaPort);
    for (const proxy of Object.values(proxies)) await proxy.start();
    await Promise.all([mariadb.start(), redis.start()]);
    broker = await startBroker({
      port: kafkaPort,
      controllerPort: await freePort(),
      dataDir: join(dir, 'kafka'),
      logFile: join(dir, 'kafka.log'),
      heapMb: 384,
      extraProperties: {
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxies.kafka.port}`,
      },
    });
  }, 180_000);

  afterAll(async () => {
    for (const proxy of Object.values(proxies)) await proxy.stop();
    await broker?.stop('SIGKILL');
    await redis?.kill();
    await mariadb?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [Dependency, Fault][] = (['mariadb', 'redis', 'kafka'] as const).flatMap((dep) =>
    (['failover', 'partition'] as const).map((fault): [Dependency, Fault] => [dep, fault]),
  );

  describe.each(syncModes())('SYNC_MODE=%s', (mode) => {
    it.each(cases)(
      '%s %s: resumes by itself, losing nothing',
      async (dependency, fault) => {
        const proxy = proxies[dependency];
        const run = new FaultRun(
          `8 ${dependency === 'mariadb' ? 'MariaDB' : dependency === 'redis' ? 'Redis' : 'Kafka'} ` +
            (fault === 'failover' ? 'failover (open connections frozen)' : 'partition 20 s'),
          mode,
          // Bootstrap through the proxy too: a seed connection straight to the broker would bypass it.
          {
            brokers: `127.0.0.1:${proxies.kafka.port}`,
            dbPort: mariadb.port,
            redisPort: redis.port,
          },
        );
        try {
          await run.setUp();
          await run.begin(0.5, {
            DB_PORT: String(proxies.mariadb.port),
            REDIS_PORT: String(proxies.redis.port),
            DB_STATEMENT_TIMEOUT_MS: String(DEADLINE_MS),
          });
          await run.waitProgress(0.2);
          const acceptedBefore = proxy.accepted;
          const frozenAt = Date.now();
          if (fault === 'failover') proxy.freezeExisting();
          else proxy.freezeAll();
          // Whatever was in flight on the frozen path has landed or been rolled back by now.
          const baseline = await waitFor('the last commits before the freeze', async () => {
            const count = await run.processedCount();
            return Date.now() - frozenAt >= 1000 && count;
          });
          // Kafka frozen for everyone: the rest of the stream goes out once it thaws.
          if (!(dependency === 'kafka' && fault === 'partition')) await run.produceRest();

          let clearedAt = frozenAt;
          let duringFreeze = 0;
          if (fault === 'partition') {
            await waitFor(
              `${PARTITION_MS / 1000} s of partition with every instance still running`,
              () => {
                const dead = run.services.find((s) => !s.running);
                if (dead)
                  throw new Error(`${dead.name} exited during the partition:\n${dead.logTail()}`);
                return Date.now() - frozenAt >= PARTITION_MS;
              },
              { timeoutMs: PARTITION_MS + 10_000, intervalMs: 250 },
            );
            duringFreeze = (await run.processedCount()) - baseline;
            proxy.thaw();
            clearedAt = Date.now();
            if (dependency === 'kafka') await run.produceRest();
          }
          run.faultCleared();
          await waitFor(
            'events applied again after the fault',
            async () => (await run.processedCount()) > baseline,
            { timeoutMs: 120_000, intervalMs: 100 },
          );
          const resumedMs = Date.now() - clearedAt;
          const recoveryMs = await run.waitCaughtUp();

          const log = run.services.map((s) => s.logText()).join('\n');
          const deadlines = (log.match(/DB_STATEMENT_TIMEOUT_MS/g) ?? []).length;
          const figures = await run.measure(
            `applying again ${(resumedMs / 1000).toFixed(1)} s after the ` +
              (fault === 'failover'
                ? 'freeze'
                : `thaw (${duringFreeze} events recorded while frozen)`) +
              `; ${proxy.accepted - acceptedBefore} new connection(s) to ${dependency}; ` +
              `${deadlines} statement deadline(s) logged; DB_STATEMENT_TIMEOUT_MS=${DEADLINE_MS}`,
            recoveryMs,
          );
          expect(run.services.every((s) => s.running && s.exited === undefined)).toBe(true);
          expect(figures.lost).toBe(0);
          expect(figures.appliedTwice).toBe(0);
          expect(figures.deadLettered).toBe(figures.invalidSent);
          expect(figures.applied + figures.stale).toBe(figures.distinctValid);
          // A failover is survived within the deadline plus a few seconds of backoff and rejoin.
          if (fault === 'failover') expect(resumedMs).toBeLessThan(DEADLINE_MS + 15_000);
        } finally {
          proxy.thaw();
          await run.tearDown();
          run.removeDir();
        }
      },
      300_000,
    );
  });
});
