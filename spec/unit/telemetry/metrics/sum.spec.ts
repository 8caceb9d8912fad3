import { describe, expect, it } from 'vitest';
import { sum } from '../../../../src/index.js';
import { harness } from './metric-harness.js';

describe('sum adds up the measurement named by its last segment', () => {
  it("'limiter.hit.cost' adds the cost of 'limiter.hit' events", () => {
    const metric = harness(sum('limiter.hit.cost'));
    metric.emit('limiter.hit', { count: 1, cost: 2 });
    metric.emit('limiter.hit', { count: 2, cost: 3.5 });
    metric.emit('limiter.other', { cost: 100 });
    expect(metric.values()).toEqual({ '': { kind: 'scalar', value: 5.5 } });
  });

  it('keeps a separate total per combination of tag values', () => {
    const metric = harness(sum('limiter.hit.cost', { tags: ['limiter'] }));
    metric.emit('limiter.hit', { cost: 2 }, { limiter: 'api' });
    metric.emit('limiter.hit', { cost: 5 }, { limiter: 'login' });
    metric.emit('limiter.hit', { cost: 1 }, { limiter: 'api' });
    expect(metric.values()).toEqual({
      api: { kind: 'scalar', value: 3 },
      login: { kind: 'scalar', value: 5 },
    });
  });
});

describe('sum skips events that lack the measurement', () => {
  it('ignores events without it or with NaN, and emits no reading for them', () => {
    const metric = harness(sum('limiter.hit.cost'));
    metric.emit('limiter.hit', { count: 1 });
    metric.emit('limiter.hit');
    metric.emit('limiter.hit', { cost: Number.NaN });
    expect(metric.readings).toHaveLength(0);
    metric.emit('limiter.hit', { cost: 4 });
    expect(metric.readings).toHaveLength(1);
    expect(metric.values()).toEqual({ '': { kind: 'scalar', value: 4 } });
  });
});

describe('sum options measurement and event choose what is added', () => {
  it('measurement names another measurement', () => {
    const metric = harness(sum('limiter.hit.units', { measurement: 'cost' }));
    metric.emit('limiter.hit', { cost: 3, units: 1000 });
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 3 });
  });

  it('measurement as a function computes the value, undefined skipping the event', () => {
    const metric = harness(
      sum('breaker.call.seconds', {
        measurement: (event) => (event.metadata.outcome === 'rejected' ? undefined : event.measurements.duration! / 1000),
      }),
    );
    metric.emit('breaker.call', { duration: 1500 }, { outcome: 'success' });
    metric.emit('breaker.call', { duration: 9999 }, { outcome: 'rejected' });
    metric.emit('breaker.call', { duration: 250 }, { outcome: 'failure' });
    expect(metric.readings).toHaveLength(2);
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 1.75 });
  });

  it('event and keep narrow the events added', () => {
    const metric = harness(
      sum('denied.cost', { event: 'limiter.hit', measurement: 'cost', keep: (event) => event.metadata.allowed === false }),
    );
    metric.emit('limiter.hit', { cost: 2 }, { allowed: true });
    metric.emit('limiter.hit', { cost: 3 }, { allowed: false });
    metric.emit('denied', { cost: 50 }, { allowed: false });
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 3 });
  });
});
