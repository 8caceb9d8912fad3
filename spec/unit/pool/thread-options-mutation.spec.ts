import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createTelemetry } from '../../../src/index.js';
import { resolveRunOptions, resolveThreadPoolOptions } from '../../../src/pool/thread-options.js';


const file = fileURLToPath(new URL('../../../workers/echo.mjs', import.meta.url));
const maxTimerMs = 2 ** 31 - 1;
const base = { name: 'p', filename: file };

function refusal(options: unknown): { option: string; message: string; value: unknown; cause: unknown } {
  try {
    resolveThreadPoolOptions(options);
  } catch (error) {
    expect(error).toMatchObject({ code: 'ERR_CONFIG' });
    return error as never;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveThreadPoolOptions: filename', () => {
  it('accepts an absolute path, a file: URL string and a URL object, all resolved to the path', () => {
    expect(resolveThreadPoolOptions(base).filename).toBe(file);
    expect(resolveThreadPoolOptions({ ...base, filename: pathToFileURL(file).href }).filename).toBe(file);
    expect(resolveThreadPoolOptions({ ...base, filename: pathToFileURL(file) }).filename).toBe(file);
  });

  it('resolves a relative path against the current directory', () => {
    expect(resolveThreadPoolOptions({ ...base, filename: 'workers/echo.mjs' }).filename).toBe(file);
  });

  it('refuses an empty string (it would resolve to the current directory, which exists)', () => {
    const error = refusal({ ...base, filename: '' });
    expect(error.option).toBe('filename');
    expect(error.message).toMatch(/^Invalid option filename: expected the path or file URL of an existing worker module, got /);
  });

  it('refuses a missing file, a number, and a malformed file URL (keeping why as cause)', () => {
    expect(refusal({ ...base, filename: `${file}.missing` }).message).toContain('expected the path or file URL of an existing worker module');
    expect(refusal({ ...base, filename: 42 }).option).toBe('filename');
    const malformed = refusal({ ...base, filename: 'file://host/x.mjs' });
    expect(malformed.option).toBe('filename');
    expect(malformed.message).toContain('expected the path or file URL of an existing worker module');
    expect(malformed.cause).toMatchObject({ code: 'ERR_INVALID_FILE_URL_HOST' });
  });

  it('refuses a non-object options value naming options', () => {
    expect(refusal(null).option).toBe('options');
  });
});

describe('resolveThreadPoolOptions: thread counts and queue', () => {
  it('defaults to half the CPUs (floored) and 1.5 times the CPUs (ceiled)', async () => {
    // Five CPUs: minThreads floor(5 / 2) = 2, maxThreads ceil(5 * 1.5) = 8. The module is loaded
    // afresh under the mock: spec files may share a module cache (the mutation runs do).
    vi.resetModules();
    vi.doMock('node:os', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:os')>()), availableParallelism: () => 5 }));
    try {
      const fresh = await import('../../../src/pool/thread-options.js');
      const resolved = fresh.resolveThreadPoolOptions(base);
      expect(resolved.minThreads).toBe(2);
      expect(resolved.maxThreads).toBe(8);
      expect(resolved.maxQueue).toBe(Number.POSITIVE_INFINITY);
    } finally {
      vi.doUnmock('node:os');
      vi.resetModules();
    }
  });

  it('raises the default maxThreads to minThreads', () => {
    expect(resolveThreadPoolOptions({ ...base, minThreads: 12 }).maxThreads).toBe(12);
  });

  it('names minThreads and maxThreads when they are wrong', () => {
    expect(refusal({ ...base, minThreads: -1 }).option).toBe('minThreads');
    const error = refusal({ ...base, minThreads: 3, maxThreads: 2 });
    expect(error.option).toBe('maxThreads');
    expect(error.message).toBe('Invalid option maxThreads: expected an integer >= minThreads (3), got 2');
  });

  it("resolves maxQueue 'auto' to maxThreads squared, keeps Infinity and an integer", () => {
    expect(resolveThreadPoolOptions({ ...base, maxThreads: 3, maxQueue: 'auto' }).maxQueue).toBe(9);
    expect(resolveThreadPoolOptions({ ...base, maxQueue: Number.POSITIVE_INFINITY }).maxQueue).toBe(Number.POSITIVE_INFINITY);
    expect(resolveThreadPoolOptions({ ...base, maxQueue: 0 }).maxQueue).toBe(0);
    expect(refusal({ ...base, maxQueue: 'lots' }).option).toBe('maxQueue');
  });
});

describe('resolveThreadPoolOptions: timers', () => {
  it('takes an idleTimeoutMs of Infinity, of the longest timer, and refuses one past it', () => {
    expect(resolveThreadPoolOptions({ ...base, idleTimeoutMs: Number.POSITIVE_INFINITY }).idleTimeoutMs).toBe(Number.POSITIVE_INFINITY);
    expect(resolveThreadPoolOptions({ ...base, idleTimeoutMs: maxTimerMs }).idleTimeoutMs).toBe(maxTimerMs);
    expect(resolveThreadPoolOptions(base).idleTimeoutMs).toBe(10_000);
    const error = refusal({ ...base, idleTimeoutMs: maxTimerMs + 1 });
    expect(error.option).toBe('idleTimeoutMs');
    expect(error.message).toBe(`Invalid option idleTimeoutMs: expected a number of ms <= ${maxTimerMs}, or Infinity, got ${maxTimerMs + 1}`);
  });

  it('takes a retryBackoffMs of the longest timer and refuses one past it', () => {
    expect(resolveThreadPoolOptions({ ...base, retryBackoffMs: maxTimerMs }).retryBackoffMs).toBe(maxTimerMs);
    expect(resolveThreadPoolOptions(base).retryBackoffMs).toBe(100);
    const error = refusal({ ...base, retryBackoffMs: maxTimerMs + 1 });
    expect(error.option).toBe('retryBackoffMs');
    expect(error.message).toBe(`Invalid option retryBackoffMs: expected a number of ms between 1 and ${maxTimerMs}, got ${maxTimerMs + 1}`);
  });
});

describe('resolveThreadPoolOptions: resourceLimits', () => {
  it('keeps the known fields, frozen', () => {
    const resolved = resolveThreadPoolOptions({ ...base, resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 } });
    expect(resolved.resourceLimits).toEqual({ maxOldGenerationSizeMb: 64, stackSizeMb: 4 });
    expect(Object.isFrozen(resolved.resourceLimits)).toBe(true);
    expect(resolveThreadPoolOptions(base).resourceLimits).toBeUndefined();
  });

  it('refuses a non-object naming resourceLimits', () => {
    expect(refusal({ ...base, resourceLimits: 5 }).option).toBe('resourceLimits');
  });

  it('refuses an unknown field, listing the known ones', () => {
    const error = refusal({ ...base, resourceLimits: { heapMb: 1 } });
    expect(error.option).toBe('resourceLimits.heapMb');
    expect(error.message).toBe(
      'Invalid option resourceLimits.heapMb: expected one of the fields maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb, got 1',
    );
  });

  it.each([['a string', '64'], ['Infinity', Number.POSITIVE_INFINITY], ['NaN', Number.NaN], ['zero', 0], ['a negative', -1]])(
    'refuses %s as a limit',
    (_, limit) => {
      const error = refusal({ ...base, resourceLimits: { codeRangeSizeMb: limit } });
      expect(error.option).toBe('resourceLimits.codeRangeSizeMb');
      expect(error.value).toBe(limit);
      expect(error.message).toContain('expected a finite number > 0');
    },
  );
});

describe('resolveThreadPoolOptions: execArgv, argv, env, telemetry', () => {
  it('defaults execArgv to an empty frozen array and argv and env to undefined', () => {
    const resolved = resolveThreadPoolOptions(base);
    expect(resolved.execArgv).toEqual([]);
    expect(Object.isFrozen(resolved.execArgv)).toBe(true);
    expect(resolved.argv).toBeUndefined();
    expect(resolved.env).toBeUndefined();
  });

  it('copies string arrays', () => {
    const argv = ['a', 'b'];
    const execArgv = ['--no-warnings'];
    const resolved = resolveThreadPoolOptions({ ...base, argv, execArgv });
    expect(resolved.argv).toEqual(['a', 'b']);
    expect(resolved.argv).not.toBe(argv);
    expect(resolved.execArgv).toEqual(['--no-warnings']);
  });

  it('refuses an array holding a non-string, and a non-array, naming the option', () => {
    const error = refusal({ ...base, argv: ['a', 1] });
    expect(error.option).toBe('argv');
    expect(error.message).toContain('expected an array of strings');
    expect(refusal({ ...base, execArgv: [1] }).option).toBe('execArgv');
    expect(refusal({ ...base, argv: 'a' }).option).toBe('argv');
  });

  it('copies env, frozen', () => {
    const env = { A: '1' };
    const resolved = resolveThreadPoolOptions({ ...base, env });
    expect(resolved.env).toEqual({ A: '1' });
    expect(resolved.env).not.toBe(env);
    expect(Object.isFrozen(resolved.env)).toBe(true);
  });

  it('refuses a non-string env value naming env.KEY, and a non-object env naming env', () => {
    const error = refusal({ ...base, env: { A: '1', B: 2 } });
    expect(error.option).toBe('env.B');
    expect(error.message).toBe('Invalid option env.B: expected a string, got 2');
    expect(refusal({ ...base, env: 'A=1' }).option).toBe('env');
  });

  it('keeps a telemetry and refuses a non-telemetry naming telemetry', () => {
    const telemetry = createTelemetry();
    expect(resolveThreadPoolOptions({ ...base, telemetry }).telemetry).toBe(telemetry);
    expect(refusal({ ...base, telemetry: 5 }).option).toBe('telemetry');
  });
});

describe('resolveRunOptions', () => {
  it('refuses a transferList that is not an array', () => {
    try {
      resolveRunOptions({ transferList: 'x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ option: 'transferList' });
      expect((error as Error).message).toMatch(/^Invalid option transferList: expected an array of ArrayBuffers and MessagePorts, got /);
    }
  });
});
