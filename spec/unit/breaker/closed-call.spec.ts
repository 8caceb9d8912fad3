import { describe, expect, it } from 'vitest';
import { quietBreaker } from '../../support/breaker.js';

/**
 * A closed call on a breaker with no call timeout and no telemetry subscriber (the untracked
 * path): the outcome is counted before the caller's `await` resumes, a foreign thenable is
 * adopted, and the `isFailure` in force when the call settles judges it.
 */
describe('an untracked closed call', () => {
  it('has counted its success when the caller resumes, and not before fn settled', async () => {
    const { breaker } = quietBreaker();
    const promise = Promise.resolve(5);
    const call = breaker.call(() => promise);
    expect(breaker.stats().successes).toBe(0);
    expect(await call).toBe(5);
    expect(breaker.stats().successes).toBe(1);
  });

  it('has counted a failure (and opened at the tolerance) when the caller catches it', async () => {
    const { breaker } = quietBreaker({ tolerance: { failures: 0, windowMs: 1_000 } });
    const error = new Error('down');
    const call = breaker.call(() => Promise.reject(error));
    const caught = await call.catch((reason: unknown) => reason);
    expect(caught).toBe(error);
    expect(breaker.stats().failures).toBe(1);
    expect(breaker.state()).toBe('open');
  });

  it('adopts a thenable that is not a promise, and counts its outcome', async () => {
    const { breaker } = quietBreaker();
    const thenable = { then: (resolve: (value: number) => void) => resolve(3) };
    const call = breaker.call(() => thenable as unknown as Promise<number>);
    expect(call).toBeInstanceOf(Promise);
    expect(await call).toBe(3);
    expect(breaker.stats().successes).toBe(1);
    const broken = { then: () => { throw new Error('then threw'); } };
    await expect(breaker.call(() => broken as unknown as Promise<number>)).rejects.toThrow('then threw');
    expect(breaker.stats().failures).toBe(1);
  });

  it('lets an isFailure set while the call is in flight judge its error', async () => {
    const { breaker } = quietBreaker();
    let reject!: (error: unknown) => void;
    const call = breaker.call(() => new Promise<never>((_resolve, rejectCall) => (reject = rejectCall)));
    breaker.reconfigure({ isFailure: (error) => (error as Error).message !== 'not the service' });
    const error = new Error('not the service');
    reject(error);
    await expect(call).rejects.toBe(error);
    expect(breaker.stats()).toMatchObject({ failures: 0, successes: 1 });
  });

  it('counts a failure when an isFailure set in flight throws, and rejects with what it threw', async () => {
    const { breaker } = quietBreaker();
    let reject!: (error: unknown) => void;
    const call = breaker.call(() => new Promise<never>((_resolve, rejectCall) => (reject = rejectCall)));
    breaker.reconfigure({
      isFailure: () => {
        throw new Error('classifier broke');
      },
    });
    reject(new Error('upstream'));
    await expect(call).rejects.toThrow('classifier broke');
    expect(breaker.stats()).toMatchObject({ failures: 1, successes: 0 });
  });
});
