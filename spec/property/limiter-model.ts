import fc from 'fast-check';
import { expect } from 'vitest';
import { createRateLimiter, createTestClock, type Algorithm, type Decision, type MemoryRateLimiter, type TestClock } from '../../src/index.js';
import { nextUp } from '../../src/limiter/algorithms/float-time.js';

/**
 * Random hit sequences for the limiters, and each algorithm checked against its own definition:
 *
 * - fixed window: a hit is admitted exactly when the key's admitted units in its aligned window
 *   `floor(t / windowMs)`, plus its cost, fit in `limit` (so at most `limit` per aligned window);
 * - sliding window: the same with the units admitted in `(t − windowMs, t]` (so at most `limit` in
 *   any span of `windowMs`);
 * - token and leaky bucket: both are GCRA (the virtual-scheduling form of the same bucket): with
 *   `tat` the key's theoretical arrival time, a hit of cost c at t fits when
 *   `max(tat, t) − t + c · windowMs / limit ≤ windowMs`. This formulation shares no formula with
 *   the implementation, so it is compared with a margin of 1e-6 units: hits closer than that to the
 *   boundary may go either way. Over any span T the buckets admit at most `limit + limit · T /
 *   windowMs` units, and that bound is checked on every pair of admitted hits.
 *
 * The contract's sentence "over any span of windowMs the buckets admit at most limit" cannot hold
 * for a bucket that starts full and refills `limit` per `windowMs`; the bound above is the one
 * these buckets have.
 */

export interface Step {
  key: number;
  cost: number;
  /** Advance the clock by this much before the hit. */
  advance: number;
}

export interface Scenario {
  limit: number;
  windowMs: number;
  start: number;
  steps: Step[];
}

export interface Hit {
  time: number;
  key: string;
  cost: number;
  decision: Decision;
}

const advance = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 400 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1500, noNaN: true }) },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 3000 }) },
);

const step = fc.record({
  key: fc.integer({ min: 0, max: 2 }),
  cost: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) }),
  advance,
});

/**
 * Scenarios; `minWindowMs` keeps windows long enough for the Redis backend's real-time expiries,
 * `maxLimit` and `maxSteps` make long logs (the Redis sliding window reads its log 16 entries at a time).
 */
export function scenarios(options: { minWindowMs?: number; maxSteps?: number; minSteps?: number; maxLimit?: number } = {}): fc.Arbitrary<Scenario> {
  const minWindowMs = options.minWindowMs ?? 1;
  const windows = [1000, 250, 1000 / 3, 1237.5, 60_000].filter((windowMs) => windowMs >= minWindowMs);
  return fc.record({
    limit: fc.integer({ min: 1, max: options.maxLimit ?? 6 }),
    windowMs: fc.oneof(fc.constantFrom(...windows), fc.double({ min: Math.max(minWindowMs, 1), max: 5000, noNaN: true })),
    start: fc.oneof(fc.constant(0), fc.integer({ min: -1_000_000, max: 1_000_000_000 }), fc.double({ min: -1e6, max: 1e12, noNaN: true })),
    steps: fc.array(step, { minLength: options.minSteps ?? 1, maxLength: options.maxSteps ?? 40 }),
  });
}

/** The largest double below `x`. */
const nextDown = (x: number): number => -nextUp(-x);

/** `x` moved by `ulps` doubles (down when negative). */
function nudge(x: number, ulps: number): number {
  let moved = x;
  for (let step = 0; step < Math.abs(ulps); step += 1) moved = ulps > 0 ? nextUp(moved) : nextDown(moved);
  return moved;
}

/** Windows whose products `k · windowMs` are rounded at a clock near 1.7e12 ms. */
const FRACTIONAL_WINDOWS = [100 / 3, 200 / 3, 1000 / 7, 299.99, 1000 / 3, 1237.3, 4000 / 3, 10_000 / 3, 4999.975384089494];

/** A hit at (or a few doubles around) the end of the current window or one a little later. */
const boundaryStep = fc.record({
  key: fc.integer({ min: 0, max: 1 }),
  cost: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  /** How many window ends to move on before this hit: mostly none, so that hits gather around one end. */
  windows: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) }),
  /** Where around that end, in doubles: negative is still inside the window, by `(k + 1) · windowMs`'s rounding. */
  ulps: fc.integer({ min: -4, max: 4 }),
});

/**
 * Scenarios whose hits land on window boundaries of fractional windows at Redis-clock magnitudes
 * (now ≈ 1.7e12 ms, where a double is 2^-12 ms): each hit is a few doubles before or after
 * `(k + 1) · windowMs` for the window k it reaches, so that a backend whose idea of "the first
 * instant of the next window" is off by a double decides differently from `floor(t / windowMs)`.
 * The steps' advances are exact differences of such instants (Sterbenz), so the test clock lands
 * on them to the bit. `minWindowMs` as for {@link scenarios}.
 */
export function boundaryScenarios(options: { minWindowMs?: number } = {}): fc.Arbitrary<Scenario> {
  const minWindowMs = Math.max(options.minWindowMs ?? 1, 1);
  return fc
    .record({
      limit: fc.integer({ min: 1, max: 4 }),
      windowMs: fc.oneof(
        fc.constantFrom(...FRACTIONAL_WINDOWS.filter((windowMs) => windowMs >= minWindowMs)),
        fc.double({ min: minWindowMs, max: 5000, noNaN: true }),
      ),
      origin: fc.double({ min: 1.6e12, max: 1.8e12, noNaN: true }),
      hits: fc.array(boundaryStep, { minLength: 1, maxLength: 30 }),
    })
    .map(({ limit, windowMs, origin, hits }) => {
      let window = Math.floor(origin / windowMs);
      const start = nudge(window * windowMs, -8);
      let now = start;
      const steps: Step[] = hits.map(({ key, cost, windows, ulps }) => {
        window += windows;
        const target = nudge((window + 1) * windowMs, ulps);
        const advance = target > now ? target - now : 0;
        now += advance;
        return { key, cost, advance };
      });
      return { limit, windowMs, start, steps };
    });
}

/** A memory limiter for the scenario, on a test clock at its start. */
export function memoryFor(algorithm: Algorithm, scenario: Scenario, sweepIntervalMs?: number): { limiter: MemoryRateLimiter; clock: TestClock } {
  const clock = createTestClock(scenario.start);
  const limiter = createRateLimiter({
    name: 'property',
    algorithm,
    limit: scenario.limit,
    windowMs: scenario.windowMs,
    clock,
    ...(sweepIntervalMs === undefined ? {} : { sweepIntervalMs }),
  });
  return { limiter, clock };
}

/** Runs the steps (all, or the first `count`; those in `skip` only advance the clock) on a memory limiter. */
export function runMemory(algorithm: Algorithm, scenario: Scenario, options: { skip?: Set<number>; count?: number; sweepIntervalMs?: number } = {}) {
  const { limiter, clock } = memoryFor(algorithm, scenario, options.sweepIntervalMs);
  const hits: Array<Hit | undefined> = [];
  const steps = scenario.steps.slice(0, options.count ?? scenario.steps.length);
  for (const [index, { key, cost, advance: by }] of steps.entries()) {
    clock.advance(by);
    if (options.skip?.has(index)) {
      hits.push(undefined);
      continue;
    }
    hits.push({ time: clock.now(), key: `k${key}`, cost, decision: limiter.hitSync(`k${key}`, cost) });
  }
  return { hits, limiter, clock };
}

const MARGIN = 1e-6;

/**
 * The margin, in units, for comparing the buckets with GCRA at time `time`: 1e-6, plus what
 * rounding a time of that size costs once converted to units (an ulp of a time near 1e12 ms is
 * ~1e-4 ms, which a 1 ms window turns into 1e-4 units).
 */
function margin(time: number, limit: number, windowMs: number): number {
  return MARGIN + (16 * Math.abs(time) * Number.EPSILON * limit) / windowMs;
}

/** Checks every decision's own consistency, whatever the algorithm. */
export function checkShapes(hits: Hit[], limit: number): void {
  for (const { cost, decision } of hits) {
    if (cost > limit) {
      expect(decision).toEqual({ allowed: false, retryAfterMs: Number.POSITIVE_INFINITY, reason: 'cost_exceeds_limit' });
      continue;
    }
    if (decision.allowed) {
      expect(Number.isInteger(decision.count) && Number.isInteger(decision.remaining)).toBe(true);
      expect(decision.count).toBeGreaterThanOrEqual(cost);
      expect(decision.remaining).toBeGreaterThanOrEqual(0);
      expect(decision.count + decision.remaining).toBe(limit);
    } else {
      expect(decision.reason).toBe('limit_exceeded');
      expect(decision.retryAfterMs).toBeGreaterThan(0);
      expect(Number.isFinite(decision.retryAfterMs)).toBe(true);
    }
  }
}

/** Fixed and sliding window: each decision is exactly what the definition gives. */
export function checkWindow(algorithm: 'fixed_window' | 'sliding_window', hits: Hit[], limit: number, windowMs: number): void {
  const admitted: Hit[] = [];
  for (const hit of hits) {
    if (hit.cost > limit) continue;
    const counts = (earlier: Hit): boolean =>
      earlier.key === hit.key &&
      (algorithm === 'fixed_window'
        ? Math.floor(earlier.time / windowMs) === Math.floor(hit.time / windowMs)
        : hit.time - earlier.time < windowMs);
    const used = admitted.filter(counts).reduce((sum, earlier) => sum + earlier.cost, 0);
    const fits = used + hit.cost <= limit;
    expect(hit.decision.allowed, `used ${used} + cost ${hit.cost} vs limit ${limit}`).toBe(fits);
    if (hit.decision.allowed) {
      expect(hit.decision.count).toBe(used + hit.cost);
      admitted.push(hit);
    }
  }
}

/** Token and leaky bucket against GCRA, with a margin for the differently rounded formulas. */
export function checkBucket(hits: Hit[], limit: number, windowMs: number): void {
  const interval = windowMs / limit;
  const tat = new Map<string, number>();
  for (const hit of hits) {
    if (hit.cost > limit) continue;
    const MARGIN = margin(hit.time, limit, windowMs);
    const start = Math.max(tat.get(hit.key) ?? hit.time, hit.time);
    const level = ((start - hit.time) * limit) / windowMs;
    const after = level + hit.cost;
    if (after <= limit - MARGIN) expect(hit.decision.allowed, `level ${level} + ${hit.cost} fits ${limit}`).toBe(true);
    if (after >= limit + MARGIN) expect(hit.decision.allowed, `level ${level} + ${hit.cost} overflows ${limit}`).toBe(false);
    if (hit.decision.allowed) {
      tat.set(hit.key, start + hit.cost * interval);
      // count = limit − floor(limit − level): the level rounded up, give or take the margin.
      expect(hit.decision.count).toBeGreaterThanOrEqual(after - MARGIN);
      expect(hit.decision.count).toBeLessThan(after + 1 + MARGIN);
    } else {
      // The wait GCRA gives, rounded up to a whole ms (one more when the formula's rounding fell short).
      const wait = start + hit.cost * interval - windowMs - hit.time;
      expect(hit.decision.retryAfterMs).toBeGreaterThanOrEqual(wait - MARGIN * interval);
      expect(hit.decision.retryAfterMs).toBeLessThanOrEqual(Math.ceil(wait + MARGIN * interval) + 1);
    }
  }
}

/** Buckets: over every span [t_i, t_j] of admitted hits on a key, at most limit + limit · span / windowMs units. */
export function checkBucketBound(hits: Hit[], limit: number, windowMs: number): void {
  const admitted = hits.filter((hit) => hit.decision.allowed);
  for (let i = 0; i < admitted.length; i += 1) {
    let units = 0;
    for (let j = i; j < admitted.length; j += 1) {
      if (admitted[j]!.key !== admitted[i]!.key) continue;
      units += admitted[j]!.cost;
      const span = admitted[j]!.time - admitted[i]!.time;
      expect(units).toBeLessThanOrEqual(limit + (limit * span) / windowMs + margin(admitted[j]!.time, limit, windowMs) * limit);
    }
  }
}

/** Windows: at most `limit` units per aligned window (fixed) or in any span of windowMs (sliding). */
export function checkWindowBound(algorithm: 'fixed_window' | 'sliding_window', hits: Hit[], limit: number, windowMs: number): void {
  const admitted = hits.filter((hit) => hit.decision.allowed);
  for (const last of admitted) {
    const units = admitted
      .filter(
        (hit) =>
          hit.key === last.key &&
          hit.time <= last.time &&
          (algorithm === 'fixed_window' ? Math.floor(hit.time / windowMs) === Math.floor(last.time / windowMs) : last.time - hit.time < windowMs),
      )
      .reduce((sum, hit) => sum + hit.cost, 0);
    expect(units).toBeLessThanOrEqual(limit);
  }
}
