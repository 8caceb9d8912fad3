import { describe, expect, it } from 'vitest';
import { ConfigError, createBreaker, createPool, createTelemetry, createTestClock, isCallAbortedError, protect } from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

/** `ProtectCall.controller`: the caller's own controller serves as its signal and as the breaker's timeout controller. */
async function chain() {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const breaker = createBreaker({ name: 'upstream', callTimeoutMs: 50, clock, telemetry });
  const pool = await createPool({ name: 'conns', size: 1, maxOverflow: 0, clock, telemetry, worker: { create: () => ({ id: 'w' }) } });
  return { clock, breaker, pool };
}

describe('a protected call given the caller’s controller', () => {
  it('reaches fn as its signal, is aborted by the breaker at the deadline, and frees the worker once fn gives up', async () => {
    const { clock, breaker, pool } = await chain();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = protect({ name: 'p', breaker, pool, clock }, (_worker, signal) => {
      seen = signal;
      return new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    })({ controller });
    await flush();
    expect(seen).toBe(controller.signal);
    clock.advance(50);
    const error = await call.catch((reason: unknown) => reason);
    expect((error as { code?: string }).code).toBe('ERR_BREAKER_TIMEOUT');
    expect(controller.signal.reason).toBe(error);
    await flush();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('spends nothing when the controller has already aborted', async () => {
    const { clock, breaker, pool } = await chain();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    let ran = false;
    const error = await protect({ name: 'p', breaker, pool, clock }, () => (ran = true))({ controller }).catch((reason: unknown) => reason);
    expect(isCallAbortedError(error)).toBe(true);
    expect(ran).toBe(false);
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0 });
  });

  it('refuses a controller that is not one, or a signal that is not its own, with a ConfigError naming it', async () => {
    const { clock, breaker, pool } = await chain();
    const call = protect({ name: 'p', breaker, pool, clock }, () => 1);
    const controller = new AbortController();
    const fake = await call({ controller: {} as AbortController }).catch((reason: unknown) => reason);
    expect(fake).toBeInstanceOf(ConfigError);
    expect((fake as Error).message).toContain('call.controller');
    const other = await call({ controller, signal: new AbortController().signal }).catch((reason: unknown) => reason);
    expect(other).toBeInstanceOf(ConfigError);
    expect((other as Error).message).toContain('call.signal');
    expect(await call({ controller, signal: controller.signal })).toBe(1);
    expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
  });
});
