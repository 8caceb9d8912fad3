import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountTolerance } from '../../src/breaker/tolerance.js';

// fuse's tolerance `{standard, MaxR, MaxT}` written as plainly as possible: every failure time
// kept, the ones with `now - t >= windowMs` dropped at each failure, and the answer is whether
// more than `failures` remain. CountTolerance must give the same answers while holding only what
// can matter, in storage that grows with the failures it holds, never with the option.

interface FuseModel {
  failures: number;
  windowMs: number;
  times: number[];
}

function modelFailure(model: FuseModel, now: number): boolean {
  model.times = model.times.filter((time) => now - time < model.windowMs);
  model.times.push(now);
  return model.times.length > model.failures;
}

type Step =
  | { kind: 'failure'; after: number }
  | { kind: 'success'; after: number }
  | { kind: 'clear' }
  | { kind: 'adopt'; failures: number; windowMs: number };

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('failure' as const), after: fc.oneof(fc.constant(0), fc.constantFrom(1, 10, 25), fc.double({ min: 0, max: 60, noNaN: true })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('success' as const), after: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('adopt' as const),
        failures: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(1e12)),
        windowMs: fc.oneof(fc.constantFrom(10, 50, 100), fc.double({ min: 0.5, max: 200, noNaN: true })),
      }),
    },
  ),
  { maxLength: 200, size: 'max' },
);

describe("fuse's count tolerance against a plain model", () => {
  it('opens exactly when more than `failures` failures lie inside the window, at every failure, across wrap-arounds, growth, clears and hot reloads', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(1e12, Number.MAX_SAFE_INTEGER)),
        fc.oneof(fc.constantFrom(10, 50, 100), fc.double({ min: 0.5, max: 200, noNaN: true })),
        fc.double({ min: -1e6, max: 1e9, noNaN: true }),
        steps,
        (failures, windowMs, start, script) => {
          let tolerance = new CountTolerance(failures, windowMs);
          const model: FuseModel = { failures, windowMs, times: [] };
          let now = start;
          for (const step of script) {
            if (step.kind === 'failure') {
              now += step.after;
              expect(tolerance.failure(now)).toBe(modelFailure(model, now));
              // It holds the newest failures + 1 stamps at most: beyond that the answer cannot change.
              expect(tolerance.recorded).toBe(Math.min(model.times.length, model.failures + 1));
            } else if (step.kind === 'success') {
              now += step.after;
              tolerance.success();
            } else if (step.kind === 'clear') {
              tolerance.clear();
              model.times = [];
              expect(tolerance.recorded).toBe(0);
            } else {
              const next = new CountTolerance(step.failures, step.windowMs);
              next.adopt(tolerance);
              tolerance = next;
              // A hot reload carries over what the old tolerance held: its newest failures + 1.
              model.times = model.times.slice(model.times.length - Math.min(model.times.length, model.failures + 1));
              model.failures = step.failures;
              model.windowMs = step.windowMs;
              expect(tolerance.recorded).toBe(Math.min(model.times.length, model.failures + 1));
            }
            expect(tolerance.failureTimes()).toEqual(model.times.slice(model.times.length - Math.min(model.times.length, model.failures + 1)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
