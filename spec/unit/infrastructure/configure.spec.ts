import { describe, expect, it } from 'vitest';
import { ConfigError, isConfigError, startInfrastructure, type InfrastructurePatch } from '../../../src/index.js';
import { recordTelemetry } from '../../support/supervision.js';

/** Two namespaces with a breaker, a limiter and a pool each. */
async function tree() {
  const { clock, telemetry } = recordTelemetry();
  const infra = await startInfrastructure({
    clock,
    telemetry,
    namespaces: {
      billing: {
        breakers: { payments: { tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 } },
        limiters: { api: { algorithm: 'sliding_window', limit: 3, windowMs: 1000 } },
        pools: { db: { size: 2, maxOverflow: 1, worker: { create: () => ({}) } } },
      },
      search: {
        breakers: { index: { tolerance: { failures: 0, windowMs: 1000 }, resetMs: 200 } },
        limiters: { api: { limit: 10, windowMs: 1000 } },
      },
    },
  });
  return { infra, clock };
}

/** The reset delay a breaker applies at its next opening (it is reset afterwards). */
async function resetDelayOf(infra: Awaited<ReturnType<typeof tree>>['infra'], namespace: string, name: string): Promise<number> {
  const breaker = infra.breaker(namespace, name);
  breaker.reset();
  breaker.melt();
  const refusal = (await breaker.call(() => 'ran').catch((error: unknown) => error)) as { retryAfterMs: number };
  breaker.reset();
  return refusal.retryAfterMs;
}

/** The limit a limiter applies now, read from a fresh key's first hit. */
async function limitOf(infra: Awaited<ReturnType<typeof tree>>['infra'], namespace: string, name: string, key: string): Promise<number> {
  const decision = await infra.limiter(namespace, name).hit(key);
  if (!decision.allowed) throw new Error('a fresh key was denied');
  return decision.remaining + 1;
}

function rejected(run: () => void): ConfigError {
  try {
    run();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('the patch was accepted');
}

describe('a rejected patch changes nothing', () => {
  it('a rejected patch changes nothing: a valid breaker change next to a name change on another', async () => {
    const { infra } = await tree();
    const error = rejected(() =>
      infra.configure({ billing: { breakers: { payments: { resetMs: 999 } } }, search: { breakers: { index: { name: 'renamed' } as never } } }),
    );
    expect(await resetDelayOf(infra, 'billing', 'payments')).toBe(100);
    expect(error.option).toBe('patch.search.breakers.index.name');
    await infra.stop();
  });

  it('a rejected patch changes nothing: a valid limiter change next to a key a pool cannot change live', async () => {
    const { infra } = await tree();
    const error = rejected(() =>
      infra.configure({ billing: { limiters: { api: { limit: 1 } }, pools: { db: { size: 4, worker: { create: () => ({}) } } as never } } }),
    );
    expect(await limitOf(infra, 'billing', 'api', 'k')).toBe(3);
    expect(infra.pool('billing', 'db').status()).toMatchObject({ idle: 2 });
    expect(error.option).toBe('patch.billing.pools.db.worker');
    await infra.stop();
  });

  it('a rejected patch changes nothing: a limiter key that cannot change live', async () => {
    const { infra } = await tree();
    const error = rejected(() => infra.configure({ billing: { breakers: { payments: { resetMs: 5 } }, limiters: { api: { algorithm: 'token_bucket' } as never } } }));
    expect(await resetDelayOf(infra, 'billing', 'payments')).toBe(100);
    expect(error.option).toBe('patch.billing.limiters.api.algorithm');
    // The limiter's record was not touched either: a later valid patch is checked against the real options.
    infra.configure({ billing: { limiters: { api: { limit: 2 } } } });
    expect(await limitOf(infra, 'billing', 'api', 'k2')).toBe(2);
    await infra.stop();
  });

  it('a malformed patch is a ConfigError naming where, never a TypeError, and changes nothing', async () => {
    const { infra } = await tree();
    const malformed: Array<[unknown, string]> = [
      [null, 'patch'],
      [{ billing: null }, 'patch.billing'],
      [{ billing: { breakers: { payments: { resetMs: 999 } }, limters: {} } }, 'patch.billing.limters'],
      [{ billing: { breakers: { payments: { resetMs: 999 } }, pools: 7 } }, 'patch.billing.pools'],
      [{ billing: { breakers: { payments: 5 } } }, 'patch.billing.breakers.payments'],
      [{ billing: { breakers: { payments: { resetMs: 999 } } }, search: { pools: { db: { size: 1 } } } }, 'patch.search.pools.db'],
      [{ billing: { pools: { db: { size: -1 } } } }, 'patch.billing.pools.db.size'],
      [{ billing: { breakers: { payments: { resetMs: 999, tolerance: { failures: -1, windowMs: 10 } } } } }, 'patch.billing.breakers.payments.tolerance.failures'],
    ];
    for (const [patch, option] of malformed) {
      expect(rejected(() => infra.configure(patch as InfrastructurePatch)).option).toBe(option);
    }
    expect(await resetDelayOf(infra, 'billing', 'payments')).toBe(100);
    await infra.stop();
  });

  it('an accepted patch applies every change', async () => {
    const { infra } = await tree();
    infra.configure({ billing: { breakers: { payments: { resetMs: 300 } }, limiters: { api: { limit: 5 } } }, search: { breakers: { index: { resetMs: 400 } } } });
    expect(await resetDelayOf(infra, 'billing', 'payments')).toBe(300);
    expect(await resetDelayOf(infra, 'search', 'index')).toBe(400);
    expect(await limitOf(infra, 'billing', 'api', 'fresh')).toBe(5);
    await infra.stop();
  });
});
