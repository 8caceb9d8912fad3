import { describe, expect, it } from 'vitest';
import { ConfigError, summary, type SummaryValue } from '../../../../src/index.js';
import { harness, shuffled } from './metric-harness.js';

function summarise(values: readonly number[], maxSamples?: number): SummaryValue {
  const metric = harness(summary('job.run.duration', maxSamples === undefined ? {} : { maxSamples }));
  for (const duration of values) metric.emit('job.run', { duration });
  const value = metric.snapshot().series[0]!.value;
  if (value.kind !== 'summary') throw new Error(`expected a summary, got ${value.kind}`);
  return value;
}

const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

describe('summary reports count, sum, min, max and mean of every value', () => {
  it('for 1..100 in shuffled order', () => {
    expect(summarise(shuffled(oneToHundred))).toMatchObject({
      kind: 'summary',
      count: 100,
      sum: 5050,
      min: 1,
      max: 100,
      mean: 50.5,
    });
  });

  it('for a single value', () => {
    expect(summarise([42])).toEqual({ kind: 'summary', count: 1, sum: 42, min: 42, max: 42, mean: 42, p50: 42, p90: 42, p99: 42 });
  });

  it('with negative and fractional values', () => {
    expect(summarise([-2.5, 0, 10])).toMatchObject({ count: 3, sum: 7.5, min: -2.5, max: 10, mean: 2.5 });
  });
});

describe('summary quantiles p50, p90, p99 are nearest-rank', () => {
  it('1..100 shuffled: p50 50, p90 90, p99 99', () => {
    expect(summarise(shuffled(oneToHundred))).toMatchObject({ p50: 50, p90: 90, p99: 99 });
  });

  it('1..1000 shuffled: p50 500, p90 900, p99 990', () => {
    const oneToThousand = Array.from({ length: 1000 }, (_, index) => index + 1);
    expect(summarise(shuffled(oneToThousand))).toMatchObject({ count: 1000, p50: 500, p90: 900, p99: 990 });
  });

  it('the textbook sample [3, 6, 7, 8, 8, 10, 13, 15, 16, 20]: p50 8, p90 16, p99 20', () => {
    expect(summarise([15, 3, 20, 8, 6, 16, 8, 13, 10, 7])).toMatchObject({ p50: 8, p90: 16, p99: 20, min: 3, max: 20, mean: 10.6 });
  });

  it('[15, 20, 35, 40, 50]: p50 35, p90 50, p99 50', () => {
    expect(summarise([50, 15, 40, 20, 35])).toMatchObject({ p50: 35, p90: 50, p99: 50 });
  });

  it('sorts numerically, not as text', () => {
    expect(summarise([100, 9, 20, 3])).toMatchObject({ p50: 9, p90: 100, min: 3, max: 100 });
  });
});

describe('summary memory is bounded by maxSamples', () => {
  it('computes quantiles over the most recent maxSamples values, the rest over every value', () => {
    expect(summarise([100, 200, 300, 400, 1, 2], 4)).toEqual({
      kind: 'summary',
      count: 6,
      sum: 1003,
      min: 1,
      max: 400,
      mean: 1003 / 6,
      p50: 2,
      p90: 400,
      p99: 400,
    });
  });

  it('forgets old values once the window has wrapped more than once', () => {
    const early = Array.from({ length: 500 }, () => 1_000);
    const recent = shuffled(Array.from({ length: 10 }, (_, index) => index + 1));
    expect(summarise([...early, ...recent], 10)).toMatchObject({ count: 510, max: 1_000, p50: 5, p90: 9, p99: 10 });
  });

  it('defaults maxSamples to 1024', () => {
    // 2000 down to 1: a window of the last W values holds 1..W, so p50 = ceil(W/2) and
    // p90 = ceil(0.9 W): 512 and 922 for W = 1024 (1023 gives 512/921, 1025 gives 513/923).
    const descending = Array.from({ length: 2000 }, (_, index) => 2000 - index);
    expect(summarise(descending)).toMatchObject({ count: 2000, min: 1, max: 2000, p50: 512, p90: 922, p99: 1014 });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects maxSamples %s with a ConfigError naming it', (maxSamples) => {
    let thrown: unknown;
    try {
      summary('job.run.duration', { maxSamples });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).option).toBe('maxSamples');
    expect((thrown as ConfigError).message).toContain('maxSamples');
  });
});

describe('summary keeps a separate series per combination of tag values and skips unmeasured events', () => {
  it('summarises each breaker/outcome apart', () => {
    const metric = harness(summary('breaker.call.duration', { tags: ['breaker', 'outcome'] }));
    metric.emit('breaker.call', { duration: 10 }, { breaker: 'payments', outcome: 'success' });
    metric.emit('breaker.call', { duration: 30 }, { breaker: 'payments', outcome: 'success' });
    metric.emit('breaker.call', { duration: 1000 }, { breaker: 'payments', outcome: 'timeout' });
    metric.emit('breaker.call', {}, { breaker: 'payments', outcome: 'rejected' });
    expect(metric.values()).toEqual({
      'payments|success': { kind: 'summary', count: 2, sum: 40, min: 10, max: 30, mean: 20, p50: 10, p90: 30, p99: 30 },
      'payments|timeout': { kind: 'summary', count: 1, sum: 1000, min: 1000, max: 1000, mean: 1000, p50: 1000, p90: 1000, p99: 1000 },
    });
    expect(metric.readings).toHaveLength(3);
  });
});
