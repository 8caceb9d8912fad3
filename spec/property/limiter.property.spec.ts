import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/index.js';
import { ALGORITHMS } from '../support/limiter.js';
import {
  checkBucket,
  checkBucketBound,
  checkShapes,
  checkWindow,
  checkWindowBound,
  boundaryScenarios,
  runMemory,
  scenarios,
  type Hit,
} from './limiter-model.js';

const RUNS = Number(process.env.LIMITER_PROPERTY_RUNS ?? 300);

const admittedOnly = (hits: Array<Hit | undefined>): Hit[] => hits.filter((hit): hit is Hit => hit !== undefined);

describe.each(ALGORITHMS)('%s (memory, test clock)', (algorithm) => {
  const windowed = algorithm === 'fixed_window' || algorithm === 'sliding_window';

  it(
    windowed
      ? `never admits more than limit ${algorithm === 'fixed_window' ? 'per aligned window' : 'in any span of windowMs'}, and decides exactly as its definition`
      : 'never admits more than limit + limit · T / windowMs over any span T, and decides as GCRA',
    () => {
      fc.assert(
        fc.property(scenarios(), (scenario) => {
          const hits = admittedOnly(runMemory(algorithm, scenario).hits);
          checkShapes(hits, scenario.limit);
          if (windowed) {
            checkWindow(algorithm, hits, scenario.limit, scenario.windowMs);
            checkWindowBound(algorithm, hits, scenario.limit, scenario.windowMs);
          } else {
            checkBucket(hits, scenario.limit, scenario.windowMs);
            checkBucketBound(hits, scenario.limit, scenario.windowMs);
          }
        }),
        { numRuns: RUNS },
      );
    },
  );

  it(`decides exactly as its definition (${windowed ? 'floor(t / windowMs)' : 'GCRA'}) on the window boundaries of fractional windows at Redis-clock magnitudes`, () => {
    fc.assert(
      fc.property(boundaryScenarios(), (scenario) => {
        const hits = admittedOnly(runMemory(algorithm, scenario).hits);
        checkShapes(hits, scenario.limit);
        if (windowed) checkWindow(algorithm, hits, scenario.limit, scenario.windowMs);
        else checkBucket(hits, scenario.limit, scenario.windowMs);
      }),
      { numRuns: RUNS },
    );
  });

  it('a denied hit changes no state: the same sequence without its denied hits decides the rest alike', () => {
    fc.assert(
      fc.property(scenarios(), (scenario) => {
        const full = runMemory(algorithm, scenario).hits;
        const denied = new Set(full.flatMap((hit, index) => (hit !== undefined && !hit.decision.allowed ? [index] : [])));
        const without = runMemory(algorithm, scenario, { skip: denied }).hits;
        for (const [index, hit] of without.entries()) {
          if (hit !== undefined) expect(hit.decision).toEqual(full[index]!.decision);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`retryAfterMs is exact: the same hit after exactly retryAfterMs is admitted${windowed ? ', and after half of it is not' : ''}`, () => {
    fc.assert(
      fc.property(scenarios({ maxSteps: 25 }), (scenario) => {
        const { hits } = runMemory(algorithm, scenario);
        const denials = hits.flatMap((hit, index) =>
          hit !== undefined && !hit.decision.allowed && hit.decision.reason === 'limit_exceeded' ? [{ index, hit }] : [],
        );
        for (const { index, hit } of denials.slice(0, 3)) {
          const { retryAfterMs } = hit.decision as Extract<Decision, { allowed: false }>;
          const exact = runMemory(algorithm, scenario, { count: index + 1 });
          exact.clock.advance(retryAfterMs);
          expect(exact.limiter.hitSync(hit.key, hit.cost).allowed, `after ${retryAfterMs}`).toBe(true);
          if (windowed) {
            const early = runMemory(algorithm, scenario, { count: index + 1 });
            early.clock.advance(retryAfterMs / 2);
            expect(early.limiter.hitSync(hit.key, hit.cost).allowed, `after ${retryAfterMs / 2}`).toBe(false);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('sweeping never changes a decision (a swept key decides as its kept state would)', () => {
    fc.assert(
      fc.property(scenarios(), fc.integer({ min: 1, max: 3000 }), (scenario, sweepIntervalMs) => {
        const swept = runMemory(algorithm, scenario, { sweepIntervalMs }).hits;
        const kept = runMemory(algorithm, scenario, { sweepIntervalMs: 1e12 }).hits;
        expect(swept.map((hit) => hit?.decision)).toEqual(kept.map((hit) => hit?.decision));
      }),
      { numRuns: RUNS },
    );
  });
});
