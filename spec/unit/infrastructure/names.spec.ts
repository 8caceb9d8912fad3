import { describe, expect, it } from 'vitest';
import { startInfrastructure } from '../../../src/index.js';
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
