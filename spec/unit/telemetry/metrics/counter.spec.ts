import { describe, expect, it } from 'vitest';
import { counter } from '../../../../src/index.js';
import { harness } from './metric-harness.js';

describe('counter counts the events named by its name without the last segment', () => {
  it("'breaker.call.count' counts 'breaker.call' events and nothing else", () => {
    const metric = harness(counter('breaker.call.count'));
    metric.emit('breaker.call', { duration: 5 });
    metric.emit('breaker.state');
    metric.emit('breaker.call.extra', { duration: 5 });
    metric.emit('breaker', { duration: 5 });
    metric.emit('breaker.call', { duration: 9 });
    expect(metric.snapshot().series).toEqual([{ tags: {}, value: { kind: 'scalar', value: 2 } }]);
  });

  it('counts events whatever their measurements, even none', () => {
    const metric = harness(counter('supervisor.child.restarted.count'));
    metric.emit('supervisor.child.restarted');
    metric.emit('supervisor.child.restarted', { restarts: 1 });
    metric.emit('supervisor.child.restarted', { count: Number.NaN });
    expect(metric.values()).toEqual({ '': { kind: 'scalar', value: 3 } });
  });

  it('emits a reading after each counted event and none for others', () => {
    const metric = harness(counter('pool.checkout.count'));
    metric.emit('pool.checkout');
    metric.emit('pool.worker.exit');
    metric.emit('pool.checkout');
    expect(metric.readings).toHaveLength(2);
    expect(metric.readings[0]!.definition.name).toBe('pool.checkout.count');
  });

  it('keeps each subscription’s count separate', () => {
    const first = harness(counter('pool.checkout.count'));
    const second = harness(counter('pool.checkout.count'));
    first.emit('pool.checkout');
    first.emit('pool.checkout');
    second.emit('pool.checkout');
    expect(first.values()['']).toEqual({ kind: 'scalar', value: 2 });
    expect(second.values()['']).toEqual({ kind: 'scalar', value: 1 });
  });
});

describe('counter keeps a separate series per combination of tag values', () => {
  it('splits by every chosen tag, in first-seen order, carrying only those tags', () => {
    const metric = harness(counter('breaker.call.count', { tags: ['breaker', 'outcome'] }));
    metric.emit('breaker.call', { duration: 1 }, { breaker: 'payments', outcome: 'success', extra: 'ignored' });
    metric.emit('breaker.call', { duration: 1 }, { breaker: 'payments', outcome: 'failure' });
    metric.emit('breaker.call', { duration: 1 }, { breaker: 'search', outcome: 'success' });
    metric.emit('breaker.call', { duration: 1 }, { breaker: 'payments', outcome: 'success' });
    expect(metric.snapshot().series).toEqual([
      { tags: { breaker: 'payments', outcome: 'success' }, value: { kind: 'scalar', value: 2 } },
      { tags: { breaker: 'payments', outcome: 'failure' }, value: { kind: 'scalar', value: 1 } },
      { tags: { breaker: 'search', outcome: 'success' }, value: { kind: 'scalar', value: 1 } },
    ]);
  });

  it('renders non-string tag values as text and a missing tag as the empty string', () => {
    const metric = harness(counter('limiter.hit.count', { tags: ['limiter', 'allowed'] }));
    metric.emit('limiter.hit', {}, { limiter: 'api', allowed: true });
    metric.emit('limiter.hit', {}, { limiter: 'api', allowed: false });
    metric.emit('limiter.hit', {}, { limiter: 7, allowed: true });
    metric.emit('limiter.hit', {}, { allowed: true });
    metric.emit('limiter.hit', {}, { limiter: null, allowed: true });
    expect(metric.snapshot().series.map((series) => [series.tags, series.value])).toEqual([
      [{ limiter: 'api', allowed: 'true' }, { kind: 'scalar', value: 1 }],
      [{ limiter: 'api', allowed: 'false' }, { kind: 'scalar', value: 1 }],
      [{ limiter: '7', allowed: 'true' }, { kind: 'scalar', value: 1 }],
      [{ limiter: '', allowed: 'true' }, { kind: 'scalar', value: 2 }],
    ]);
  });

  it('tags an Error value by its class name, not its message', () => {
    const metric = harness(counter('supervisor.child.exited.count', { tags: ['error'] }));
    metric.emit('supervisor.child.exited', {}, { error: new TypeError('one message') });
    metric.emit('supervisor.child.exited', {}, { error: new TypeError('another message') });
    metric.emit('supervisor.child.exited', {}, { error: new RangeError('x') });
    expect(metric.values()).toEqual({
      TypeError: { kind: 'scalar', value: 2 },
      RangeError: { kind: 'scalar', value: 1 },
    });
  });

  it('does not mix series whose joined tag values would collide', () => {
    const metric = harness(counter('job.run.count', { tags: ['a', 'b'] }));
    metric.emit('job.run', {}, { a: 'x', b: 'y z' });
    metric.emit('job.run', {}, { a: 'x y', b: 'z' });
    expect(metric.snapshot().series).toHaveLength(2);
  });
});

describe('counter options event and keep choose which events count', () => {
  it('event overrides the name-derived event', () => {
    const metric = harness(counter('restarts.total', { event: 'supervisor.child.restarted' }));
    metric.emit('supervisor.child.restarted');
    metric.emit('restarts');
    expect(metric.snapshot().definition.event).toBe('supervisor.child.restarted');
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 1 });
  });

  it('keep filters events of the metric’s event', () => {
    const metric = harness(
      counter('breaker.call.count', { tags: ['breaker'], keep: (event) => event.metadata.outcome === 'rejected' }),
    );
    metric.emit('breaker.call', {}, { breaker: 'payments', outcome: 'success' });
    metric.emit('breaker.call', {}, { breaker: 'payments', outcome: 'rejected' });
    metric.emit('breaker.call', {}, { breaker: 'payments', outcome: 'rejected' });
    expect(metric.readings).toHaveLength(2);
    expect(metric.values()).toEqual({ payments: { kind: 'scalar', value: 2 } });
  });
});
