import { expect } from 'vitest';
import { ConfigError } from '../../src/index.js';

/** What `run` throws; the test fails when it returns instead. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, and nothing was thrown');
}

/** The `ConfigError` that `run` throws; the test fails when it returns or throws something else. */
export function configErrorOf(run: () => unknown): ConfigError {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
