import { ConsumerStatus } from './consumer-status';

describe('ConsumerStatus', () => {
  it('starts not ready: the consumer has not joined its group', () => {
    expect(new ConsumerStatus().snapshot()).toEqual({
      state: 'starting',
      hasJoined: false,
      ready: false,
    });
  });

  it('is ready once the consumer joins its group', () => {
    const status = new ConsumerStatus();
    status.joined();
    expect(status.snapshot()).toEqual({ state: 'joined', hasJoined: true, ready: true });
  });

  it('stays ready through a rebalance after it had joined, and rejoins', () => {
    const status = new ConsumerStatus();
    status.joined();
    status.rebalancing();
    expect(status.snapshot()).toMatchObject({ state: 'rebalancing', ready: true });
    status.joined();
    expect(status.snapshot()).toMatchObject({ state: 'joined', ready: true });
  });

  it('is not ready while rebalancing before it ever joined', () => {
    const status = new ConsumerStatus();
    status.rebalancing();
    expect(status.snapshot()).toMatchObject({ state: 'rebalancing', ready: false });
  });

  it('keeps a retriable crash after joining ready (kafkajs restarts it) and clears on rejoin', () => {
    const status = new ConsumerStatus();
    status.joined();
    // kafkajs' order on a crash: STOP, DISCONNECT, then CRASH.
    status.stopped();
    status.stopped();
    status.crashed(new Error('The group coordinator is not available'), true);
    expect(status.snapshot()).toEqual({
      state: 'restarting',
      hasJoined: true,
      ready: true,
      lastError: 'The group coordinator is not available',
    });
    status.joined();
    expect(status.snapshot()).toMatchObject({ state: 'joined', ready: true });
  });

  it('is not ready when a retriable crash comes before it ever joined', () => {
    const status = new ConsumerStatus();
    status.crashed(new Error('Connection timeout'), true);
    expect(status.snapshot()).toMatchObject({ state: 'restarting', ready: false });
  });

  it('is not ready after a crash kafkajs gives up on, and a later disconnect keeps "crashed"', () => {
    const status = new ConsumerStatus();
    status.joined();
    status.crashed(new Error('Not authorized to access group'), false);
    status.stopped();
    expect(status.snapshot()).toEqual({
      state: 'crashed',
      hasJoined: true,
      ready: false,
      lastError: 'Not authorized to access group',
    });
  });

  it('is not ready once stopped', () => {
    const status = new ConsumerStatus();
    status.joined();
    status.stopped();
    expect(status.snapshot()).toMatchObject({ state: 'stopped', hasJoined: true, ready: false });
  });

  it('keeps only the first line of a crash message, bounded, never a stack', () => {
    const status = new ConsumerStatus();
    const error = new Error(`boom ${'x'.repeat(500)}\n    at secret (/app/src/file.ts:1:1)`);
    status.crashed(error, false);
    const { lastError } = status.snapshot();
    expect(lastError).toMatch(/^boom x+…$/);
    expect(lastError?.length).toBeLessThanOrEqual(200);
    expect(lastError).not.toContain('\n');
    expect(lastError).not.toContain(' at ');
  });

  it('knows its member id from the join until it stops', () => {
    const status = new ConsumerStatus();
    expect(status.memberId).toBeUndefined();
    status.joined('cms-sync-1f2e');
    status.rebalancing();
    expect(status.memberId).toBe('cms-sync-1f2e');
    status.stopped();
    expect(status.memberId).toBeUndefined();
  });
});
