import { describe, expect, it } from 'vitest';
import {
  InfrastructureLookupError,
  isInfrastructureLookupError,
  isInvalidArgumentError,
  startInfrastructure,
  type InvalidArgumentError,
} from '../../../src/index.js';
import { recordTelemetry } from '../../support/supervision.js';
import { thrownBy } from '../../support/thrown.js';

async function tree() {
  const { clock, telemetry } = recordTelemetry();
  return startInfrastructure({
    clock,
    telemetry,
    namespaces: {
      billing: { breakers: { payments: {} }, limiters: { api: { limit: 3, windowMs: 1000 } } },
      search: { breakers: { index: {} } },
    },
  });
}

describe('look-ups name what they could not find', () => {
  it('an unknown breaker or limiter is named with its kind and namespace', async () => {
    const infra = await tree();
    const breaker = thrownBy(() => infra.breaker('billing', 'nope'));
    expect(breaker).toBeInstanceOf(InfrastructureLookupError);
    expect((breaker as Error).message).toBe("the infrastructure has no breaker 'nope' in namespace 'billing'");
    const limiter = thrownBy(() => infra.limiter('billing', 'nope'));
    expect(isInfrastructureLookupError(limiter)).toBe(true);
    expect((limiter as Error).message).toBe("the infrastructure has no limiter 'nope' in namespace 'billing'");
    await infra.stop();
  });

  it('a name that is not a string is an InvalidArgumentError naming the method and argument', async () => {
    const infra = await tree();
    const cases: Array<[() => unknown, string]> = [
      [() => infra.breaker(5 as never, 'payments'), 'breaker.namespace'],
      [() => infra.breaker('billing', 5 as never), 'breaker.name'],
      [() => infra.limiter(5 as never, 'api'), 'limiter.namespace'],
      [() => infra.limiter('billing', 5 as never), 'limiter.name'],
    ];
    for (const [lookup, argument] of cases) {
      const error = thrownBy(lookup);
      expect(isInvalidArgumentError(error), argument).toBe(true);
      expect((error as InvalidArgumentError).argument).toBe(argument);
      expect((error as InvalidArgumentError).message).toBe(`Invalid argument ${argument}: expected a name (a string), got 5`);
    }
    await infra.stop();
  });
});

describe('namespace(ns) gives that namespace\'s supervisor', () => {
  it('finds each namespace by its own id, not the first one', async () => {
    const infra = await tree();
    expect(infra.namespace('billing').id).toBe('infrastructure/billing');
    expect(infra.namespace('search').id).toBe('infrastructure/search');
    expect(infra.namespace('search').whichChildren().map((child) => child.id)).toEqual(['breaker:index']);
    await infra.stop();
  });

  it('a namespace whose supervisor is not running is a lookup error naming it', async () => {
    const infra = await tree();
    await infra.supervisor.terminateChild('search');
    const error = thrownBy(() => infra.namespace('search'));
    expect(error).toBeInstanceOf(InfrastructureLookupError);
    expect((error as Error).message).toBe("the infrastructure has no running supervisor of namespace 'search'");
    expect(infra.namespace('billing').id).toBe('infrastructure/billing');
    await infra.stop();
  });
});
