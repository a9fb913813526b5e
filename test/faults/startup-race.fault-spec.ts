import { join } from 'node:path';
import { freePort, ServiceProcess } from '../support/service-process';
import { waitFor } from '../support/wait-for';
import { FaultRun } from './fault-run';

/** 100 once by hand (`STARTUP_RACE_RUNS=100`); the suite runs fewer, see the README. */
const RUNS = Number(process.env.STARTUP_RACE_RUNS ?? '5');

/**
 * Two instances (`node dist/main.js`) started at the same moment on fresh topics and a fresh
 * database, `RUNS` times: they race on CREATE DATABASE, the migration lock, the dead-letter
 * topics and the first join of the group. Both must answer /ready and stay up for a second
 * more; an instance that exits is reported with its exit code and its whole output.
 */
describe('two instances started together on fresh topics (child processes)', () => {
  it(
    `both start and stay up, ${RUNS} times in a row`,
    async () => {
      const failures: string[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const fault = new FaultRun('startup race', 'batch');
        try {
          await fault.setUp();
          const services = await Promise.all(
            [1, 2].map(async (n) => {
              const service = new ServiceProcess(
                `instance-${n}`,
                fault.serviceEnv(),
                await freePort(),
                join(fault.dir, `instance-${n}.log`),
              );
              fault.services.push(service);
              return service;
            }),
          );
          for (const service of services) service.start();
          const started = await Promise.allSettled(services.map((s) => s.waitReady(90_000)));
          const settledAt = Date.now();
          await waitFor('a second with both up', () => Date.now() - settledAt >= 1000, {
            intervalMs: 100,
          });
          services.forEach((service, i) => {
            if (started[i]?.status === 'rejected' || !service.running) {
              failures.push(
                `run ${run}, ${service.name}: ${JSON.stringify(service.exited ?? 'not ready')}\n` +
                  service.logText(),
              );
            }
          });
        } finally {
          await fault.tearDown();
          fault.removeDir();
        }
        console.log(`startup race run ${run}/${RUNS}: ${failures.length} failure(s) so far`);
      }
      expect(failures).toEqual([]);
    },
    60_000 + RUNS * 120_000,
  );
});
