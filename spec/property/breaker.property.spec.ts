import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBreaker, type Breaker, type BreakerOpenError } from '../../src/breaker/index.js';
import { createTelemetry, createTestClock, type TelemetryEvent, type TestClock } from '../../src/index.js';
import { settledSoon } from '../support/breaker.js';
import {
  advance,
  call,
  createBreakerModel,
  disable,
  enable,
  expectedTimers,
  melt,
  reconfigure,
  reset,
  retryAfterMs,
  settlement,
  type BreakerModel,
  type BreakerModelConfig,
  type CallKind,
  type ModelReconfiguration,
} from './breaker-model.js';

interface Real {
  breaker: Breaker;
  clock: TestClock;
  events: TelemetryEvent[];
  /** Probes admitted and not yet settled, from the function's side. */
  activeProbes: number;
  invokedWhileRefusing: number;
}

type Command = fc.AsyncCommand<BreakerModel, Real>;

class NotCounted extends Error {}
class Poison extends Error {}

/** Counts `Poison` (by throwing: a broken classifier), not `NotCounted`, and every other error. */
function isFailure(error: unknown): boolean {
  if (error instanceof Poison) throw new Error('classifier broke');
  return !(error instanceof NotCounted);
}

function assertMatches(model: BreakerModel, real: Real): void {
  expect(real.breaker.state()).toBe(model.state);
  expect(real.invokedWhileRefusing).toBe(0);
  expect(real.clock.pendingTimers()).toBe(expectedTimers(model));
  expect(real.activeProbes).toBe(model.probesInFlight);
  expect(real.breaker.stats()).toEqual(model.stats);
  const events = { success: 0, failure: 0, timeout: 0, rejected: 0 } as Record<string, number>;
  for (const event of real.events) if (event.name === 'breaker.call') events[event.metadata.outcome as string]! += 1;
  expect(events).toEqual(model.events);
}

/** The function a call of this kind runs. */
function functionFor(kind: CallKind): ((signal: AbortSignal) => unknown) | undefined {
  switch (kind) {
    case 'ok':
      return () => Promise.resolve('ok');
    case 'okSync':
      return () => 'ok';
    case 'fail':
      return () => Promise.reject(new Error('upstream failed'));
    case 'throws':
      return () => {
        throw new Error('threw synchronously');
      };
    case 'thenThrows':
      return () => ({
        then() {
          throw new Error('then threw');
        },
      });
    case 'thenGetterThrows':
      return () => ({
        get then(): never {
          throw new Error('then getter threw');
        },
      });
    case 'ignored':
      return () => Promise.reject(new NotCounted('not counted'));
    case 'judgeThrows':
      return () => Promise.reject(new Poison('poison'));
    case 'neutral':
      return () => Promise.reject(new Error('local'));
    case 'slow':
      return () => new Promise(() => undefined);
    case 'noFunction':
      return undefined;
  }
}

const neutral = (error: unknown): boolean => (error as Error).message === 'local';

class Call implements Command {
  constructor(readonly kind: CallKind) {}
  check = () => true;
  async run(model: BreakerModel, real: Real) {
    const refusing = real.breaker.state() === 'open' || real.breaker.state() === 'disabled';
    const probe = real.breaker.state() === 'half_open';
    const fn = functionFor(this.kind);
    const expectedRetryAfterMs = retryAfterMs(model);
    const refusedIn = model.state;
    const expected = call(model, this.kind);
    let invoked = false;
    const counted =
      fn === undefined
        ? undefined
        : (signal: AbortSignal) => {
            invoked = true;
            if (refusing) real.invokedWhileRefusing += 1;
            if (probe) real.activeProbes += 1;
            return fn(signal);
          };
    let promise: Promise<unknown>;
    try {
      promise = real.breaker.call(counted as never, this.kind === 'neutral' ? { neutral } : undefined);
    } catch (error) {
      throw new Error(`call(${this.kind}) threw synchronously: ${String(error)}`);
    }
    if (probe) promise.then(() => (real.activeProbes -= invoked ? 1 : 0), () => (real.activeProbes -= invoked ? 1 : 0));
    const settled = await settledSoon(promise);
    if (expected === 'refused') {
      expect(settled).toBe('ERR_BREAKER_OPEN');
      const refusal = (await promise.catch((error: unknown) => error)) as BreakerOpenError;
      expect(refusal.state).toBe(refusedIn);
      expect(refusal.retryAfterMs).toBe(expectedRetryAfterMs);
    } else if (expected === 'invalid') {
      expect(settled).toBe('ERR_BREAKER_ARGUMENT');
      expect(invoked).toBe(false);
    } else {
      expect(settled).toBe(settlement[this.kind]);
    }
    assertMatches(model, real);
  }
  toString = () => `call(${this.kind})`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: BreakerModel, real: Real) {
    real.clock.advance(this.ms);
    advance(model, this.ms);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assertMatches(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

class Api implements Command {
  constructor(readonly action: 'melt' | 'reset' | 'disable' | 'enable') {}
  check = () => true;
  async run(model: BreakerModel, real: Real) {
    real.breaker[this.action]();
    ({ melt, reset, disable, enable })[this.action](model);
    assertMatches(model, real);
  }
  toString = () => `${this.action}()`;
}

class Reconfigure implements Command {
  constructor(readonly patch: ModelReconfiguration) {}
  check = () => true;
  async run(model: BreakerModel, real: Real) {
    const { probes, ...rest } = this.patch;
    real.breaker.reconfigure(probes === undefined ? rest : { ...rest, halfOpenProbes: probes });
    reconfigure(model, this.patch);
    assertMatches(model, real);
  }
  toString = () => `reconfigure(${JSON.stringify(this.patch)})`;
}

const callKinds: CallKind[] = [
  'ok',
  'okSync',
  'fail',
  'fail',
  'throws',
  'thenThrows',
  'thenGetterThrows',
  'ignored',
  'judgeThrows',
  'judgeThrows',
  'neutral',
  'slow',
  'noFunction',
];

const commands = [
  fc.constantFrom(...callKinds).map((kind) => new Call(kind)),
  fc.constantFrom('ok' as const, 'fail' as const).map((kind) => new Call(kind)),
  // Round steps make calls land exactly on window and timer boundaries, where off-by-one bugs hide.
  fc.oneof(fc.constantFrom(1, 10, 50, 100), fc.integer({ min: 1, max: 250 })).map((ms) => new Advance(ms)),
  fc.constantFrom('melt' as const, 'melt' as const, 'reset' as const, 'disable' as const, 'enable' as const).map((action) => new Api(action)),
  fc
    .record(
      {
        resetMs: fc.oneof(fc.constantFrom(10, 50, 100), fc.integer({ min: 1, max: 300 })),
        probes: fc.integer({ min: 1, max: 3 }),
        tolerance: fc.record({ failures: fc.integer({ min: 0, max: 3 }), windowMs: fc.oneof(fc.constantFrom(10, 50, 100), fc.integer({ min: 1, max: 400 })) }),
      },
      { requiredKeys: [] },
    )
    .map((patch) => new Reconfigure(patch)),
];

const configs: fc.Arbitrary<BreakerModelConfig> = fc.record({
  failures: fc.integer({ min: 0, max: 3 }),
  windowMs: fc.oneof(fc.constantFrom(10, 50, 100, 200), fc.integer({ min: 1, max: 400 })),
  resetMs: fc.oneof(fc.constantFrom(10, 50, 100), fc.integer({ min: 1, max: 300 })),
  probes: fc.integer({ min: 1, max: 3 }),
  callTimeoutMs: fc.option(fc.oneof(fc.constantFrom(10, 50, 100, 150), fc.integer({ min: 1, max: 300 })), { nil: undefined, freq: 4 }),
  observed: fc.boolean(),
});

describe('breaker against a pure model', () => {
  it(
    'matches the model state, stats and telemetry after every step; every call settles as the model says (a throwing isFailure, a broken thenable, call(undefined) included); ' +
      'a refusal carries the state and the retryAfterMs until the breaker really goes half_open (hot reloads included); open or disabled never runs the function; ' +
      'at most one reset timer; half_open never admits more than halfOpenProbes',
    async () => {
      await fc.assert(
        fc.asyncProperty(configs, fc.commands(commands, { maxCommands: 60, size: 'max' }), async (config, script) => {
          const clock = createTestClock();
          const telemetry = createTelemetry({ clock });
          const events: TelemetryEvent[] = [];
          if (config.observed) telemetry.events$.subscribe((event) => events.push(event));
          const breaker = createBreaker({
            name: 'model',
            tolerance: { failures: config.failures, windowMs: config.windowMs },
            resetMs: config.resetMs,
            halfOpenProbes: config.probes,
            ...(config.callTimeoutMs === undefined ? {} : { callTimeoutMs: config.callTimeoutMs }),
            isFailure,
            clock,
            telemetry,
          });
          const real: Real = { breaker, clock, events, activeProbes: 0, invokedWhileRefusing: 0 };
          await fc.asyncModelRun(() => ({ model: createBreakerModel(config), real }), script);
        }),
        { numRuns: 300 },
      );
    },
    120_000,
  );
});
