import { waitFor } from '../support/wait-for';
import { FaultRun, syncModes } from './fault-run';

const OUTAGE_MS = 15_000;

/**
 * Fault: a column the service writes (cms_products.description) is dropped mid-stream, as a
 * careless migration of the CMS team would, and restored 15 s later. Product events must wait
 * (retried, not dead-lettered), /ready must answer 503 naming the schema error while it lasts,
 * and once the column is back everything is applied, nothing lost and nothing twice.
 */
describe.each(syncModes())('fault, a dropped column (SYNC_MODE=%s)', (mode) => {
  let run: FaultRun;

  beforeEach(async () => {
    run = new FaultRun('9 schema error: column dropped 15 s', mode);
    await run.setUp();
  });

  afterEach(async () => {
    await run.tearDown();
    run.removeDir();
  });

  it('waits until the column is restored, fails /ready meanwhile, and loses nothing', async () => {
    const service = await run.begin(0.5);
    await run.waitProgress(0.2);
    await run.query('ALTER TABLE cms_products DROP COLUMN description');
    const droppedAt = Date.now();
    await run.produceRest();

    const ready = () => fetch(`http://127.0.0.1:${service.httpPort}/ready`);
    const reason = await waitFor(
      '/ready to answer 503 naming the schema error',
      async () => {
        const answer = await ready();
        const text = await answer.text();
        return answer.status === 503 && text.includes("Unknown column 'description'")
          ? text
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await waitFor(
      `${OUTAGE_MS / 1000} s with the column gone and the service still running`,
      () => {
        if (!service.running) throw new Error(`the service exited:\n${service.logTail()}`);
        return Date.now() - droppedAt >= OUTAGE_MS;
      },
      { timeoutMs: OUTAGE_MS + 10_000, intervalMs: 500 },
    );
    expect((await ready()).status).toBe(503);
    const metrics = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    expect(metrics).toContain('sync_schema_error_active{entity="product"} 1');

    await run.query('ALTER TABLE cms_products ADD COLUMN description MEDIUMTEXT NULL AFTER name');
    run.faultCleared();
    const recoveryMs = await run.waitCaughtUp();
    await waitFor('/ready to answer 200 again', async () => (await ready()).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });

    const schemaLines = (service.logText().match(/ER_BAD_FIELD_ERROR/g) ?? []).length;
    const figures = await run.measure(
      `cms_products.description dropped for ${OUTAGE_MS / 1000} s, then restored; ` +
        `/ready 503 meanwhile; ${schemaLines} schema error lines logged`,
      recoveryMs,
    );
    expect(reason).toContain('"schema"');
    expect(service.running).toBe(true);
    expect(figures.lost).toBe(0);
    expect(figures.appliedTwice).toBe(0);
    // The schema error is no invalid input: only the stream's own invalid events are dead letters.
    expect(figures.deadLettered).toBe(figures.invalidSent);
    expect(figures.applied + figures.stale).toBe(figures.distinctValid);
  }, 300_000);
});
