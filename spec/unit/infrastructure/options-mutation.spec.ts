import { describe, expect, it } from 'vitest';
import { within } from '../../../src/infrastructure/options.js';
import { ConfigError, isConfigError, startInfrastructure, type InfrastructureOptions } from '../../../src/index.js';
import { recordTelemetry } from '../../support/supervision.js';
import { thrownBy } from '../../support/thrown.js';

/** The ConfigError `startInfrastructure(options)` rejects with. */
async function rejection(options: unknown): Promise<ConfigError> {
  const error = await startInfrastructure(options as InfrastructureOptions).then(
    () => new Error('started'),
    (reason: unknown) => reason,
  );
  expect(isConfigError(error), String(error)).toBe(true);
  return error as ConfigError;
}

describe('within: a validation error is renamed by its path', () => {
  it('renames the option and keeps the value and the expectation, commas included', () => {
    const error = thrownBy(() =>
      within('namespaces.billing.breakers.payments', () => {
        throw new ConfigError('tolerance.failures', -1, 'an integer, at least 0, got or not');
      }),
    ) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.option).toBe('namespaces.billing.breakers.payments.tolerance.failures');
    expect(error.value).toBe(-1);
    expect(error.message).toBe(new ConfigError('namespaces.billing.breakers.payments.tolerance.failures', -1, 'an integer, at least 0, got or not').message);
  });

  it('returns what the validation returns', () => {
    expect(within('path', () => 42)).toBe(42);
  });

  it('rethrows anything but a ConfigError as it is, even a thrown string or null', () => {
    const failure = new RangeError('not a config problem');
    expect(thrownBy(() => within('path', () => { throw failure; }))).toBe(failure);
    expect(thrownBy(() => within('path', () => { throw 'text'; }))).toBe('text');
    expect(thrownBy(() => within('path', () => { throw null; }))).toBe(null);
  });

  it('rethrows a ConfigError whose message does not have the usual shape as it is', () => {
    const endsOtherwise = new ConfigError('size', 5, 'at most 4');
    endsOtherwise.message += ' (and more)';
    const startsOtherwise = new ConfigError('size', 5, 'at most 4');
    startsOtherwise.message = `Something else: ${startsOtherwise.message}`;
    for (const error of [endsOtherwise, startsOtherwise]) {
      expect(thrownBy(() => within('path', () => { throw error; }))).toBe(error);
    }
  });
});

describe('startInfrastructure names a bad option by its path, with its message', () => {
  it('a bad component option has a message naming the full path, expectation and value once', async () => {
    const error = await rejection({ namespaces: { billing: { breakers: { payments: { resetMs: -1 } } } } });
    expect(error.option).toBe('namespaces.billing.breakers.payments.resetMs');
    expect(error.message).toBe('Invalid option namespaces.billing.breakers.payments.resetMs: expected a finite number > 0, got -1');
  });

  it('names the top-level options: options, namespaces, clock, telemetry', async () => {
    expect((await rejection(undefined)).option).toBe('options');
    expect((await rejection({ namespaces: 5 })).option).toBe('namespaces');
    expect((await rejection({ namespaces: {}, clock: 5 })).option).toBe('clock');
    expect((await rejection({ namespaces: {}, telemetry: 5 })).option).toBe('telemetry');
  });

  it('an unknown key of a namespace lists the keys a namespace takes', async () => {
    const error = await rejection({ namespaces: { billing: { breaker: {} } } });
    expect(error.option).toBe('namespaces.billing.breaker');
    expect(error.message).toContain('expected one of breakers, limiters, pools, threadPools, intensity, period, got');
  });

  it('names limiter, pool and thread-pool sections and components by their paths', async () => {
    const cases: Array<[unknown, string]> = [
      [{ limiters: 5 }, 'namespaces.billing.limiters'],
      [{ limiters: { api: null } }, 'namespaces.billing.limiters.api'],
      [{ limiters: { api: { limit: -1, windowMs: 1000 } } }, 'namespaces.billing.limiters.api.limit'],
      [{ pools: 5 }, 'namespaces.billing.pools'],
      [{ threadPools: 5 }, 'namespaces.billing.threadPools'],
      [{ threadPools: { cpu: null } }, 'namespaces.billing.threadPools.cpu'],
      [{ threadPools: { cpu: { filename: 5 } } }, 'namespaces.billing.threadPools.cpu.filename'],
    ];
    for (const [billing, option] of cases) {
      expect((await rejection({ namespaces: { billing } })).option, option).toBe(option);
    }
  });
});

describe('configure names what a patch gets wrong, with a message that says what was expected', () => {
  async function tree() {
    const { clock, telemetry } = recordTelemetry();
    return startInfrastructure({
      clock,
      telemetry,
      namespaces: {
        billing: {
          breakers: { payments: {} },
          limiters: { api: { limit: 3, windowMs: 1000 } },
          pools: { db: { size: 1, maxOverflow: 0, worker: { create: () => ({}) } } },
        },
      },
    });
  }

  it('a key a component cannot change live lists the keys it can', async () => {
    const infra = await tree();
    const error = thrownBy(() => infra.configure({ billing: { breakers: { payments: { name: 'x' } as never } } })) as ConfigError;
    expect(error.option).toBe('patch.billing.breakers.payments.name');
    expect(error.message).toBe(
      "Invalid option patch.billing.breakers.payments.name: expected one of tolerance, failureRate, resetMs, halfOpenProbes, callTimeoutMs, isFailure (the options that can change live), got \"x\"",
    );
    await infra.stop();
  });

  it('a clock or telemetry in component options, which the tree overrides at start, does not fail later patches', async () => {
    // The tree gives every component its own clock and telemetry: options that name their own are
    // overridden at start, so a patch is checked with the tree's too, as the component runs with them.
    const { clock, telemetry } = recordTelemetry();
    const infra = await startInfrastructure({
      clock,
      telemetry,
      namespaces: {
        billing: {
          breakers: { payments: { clock: 'not a clock' } as never },
          limiters: { api: { limit: 3, windowMs: 1000, telemetry: 7 } as never },
          pools: { db: { size: 1, maxOverflow: 0, worker: { create: () => ({}) }, clock: 5, telemetry: 7 } as never },
        },
      },
    });
    infra.configure({ billing: { breakers: { payments: { resetMs: 50 } }, limiters: { api: { limit: 4 } }, pools: { db: { size: 2 } } } });
    expect(infra.pool('billing', 'db').status()).toMatchObject({ idle: 2 });
    expect(await infra.limiter('billing', 'api').hit('k')).toMatchObject({ allowed: true, remaining: 3 });
    await infra.stop();
  });

  it('component options are read once: a getter answering differently later does not fail a patch', async () => {
    /** Options whose `field` is `first` at the first read and `later` after. */
    const changing = (base: object, field: string, first: unknown, later: unknown) => {
      let reads = 0;
      return Object.defineProperty({ ...base }, field, { enumerable: true, get: () => (reads++ === 0 ? first : later) });
    };
    const infra = await startInfrastructure({
      namespaces: {
        billing: {
          breakers: { payments: changing({}, 'halfOpenProbes', 1, 0) },
          limiters: { api: changing({ limit: 3 }, 'windowMs', 1000, -1) as never },
          pools: { db: changing({ size: 1, worker: { create: () => ({}) } }, 'maxOverflow', 0, -1) as never },
        },
      },
    });
    infra.configure({ billing: { breakers: { payments: { resetMs: 50 } }, limiters: { api: { limit: 4 } }, pools: { db: { size: 2 } } } });
    expect(infra.pool('billing', 'db').status()).toMatchObject({ idle: 2 });
    await infra.stop();
  });

  it('an unknown namespace, component or section is a ConfigError saying what it should be', async () => {
    const infra = await tree();
    const cases: Array<[unknown, string, string]> = [
      [{ nowhere: {} }, 'patch.nowhere', 'a namespace of the tree'],
      [{ billing: { breakers: { ghost: {} } } }, 'patch.billing.breakers.ghost', 'a breaker of the namespace'],
      [{ billing: { limiters: { ghost: { limit: 1 } } } }, 'patch.billing.limiters.ghost', 'a limiter of the namespace'],
      [{ billing: { pools: { ghost: { size: 1 } } } }, 'patch.billing.pools.ghost', 'a pool of the namespace'],
      [{ billing: { threadPools: {} } }, 'patch.billing.threadPools', "one of 'breakers', 'limiters', 'pools' (the sections that can change live)"],
    ];
    for (const [patch, option, expectation] of cases) {
      const error = thrownBy(() => infra.configure(patch as never));
      expect(isConfigError(error), `${option}: ${String(error)}`).toBe(true);
      expect((error as ConfigError).option).toBe(option);
      expect((error as ConfigError).message).toContain(`: expected ${expectation}, got `);
    }
    await infra.stop();
  });
});
