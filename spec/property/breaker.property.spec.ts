import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBreaker, type Breaker } from '../../src/breaker/index.js';
import { createTelemetry, createTestClock, type TestClock } from '../../src/index.js';
import {
  advance,
  call,
  createBreakerModel,
  disable,
  enable,
  expectedTimers,
  melt,
  reset,
  type BreakerModel,
} from './breaker-model.js';

interface Real {
  breaker: Breaker;
  clock: TestClock;
  /** Probes admitted and not yet settled, from the function's side. */
  activeProbes: number;
  invokedWhileRefusing: number;
}

type Command = fc.AsyncCommand<BreakerModel, Real>;

function assertMatches(model: BreakerModel, real: Real): void {
  expect(real.breaker.state()).toBe(model.state);
  expect(real.invokedWhileRefusing).toBe(0);
  expect(real.clock.pendingTimers()).toBe(expectedTimers(model));
  expect(real.clock.pendingTimers() - (model.slowCalls.length > 0 ? 1 : 0)).toBeLessThanOrEqual(1);
  expect(real.activeProbes).toBeLessThanOrEqual(model.config.probes);
}

class Call implements Command {
  constructor(readonly kind: 'ok' | 'fail' | 'slow') {}
  check = () => true;
  async run(model: BreakerModel, real: Real) {
    const refusing = real.breaker.state() === 'open' || real.breaker.state() === 'disabled';
    const probe = real.breaker.state() === 'half_open';
    const expected = call(model, this.kind);
    const promise = real.breaker.call(() => {
      if (refusing) real.invokedWhileRefusing += 1;
      if (!probe) return this.kind === 'ok' ? Promise.resolve('ok') : this.kind === 'fail' ? Promise.reject(new Error('x')) : new Promise(() => undefined);
      real.activeProbes += 1;
      if (this.kind === 'slow') return new Promise(() => undefined);
      return this.kind === 'ok' ? Promise.resolve('ok') : Promise.reject(new Error('x'));
    });
    if (probe && this.kind === 'slow') promise.catch(() => (real.activeProbes -= 1));
    else if (probe) promise.then(() => (real.activeProbes -= 1), () => (real.activeProbes -= 1));
    if (this.kind === 'slow' && expected === 'invoked') {
      promise.catch(() => undefined);
      assertMatches(model, real);
      return;
    }
    const settled = await promise.then(
      () => 'ok',
      (error: { code?: string }) => error.code ?? 'error',
    );
    if (expected === 'refused') expect(settled).toBe('ERR_BREAKER_OPEN');
    else expect(settled).toBe(this.kind === 'ok' ? 'ok' : 'error');
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
    await Promise.resolve();
    await Promise.resolve();
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

const commands = [
  fc.constantFrom('ok' as const, 'fail' as const, 'fail' as const, 'slow' as const).map((kind) => new Call(kind)),
  // Round steps make calls land exactly on window and timer boundaries, where off-by-one bugs hide.
  fc.oneof(fc.constantFrom(1, 10, 50, 100), fc.integer({ min: 1, max: 250 })).map((ms) => new Advance(ms)),
  fc.constantFrom('melt' as const, 'reset' as const, 'disable' as const, 'enable' as const).map((action) => new Api(action)),
];

describe('breaker against a pure model', () => {
  it('matches the model state after every step; open or disabled never runs the function; at most one reset timer; half_open never admits more than halfOpenProbes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          failures: fc.integer({ min: 0, max: 3 }),
          windowMs: fc.oneof(fc.constantFrom(10, 50, 100, 200), fc.integer({ min: 1, max: 400 })),
          resetMs: fc.oneof(fc.constantFrom(10, 50, 100), fc.integer({ min: 1, max: 300 })),
          probes: fc.integer({ min: 1, max: 3 }),
          callTimeoutMs: fc.oneof(fc.constantFrom(10, 50, 100, 150), fc.integer({ min: 1, max: 300 })),
        }),
        fc.commands(commands, { maxCommands: 60, size: 'max' }),
        async (config, script) => {
          const clock = createTestClock();
          const breaker = createBreaker({
            name: 'model',
            tolerance: { failures: config.failures, windowMs: config.windowMs },
            resetMs: config.resetMs,
            halfOpenProbes: config.probes,
            callTimeoutMs: config.callTimeoutMs,
            clock,
            telemetry: createTelemetry({ clock }),
          });
          const real: Real = { breaker, clock, activeProbes: 0, invokedWhileRefusing: 0 };
          await fc.asyncModelRun(() => ({ model: createBreakerModel(config), real }), script);
        },
      ),
      { numRuns: 300 },
    );
  });
});
