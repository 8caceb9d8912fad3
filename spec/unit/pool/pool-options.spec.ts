import { describe, expect, it } from 'vitest';
import { createPool, PoolAbortedError } from '../../../src/pool/index.js';
import { ConfigError, isConfigError } from '../../../src/index.js';
import { outcomeOf, settledYet, testPool } from '../../support/pool.js';

/** Calls `run`, fails the spec if it throws synchronously, and returns what it rejected with (or undefined). */
async function rejectionOf(run: () => Promise<unknown>): Promise<unknown> {
  let result!: Promise<unknown>;
  expect(() => (result = run()), 'threw synchronously instead of rejecting').not.toThrow();
  return result.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('a checkout whose signal is already aborted', () => {
  it('is refused with PoolAbortedError even when a worker is idle, and takes nothing', async () => {
    const { pool, events } = await testPool({ size: 1, maxOverflow: 1 });
    const reason = new Error('request cancelled');
    const error = await rejectionOf(() => pool.checkout({ signal: AbortSignal.abort(reason) }));
    expect(error).toBeInstanceOf(PoolAbortedError);
    expect((error as PoolAbortedError).cause).toBe(reason);
    await expect(pool.transaction(() => 'ran', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_POOL_ABORTED' });
    expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    expect(events.filter((event) => event.name === 'pool.checkout').map((event) => event.metadata.outcome)).toEqual(['aborted', 'aborted']);
  });
});

describe('per-call checkout options', () => {
  for (const [option, options] of [
    ['timeoutMs', { timeoutMs: -1 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['timeoutMs', { timeoutMs: '100' }],
    ['signal', { signal: 'abort' }],
    ['signal', { signal: {} }],
    ['block', { block: 'no' }],
    ['options', 5],
  ] as const) {
    it(`are refused with ConfigError naming ${option} (${JSON.stringify(options)}) even when a worker is idle`, async () => {
      const { pool } = await testPool({ size: 1, maxOverflow: 0 });
      const error = await rejectionOf(() => pool.checkout(options as never));
      expect(isConfigError(error), String(error)).toBe(true);
      expect(error).toMatchObject({ option });
      const viaTransaction = await rejectionOf(() => pool.transaction(() => 'ran', options as never));
      expect(viaTransaction).toMatchObject({ code: 'ERR_CONFIG', option });
      expect(pool.status()).toEqual({ state: 'ready', idle: 1, overflow: 0, checkedOut: 0, waiting: 0 });
    });
  }

  it('timeoutMs Infinity waits for ever; 0 gives up at the next turn of the clock unless a worker is free at once', async () => {
    const { pool, clock } = await testPool({ size: 1, maxOverflow: 0 });
    const atOnce = await pool.checkout({ timeoutMs: 0 });
    const forever = outcomeOf(pool.checkout({ timeoutMs: Number.POSITIVE_INFINITY }));
    const zero = outcomeOf(pool.checkout({ timeoutMs: 0 }));
    clock.advance(0);
    expect(await zero).toBe('ERR_POOL_TIMEOUT');
    clock.advance(2 ** 40);
    expect(await settledYet(forever)).toBe(false);
    atOnce.release();
    expect(typeof (await forever)).toBe('object');
  });
});

describe('transaction', () => {
  it('without a function rejects with InvalidArgumentError naming transaction.fn and checks nothing out', async () => {
    const { pool, factory } = await testPool({ size: 0, maxOverflow: 1 });
    const error = await rejectionOf(() => pool.transaction(undefined as never));
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'transaction.fn' });
    expect(factory.calls).toBe(0);
  });
});

describe('createPool', () => {
  for (const [option, patch] of [
    ['size', { size: -1 }],
    ['maxOverflow', { maxOverflow: 1.5 }],
    ['strategy', { strategy: 'random' }],
    ['worker', { worker: undefined }],
    ['checkoutTimeoutMs', { checkoutTimeoutMs: Number.NaN }],
    ['retryBackoffMs', { retryBackoffMs: 0 }],
    ['random', { random: 0.5 }],
    ['name', { name: '' }],
  ] as const) {
    it(`rejects ${option} ${JSON.stringify(Object.values(patch)[0])} with ConfigError, never throws, and creates nothing`, async () => {
      let created = 0;
      const worker = { create: () => ({ id: (created += 1) }) };
      const error = await rejectionOf(() => createPool({ name: 'p', worker, ...patch } as never));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option });
      expect(created).toBe(0);
    });
  }

  it('rejects options that are not an object', async () => {
    for (const options of [undefined, null, 42, 'db']) {
      expect(isConfigError(await rejectionOf(() => createPool(options as never)))).toBe(true);
    }
  });
});
