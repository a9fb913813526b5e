import { join } from 'node:path';
import {
  type BrokerHandle,
  type StartBrokerOptions,
  ensureKafkaJars,
  startBroker,
} from '../../scripts/kafka/local-kafka';
import { freePort } from '../support/service-process';
import { FaultRun, SHARED, syncModes } from './fault-run';

/**
 * Fault 3: the service's broker (a private single-node KRaft broker) is SIGKILLed mid-stream and
 * restarted on the same data folder, so topics and committed offsets survive. An instance that
 * gives up and exits non-zero is allowed (issue 3: "or exits non-zero so the orchestrator
 * restarts it"); the test then plays the orchestrator and says so in the figures.
 */
describe.each(syncModes())('fault 3, broker killed and restarted (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;
  let broker: BrokerHandle | undefined;
  let options: StartBrokerOptions;

  beforeEach(async () => {
    await ensureKafkaJars(() => undefined);
    run = new FaultRun('3 broker SIGKILLed, restarted on its data', mode);
    options = {
      port: await freePort(),
      controllerPort: await freePort(),
      dataDir: join(run.dir, 'kafka'),
      logFile: join(run.dir, 'kafka.log'),
      heapMb: 384,
      extraProperties: {
        'broker.session.timeout.ms': '3000',
        'broker.heartbeat.interval.ms': '500',
      },
    };
    broker = await startBroker(options);
    run.deps = { ...SHARED, brokers: broker.brokers };
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown(false);
    await broker?.stop('SIGKILL');
    run.removeDir();
  });

  it('resumes after the broker comes back, losing nothing', async () => {
    await run.begin(0.5);
    await run.waitProgress(0.25);
    await broker?.stop('SIGKILL');
    broker = await startBroker(options);
    run.faultCleared();
    await run.produceRest();
    let restarts = 0;
    const recoveryMs = await run.waitCaughtUp(180_000, async () => {
      const exited = run.services.filter((s) => !s.running && s.exited?.code !== 0);
      if (exited.length > 0 && run.services.every((s) => !s.running)) {
        restarts++;
        await run.startService();
      }
    });

    const exits = run.services
      .flatMap((s) => (s.exited ? [`${s.name} exit ${s.exited.code}`] : []))
      .join(', ');
    const figures = await run.measure(
      restarts === 0
        ? 'the service rode the broker restart out without exiting'
        : `the service exited (${exits}) and was restarted ${restarts}× by the test`,
      recoveryMs,
    );
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
