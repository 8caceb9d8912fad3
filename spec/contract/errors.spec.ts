import { createActor, createMachine } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as threads from '../../src/threads.js';
import * as http from '../../src/http.js';
import * as opentelemetry from '../../src/opentelemetry.js';
import * as promClient from '../../src/prom-client.js';
import {
  OverseerError,
  createBreaker,
  createPool,
  createRateLimiter,
  createRedisRateLimiter,
  createTelemetry,
  createTestClock,
  createThreadPool,
  isOverseerError,
  prometheusName,
  protect,
  startDynamicSupervisor,
  startInfrastructure,
  startMetrics,
  startSupervisor,
  supervisorOf,
  systemClock,
  toPrometheus,
  bridgeToOpenTelemetry,
  bridgeToPromClient,
  counter,
  summary,
} from '../../src/index.js';

// ../shared/API.md, "Conventions that hold everywhere": every error the package raises is an
// `OverseerError` subclass with a stable `code` and a guard function; STYLE.md habit 14: guards
// check the package's brand and the code, never the code alone, so an error of another library
// that happens to carry the same `code` string is not taken for one of overseer's.

// ---------------------------------------------------------------- (a) the exported error classes

/** Everything the package exports, the root and its subpaths alike. */
const exported: Record<string, unknown> = { ...root, ...threads, ...http, ...opentelemetry, ...promClient };

const crash = { reason: 'exit', threadId: 3, exitCode: 1 } as const;
const someCause = new Error('the cause');

/**
 * How to build one instance of each error class (the arguments its constructor needs). A class
 * exported without an entry here fails the spec: add it, with its guard.
 */
const instances: Record<string, () => Error> = {
  ConfigError: () => new root.ConfigError('size', -1, 'an integer >= 0'),
  InvalidArgumentError: () => new root.InvalidArgumentError('hit.key', 42, 'a string'),
  SupervisorError: () => new root.SupervisorError('start_failed', 'root', 'child', someCause),
  BreakerOpenError: () => new root.BreakerOpenError('b', 5, 'open'),
  BreakerTimeoutError: () => new root.BreakerTimeoutError('b', 100),
  BreakerArgumentError: () => new root.BreakerArgumentError('b', 'fn', 42, 'a function'),
  LimiterUnavailableError: () => new root.LimiterUnavailableError('l', 'error', 'Redis failed', someCause),
  PoolFullError: () => new root.PoolFullError('p'),
  PoolTimeoutError: () => new root.PoolTimeoutError('p', 5),
  PoolStoppedError: () => new root.PoolStoppedError('p'),
  PoolAbortedError: () => new root.PoolAbortedError('p', someCause),
  WorkerExitedError: () => new (exported.WorkerExitedError as new (pool: string, reason: unknown) => Error)('p', someCause),
  WorkerCrashedError: () => new root.WorkerCrashedError('t', crash, someCause),
  WorkerStartError: () => new root.WorkerStartError('t', '/w.mjs', { ...crash, cause: someCause }, 2),
  UncloneableValueError: () => new root.UncloneableValueError('t', 'result', someCause),
  TaskAbortedError: () => new root.TaskAbortedError('t', someCause),
  HttpTimeoutError: () => new root.HttpTimeoutError('h', 'http://127.0.0.1:1', 'headers', 10, 12, someCause),
  RateLimitedError: () => new root.RateLimitedError('l', 1000, 'limit_exceeded'),
  CallAbortedError: () => new root.CallAbortedError('chain', 'pool', someCause),
  InfrastructureLookupError: () => new root.InfrastructureLookupError("namespace 'billing'"),
  LeaseUnavailableError: () =>
    new (exported.LeaseUnavailableError as new (lease: string, reason: string, detail: string, cause?: unknown) => Error)('lease', 'error', 'down', someCause),
  BreakerFleetUnavailableError: () =>
    new (exported.BreakerFleetUnavailableError as new (operation: string, breaker: string, reason: string, detail: string, cause?: unknown) => Error)(
      'isolate',
      'payments',
      'error',
      'Redis failed',
      someCause,
    ),
};

/** The classes that wrap someone else's error or reason and must keep it as `cause`. */
const wrapping = new Set([
  'SupervisorError',
  'LimiterUnavailableError',
  'PoolAbortedError',
  'WorkerExitedError',
  'WorkerCrashedError',
  'WorkerStartError',
  'UncloneableValueError',
  'TaskAbortedError',
  'HttpTimeoutError',
  'CallAbortedError',
  'LeaseUnavailableError',
  'BreakerFleetUnavailableError',
]);

function reachesError(value: unknown): value is new (...args: never[]) => Error {
  if (typeof value !== 'function') return false;
  for (let proto = value.prototype as unknown; proto !== null && proto !== undefined; proto = Object.getPrototypeOf(proto)) {
    if (proto === Error.prototype) return true;
  }
  return false;
}

const errorClasses = Object.entries(exported)
  .filter(([name, value]) => reachesError(value) && name !== 'OverseerError')
  .map(([name]) => name)
  .sort();

/** An error of another library that copies the class's name and code: not overseer's. */
function lookAlike(error: Error & { code: string }): Error {
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

/** The same error as another copy of the package (its own classes, the shared brand) would make it. */
function fromAnotherCopy(error: Error & { code: string }): Error {
  const twin = Object.assign(new Error(error.message), { name: error.name, code: error.code });
  Object.defineProperty(twin, Symbol.for('overseer.error'), { value: true });
  return twin;
}

describe('every exported error class is an overseer error with a stable code and a brand-checking guard', () => {
  it('the package exports error classes, and OverseerError is their base', () => {
    expect(errorClasses.length).toBeGreaterThan(15);
    expect(typeof OverseerError).toBe('function');
  });

  for (const name of errorClasses) {
    describe(name, () => {
      const build = (): Error & { code: string } => {
        const make = instances[name];
        if (make === undefined) throw new Error(`no constructor arguments known for ${name}: add it to the table of this spec`);
        return make() as Error & { code: string };
      };

      it('is an instance of OverseerError and of Error, named after its class, with a non-empty string code', () => {
        const error = build();
        expect(error).toBeInstanceOf(exported[name] as new () => Error);
        expect(error).toBeInstanceOf(OverseerError);
        expect(error).toBeInstanceOf(Error);
        expect(isOverseerError(error)).toBe(true);
        expect(error.name).toBe(name);
        expect(typeof error.code).toBe('string');
        expect(error.code.length).toBeGreaterThan(0);
        expect(error.message.length).toBeGreaterThan(0);
      });

      it(`has an exported guard is${name} that holds for it and for the same error from another copy of the package`, () => {
        const guard = exported[`is${name}`];
        expect(typeof guard, `is${name} is not exported`).toBe('function');
        const error = build();
        expect((guard as (value: unknown) => boolean)(error)).toBe(true);
        expect((guard as (value: unknown) => boolean)(fromAnotherCopy(error))).toBe(true);
      });

      it(`is${name} checks the brand, not the code alone: an error of another library with the same name and code is not one`, () => {
        const guard = exported[`is${name}`] as (value: unknown) => boolean;
        const error = build();
        expect(guard(lookAlike(error))).toBe(false);
        expect(guard({ name: error.name, code: error.code, message: error.message })).toBe(false);
        expect(isOverseerError(lookAlike(error))).toBe(false);
        expect(lookAlike(error)).not.toBeInstanceOf(OverseerError);
      });

      if (wrapping.has(name)) {
        it('keeps what it wraps as its cause', () => {
          expect(build().cause).toBe(someCause);
        });
      }
    });
  }

  it('no two error classes share a code (SupervisorError has OTP’s codes of its own)', () => {
    const codes = errorClasses.filter((name) => instances[name] !== undefined).map((name) => instances[name]!() as Error & { code: string });
    const byCode = new Map<string, string>();
    for (const error of codes) {
      expect(byCode.get(error.code), `${error.name} and ${byCode.get(error.code)} share ${error.code}`).toBeUndefined();
      byCode.set(error.code, error.name);
    }
  });

  it('isSupervisorError with a code checks the brand and that code', () => {
    const error = new root.SupervisorError('not_found', 'root', 'x');
    expect(root.isSupervisorError(error, 'not_found')).toBe(true);
    expect(root.isSupervisorError(error, 'running')).toBe(false);
    expect(root.isSupervisorError(lookAlike(error), 'not_found')).toBe(false);
    expect(root.isSupervisorError(fromAnotherCopy(error), 'not_found')).toBe(true);
    // Another overseer error is not a SupervisorError, whatever its code.
    expect(root.isSupervisorError(new root.PoolFullError('p'))).toBe(false);
  });
});

// ---------------------------------------------------------------- (b) per-call argument errors

/** What a call produced: a synchronous throw, a rejection, or a value. */
type Outcome = { kind: 'threw'; error: unknown } | { kind: 'rejected'; error: unknown } | { kind: 'returned'; value: unknown };

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  let value: unknown;
  try {
    value = run();
  } catch (error) {
    return { kind: 'threw', error };
  }
  if (value instanceof Promise) {
    return value.then(
      (resolved: unknown) => ({ kind: 'returned', value: resolved }) as Outcome,
      (error: unknown) => ({ kind: 'rejected', error }) as Outcome,
    );
  }
  return { kind: 'returned', value };
}

/**
 * Asserts that `run` fails the way its kind of function must (`'rejects'` for a function that
 * returns a promise, `'throws'` for one that answers at once) with an overseer error of `code`,
 * whose `argument` (for ERR_INVALID_ARGUMENT) or `option` (for ERR_CONFIG) is `named`.
 */
async function expectOverseerError(run: () => unknown, how: 'rejects' | 'throws', code: string, named?: string): Promise<unknown> {
  const outcome = await outcomeOf(run);
  expect(outcome.kind, `expected the call to ${how === 'rejects' ? 'reject' : 'throw'}, it ${outcome.kind}`).toBe(how === 'rejects' ? 'rejected' : 'threw');
  const error = (outcome as { error: unknown }).error;
  expect(isOverseerError(error), `not an overseer error: ${String(error)}`).toBe(true);
  expect(error).toBeInstanceOf(OverseerError);
  expect((error as { code?: unknown }).code).toBe(code);
  if (named !== undefined) {
    const field = code === 'ERR_INVALID_ARGUMENT' ? 'argument' : code === 'ERR_CONFIG' ? 'option' : undefined;
    if (field !== undefined) expect((error as Record<string, unknown>)[field]).toBe(named);
  }
  return error;
}

const idle = createMachine({ id: 'idle', initial: 'running', states: { running: {} } });

const stoppers: Array<() => unknown> = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

/** A Redis client that must never be reached: every call is recorded. */
function unreachableRedis(): { calls: string[]; redis: { evalsha: () => Promise<never>; eval: () => Promise<never>; del: () => Promise<never> } } {
  const calls: string[] = [];
  const never = (method: string) => (): Promise<never> => {
    calls.push(method);
    return new Promise<never>(() => undefined);
  };
  return { calls, redis: { evalsha: never('evalsha'), eval: never('eval'), del: never('del') } };
}

describe('a limiter refuses a bad key or cost with InvalidArgumentError naming it', () => {
  const limiter = (): ReturnType<typeof createRateLimiter> => createRateLimiter({ name: 'args', limit: 5, windowMs: 1000, clock: createTestClock() });

  it('hit(42) rejects, naming hit.key', () => expectOverseerError(() => limiter().hit(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.key'));
  for (const cost of [-1, 0, Number.NaN, 1.5, Number.POSITIVE_INFINITY, '2']) {
    it(`hit('k', ${String(cost)}) rejects, naming hit.cost`, () =>
      expectOverseerError(() => limiter().hit('k', cost as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.cost'));
  }
  it('hitSync(42) and hitSync(k, -1) throw', async () => {
    await expectOverseerError(() => limiter().hitSync(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'hit.key');
    await expectOverseerError(() => limiter().hitSync('k', -1), 'throws', 'ERR_INVALID_ARGUMENT', 'hit.cost');
  });
  it('reset(42) rejects, naming reset.key', () => expectOverseerError(() => limiter().reset(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'reset.key'));
  it('every algorithm refuses alike', async () => {
    for (const algorithm of ['fixed_window', 'sliding_window', 'token_bucket', 'leaky_bucket'] as const) {
      const each = createRateLimiter({ name: algorithm, algorithm, limit: 5, windowMs: 1000, clock: createTestClock() });
      await expectOverseerError(() => each.hit(undefined as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.key');
      await expectOverseerError(() => each.hit('k', 0), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.cost');
      await expectOverseerError(() => each.reset(null as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'reset.key');
    }
  });
  it('the Redis limiter refuses them before sending anything', async () => {
    const { calls, redis } = unreachableRedis();
    const limiter = createRedisRateLimiter({ name: 'args', limit: 5, windowMs: 1000, redis, clock: createTestClock() });
    await expectOverseerError(() => limiter.hit(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.key');
    await expectOverseerError(() => limiter.hit('k', -1), 'rejects', 'ERR_INVALID_ARGUMENT', 'hit.cost');
    await expectOverseerError(() => limiter.reset(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'reset.key');
    expect(calls).toEqual([]);
  });
});

describe('a supervisor refuses a child id that is not a string with InvalidArgumentError', () => {
  it('terminateChild(42), restartChild(undefined), deleteChild({}) reject, naming the argument', async () => {
    const supervisor = await startSupervisor({ children: [{ id: '42', start: () => createActor(idle) }] }, { clock: createTestClock() });
    stoppers.push(() => supervisor.stop());
    await expectOverseerError(() => supervisor.terminateChild(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'terminateChild.id');
    await expectOverseerError(() => supervisor.restartChild(undefined as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'restartChild.id');
    await expectOverseerError(() => supervisor.deleteChild({} as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'deleteChild.id');
    // The child whose id is the string '42' was not touched.
    expect(supervisor.whichChildren().map(({ id, ref }) => [id, ref !== undefined])).toEqual([['42', true]]);
  });

  it('a dynamic supervisor’s terminateChild(42) rejects too', async () => {
    const supervisor = await startDynamicSupervisor({ clock: createTestClock() });
    stoppers.push(() => supervisor.stop());
    await expectOverseerError(() => supervisor.terminateChild(42 as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'terminateChild.id');
  });

  it('a start that returns no actor fails the start with a SupervisorError whose cause is a ConfigError naming start', async () => {
    const supervisor = await startSupervisor({ children: [] }, { clock: createTestClock() });
    stoppers.push(() => supervisor.stop());
    const error = await expectOverseerError(() => supervisor.startChild({ id: 'x', start: () => 42 as never }), 'rejects', 'start_failed');
    expect(isOverseerError((error as { cause?: unknown }).cause)).toBe(true);
    expect((error as { cause?: unknown }).cause).toMatchObject({ code: 'ERR_CONFIG', option: 'start' });
  });

  it('supervisorOf(42) throws InvalidArgumentError; supervisorOf(undefined) is undefined', async () => {
    await expectOverseerError(() => supervisorOf(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'supervisorOf.ref');
    expect(supervisorOf(undefined)).toBeUndefined();
  });
});

describe('a pool refuses bad arguments: InvalidArgumentError for the function, ConfigError for an options object', () => {
  it('transaction(undefined) rejects with InvalidArgumentError naming transaction.fn; checkout(5) and reconfigure(5) with ConfigError', async () => {
    const pool = await createPool({ name: 'args', size: 1, maxOverflow: 0, worker: { create: () => ({}) }, clock: createTestClock() });
    stoppers.push(() => pool.stop());
    await expectOverseerError(() => pool.transaction(undefined as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'transaction.fn');
    await expectOverseerError(() => pool.checkout(5 as never), 'rejects', 'ERR_CONFIG', 'options');
    await expectOverseerError(() => pool.reconfigure(5 as never), 'throws', 'ERR_CONFIG', 'patch');
    await expectOverseerError(() => pool.reconfigure(null as never), 'throws', 'ERR_CONFIG', 'patch');
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0, waiting: 0 });
  });

  it('a thread pool’s run refuses bad options by rejecting, never by throwing, and runs nothing', async () => {
    const pool = createThreadPool({ name: 'args', filename: new URL('../../workers/echo.mjs', import.meta.url), minThreads: 0, maxThreads: 1 });
    stoppers.push(() => pool.stop());
    await expectOverseerError(() => pool.run(1, { signal: 'stop' as never }), 'rejects', 'ERR_CONFIG', 'signal');
    await expectOverseerError(() => pool.run(1, 5 as never), 'rejects', 'ERR_CONFIG', 'options');
    await expectOverseerError(() => pool.run(1, { transferList: 5 as never }), 'rejects', 'ERR_CONFIG', 'transferList');
    expect(pool.status()).toMatchObject({ queued: 0, running: 0 });
    // Nothing of the refused calls is left behind to fail later: the pool runs the next task.
    expect(await pool.run(7)).toBe(7);
  });

  it('a breaker’s reconfigure(5) throws ConfigError naming patch; its call(42) rejects with BreakerArgumentError', async () => {
    const breaker = createBreaker({ name: 'args', clock: createTestClock() });
    await expectOverseerError(() => breaker.reconfigure(5 as never), 'throws', 'ERR_CONFIG', 'patch');
    await expectOverseerError(() => breaker.reconfigure(null as never), 'throws', 'ERR_CONFIG', 'patch');
    await expectOverseerError(() => breaker.call(42 as never), 'rejects', 'ERR_BREAKER_ARGUMENT');
  });
});

describe('protect refuses a bad call before any stage counts it', () => {
  it('a call that is not an object, or whose signal is not an AbortSignal, rejects with ConfigError; the breaker counts nothing', async () => {
    const clock = createTestClock();
    const pool = await createPool({ name: 'args', size: 0, maxOverflow: 0, worker: { create: () => ({}) }, clock });
    stoppers.push(() => pool.stop());
    const breaker = createBreaker({ name: 'args', clock });
    const call = protect({ name: 'args', pool, breaker, clock }, () => 'ran');
    await expectOverseerError(() => call(42 as never), 'rejects', 'ERR_CONFIG', 'call');
    await expectOverseerError(() => call({ signal: 'stop' as never }), 'rejects', 'ERR_CONFIG', 'call.signal');
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0, rejected: 0 });
  });
});

describe('telemetry refuses bad arguments with InvalidArgumentError, bad options with ConfigError', () => {
  it('emit(42), select(42), span(42, ...) and span(name, metadata, undefined)', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    await expectOverseerError(() => telemetry.emit(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'emit.name');
    await expectOverseerError(() => telemetry.select(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'select.prefix');
    await expectOverseerError(() => telemetry.span(42 as never, {}, () => 1), 'rejects', 'ERR_INVALID_ARGUMENT', 'span.name');
    await expectOverseerError(() => telemetry.span('job', {}, undefined as never), 'rejects', 'ERR_INVALID_ARGUMENT', 'span.fn');
  });

  it('emit with measurements or metadata that are not objects throws, whether or not anyone listens', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    await expectOverseerError(() => telemetry.emit('a.b', 5 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'emit.measurements');
    const subscription = telemetry.events$.subscribe(() => undefined);
    await expectOverseerError(() => telemetry.emit('a.b', {}, 'meta' as never), 'throws', 'ERR_INVALID_ARGUMENT', 'emit.metadata');
    subscription.unsubscribe();
  });

  it('createTelemetry(null) and createTelemetry({ clock: 5 }) throw ConfigError', async () => {
    await expectOverseerError(() => createTelemetry(null as never), 'throws', 'ERR_CONFIG', 'options');
    await expectOverseerError(() => createTelemetry({ clock: 5 as never }), 'throws', 'ERR_CONFIG', 'clock');
  });

  it('startMetrics, bridgeToOpenTelemetry and bridgeToPromClient refuse a stream that is not an observable', async () => {
    const registry = { registerMetric: () => undefined, removeSingleMetric: () => undefined };
    const meter = { createCounter: () => ({ add: () => undefined }), createHistogram: () => ({ record: () => undefined }) };
    await expectOverseerError(() => startMetrics(42 as never, []), 'throws', 'ERR_CONFIG', 'events$');
    await expectOverseerError(() => bridgeToOpenTelemetry(42 as never, meter as never), 'throws', 'ERR_CONFIG', 'events$');
    await expectOverseerError(() => bridgeToOpenTelemetry(createTelemetry().events$, 42 as never), 'throws', 'ERR_CONFIG', 'meter');
    await expectOverseerError(() => bridgeToPromClient(42 as never, registry), 'throws', 'ERR_CONFIG', 'events$');
  });

  it('metric factories refuse options that are not an object', async () => {
    await expectOverseerError(() => counter('a.b', null as never), 'throws', 'ERR_CONFIG', 'options');
    await expectOverseerError(() => summary('a.b', 42 as never), 'throws', 'ERR_CONFIG', 'options');
  });

  it('prometheusName(42) and toPrometheus(42) throw InvalidArgumentError', async () => {
    await expectOverseerError(() => prometheusName(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'prometheusName.name');
    await expectOverseerError(() => toPrometheus(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'toPrometheus.snapshot');
  });
});

describe('clocks refuse bad arguments with InvalidArgumentError, a bad start with ConfigError', () => {
  it('advance(-1), advance(NaN), advance("10")', async () => {
    const clock = createTestClock();
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      await expectOverseerError(() => clock.advance(ms as never), 'throws', 'ERR_INVALID_ARGUMENT', 'advance.ms');
    }
    expect(clock.now()).toBe(0);
  });

  it('createTestClock("x") throws ConfigError naming startMs', () =>
    expectOverseerError(() => createTestClock('x' as never), 'throws', 'ERR_CONFIG', 'startMs'));

  it('setTimeout with something that is not a function throws at once, on the test clock and the system clock', async () => {
    const clock = createTestClock();
    await expectOverseerError(() => clock.setTimeout(5 as never, 1), 'throws', 'ERR_INVALID_ARGUMENT', 'setTimeout.fn');
    expect(clock.pendingTimers()).toBe(0);
    expect(() => clock.advance(10)).not.toThrow();
    await expectOverseerError(() => systemClock.setTimeout(5 as never, 1), 'throws', 'ERR_INVALID_ARGUMENT', 'setTimeout.fn');
  });
});

describe('constructors refuse a clock or telemetry that is not one with ConfigError', () => {
  it('createBreaker, createPool, startSupervisor, protect', async () => {
    await expectOverseerError(() => createBreaker({ name: 'b', clock: 5 as never }), 'throws', 'ERR_CONFIG', 'clock');
    await expectOverseerError(() => createBreaker({ name: 'b', telemetry: {} as never }), 'throws', 'ERR_CONFIG', 'telemetry');
    await expectOverseerError(() => createPool({ name: 'p', worker: { create: () => ({}) }, clock: {} as never }), 'rejects', 'ERR_CONFIG', 'clock');
    await expectOverseerError(() => startSupervisor({ children: [] }, { clock: 5 as never }), 'rejects', 'ERR_CONFIG', 'clock');
    await expectOverseerError(() => startSupervisor({ children: [] }, { telemetry: 5 as never }), 'rejects', 'ERR_CONFIG', 'telemetry');
    await expectOverseerError(() => protect({ name: 'p', clock: 5 as never }, () => 1), 'throws', 'ERR_CONFIG', 'clock');
    await expectOverseerError(
      () => createThreadPool({ name: 't', filename: new URL('../../workers/echo.mjs', import.meta.url), clock: 5 as never }),
      'throws',
      'ERR_CONFIG',
      'clock',
    );
  });
});

describe('the infrastructure refuses a look-up by something that is not a name with InvalidArgumentError', () => {
  it('breaker(42, name), breaker(namespace, 42), namespace(42)', async () => {
    const infrastructure = await startInfrastructure({ namespaces: { api: { breakers: { b: {} } } }, clock: createTestClock() });
    stoppers.push(() => infrastructure.stop());
    await expectOverseerError(() => infrastructure.breaker(42 as never, 'b'), 'throws', 'ERR_INVALID_ARGUMENT', 'breaker.namespace');
    await expectOverseerError(() => infrastructure.breaker('api', 42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'breaker.name');
    await expectOverseerError(() => infrastructure.namespace(42 as never), 'throws', 'ERR_INVALID_ARGUMENT', 'namespace.name');
    expect(infrastructure.breaker('api', 'b').state()).toBe('closed');
  });
});
