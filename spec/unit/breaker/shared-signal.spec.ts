import { afterEach, describe, expect, it } from 'vitest';
import { createBreaker, createTestClock } from '../../../src/index.js';

// Without a deadline or a caller's signal, every call's fn gets one shared signal that never
// aborts (a fresh AbortController per call is the largest cost of the call path). Code that listens
// on it, as undici and fetch do, must not trip Node's MaxListenersExceededWarning at eleven calls.
describe('the signal fn gets when nothing can abort the call', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('takes any number of abort listeners from concurrent calls without a MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const breaker = createBreaker({ name: 'listeners', clock: createTestClock() });
    const releases: Array<() => void> = [];
    const calls = Array.from({ length: 50 }, () =>
      breaker.call(
        (signal) =>
          new Promise<void>((resolve) => {
            const onAbort = (): void => undefined;
            signal.addEventListener('abort', onAbort);
            releases.push(() => {
              signal.removeEventListener('abort', onAbort);
              resolve();
            });
          }),
      ),
    );
    for (const release of releases) release();
    await Promise.all(calls);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
