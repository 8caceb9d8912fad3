import { createActor, createMachine } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBreaker,
  createHttpPool,
  createPool,
  createRateLimiter,
  createTestClock,
  isConfigError,
  startDynamicSupervisor,
  startInfrastructure,
  startSupervisor,
} from '../../src/index.js';

// ../shared/API.md, "Conventions that hold everywhere": a function that returns a Promise reports
// every error, bad options included, by rejecting; it never throws synchronously. Each case below
// calls the function the way a careless caller would and checks both halves of that rule.

/** Calls `run` and returns what it returned; a synchronous throw fails the spec with the error. */
function callWithoutThrowing(run: () => unknown): unknown {
  let result: unknown;
  expect(() => {
    result = run();
  }, 'threw synchronously instead of rejecting').not.toThrow();
  return result;
}

/**
 * Asserts that `run` returns a promise that rejects: with a `ConfigError` for bad options, with an
 * `Error` of any kind for a bad per-call argument.
 */
async function expectRejection(run: () => unknown, expectConfigError = true): Promise<void> {
  const result = callWithoutThrowing(run);
  expect(result).toBeInstanceOf(Promise);
  const error = await (result as Promise<unknown>).then(
    () => undefined,
    (reason: unknown) => reason ?? new Error('rejected with nothing'),
  );
  expect(error, 'resolved instead of rejecting').toBeDefined();
  expect(error).toBeInstanceOf(Error);
  if (expectConfigError) expect(isConfigError(error), String(error)).toBe(true);
}

const idle = createMachine({ id: 'idle', initial: 'running', states: { running: {} } });

const stoppers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

const badOptions: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['a string', 'options'],
];

describe('factories that return a promise reject on bad options, never throw', () => {
  for (const [label, value] of badOptions) {
    it(`startSupervisor(${label})`, () => expectRejection(() => startSupervisor(value as never)));
    it(`createPool(${label})`, () => expectRejection(() => createPool(value as never)));
    it(`createHttpPool(${label})`, () => expectRejection(() => createHttpPool(value as never)));
    it(`startInfrastructure(${label})`, () => expectRejection(() => startInfrastructure(value as never)));
  }
  for (const [label, value] of badOptions.slice(1)) {
    it(`startDynamicSupervisor(${label})`, () => expectRejection(() => startDynamicSupervisor(value as never)));
  }

  it('startSupervisor with a bad strategy, intensity or child', async () => {
    await expectRejection(() => startSupervisor({ strategy: 'one_for_none' as never, children: [] }));
    await expectRejection(() => startSupervisor({ intensity: -1, children: [] }));
    await expectRejection(() => startSupervisor({ children: [{ id: 'a', start: 'nope' as never }] }));
    await expectRejection(() => startSupervisor({ children: [] }, { id: '' }));
  });

  it('startDynamicSupervisor with a bad maxChildren or period', async () => {
    await expectRejection(() => startDynamicSupervisor({ maxChildren: -3 }));
    await expectRejection(() => startDynamicSupervisor({ period: Number.NaN }));
  });

  it('createPool with a bad size, overflow, strategy or factory', async () => {
    const worker = { create: () => ({}) };
    await expectRejection(() => createPool({ name: 'p', size: -1, worker }));
    await expectRejection(() => createPool({ name: 'p', maxOverflow: 1.5, worker }));
    await expectRejection(() => createPool({ name: 'p', strategy: 'random' as never, worker }));
    await expectRejection(() => createPool({ name: 'p', worker: undefined as never }));
    await expectRejection(() => createPool({ name: '', worker }));
  });

  it('startInfrastructure with a bad namespace', async () => {
    await expectRejection(() => startInfrastructure({ namespaces: null as never }));
    await expectRejection(() =>
      startInfrastructure({ namespaces: { api: { breakers: { b: { resetMs: -1 } } } } }),
    );
  });
});

describe('methods that return a promise reject on bad arguments, never throw', () => {
  it('a supervisor’s child API', async () => {
    const clock = createTestClock();
    const supervisor = await startSupervisor({ children: [] }, { clock });
    stoppers.push(() => supervisor.stop());
    await expectRejection(() => supervisor.startChild(undefined as never));
    await expectRejection(() => supervisor.startChild({ id: 'x', start: () => createActor(idle), restart: 'sometimes' as never }));
    await expectRejection(() => supervisor.terminateChild(42 as never), false);
    await expectRejection(() => supervisor.restartChild(undefined as never), false);
    await expectRejection(() => supervisor.deleteChild({} as never), false);
  });

  it('a dynamic supervisor’s child API', async () => {
    const clock = createTestClock();
    const supervisor = await startDynamicSupervisor({ clock });
    stoppers.push(() => supervisor.stop());
    await expectRejection(() => supervisor.startChild(null as never));
    await expectRejection(() => supervisor.startChild({ start: 7 as never }));
    await expectRejection(() => supervisor.terminateChild(undefined as never), false);
  });

  it('a pool’s checkout and transaction', async () => {
    const clock = createTestClock();
    const pool = await createPool({ name: 'convention', size: 1, maxOverflow: 0, worker: { create: () => ({}) }, clock });
    stoppers.push(() => pool.stop());
    await expectRejection(() => pool.checkout({ timeoutMs: -1 }));
    await expectRejection(() => pool.checkout({ timeoutMs: Number.NaN }));
    await expectRejection(() => pool.checkout({ signal: 'abort' as never }));
    await expectRejection(() => pool.transaction(undefined as never), false);
    expect(pool.status()).toMatchObject({ idle: 1, checkedOut: 0, waiting: 0 });
  });

  it('a breaker’s call with no function rejects and counts nothing', async () => {
    const breaker = createBreaker({ name: 'convention', clock: createTestClock() });
    await expectRejection(() => breaker.call(undefined as never), false);
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 0, rejected: 0 });
  });

  it('a limiter’s hit with a bad key or cost', async () => {
    const limiter = createRateLimiter({ name: 'convention', limit: 5, windowMs: 1000, clock: createTestClock() });
    await expectRejection(() => limiter.hit(undefined as never), false);
    await expectRejection(() => limiter.hit('k', -1), false);
    await expectRejection(() => limiter.hit('k', Number.NaN), false);
    await expectRejection(() => limiter.reset(42 as never), false);
  });
});
