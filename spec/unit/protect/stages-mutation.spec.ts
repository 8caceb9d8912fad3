import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  RateLimitedError,
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  protect,
  type Breaker,
  type ProtectCall,
  type RateLimiter,
} from '../../../src/index.js';
import { flush } from '../../support/supervision.js';

async function parts(options: { limit?: number; checkoutTimeoutMs?: number } = {}) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const limiter = createRateLimiter({ name: 'api', limit: options.limit ?? 10, windowMs: 1000, clock, telemetry });
  const breaker = createBreaker({ name: 'upstream', tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, clock, telemetry });
  let created = 0;
  const pool = await createPool({
    name: 'conns',
    size: 1,
    maxOverflow: 0,
    checkoutTimeoutMs: options.checkoutTimeoutMs ?? 60_000,
    clock,
    telemetry,
    worker: { create: () => ({ id: ++created }) },
  });
  return { clock, telemetry, limiter, breaker, pool };
}

/** A limiter that answers a turn later, as a remote one does, with the memory limiter's decisions. */
function remote(limiter: ReturnType<typeof createRateLimiter>): RateLimiter {
  return { name: 'remote', hit: (key: string, cost?: number) => Promise.resolve().then(() => limiter.hitSync(key, cost)), reset: (key: string) => limiter.reset(key) } as RateLimiter;
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);
const settledWithin = (promise: Promise<unknown>) => Promise.race([failure(promise).then((error) => ({ error })), flush().then(() => 'pending' as const)]);

describe('the protected function', () => {
  it('carries its chain’s name', () => {
    expect(protect({ name: 'quotes' }, () => 1).chain).toBe('quotes');
  });

  it('with a memory limiter and every stage answering at once, fn starts before the call returns', async () => {
    const { limiter, pool } = await parts({ limit: 1 });
    let ran = 0;
    const call = protect({ name: 'p', limiter, pool }, () => ++ran);
    const first = call();
    expect(ran).toBe(1);
    expect(await first).toBe(1);
    expect(await failure(call())).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(ran).toBe(1);
  });
});

describe('the limiter stage', () => {
  it('hits the key computed from the call when the key option is a function', async () => {
    const { limiter } = await parts({ limit: 1 });
    const call = protect({ name: 'p', limiter, key: (input: ProtectCall & { tenant?: string }) => `tenant:${input.tenant}` }, () => 'ok');
    expect(await call({ tenant: 'a' } as ProtectCall)).toBe('ok');
    expect(await failure(call({ tenant: 'a' } as ProtectCall))).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(await call({ tenant: 'b' } as ProtectCall)).toBe('ok');
    expect(limiter.hitSync('tenant:b')).toMatchObject({ allowed: false });
  });

  it("hits the key 'global' when neither the call nor the options give one", async () => {
    const { limiter } = await parts({ limit: 1 });
    expect(await protect({ name: 'p', limiter }, () => 'ok')()).toBe('ok');
    expect(limiter.hitSync('global')).toMatchObject({ allowed: false });
  });

  it('charges the call’s cost, 1 by default', async () => {
    const { limiter } = await parts({ limit: 5 });
    const call = protect({ name: 'p', limiter }, () => 'ok');
    expect(await call({ key: 'k', cost: 4 })).toBe('ok');
    expect(await call({ key: 'k' })).toBe('ok');
    expect(await failure(call({ key: 'k' }))).toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });
});

describe('the breaker stage', () => {
  it('an open breaker refuses at once, without waiting for a busy pool', async () => {
    const { breaker, pool } = await parts();
    const held = await pool.checkout();
    breaker.melt();
    const outcome = await settledWithin(protect({ name: 'p', breaker, pool }, () => 'live')());
    expect(outcome).toMatchObject({ error: { code: 'ERR_BREAKER_OPEN' } });
    expect(pool.status()).toMatchObject({ waiting: 0, checkedOut: 1 });
    held.release();
  });

  it('a disabled breaker refuses at once too, without waiting for a busy pool', async () => {
    const { breaker, pool } = await parts();
    const held = await pool.checkout();
    breaker.disable();
    const outcome = await settledWithin(protect({ name: 'p', breaker, pool }, () => 'live')());
    expect(outcome).toMatchObject({ error: { code: 'ERR_BREAKER_OPEN' } });
    expect(pool.status()).toMatchObject({ waiting: 0, checkedOut: 1 });
    held.release();
  });

  it('a breaker that opens while the call waits for a worker is a breaker refusal the fallback serves', async () => {
    const { breaker, pool } = await parts();
    const held = await pool.checkout();
    let ran = 0;
    const call = protect<unknown, number | string>({ name: 'p', breaker, pool, fallback: (_refusal, stage) => `fallback for ${stage}` }, () => ++ran);
    const result = call();
    await flush();
    breaker.melt();
    held.release();
    expect(await result).toBe('fallback for breaker');
    expect(ran).toBe(0);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('passes the caller’s signal to fn through the breaker', async () => {
    const { breaker } = await parts();
    let seen: AbortSignal | undefined;
    const call = protect({ name: 'p', breaker }, (_worker: undefined, signal) => {
      seen = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const controller = new AbortController();
    const pending = failure(call({ signal: controller.signal }));
    await flush();
    controller.abort(new Error('client went away'));
    expect(await pending).toMatchObject({ message: 'client went away' });
    expect(seen?.aborted).toBe(true);
  });

  it('a breaker that runs the call while it says it is open breaks its contract: the call rejects and fn never runs', async () => {
    let ran = 0;
    const rogue = { name: 'rogue', state: () => 'open', call: (fn: (signal: AbortSignal) => unknown) => Promise.resolve().then(() => fn(new AbortController().signal)) } as unknown as Breaker;
    const error = await failure(protect({ name: 'p', breaker: rogue }, () => ++ran)());
    expect(error).toMatchObject({ message: 'protect: a breaker admitted a call while open or disabled' });
    expect(ran).toBe(0);
  });
});

describe('where an abandoned call was', () => {
  it('aborted during a remote limiter hit, before the pool: stage pool, no worker taken', async () => {
    const { limiter, pool } = await parts();
    let ran = 0;
    const controller = new AbortController();
    const pending = failure(protect({ name: 'p', limiter: remote(limiter), pool }, () => ++ran)({ signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_CALL_ABORTED', stage: 'pool' });
    expect(ran).toBe(0);
  });

  it('aborted during a remote limiter hit, with neither breaker nor pool: stage call', async () => {
    const { limiter } = await parts();
    const controller = new AbortController();
    const pending = failure(protect({ name: 'p', limiter: remote(limiter) }, () => 'ran')({ signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_CALL_ABORTED', stage: 'call', chain: 'p' });
  });

  it('aborted while a remote limiter denied it: the fallback is not asked', async () => {
    const { limiter } = await parts({ limit: 1 });
    limiter.hitSync('k');
    let asked = 0;
    const controller = new AbortController();
    const call = protect({ name: 'p', limiter: remote(limiter), fallback: () => `cached ${++asked}` }, () => 'live');
    const pending = failure(call({ key: 'k', signal: controller.signal }));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_CALL_ABORTED', stage: 'limiter' });
    expect(asked).toBe(0);
  });
});

describe('the pool stage', () => {
  it('the checkoutTimeoutMs option bounds the wait, with or without a signal', async () => {
    const { clock, pool } = await parts({ checkoutTimeoutMs: 1000 });
    const held = await pool.checkout();
    const call = protect({ name: 'p', pool, checkoutTimeoutMs: 10 }, () => 'live');
    const plain = failure(call());
    const signalled = failure(call({ signal: new AbortController().signal }));
    await flush();
    clock.advance(10);
    expect(await plain).toMatchObject({ code: 'ERR_POOL_TIMEOUT' });
    expect(await signalled).toMatchObject({ code: 'ERR_POOL_TIMEOUT' });
    held.release();
  });

  it('a waiting checkout with a checkoutTimeoutMs is still withdrawn by the caller’s abort', async () => {
    const { pool } = await parts();
    const held = await pool.checkout();
    const controller = new AbortController();
    const pending = failure(protect({ name: 'p', pool, checkoutTimeoutMs: 500 }, () => 'live')({ signal: controller.signal }));
    await flush();
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_POOL_ABORTED' });
    expect(pool.status()).toMatchObject({ waiting: 0 });
    held.release();
  });

  it('without a breaker fn gets the worker, and a synchronous fn gives it back before the call returns', async () => {
    const { pool } = await parts();
    const call = protect({ name: 'p', pool }, (worker: { id: number }) => `worker ${worker.id}`);
    const first = call();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
    expect(await first).toBe('worker 1');
  });

  it('a synchronous fn that returns nothing resolves with undefined', async () => {
    const { pool } = await parts();
    expect(await protect({ name: 'p', pool }, () => undefined)()).toBeUndefined();
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0 });
  });

  it('without a breaker, a worker that cannot be created fails the call with the factory’s error', async () => {
    const clock = createTestClock();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const pool = await createPool({ name: 'db', size: 0, maxOverflow: 1, clock, telemetry: createTelemetry({ clock }), worker: { create: () => Promise.reject(refused) } });
    expect(await failure(protect({ name: 'p', pool }, () => 'live')())).toBe(refused);
  });

  it('a factory error counts against the breaker whatever code it carries, unless it is the pool’s own', async () => {
    for (const made of [Object.assign(new Error('foreign'), { code: 'ERR_POOL_FULL' }), RateLimitedError.refuse('inner', 10, 'limit_exceeded')]) {
      const clock = createTestClock();
      const telemetry = createTelemetry({ clock });
      const breaker = createBreaker({ name: 'db', tolerance: { failures: 5, windowMs: 60_000 }, clock, telemetry });
      const pool = await createPool({ name: 'db', size: 0, maxOverflow: 1, clock, telemetry, worker: { create: () => Promise.reject(made) } });
      expect(await failure(protect({ name: 'p', breaker, pool }, () => 'live')())).toBe(made);
      expect(breaker.stats()).toMatchObject({ failures: 1 });
    }
  });
});

describe('what fn throws without a breaker', () => {
  it('is the call’s error, as thrown', async () => {
    const boom = new Error('boom');
    const sync = protect({ name: 'p' }, () => {
      throw boom;
    });
    expect(await failure(sync())).toBe(boom);
    expect(await failure(protect({ name: 'p' }, () => Promise.reject(boom))())).toBe(boom);
  });
});

describe('a fallback’s wait leaves nothing on the caller’s signal', () => {
  async function refusing() {
    const { breaker } = await parts();
    breaker.melt();
    return breaker;
  }

  it('when it answers, fails, or is abandoned', async () => {
    const breaker = await refusing();
    const signal = new AbortController().signal;
    expect(await protect({ name: 'p', breaker, fallback: () => Promise.resolve('cached') }, () => 'live')({ signal })).toBe('cached');
    expect(await failure(protect({ name: 'p', breaker, fallback: () => Promise.reject(new Error('no cache')) }, () => 'live')({ signal }))).toMatchObject({ message: 'no cache' });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const controller = new AbortController();
    const abandoned = failure(protect({ name: 'p', breaker, fallback: () => new Promise<string>(() => undefined) }, () => 'live')({ signal: controller.signal }));
    await flush();
    controller.abort();
    expect(await abandoned).toMatchObject({ code: 'ERR_CALL_ABORTED', stage: 'breaker' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a fallback that answers undefined at once, with a signal, answers undefined', async () => {
    const breaker = await refusing();
    expect(await protect({ name: 'p', breaker, fallback: () => undefined }, () => 'live')({ signal: new AbortController().signal })).toBeUndefined();
  });
});
