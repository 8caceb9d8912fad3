import { describe, expect, it } from 'vitest';
import { isConfigError, startInfrastructure, type InfrastructureOptions } from '../../../src/index.js';

/** Calls `run` (which must not throw) and returns the ConfigError its promise rejects with. */
async function rejection(run: () => Promise<unknown>): Promise<{ option: string }> {
  let promise: Promise<unknown> | undefined;
  expect(() => {
    promise = run();
  }).not.toThrow();
  const error = await promise!.then(
    () => new Error('resolved'),
    (reason: unknown) => reason,
  );
  expect(isConfigError(error), String(error)).toBe(true);
  return error as { option: string };
}

describe('startInfrastructure rejects bad options with a ConfigError naming them, never a TypeError', () => {
  it('a malformed namespace is a ConfigError naming it', async () => {
    const cases: Array<[unknown, string]> = [
      [{ namespaces: { billing: null } }, 'namespaces.billing'],
      [{ namespaces: { billing: 'x' } }, 'namespaces.billing'],
      [{ namespaces: { billing: { breakers: 5 } } }, 'namespaces.billing.breakers'],
      [{ namespaces: { billing: { breakers: { payments: null } } } }, 'namespaces.billing.breakers.payments'],
      [{ namespaces: { billing: { breaker: { payments: {} } } } }, 'namespaces.billing.breaker'],
      [{ namespaces: { billing: { pools: { db: 'db' } } } }, 'namespaces.billing.pools.db'],
      [{ namespaces: { billing: { intensity: -1 } } }, 'namespaces.billing.intensity'],
    ];
    for (const [options, option] of cases) {
      expect((await rejection(() => startInfrastructure(options as InfrastructureOptions))).option).toBe(option);
    }
  });

  it('a bad component option is named with its namespace and component', async () => {
    const error = await rejection(() => startInfrastructure({ namespaces: { billing: { breakers: { payments: { resetMs: -1 } } } } }));
    expect(error.option).toBe('namespaces.billing.breakers.payments.resetMs');
  });
});
