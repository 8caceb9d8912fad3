import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { componentName } from '../../../src/infrastructure/names.js';
import { startInfrastructure } from '../../../src/index.js';
import { connectRedis, deleteKeys, keysUnder, randomPrefix, redisAvailable } from '../../support/limiter-redis.js';
import { recordTelemetry } from '../../support/supervision.js';

describe('components are named after their namespace', () => {
  it('breakers, limiters and pools of different namespaces report distinct names in telemetry', async () => {
    const { clock, telemetry, events } = recordTelemetry();
    const same = {
      breakers: { payments: {} },
      limiters: { api: { limit: 10, windowMs: 1000 } },
      pools: { db: { size: 1, maxOverflow: 0, worker: { create: () => ({}) } } },
    };
    const infra = await startInfrastructure({ clock, telemetry, namespaces: { billing: same, refunds: same } });
    for (const namespace of ['billing', 'refunds']) {
      await infra.breaker(namespace, 'payments').call(() => 'ok');
      await infra.limiter(namespace, 'api').hit('k');
      await infra.pool(namespace, 'db').transaction(() => 'ok');
    }
    const named = (event: string, label: string) =>
      events.filter((recorded) => recorded.name === event).map((recorded) => recorded.metadata[label]);
    expect(named('breaker.call', 'breaker')).toEqual(['billing.payments', 'refunds.payments']);
    expect(named('limiter.hit', 'limiter')).toEqual(['billing.api', 'refunds.api']);
    expect(named('pool.checkout', 'pool')).toEqual(['billing.db', 'refunds.db']);
    expect(infra.breaker('billing', 'payments').name).toBe('billing.payments');
    expect(infra.pool('refunds', 'db').name).toBe('refunds.db');
    // Child ids within a namespace keep the short names.
    expect(infra.namespace('billing').whichChildren().map((child) => child.id)).toEqual(['breaker:payments', 'limiter:api', 'pool:db']);
    await infra.stop();
  });
});

describe('components are named unambiguously across namespaces', () => {
  // `billing.eu` + `api` and `billing` + `eu.api` both read "billing.eu.api" when joined with a dot.
  const component = {
    breakers: { api: {} },
    limiters: { api: { limit: 1, windowMs: 60_000 } },
    pools: { api: { size: 1, maxOverflow: 0, worker: { create: () => ({}) } } },
  };
  const dotted = {
    breakers: { 'eu.api': {} },
    limiters: { 'eu.api': { limit: 1, windowMs: 60_000 } },
    pools: { 'eu.api': { size: 1, maxOverflow: 0, worker: { create: () => ({}) } } },
  };

  it('a dotted namespace and a dotted name that read alike give distinct breaker, limiter and pool names', async () => {
    const { clock, telemetry, events } = recordTelemetry();
    const infra = await startInfrastructure({ clock, telemetry, namespaces: { 'billing.eu': component, billing: dotted } });
    const pairs = [
      ['billing.eu', 'api'],
      ['billing', 'eu.api'],
    ] as const;
    for (const [namespace, name] of pairs) {
      await infra.breaker(namespace, name).call(() => 'ok');
      await infra.limiter(namespace, name).hit('k');
      await infra.pool(namespace, name).transaction(() => 'ok');
    }
    const names = (event: string, label: string) => events.filter((recorded) => recorded.name === event).map((recorded) => recorded.metadata[label]);
    for (const [event, label] of [
      ['breaker.call', 'breaker'],
      ['limiter.hit', 'limiter'],
      ['pool.checkout', 'pool'],
    ] as const) {
      const reported = names(event, label);
      expect(reported, event).toHaveLength(2);
      expect(new Set(reported).size, `${event}: ${reported.join(' | ')}`).toBe(2);
    }
    // Still readable: a dotted part is quoted, an undotted one is left as it is.
    expect(infra.breaker('billing.eu', 'api').name).toBe('"billing.eu".api');
    expect(infra.breaker('billing', 'eu.api').name).toBe('billing."eu.api"');
    expect(infra.limiter('billing', 'eu.api').name).toBe('billing."eu.api"');
    expect(infra.pool('billing.eu', 'api').name).toBe('"billing.eu".api');
    await infra.stop();
  });

  it.runIf(redisAvailable)('two such limiters in Redis keep separate keys and separate budgets', async () => {
    const redis = connectRedis();
    const prefix = randomPrefix('names');
    try {
      const infra = await startInfrastructure({
        redis,
        redisPrefix: prefix,
        namespaces: { 'billing.eu': { limiters: component.limiters }, billing: { limiters: dotted.limiters } },
      });
      expect(await infra.limiter('billing.eu', 'api').hit('user')).toMatchObject({ allowed: true, count: 1 });
      expect(await infra.limiter('billing', 'eu.api').hit('user')).toMatchObject({ allowed: true, count: 1 });
      expect((await keysUnder(redis, prefix)).filter((key) => key.endsWith(':k:user'))).toHaveLength(2);
      await infra.stop();
    } finally {
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });
});

describe('component names', () => {
  const part = fc.string({ unit: fc.constantFrom('a', '.', '"', '\\', 'insurance'), maxLength: 5 });
  /** Every (namespace, name) pair that joins to `text` with a dot: the pairs a plain join would confuse. */
  const splits = (text: string): Array<[string, string]> =>
    [...text].flatMap((char, at) => (char === '.' ? [[text.slice(0, at), text.slice(at + 1)] as [string, string]] : []));

  it('two distinct (namespace, name) pairs never get one name', () => {
    fc.assert(
      fc.property(fc.tuple(part, part), fc.tuple(part, part), ([ns1, n1], [ns2, n2]) => {
        const name = componentName(ns1, n1);
        for (const [ns, n] of [[ns2, n2], ...splits(name), ...splits(`${ns1}.${n1}`)]) {
          if (ns !== ns1 || n !== n1) expect(componentName(ns!, n!), `${ns} + ${n}`).not.toBe(name);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("an insurance limiter's name never equals a component's name", () => {
    fc.assert(
      fc.property(fc.tuple(part, part), fc.tuple(part, part), ([ns1, n1], [ns2, n2]) => {
        const insurance = `${componentName(ns1, n1)}.insurance`;
        for (const [ns, n] of [[ns2, n2], ...splits(insurance), ...splits(`${ns1}.${n1}.insurance`)]) {
          expect(componentName(ns!, n!), `${ns} + ${n}`).not.toBe(insurance);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('stays as it reads for plain parts', () => {
    expect(componentName('billing', 'payments')).toBe('billing.payments');
    expect(componentName('billing.eu', 'api')).toBe('"billing.eu".api');
    expect(componentName('say"hi', 'x')).toBe('"say\\"hi".x');
  });
});
