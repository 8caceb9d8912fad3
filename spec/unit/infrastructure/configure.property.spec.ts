import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createTestClock,
  isConfigError,
  isPoolFullError,
  isPoolTimeoutError,
  startInfrastructure,
  type Breaker,
  type Infrastructure,
  type InfrastructurePatch,
  type Lease,
  type Pool,
  type RateLimiter,
  type TestClock,
} from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

/**
 * Random hot reloads of a real infrastructure tree (two namespaces, each with a breaker, a sliding-
 * window limiter and a pool) on a test clock. Each patch mixes valid changes with, sometimes,
 * invalid ones: bad values, keys a component cannot change live, unknown namespaces, components or
 * sections, malformed entries. After every patch each component's settings are read back from its
 * behaviour (not from the tree's bookkeeping): a patch with any fault throws ConfigError and every
 * setting equals the one before; a valid patch is accepted and every setting equals the model's.
 */

const namespaces = ['a', 'b'] as const;

/** Longer than any call or checkout timeout the patches set (at most 5000 ms). */
const beyondEveryTimeout = 6000;

interface Settings {
  breaker: { failures: number; resetMs: number; halfOpenProbes: number; callTimeoutMs: number | 'none' };
  limiter: { limit: number; windowMs: number };
  pool: { size: number; maxOverflow: number; checkoutTimeoutMs: number };
}

const initial: Settings = {
  breaker: { failures: 1, resetMs: 100, halfOpenProbes: 1, callTimeoutMs: 'none' },
  limiter: { limit: 5, windowMs: 1000 },
  pool: { size: 2, maxOverflow: 1, checkoutTimeoutMs: 5000 },
};

// ---------------------------------------------------------------- reading settings back from behaviour

function deferred(): { promise: Promise<string>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<string>((settle) => {
    resolve = () => settle('done');
  });
  return { promise, resolve };
}

/** Tolerance, reset delay, probe slots and call timeout, as the breaker acts on them; leaves it closed. */
async function observeBreaker(breaker: Breaker, clock: TestClock): Promise<Settings['breaker']> {
  breaker.reset();
  let melts = 0;
  while (breaker.state() === 'closed' && melts < 100) {
    breaker.melt();
    melts += 1;
  }
  const refusal = (await breaker.call(() => 'ran').catch((error: unknown) => error)) as { retryAfterMs: number };
  const resetMs = refusal.retryAfterMs;
  clock.advance(resetMs);
  const probes: Array<() => void> = [];
  for (let admitted = true; admitted && probes.length < 50; ) {
    admitted = false;
    const probe = deferred();
    breaker
      .call(() => {
        admitted = true;
        return probe.promise;
      })
      .catch(() => undefined);
    if (admitted) probes.push(probe.resolve);
  }
  breaker.reset();
  for (const settle of probes) settle();
  await flush();
  const slow = deferred();
  let timedOut: number | 'none' = 'none';
  const pending = breaker.call(() => slow.promise).catch((error: { timeoutMs?: number }) => {
    timedOut = error.timeoutMs ?? Number.NaN;
  });
  clock.advance(beyondEveryTimeout);
  await flush();
  slow.resolve();
  await pending;
  breaker.reset();
  return { failures: melts - 1, resetMs, halfOpenProbes: probes.length, callTimeoutMs: timedOut };
}

let keys = 0;

/** The limit (from a fresh key's first hit) and the window (from the retry delay of a full key). */
async function observeLimiter(limiter: RateLimiter): Promise<Settings['limiter']> {
  keys += 1;
  const first = await limiter.hit(`first-${keys}`);
  if (!first.allowed) throw new Error('a fresh key was denied');
  const limit = first.remaining + 1;
  await limiter.hit(`full-${keys}`, limit);
  const denied = await limiter.hit(`full-${keys}`);
  if (denied.allowed) throw new Error('a full key was admitted');
  return { limit, windowMs: denied.retryAfterMs };
}

/** Base workers (idle at rest), overflow (what a non-blocking checkout gets beyond them) and the default checkout wait. */
async function observePool(pool: Pool<unknown>, clock: TestClock): Promise<Settings['pool']> {
  await flush();
  const size = pool.status().idle;
  const leases: Array<Lease<unknown>> = [];
  for (;;) {
    const lease = await pool.checkout({ block: false }).catch((error: unknown) => error);
    if (isPoolFullError(lease)) break;
    leases.push(lease as Lease<unknown>);
    if (leases.length > 100) throw new Error('the pool never filled');
  }
  const waiting = pool.checkout().then(
    (lease) => {
      lease.release();
      return Number.NaN;
    },
    (error: unknown) => (isPoolTimeoutError(error) ? error.timeoutMs : Number.NaN),
  );
  clock.advance(beyondEveryTimeout);
  const checkoutTimeoutMs = await waiting;
  for (const lease of leases) lease.release();
  await flush();
  return { size, maxOverflow: leases.length - size, checkoutTimeoutMs };
}

async function observe(infra: Infrastructure, clock: TestClock): Promise<Record<string, Settings>> {
  const settings: Record<string, Settings> = {};
  for (const namespace of namespaces) {
    settings[namespace] = {
      breaker: await observeBreaker(infra.breaker(namespace, 'breaker'), clock),
      limiter: await observeLimiter(infra.limiter(namespace, 'limiter')),
      pool: await observePool(infra.pool(namespace, 'pool'), clock),
    };
  }
  return settings;
}

/** The sliding window's retry delay is a float computation of `windowMs`; compare it to a tolerance. */
function comparable(settings: Record<string, Settings>): unknown {
  return Object.fromEntries(
    Object.entries(settings).map(([namespace, value]) => [
      namespace,
      { ...value, limiter: { ...value.limiter, windowMs: Math.round(value.limiter.windowMs * 1000) / 1000 } },
    ]),
  );
}

// ---------------------------------------------------------------- patches

/** A value for one key, tagged with whether the component accepts it. */
interface Tagged {
  value: unknown;
  valid: boolean;
}

const valid = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<Tagged> => arbitrary.map((value) => ({ value, valid: true }));
const invalid = (...values: unknown[]): fc.Arbitrary<Tagged> => fc.constantFrom(...values).map((value) => ({ value, valid: false }));
/** Mostly valid, so that a fair share of patches are accepted whole. */
const either = (good: fc.Arbitrary<unknown>, ...bad: unknown[]): fc.Arbitrary<Tagged> =>
  fc.oneof({ weight: 8, arbitrary: valid(good) }, { weight: 1, arbitrary: invalid(...bad) });

/** `arbitrary` once in `every` draws, else null. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, every: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** A key the component cannot change live, now and then. */
const notLive = (...entries: Array<[string, unknown]>): fc.Arbitrary<[string, unknown] | null> => sometimes(fc.constantFrom(...entries), 8);

/** A change of one component: some of its live keys (mostly valid values), sometimes a key it cannot change live. */
function change(live: Record<string, fc.Arbitrary<Tagged>>, fault: fc.Arbitrary<[string, unknown] | null>): fc.Arbitrary<Record<string, Tagged>> {
  return fc.record({ live: fc.record(live, { requiredKeys: [] }), fault }).map(({ live: values, fault: entry }) => {
    const tagged = { ...values } as Record<string, Tagged>;
    if (entry !== null) tagged[entry[0]] = { value: entry[1], valid: false };
    return tagged;
  });
}

const breakerChange = change(
  {
    tolerance: either(fc.record({ failures: fc.integer({ min: 0, max: 3 }), windowMs: fc.integer({ min: 1000, max: 5000 }) }), { failures: -1, windowMs: 10 }, { failures: 1, windowMs: 0 }, 'x'),
    resetMs: either(fc.integer({ min: 1, max: 5000 }), 0, -1, Number.NaN, Number.POSITIVE_INFINITY, '100'),
    halfOpenProbes: either(fc.integer({ min: 1, max: 4 }), 0, 1.5),
    callTimeoutMs: either(fc.integer({ min: 1, max: 5000 }), 0, -1),
  },
  notLive(['name', 'renamed'], ['clock', createTestClock()]),
);
const limiterChange = change(
  {
    limit: either(fc.integer({ min: 1, max: 20 }), 0, -1, 2.5, '3'),
    windowMs: either(fc.integer({ min: 10, max: 5000 }), 0, -5, Number.NaN),
    telemetryKeys: either(fc.boolean(), 'yes'),
  },
  notLive(['algorithm', 'token_bucket'], ['name', 'renamed']),
);
const poolChange = change(
  {
    size: either(fc.integer({ min: 0, max: 4 }), -1, 1.5),
    maxOverflow: either(fc.integer({ min: 0, max: 3 }), -1),
    checkoutTimeoutMs: either(fc.integer({ min: 0, max: 5000 }), -1, Number.NaN),
    strategy: either(fc.constantFrom('lifo', 'fifo'), 'random'),
  },
  notLive(['worker', { create: () => ({}) }], ['name', 'renamed']),
);

/** A fault in the patch's structure rather than in a value. */
const structuralFault = fc.constantFrom<Array<[string[], unknown]>>(
  [[['ghost'], {}]],
  [[['a', 'breakers', 'nope'], { resetMs: 10 }]],
  [[['b', 'threadPools'], {}]],
  [[['a', 'limters'], {}]],
  [[['b', 'pools', 'pool'], 5]],
  [[['a', 'breakers'], null]],
);

interface GeneratedPatch {
  patch: Record<string, Record<string, Record<string, Record<string, unknown> | unknown>>>;
  valid: boolean;
}

const patchArbitrary: fc.Arbitrary<GeneratedPatch> = fc
  .record({
    a: fc.record({ breaker: sometimes(breakerChange, 2), limiter: sometimes(limiterChange, 2), pool: sometimes(poolChange, 2) }),
    b: fc.record({ breaker: sometimes(breakerChange, 2), limiter: sometimes(limiterChange, 2), pool: sometimes(poolChange, 2) }),
    fault: sometimes(structuralFault, 8),
  })
  .map(({ a, b, fault }) => {
    let ok = true;
    const patch: GeneratedPatch['patch'] = {};
    for (const [namespace, components] of Object.entries({ a, b })) {
      const sections: Record<string, Record<string, unknown>> = {};
      for (const [kind, change] of Object.entries(components)) {
        if (change === null) continue;
        const values: Record<string, unknown> = {};
        for (const [key, tagged] of Object.entries(change)) {
          values[key] = tagged.value;
          ok &&= tagged.valid;
        }
        sections[`${kind}s`] = { [kind]: values };
      }
      if (Object.keys(sections).length > 0) patch[namespace] = sections;
    }
    for (const [path, value] of fault ?? []) {
      ok = false;
      let target: Record<string, unknown> = patch;
      for (const segment of path.slice(0, -1)) target = (target[segment] ??= {}) as Record<string, unknown>;
      target[path[path.length - 1]!] = value;
    }
    return { patch, valid: ok };
  });

/** The model's settings after a valid patch. */
function applied(settings: Record<string, Settings>, patch: GeneratedPatch['patch']): Record<string, Settings> {
  const next = structuredClone(settings);
  for (const [namespace, sections] of Object.entries(patch)) {
    const model = next[namespace]!;
    const breaker = (sections.breakers as Record<string, Record<string, unknown>> | undefined)?.breaker;
    if (breaker?.tolerance !== undefined) model.breaker.failures = (breaker.tolerance as { failures: number }).failures;
    if (breaker?.resetMs !== undefined) model.breaker.resetMs = breaker.resetMs as number;
    if (breaker?.halfOpenProbes !== undefined) model.breaker.halfOpenProbes = breaker.halfOpenProbes as number;
    if (breaker?.callTimeoutMs !== undefined) model.breaker.callTimeoutMs = breaker.callTimeoutMs as number;
    const limiter = (sections.limiters as Record<string, Record<string, unknown>> | undefined)?.limiter;
    if (limiter?.limit !== undefined) model.limiter.limit = limiter.limit as number;
    if (limiter?.windowMs !== undefined) model.limiter.windowMs = limiter.windowMs as number;
    const pool = (sections.pools as Record<string, Record<string, unknown>> | undefined)?.pool;
    if (pool?.size !== undefined) model.pool.size = pool.size as number;
    if (pool?.maxOverflow !== undefined) model.pool.maxOverflow = pool.maxOverflow as number;
    if (pool?.checkoutTimeoutMs !== undefined) model.pool.checkoutTimeoutMs = pool.checkoutTimeoutMs as number;
  }
  return next;
}

describe('configure: a rejected patch changes nothing, an accepted one changes exactly what it says', () => {
  it('after a rejected patch every observable setting equals the one before; a valid patch is applied whole', async () => {
    const seen = { runs: 0, accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(patchArbitrary, { minLength: 1, maxLength: 5 }), async (patches) => {
        seen.runs += 1;
        const clock = createTestClock();
        const infra = await startInfrastructure({
          clock,
          namespaces: Object.fromEntries(
            namespaces.map((namespace) => [
              namespace,
              {
                breakers: { breaker: { tolerance: { failures: initial.breaker.failures, windowMs: 1000 }, resetMs: initial.breaker.resetMs } },
                limiters: { limiter: { algorithm: 'sliding_window' as const, ...initial.limiter } },
                pools: { pool: { ...initial.pool, worker: { create: () => ({}) } } },
              },
            ]),
          ),
        });
        try {
          let model: Record<string, Settings> = { a: structuredClone(initial), b: structuredClone(initial) };
          let before = await observe(infra, clock);
          expect(comparable(before)).toEqual(comparable(model));
          for (const { patch, valid: isValid } of patches) {
            let rejection: unknown;
            try {
              infra.configure(patch as InfrastructurePatch);
            } catch (error) {
              rejection = error;
            }
            const after = await observe(infra, clock);
            if (rejection !== undefined) {
              expect(isConfigError(rejection), String(rejection)).toBe(true);
              expect(isValid, `a valid patch was rejected: ${String(rejection)}`).toBe(false);
              expect(comparable(after)).toEqual(comparable(before));
              seen.rejected += 1;
            } else {
              expect(isValid, 'an invalid patch was accepted').toBe(true);
              model = applied(model, patch);
              expect(comparable(after)).toEqual(comparable(model));
              seen.accepted += 1;
            }
            before = after;
          }
        } finally {
          await infra.stop();
        }
      }),
      { numRuns: 80 },
    );
    // Both kinds of patch were tried, and plenty of each: more than one per four runs (over 20 in
    // the 80 runs here; fewer when a mutation run caps the runs).
    expect(seen.accepted).toBeGreaterThan(seen.runs / 4);
    expect(seen.rejected).toBeGreaterThan(seen.runs / 4);
  }, 120_000);
});
