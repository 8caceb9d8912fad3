import { describe, expect, it } from 'vitest';
import { quietBreaker } from '../../support/breaker.js';

/**
 * A closed call on a breaker with no call timeout, no telemetry subscriber and no `isFailure`
 * hands the caller `fn`'s own promise and counts its outcome in a reaction beside the caller's.
 * What the caller may rely on: the outcome is counted before its `await` resumes, a foreign
 * thenable is adopted, and an `isFailure` set while the call is in flight still judges it.
 */
describe('a closed call handed back as it is', () => {
  it('returns the promise fn returned, and has counted its success when the caller resumes', async () => {
    const { breaker } = quietBreaker();
    const promise = Promise.resolve(5);
    const call = breaker.call(() => promise);
    expect(call).toBe(promise);
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

  it('counts a failure when an isFailure set in flight throws, and the call keeps fn’s error', async () => {
    const { breaker } = quietBreaker();
    let reject!: (error: unknown) => void;
    const call = breaker.call(() => new Promise<never>((_resolve, rejectCall) => (reject = rejectCall)));
    breaker.reconfigure({
      isFailure: () => {
        throw new Error('classifier broke');
      },
    });
    const error = new Error('upstream');
    reject(error);
    await expect(call).rejects.toBe(error);
    expect(breaker.stats()).toMatchObject({ failures: 1, successes: 0 });
  });

  it('chains instead when isFailure is set, so that its throw becomes the call’s error', async () => {
    const { breaker } = quietBreaker({
      isFailure: () => {
        throw new Error('classifier broke');
      },
    });
    const promise = Promise.reject(new Error('upstream'));
    const call = breaker.call(() => promise);
    expect(call).not.toBe(promise);
    await expect(call).rejects.toThrow('classifier broke');
    expect(breaker.stats().failures).toBe(1);
  });
});
