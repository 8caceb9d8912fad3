import { describe, expect, it } from 'vitest';
import { startInfrastructure } from '../../src/index.js';
import { flush, recordTelemetry } from '../support/supervision.js';

/**
 * Starts the real infrastructure tree (two namespaces of breakers and pools) and makes one
 * namespace's children die over and over: the storm exhausts that namespace's supervisor, which
 * the root restarts, and nothing in the other namespace is stopped or restarted.
 */
describe('a restart storm in one namespace', () => {
  it('escalates to the namespace supervisor and no further', async () => {
    const { clock, telemetry, named } = recordTelemetry();
    const infra = await startInfrastructure({
      clock,
      telemetry,
      namespaces: {
        billing: {
          intensity: 3,
          period: 10_000,
          breakers: { payments: {}, refunds: {} },
          pools: { db: { size: 2, worker: { create: () => ({ connection: 'billing' }) } } },
        },
        search: {
          breakers: { index: {} },
          pools: { db: { size: 2, worker: { create: () => ({ connection: 'search' }) } } },
        },
      },
    });
    const searchBreakerActor = infra.breaker('search', 'index').actor;
    const searchPool = infra.pool('search', 'db');
    const searchSupervisor = infra.namespace('search');
    const firstBilling = infra.namespace('billing');

    for (let crash = 0; crash < 12; crash += 1) {
      infra.breaker('billing', crash % 2 === 0 ? 'payments' : 'refunds').actor.stop();
      await flush();
      clock.advance(100);
    }

    const restartedBy = (supervisor: string) =>
      named('supervisor.child.restarted').filter((event) => event.metadata.supervisor === supervisor);
    expect(restartedBy('infrastructure/billing').length).toBeGreaterThan(0);
    expect(restartedBy('infrastructure').map((event) => event.metadata.child)).toEqual(
      expect.arrayContaining(['billing']),
    );
    expect(restartedBy('infrastructure').every((event) => event.metadata.child === 'billing')).toBe(true);
    expect(restartedBy('infrastructure/search')).toEqual([]);
    expect(infra.namespace('billing')).not.toBe(firstBilling);
    expect(infra.namespace('search')).toBe(searchSupervisor);
    expect(infra.breaker('search', 'index').actor).toBe(searchBreakerActor);
    expect(infra.pool('search', 'db')).toBe(searchPool);
    expect(named('supervisor.shutdown').map((event) => event.metadata.supervisor)).not.toContain('infrastructure');
    expect(named('supervisor.shutdown').map((event) => event.metadata.supervisor)).not.toContain('infrastructure/search');
    expect(infra.breaker('billing', 'payments').state()).toBe('closed');
    await expect(infra.pool('billing', 'db').transaction((worker) => worker)).resolves.toEqual({ connection: 'billing' });
    await infra.stop();
  });
});
