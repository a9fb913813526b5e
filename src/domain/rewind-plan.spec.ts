import { planPartitionRewind, type PartitionFacts } from './rewind-plan';

const facts = (overrides: Partial<PartitionFacts>): PartitionFacts => ({
  topic: 'product.changed',
  partition: 0,
  low: 0n,
  high: 100n,
  committed: 100n,
  recorded: 59n,
  atCutoff: 40n,
  ...overrides,
});

describe('planPartitionRewind', () => {
  it('restarts right after the highest recorded offset, not at the offset of the time', () => {
    const plan = planPartitionRewind(facts({}));
    expect(plan).toMatchObject({ target: 60n, source: 'recorded', newOffset: 60n, replay: 40n });
    expect(plan.notes).toEqual([]);
  });

  it('falls back to the offset at the cutoff time only without a record', () => {
    const plan = planPartitionRewind(facts({ recorded: null }));
    expect(plan).toMatchObject({ target: 40n, source: 'time', newOffset: 40n, replay: 60n });
  });

  it('never moves a committed offset forward', () => {
    const plan = planPartitionRewind(facts({ committed: 50n }));
    expect(plan).toMatchObject({ target: 60n, newOffset: null, replay: 50n });
    expect(plan.notes.join()).toMatch(/kept/);
  });

  it('leaves a committed offset equal to the target alone, without a note', () => {
    const plan = planPartitionRewind(facts({ committed: 60n }));
    expect(plan).toMatchObject({ newOffset: null, replay: 40n, notes: [] });
  });

  it('leaves a group without a committed offset to start from the earliest offset', () => {
    const plan = planPartitionRewind(facts({ committed: null, low: 10n }));
    expect(plan).toMatchObject({ newOffset: null, replay: 90n });
    expect(plan.notes.join()).toMatch(/earliest/);
  });

  it('starts at the low watermark when the target is gone, and counts what is lost', () => {
    const plan = planPartitionRewind(facts({ low: 70n }));
    expect(plan).toMatchObject({ target: 70n, newOffset: 70n, lost: 10n, replay: 30n });
    expect(plan.notes.join()).toMatch(/10 message\(s\) before the low watermark/);
  });

  it('never targets beyond the high watermark', () => {
    const plan = planPartitionRewind(facts({ recorded: 120n, committed: 130n }));
    expect(plan).toMatchObject({ target: 100n, newOffset: 100n, replay: 0n });
  });
});
