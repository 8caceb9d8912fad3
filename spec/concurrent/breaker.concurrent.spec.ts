import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flush } from '../support/supervision.js';
import { testBreaker } from '../support/breaker.js';

/**
 * 1,000 calls in flight at once, resolving and failing at random times on the test clock, while
 * the breaker is melted, reset, disabled and enabled and its timers fire: every call settles, once,
 * and the stats count each call exactly once.
 */
describe('1,000 concurrent calls while the breaker flips', () => {
  it('every call settles exactly once and is counted once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const random = (() => {
          let state = seed || 1;
          return () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        })();
        const { breaker, clock } = testBreaker({
          tolerance: { failures: 3, windowMs: 50 },
          resetMs: 20,
          halfOpenProbes: 3,
          callTimeoutMs: 40,
        });
        const settlements = new Array<number>(1000).fill(0);
        const calls: Promise<void>[] = [];
        let melts = 0;
        for (let index = 0; index < 1000; index += 1) {
          const delay = Math.floor(random() * 60);
          const fails = random() < 0.4;
          const call = breaker.call(
            () =>
              new Promise<number>((resolve, reject) =>
                clock.setTimeout(() => (fails ? reject(new Error('down')) : resolve(index)), delay),
              ),
          );
          calls.push(
            call.then(
              () => void (settlements[index]! += 1),
              () => void (settlements[index]! += 1),
            ),
          );
          const action = random();
          if (action < 0.02) {
            melts += 1; // every melt() counts in stats().failures, whatever the state
            breaker.melt();
          } else if (action < 0.03) breaker.reset();
          else if (action < 0.035) breaker.disable();
          else if (action < 0.05) breaker.enable();
          if (index % 10 === 0) {
            clock.advance(Math.floor(random() * 15));
            await flush();
          }
        }
        for (let step = 0; step < 20; step += 1) {
          clock.advance(50);
          await flush();
        }
        await Promise.all(calls);
        expect(settlements.every((count) => count === 1)).toBe(true);
        const stats = breaker.stats();
        expect(stats.successes + stats.failures - melts + stats.rejected).toBe(1000);
      }),
      { numRuns: 20 },
    );
  });
});
