import { describe, expect, it } from 'vitest';
import { describeValue } from '../../../src/core/index.js';
import { UncloneableValueError, WorkerCrashedError, WorkerStartError } from '../../../src/pool/thread-errors.js';

describe('WorkerCrashedError message', () => {
  it('names the thread id and the exit code when both are known', () => {
    const cause = new Error('died');
    const error = new WorkerCrashedError('p', { reason: 'exit', threadId: 7, exitCode: 3 }, cause);
    expect(error.message).toBe("pool 'p': worker thread 7 crashed (process.exit with code 3) while running the task");
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', pool: 'p', reason: 'exit', threadId: 7, exitCode: 3, cause });
  });

  it('says "a worker thread" and no code when neither is known', () => {
    const error = new WorkerCrashedError('p', { reason: 'uncaught_exception', threadId: undefined, exitCode: undefined }, 'x');
    expect(error.message).toBe("pool 'p': a worker thread crashed (an uncaught exception) while running the task");
    expect(error.threadId).toBeUndefined();
    expect(error.exitCode).toBeUndefined();
  });

  it('keeps a thread id of 0 and an exit code of 0', () => {
    const error = new WorkerCrashedError('p', { reason: 'out_of_memory', threadId: 0, exitCode: 0 }, undefined);
    expect(error.message).toBe("pool 'p': worker thread 0 crashed (out of memory with code 0) while running the task");
  });
});

describe('WorkerStartError message', () => {
  it('describes an Error cause by name and message, and a single failure as "once"', () => {
    const cause = new SyntaxError('bad token');
    const error = new WorkerStartError('p', '/w.mjs', { reason: 'uncaught_exception', threadId: 1, exitCode: undefined, cause }, 1);
    expect(error.message).toBe(
      "pool 'p': worker threads cannot start: a thread died while loading /w.mjs (an uncaught exception: SyntaxError: bad token); threads died while starting once",
    );
    expect(error).toMatchObject({ code: 'ERR_WORKER_START_FAILED', pool: 'p', filename: '/w.mjs', reason: 'uncaught_exception', exitCode: undefined, failures: 1, cause });
  });

  it('describes an exit by its code, and failures in a row by count', () => {
    const error = new WorkerStartError('p', '/w.mjs', { reason: 'exit', threadId: 1, exitCode: 4, cause: undefined }, 3);
    expect(error.message).toBe(
      "pool 'p': worker threads cannot start: a thread died while loading /w.mjs (process.exit with code 4); threads died while starting 3 times in a row",
    );
    expect(error.exitCode).toBe(4);
    expect(error.failures).toBe(3);
  });

  it('an Error cause wins over an exit code', () => {
    const error = new WorkerStartError('p', '/w.mjs', { reason: 'exit', threadId: 1, exitCode: 4, cause: new TypeError('t') }, 2);
    expect(error.message).toContain('(process.exit: TypeError: t)');
    expect(error.message).toContain('2 times in a row');
  });

  it('describes a non-Error cause without exit code by its value', () => {
    const error = new WorkerStartError('p', '/w.mjs', { reason: 'uncaught_exception', threadId: 1, exitCode: undefined, cause: 'boom' }, 1);
    expect(error.message).toBe(
      `pool 'p': worker threads cannot start: a thread died while loading /w.mjs (an uncaught exception: ${describeValue('boom')}); threads died while starting once`,
    );
  });
});

describe('UncloneableValueError message', () => {
  it('appends the cause message in parentheses', () => {
    const cause = new Error('could not be cloned');
    const error = new UncloneableValueError('p', 'result', cause);
    expect(error.message).toBe("pool 'p': the task's result could not be sent back from its thread (could not be cloned)");
    expect(error).toMatchObject({ code: 'ERR_THREAD_UNCLONEABLE', pool: 'p', part: 'result', cause });
  });

  it('appends nothing when the cause has no string message, including a null or undefined cause', () => {
    expect(new UncloneableValueError('p', 'task', { message: 5 }).message).toBe("pool 'p': the task could not be sent to a thread");
    expect(new UncloneableValueError('p', 'error', null).message).toBe("pool 'p': the value the task threw could not be sent back from its thread");
    expect(new UncloneableValueError('p', 'task', undefined).message).toBe("pool 'p': the task could not be sent to a thread");
  });
});
