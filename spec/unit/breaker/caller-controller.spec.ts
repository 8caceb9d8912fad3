import { describe, expect, it } from 'vitest';
import { isBreakerArgumentError, isBreakerTimeoutError } from '../../../src/breaker/index.js';
import { quietBreaker, testBreaker } from '../../support/breaker.js';

/** `CallOptions.controller`: the caller's own controller stands in for the one a timed call would make. */
describe('a call given the caller’s controller', () => {
  it('gives fn that controller’s signal, and aborts it at the deadline with the timeout error', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 50, tolerance: { failures: 0, windowMs: 1_000 } });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = breaker.call(
      (signal) => {
        seen = signal;
        return new Promise<never>(() => undefined);
      },
      { controller },
    );
    expect(seen).toBe(controller.signal);
    clock.advance(49);
    expect(controller.signal.aborted).toBe(false);
    clock.advance(1);
    const error = await call.catch((reason: unknown) => reason);
    expect(isBreakerTimeoutError(error)).toBe(true);
    expect(controller.signal.reason).toBe(error);
    expect(breaker.state()).toBe('open');
  });

  it('settles with fn’s answer when the caller aborts, and no deadline is left behind', async () => {
    const { breaker, clock } = testBreaker({ callTimeoutMs: 50 });
    const controller = new AbortController();
    const call = breaker.call(
      (signal) =>
        new Promise<string>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
      { controller },
    );
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(clock.pendingTimers()).toBe(0);
    expect(breaker.stats().failures).toBe(1);
  });

  it('hands an already aborted controller’s signal to fn as it is', async () => {
    const { breaker } = testBreaker({ callTimeoutMs: 50 });
    const controller = new AbortController();
    controller.abort(new Error('before'));
    const aborted = await breaker.call((signal) => signal.aborted, { controller });
    expect(aborted).toBe(true);
  });

  it('gives fn the controller’s signal without a timeout, tracked or not', async () => {
    const controller = new AbortController();
    expect(await quietBreaker().breaker.call((signal) => signal, { controller })).toBe(controller.signal);
    expect(await testBreaker().breaker.call((signal) => signal, { controller })).toBe(controller.signal);
  });

  it('accepts the controller’s own signal beside it, and refuses another signal or a non-controller', async () => {
    const { breaker } = quietBreaker();
    const controller = new AbortController();
    expect(await breaker.call((signal) => signal, { controller, signal: controller.signal })).toBe(controller.signal);
    const mismatch = await breaker.call(() => 1, { controller, signal: new AbortController().signal }).catch((error: unknown) => error);
    expect(isBreakerArgumentError(mismatch)).toBe(true);
    expect((mismatch as Error).message).toContain('options.signal');
    const fake = await breaker.call(() => 1, { controller: { signal: controller.signal } as AbortController }).catch((error: unknown) => error);
    expect(isBreakerArgumentError(fake)).toBe(true);
    expect((fake as Error).message).toContain('options.controller');
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
  });
});
