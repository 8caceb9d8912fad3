import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, summary, type SummaryValue } from '../../../../src/index.js';
import { harness, shuffled } from './metric-harness.js';

function summarise(values: readonly number[], options: { maxSamples?: number; relativeAccuracy?: number } = {}): SummaryValue {
  const metric = harness(summary('job.run.duration', options));
  for (const duration of values) metric.emit('job.run', { duration });
  const value = metric.snapshot().series[0]!.value;
  if (value.kind !== 'summary') throw new Error(`expected a summary, got ${value.kind}`);
  return value;
}

/** The exact nearest-rank quantile: the value of rank ⌈q·n⌉ of the ascending values. */
function nearestRank(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The values a summary's quantiles cover after `values` (oldest first): the window is a ring of
 * `parts = min(4, maxSamples)` sketches of `⌊maxSamples / parts⌋` values, the oldest dropped whole.
 */
function windowOf(values: readonly number[], maxSamples: number): readonly number[] {
  const parts = Math.min(4, maxSamples);
  const perSketch = Math.floor(maxSamples / parts);
  const newestSketch = Math.floor((values.length - 1) / perSketch);
  return values.slice(Math.max(0, newestSketch - (parts - 1)) * perSketch);
}

/** Whether `estimate` is within relative error `accuracy` of `exact` (and a rounding hair). */
function within(estimate: number, exact: number, accuracy: number): boolean {
  return Math.abs(estimate - exact) <= accuracy * Math.abs(exact) + 1e-12 * Math.max(1, Math.abs(exact));
}

function expectQuantiles(value: SummaryValue, exact: { p50: number; p90: number; p99: number }, accuracy = 0.01): void {
  for (const key of ['p50', 'p90', 'p99'] as const) {
    expect(within(value[key], exact[key], accuracy), `${key} ${value[key]} is within ${accuracy} of ${exact[key]}`).toBe(true);
  }
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

  it('for a single value, every quantile is that value', () => {
    expect(summarise([42])).toEqual({ kind: 'summary', count: 1, sum: 42, min: 42, max: 42, mean: 42, p50: 42, p90: 42, p99: 42 });
  });

  it('with negative and fractional values', () => {
    expect(summarise([-2.5, 0, 10])).toMatchObject({ count: 3, sum: 7.5, min: -2.5, max: 10, mean: 2.5 });
  });
});

describe('summary quantiles p50, p90, p99 are within 1 % of the exact nearest-rank quantiles', () => {
  it('1..100 shuffled: p50 50, p90 90, p99 99', () => {
    expectQuantiles(summarise(shuffled(oneToHundred)), { p50: 50, p90: 90, p99: 99 });
  });

  it('1..1000 shuffled: p50 500, p90 900, p99 990', () => {
    const oneToThousand = Array.from({ length: 1000 }, (_, index) => index + 1);
    const value = summarise(shuffled(oneToThousand));
    expect(value.count).toBe(1000);
    expectQuantiles(value, { p50: 500, p90: 900, p99: 990 });
  });

  it('the textbook sample [3, 6, 7, 8, 8, 10, 13, 15, 16, 20]: p50 8, p90 16, p99 20', () => {
    const value = summarise([15, 3, 20, 8, 6, 16, 8, 13, 10, 7]);
    expect(value).toMatchObject({ min: 3, max: 20, mean: 10.6 });
    expectQuantiles(value, { p50: 8, p90: 16, p99: 20 });
  });

  it('[15, 20, 35, 40, 50]: p50 35, p90 50, p99 50 (the highest rank is the maximum exactly)', () => {
    const value = summarise([50, 15, 40, 20, 35]);
    expectQuantiles(value, { p50: 35, p90: 50, p99: 50 });
    expect(value.p99).toBe(50);
  });

  it('orders numerically, not as text, negatives and zeros included', () => {
    expectQuantiles(summarise([100, 9, 20, 3]), { p50: 9, p90: 100, p99: 100 });
    expectQuantiles(summarise([-100, 0, -9, 20, 0, -3]), { p50: -3, p90: 20, p99: 20 });
  });

  it('a coarser relativeAccuracy is honoured', () => {
    expectQuantiles(summarise(shuffled(oneToHundred), { relativeAccuracy: 0.1 }), { p50: 50, p90: 90, p99: 99 }, 0.1);
  });

  it('property: every quantile is within relativeAccuracy of the exact nearest-rank quantile of the window', () => {
    const value = fc.oneof(
      fc.double({ min: -1e9, max: 1e9, noNaN: true }),
      fc.integer({ min: -1000, max: 1000 }),
      fc.constantFrom(0, -0, 1e-300, -1e-300, 1e300, Number.MIN_VALUE),
    );
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom(0.001, 0.01, 0.05, 0.2),
        (values, maxSamples, relativeAccuracy) => {
          const reported = summarise(values, { maxSamples, relativeAccuracy });
          const window = windowOf(values, maxSamples);
          for (const [key, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
            const exact = nearestRank(window, q);
            if (!within(reported[key], exact, relativeAccuracy)) throw new Error(`${key}: ${reported[key]} vs exact ${exact}`);
          }
          expect(reported.count).toBe(values.length);
          // === rather than Object.is: -0 and 0 are the same minimum.
          expect(reported.min === Math.min(...values) && reported.max === Math.max(...values)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('summary quantiles cover about the last maxSamples values', () => {
  it('with maxSamples 4 they cover the last 4 values; count, sum, min, max cover all', () => {
    const value = summarise([100, 200, 300, 400, 1, 2], { maxSamples: 4 });
    expect(value).toMatchObject({ count: 6, sum: 1003, min: 1, max: 400, mean: 1003 / 6 });
    expectQuantiles(value, { p50: 2, p90: 400, p99: 400 });
  });

  it('forgets old values once the window has moved past them', () => {
    const early = Array.from({ length: 500 }, () => 1_000);
    const recent = shuffled(Array.from({ length: 12 }, (_, index) => index + 1));
    const values = [...early, ...recent];
    const value = summarise(values, { maxSamples: 12 });
    expect(value).toMatchObject({ count: 512, max: 1_000 });
    // Sketches of 3 values: the newest holds the last 2, so the window is the last 11, all recent.
    const window = windowOf(values, 12);
    expect(window).toEqual(recent.slice(1));
    expectQuantiles(value, { p50: nearestRank(window, 0.5), p90: nearestRank(window, 0.9), p99: nearestRank(window, 0.99) });
    expect(value.p99).toBeLessThanOrEqual(12);
  });

  it('defaults maxSamples to 1024: the window holds the last 769 to 1024 values', () => {
    const descending = Array.from({ length: 2000 }, (_, index) => 2000 - index);
    const value = summarise(descending);
    expect(value).toMatchObject({ count: 2000, min: 1, max: 2000 });
    // 2000 values in sketches of 256: the newest holds the last 208, so the window is the last 976 (976 down to 1).
    expect(windowOf(descending, 1024)).toEqual(descending.slice(1024));
    expectQuantiles(value, { p50: 488, p90: 879, p99: 967 });
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

  it.each([0, -0.1, 0.6, 1, Number.NaN, '0.01'])('rejects relativeAccuracy %s with a ConfigError naming it', (relativeAccuracy) => {
    expect(() => summary('job.run.duration', { relativeAccuracy } as never)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option: 'relativeAccuracy' }));
  });
});

describe('summary memory follows the values counted, not a fixed sample buffer per series', () => {
  it('2,000 series of one value each hold far less than 2,000 buffers of maxSamples values', () => {
    const metric = harness(summary('job.run.duration', { tags: ['job'], maxSeries: 2_000 }));
    const before = process.memoryUsage().arrayBuffers;
    for (let job = 0; job < 2_000; job += 1) metric.emit('job.run', { duration: job }, { job: `j${job}` });
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(metric.snapshot().series).toHaveLength(2_000);
    // A ring of 1,024 doubles per series would be 2,000 × 8 KiB = 16 MiB of array buffers.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    metric.subscription.unsubscribe();
  });
});

describe('summary keeps a separate series per combination of tag values and skips unmeasured events', () => {
  it('summarises each breaker/outcome apart', () => {
    const metric = harness(summary('breaker.call.duration', { tags: ['breaker', 'outcome'] }));
    metric.emit('breaker.call', { duration: 10 }, { breaker: 'payments', outcome: 'success' });
    metric.emit('breaker.call', { duration: 30 }, { breaker: 'payments', outcome: 'success' });
    metric.emit('breaker.call', { duration: 1000 }, { breaker: 'payments', outcome: 'timeout' });
    metric.emit('breaker.call', {}, { breaker: 'payments', outcome: 'rejected' });
    const values = metric.values() as Record<string, SummaryValue>;
    expect(Object.keys(values)).toEqual(['payments|success', 'payments|timeout']);
    expect(values['payments|success']).toMatchObject({ kind: 'summary', count: 2, sum: 40, min: 10, max: 30, mean: 20, p90: 30, p99: 30 });
    expectQuantiles(values['payments|success']!, { p50: 10, p90: 30, p99: 30 });
    expect(values['payments|timeout']).toEqual({ kind: 'summary', count: 1, sum: 1000, min: 1000, max: 1000, mean: 1000, p50: 1000, p90: 1000, p99: 1000 });
    expect(metric.readings).toHaveLength(3);
  });
});
