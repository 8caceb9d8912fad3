import { describe, expect, it } from 'vitest';
import { lastValue } from '../../../../src/index.js';
import { harness } from './metric-harness.js';

describe('lastValue keeps the latest measurement per combination of tag values', () => {
  it("'pool.checkout.waiting' keeps the latest waiting of 'pool.checkout', per pool", () => {
    const metric = harness(lastValue('pool.checkout.waiting', { tags: ['pool'] }));
    metric.emit('pool.checkout', { duration: 1, waiting: 4 }, { pool: 'db' });
    metric.emit('pool.checkout', { duration: 1, waiting: 9 }, { pool: 'cache' });
    metric.emit('pool.checkout', { duration: 1, waiting: 0 }, { pool: 'db' });
    expect(metric.values()).toEqual({
      db: { kind: 'scalar', value: 0 },
      cache: { kind: 'scalar', value: 9 },
    });
  });

  it('can go down as well as up', () => {
    const metric = harness(lastValue('queue.size.length'));
    for (const length of [3, 10, -2, 7]) metric.emit('queue.size', { length });
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 7 });
  });
});

describe('lastValue skips events that lack the measurement', () => {
  it('an event without it leaves the last value in place', () => {
    const metric = harness(lastValue('pool.checkout.waiting'));
    metric.emit('pool.checkout', { waiting: 5 });
    metric.emit('pool.checkout', { duration: 3 });
    metric.emit('pool.checkout', { waiting: Number.NaN });
    expect(metric.readings).toHaveLength(1);
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 5 });
  });

  it('has no series until a measured event arrives', () => {
    const metric = harness(lastValue('pool.checkout.waiting'));
    metric.emit('pool.checkout', { duration: 3 });
    expect(metric.readings).toEqual([]);
  });
});
