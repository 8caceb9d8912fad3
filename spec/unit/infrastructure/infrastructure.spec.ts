import { describe, expect, it } from 'vitest';
import { ConfigError, InfrastructureLookupError, startInfrastructure } from '../../../src/index.js';
import { flush, recordTelemetry } from '../../support/supervision.js';

async function tree() {
  const { clock, telemetry, named } = recordTelemetry();
  let created = 0;
  const infra = await startInfrastructure({
    clock,
    telemetry,
    namespaces: {
      billing: {
        breakers: { payments: { tolerance: { failures: 1, windowMs: 1000 }, resetMs: 100 } },
        limiters: { api: { limit: 3, windowMs: 1000 } },
        pools: { db: { size: 2, maxOverflow: 1, worker: { create: () => ({ id: ++created }) } } },
      },
      search: {
        breakers: { index: {} },
        limiters: { api: { algorithm: 'token_bucket', limit: 10, windowMs: 1000 } },
      },
    },
  });
  return { infra, clock, telemetry, named };
}

describe('the infrastructure tree', () => {
  it('puts every namespace under its own supervisor, each component a child', async () => {
    const { infra } = await tree();
    expect(infra.namespaces()).toEqual(['billing', 'search']);
    expect(infra.supervisor.whichChildren().map((child) => [child.id, child.type])).toEqual([
      ['billing', 'supervisor'],
      ['search', 'supervisor'],
    ]);
    expect(infra.namespace('billing').whichChildren().map((child) => child.id)).toEqual(['breaker:payments', 'limiter:api', 'pool:db']);
    expect(infra.namespace('billing').id).toBe('infrastructure/billing');
    await infra.stop();
  });

  it('looks components up by namespace and name', async () => {
    const { infra } = await tree();
    expect(infra.breaker('billing', 'payments').name).toBe('billing.payments');
    expect(infra.limiter('billing', 'api').name).toBe('billing.api');
    expect(infra.limiter('search', 'api')).not.toBe(infra.limiter('billing', 'api'));
    expect(infra.pool('billing', 'db').status()).toMatchObject({ idle: 2 });
    expect(() => infra.breaker('billing', 'nope')).toThrow(InfrastructureLookupError);
    expect(() => infra.pool('nowhere', 'db')).toThrow(/namespace 'nowhere'/);
    await infra.stop();
  });

  it('keeps pool handles valid across a restart of the pool', async () => {
    const { infra } = await tree();
    const pool = infra.pool<{ id: number }>('billing', 'db');
    const namespace = infra.namespace('billing');
    const firstActor = pool.actor;
    firstActor.stop();
    await flush();
    expect(pool.actor).not.toBe(firstActor);
    expect(namespace.whichChildren()[2]?.ref).toBe(pool.actor);
    await expect(pool.transaction((worker) => worker.id)).resolves.toBeGreaterThan(2);
    await infra.stop();
  });

  it('rejects an invalid tree with ConfigError before starting anything', async () => {
    await expect(startInfrastructure({ namespaces: { a: { breakers: { b: { resetMs: -1 } } } } })).rejects.toBeInstanceOf(ConfigError);
    await expect(startInfrastructure(undefined as never)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('configure (hot reload)', () => {
  it('changes breaker and pool options live without losing state', async () => {
    const { infra, clock } = await tree();
    const breaker = infra.breaker('billing', 'payments');
    breaker.melt();
    breaker.melt();
    expect(breaker.state()).toBe('open');
    const pool = infra.pool('billing', 'db');
    const lease = await pool.checkout();
    infra.configure({ billing: { breakers: { payments: { resetMs: 500 } }, pools: { db: { size: 4 } } } });
    expect(breaker.state()).toBe('open');
    clock.advance(100);
    expect(breaker.state()).toBe('half_open');
    expect(pool.status()).toMatchObject({ idle: 3, checkedOut: 1 });
    lease.release();
    expect(pool.status()).toMatchObject({ idle: 4, checkedOut: 0 });
    await infra.stop();
  });

  it('keeps the counts of a limiter whose limit changes', async () => {
    const { infra } = await tree();
    const limiter = infra.limiter('billing', 'api');
    await limiter.hit('k');
    await limiter.hit('k');
    infra.configure({ billing: { limiters: { api: { limit: 2 } } } });
    expect((await limiter.hit('k')).allowed).toBe(false);
    infra.configure({ billing: { limiters: { api: { limit: 5 } } } });
    expect(await limiter.hit('k')).toMatchObject({ allowed: true, count: 3, remaining: 2 });
    await infra.stop();
  });

  it('rejects an invalid patch whole: nothing changes', async () => {
    const { infra } = await tree();
    const breaker = infra.breaker('billing', 'payments');
    const patch = { billing: { breakers: { payments: { resetMs: 999 } }, pools: { db: { size: -1 } } } };
    expect(() => infra.configure(patch)).toThrow(ConfigError);
    expect(() => infra.configure({ nowhere: {} })).toThrow(ConfigError);
    expect(() => infra.configure({ billing: { breakers: { ghost: { resetMs: 1 } } } })).toThrow(ConfigError);
    breaker.melt();
    breaker.melt();
    const refusal = (await breaker.call(() => 1).catch((error: unknown) => error)) as { retryAfterMs: number };
    expect(refusal.retryAfterMs).toBe(100);
    expect(infra.pool('billing', 'db').status().idle).toBe(2);
    await infra.stop();
  });
});
