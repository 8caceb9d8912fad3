import { describe, expect, it } from 'vitest';
import { createRateLimiter, createTestClock, InvalidArgumentError, LimiterUnavailableError } from '../../../src/index.js';
import { checkCost } from '../../../src/limiter/hit-arguments.js';
import { thrownBy } from '../../support/thrown.js';

/** The argument, code and message of the InvalidArgumentError `run` throws. */
function refusal(run: () => unknown): { argument: string; code: string; message: string } {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  const { argument, code, message } = error as InvalidArgumentError;
  return { argument, code, message };
}

describe('hit and reset arguments', () => {
  const limiter = (): ReturnType<typeof createRateLimiter> => createRateLimiter({ name: 'args', limit: 3, windowMs: 1000, clock: createTestClock() });

  it('a key that is not a string is refused as a string expected', async () => {
    const memory = limiter();
    expect(refusal(() => memory.hitSync(5 as never))).toEqual({
      argument: 'hit.key',
      code: 'ERR_INVALID_ARGUMENT',
      message: 'Invalid argument hit.key: expected a string, got 5',
    });
    await expect(memory.reset(5 as never)).rejects.toThrow('Invalid argument reset.key: expected a string, got 5');
    memory.stop();
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 53, '1'])('a cost of %s is refused as not an integer >= 1', (cost) => {
    const memory = limiter();
    const error = refusal(() => memory.hitSync('k', cost as never));
    expect(error.argument).toBe('hit.cost');
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/^Invalid argument hit\.cost: expected an integer >= 1, got /);
    memory.stop();
  });

  it('a cost of 1 is taken and counts one unit', () => {
    const memory = limiter();
    expect(memory.hitSync('k', 1)).toEqual({ allowed: true, count: 1, remaining: 2 });
    memory.stop();
  });

  it('the cost check takes every positive safe integer, 1 included', () => {
    for (const cost of [1, 2, Number.MAX_SAFE_INTEGER]) expect(() => checkCost(cost)).not.toThrow();
  });
});

describe('LimiterUnavailableError', () => {
  it('has no cause unless given one', () => {
    const error = new LimiterUnavailableError('api', 'timeout', 'no answer within 1000 ms');
    expect(error.message).toBe("limiter 'api' is unavailable: no answer within 1000 ms");
    expect(Object.hasOwn(error, 'cause')).toBe(false);
  });

  it('keeps the cause it is given', () => {
    const cause = new Error('ECONNRESET');
    const error = new LimiterUnavailableError('api', 'error', 'Redis failed', cause);
    expect(error.cause).toBe(cause);
    expect(error.reason).toBe('error');
  });
});
