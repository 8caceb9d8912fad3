import { describe, expect, it } from 'vitest';
import { ConfigError, isRefusal, protect, stageOf, type ProtectOptions } from '../../../src/index.js';

/** What `protect` throws for `options` (and `fn`), as `{ option, message }`. */
function refusalOf(options: unknown, fn: unknown = () => 1): { option: string; message: string } {
  try {
    protect(options as ProtectOptions<unknown, unknown>, fn as () => unknown);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { option: (error as ConfigError).option, message: (error as Error).message };
  }
  throw new Error('protect accepted the options');
}

const rejectionOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => {
      expect(error).toBeInstanceOf(ConfigError);
      return { option: (error as ConfigError).option, message: (error as Error).message };
    },
  );

describe('a bad option is a ConfigError naming it and what it should be', () => {
  it('options, name, fn, fallback, checkoutTimeoutMs and telemetry', () => {
    expect(refusalOf(null).option).toBe('options');
    expect(refusalOf({ name: '' })).toMatchObject({ option: 'name', message: expect.stringContaining('expected a non-empty string') });
    expect(refusalOf({ name: 'p' }, 'not a function')).toMatchObject({ option: 'fn', message: expect.stringContaining('expected a function') });
    expect(refusalOf({ name: 'p', fallback: 'cached' })).toMatchObject({ option: 'fallback', message: expect.stringContaining('expected a function') });
    expect(refusalOf({ name: 'p', checkoutTimeoutMs: -1 }).option).toBe('checkoutTimeoutMs');
    expect(refusalOf({ name: 'p', telemetry: 5 }).option).toBe('telemetry');
  });

  it('fallbackOn must be an array of refusing stages, every one of them', () => {
    const expected = "expected an array of 'limiter', 'breaker', 'pool', got";
    for (const fallbackOn of ['pool', ['call'], ['pool', 'cache']]) {
      expect(refusalOf({ name: 'p', fallbackOn })).toMatchObject({ option: 'fallbackOn', message: expect.stringContaining(expected) });
    }
    expect(() => protect({ name: 'p', fallbackOn: ['limiter', 'breaker', 'pool'] }, () => 1)).not.toThrow();
  });
});

describe('a bad call rejects with a ConfigError naming it', () => {
  it('a call that is not an object, or null', async () => {
    const call = protect({ name: 'p' }, () => 1) as (call?: unknown) => Promise<number>;
    for (const bad of [null, 5]) {
      expect(await rejectionOf(call(bad))).toEqual({ option: 'call', message: expect.stringContaining('expected an object { key?, cost?, signal?, controller? }') });
    }
  });

  it('a controller that is not one, or a signal not its own', async () => {
    const call = protect({ name: 'p' }, () => 1);
    const controller = new AbortController();
    expect(await rejectionOf(call({ controller: {} as AbortController }))).toEqual({
      option: 'call.controller',
      message: expect.stringContaining('expected an AbortController or undefined'),
    });
    expect(await rejectionOf(call({ controller, signal: new AbortController().signal }))).toEqual({
      option: 'call.signal',
      message: expect.stringContaining("expected undefined or call.controller's own signal"),
    });
  });
});

describe('stageOf', () => {
  it("an overseer error of no stage is 'call', and not a refusal", () => {
    const error = new ConfigError('x', 1, 'a string');
    expect(stageOf(error)).toBe('call');
    expect(isRefusal(error)).toBe(false);
  });
});
