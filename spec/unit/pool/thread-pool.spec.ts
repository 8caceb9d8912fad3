import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createThreadPool,
  isTaskAbortedError,
  isWorkerCrashedError,
  PoolFullError,
  PoolStoppedError,
  TaskAbortedError,
  threadPoolChild,
  WorkerCrashedError,
  type ThreadPool,
  type ThreadPoolOptions,
} from '../../../src/pool/index.js';
import type { CpuResult, CpuTask, CrashResult, CrashTask } from '../../../workers/tasks.js';
import { ConfigError, createTelemetry, startSupervisor, type TelemetryEvent } from '../../../src/index.js';

/**
 * The thread pool against real worker threads (piscina) running workers/cpu.mjs and
 * workers/crash.mjs. Real threads mean real time: these specs wait for threads, never for fixed
 * sleeps longer than the task they stand for.
 */

const worker = (name: string): string => fileURLToPath(new URL(`../../../workers/${name}.mjs`, import.meta.url));

const started: Array<ThreadPool<never, unknown>> = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((pool) => pool.stop()));
});

function crashPool(options: Partial<ThreadPoolOptions> = {}) {
  const telemetry = createTelemetry();
  const events: TelemetryEvent[] = [];
  telemetry.select('pool').subscribe((event) => events.push(event));
  const pool = createThreadPool<CrashTask, CrashResult>({
    name: 'crashy',
    filename: worker('crash'),
    minThreads: 2,
    maxThreads: 2,
    resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    telemetry,
    ...options,
  });
  started.push(pool as ThreadPool<never, unknown>);
  const exits = () => events.filter((event) => event.name === 'pool.worker.exit').map((event) => event.metadata);
  return { pool, events, exits };
}

const values = (from: number, count: number): CrashTask[] =>
  Array.from({ length: count }, (_, index) => ({ kind: 'value', value: from + index }));

describe('running tasks', () => {
  it('runs CPU work on the threads and returns the results', async () => {
    const pool = createThreadPool<CpuTask, CpuResult>({ name: 'cpu', filename: worker('cpu'), minThreads: 2, maxThreads: 2 });
    started.push(pool as ThreadPool<never, unknown>);
    const fibs = await Promise.all([20, 21, 22, 23].map((n) => pool.run({ kind: 'fib', n })));
    expect(fibs).toEqual([6765, 10946, 17711, 28657]);
    let expected = 'overseer';
    for (let round = 0; round < 100; round += 1) expected = createHash('sha256').update(expected).digest('hex');
    expect(await pool.run({ kind: 'sha256', data: 'overseer', rounds: 100 })).toBe(expected);
    expect(pool.status()).toMatchObject({ phase: 'running', threads: 2, running: 0, queued: 0, completed: 5, crashed: 0 });
  });

  it('queues tasks beyond the threads and reports them in status()', async () => {
    const { pool } = crashPool({ minThreads: 1, maxThreads: 1 });
    // A thread takes tasks once it has loaded its worker entry; until then every task waits.
    await expect.poll(() => pool.status().idle, { timeout: 5000 }).toBe(1);
    const tasks = [pool.run({ kind: 'sleep', ms: 100, value: 1 }), pool.run({ kind: 'value', value: 2 }), pool.run({ kind: 'value', value: 3 })];
    expect(pool.status()).toMatchObject({ threads: 1, running: 1, queued: 2 });
    expect(await Promise.all(tasks)).toEqual([1, 2, 3]);
    expect(pool.status()).toMatchObject({ running: 0, queued: 0, completed: 3, idle: 1 });
  });

  it('accepts a file URL as filename and moves buffers listed in transferList', async () => {
    const pool = createThreadPool<unknown, unknown>({ name: 'echo', filename: new URL('../../../workers/echo.mjs', import.meta.url), minThreads: 1, maxThreads: 1 });
    started.push(pool as ThreadPool<never, unknown>);
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const echoed = (await pool.run(buffer, { transferList: [buffer] })) as ArrayBuffer;
    expect(buffer.byteLength).toBe(0);
    expect([...new Uint8Array(echoed)]).toEqual([1, 2, 3]);
  });
});

describe('a task that throws', () => {
  it('rejects with its own error, not WorkerCrashedError; the thread lives on', async () => {
    const { pool, exits } = crashPool();
    const error = await pool.run({ kind: 'throw', message: 'bad input' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'bad input' });
    expect(isWorkerCrashedError(error)).toBe(false);
    expect(await pool.run({ kind: 'value', value: 7 })).toBe(7);
    expect(pool.status()).toMatchObject({ threads: 2, crashed: 0 });
    expect(exits()).toEqual([]);
  });
});

describe('a thread that crashes', () => {
  const crashes: Array<{ kind: string; task: CrashTask; reason: string; exitCode?: number }> = [
    { kind: 'process.exit', task: { kind: 'exit', code: 3 }, reason: 'exit', exitCode: 3 },
    { kind: 'process.exit(0)', task: { kind: 'exit', code: 0 }, reason: 'exit', exitCode: 0 },
    { kind: 'an uncaught exception outside the task', task: { kind: 'uncaught', message: 'timer blew up' }, reason: 'uncaught_exception' },
    { kind: 'running out of resourceLimits memory', task: { kind: 'out_of_memory' }, reason: 'out_of_memory' },
  ];

  describe.each(crashes)('by $kind', ({ task, reason, exitCode }) => {
    it('rejects its task with WorkerCrashedError, completes every queued task, replaces the thread and emits pool.worker.exit', async () => {
      const { pool, exits } = crashPool();
      const crashing = pool.run(task).catch((caught: unknown) => caught);
      const others = values(0, 20).map((each) => pool.run(each));
      const error = await crashing;
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(isWorkerCrashedError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', pool: 'crashy', reason });
      if (exitCode !== undefined) expect((error as WorkerCrashedError).exitCode).toBe(exitCode);
      expect((error as WorkerCrashedError).cause).toBeDefined();
      expect(await Promise.all(others)).toEqual(values(0, 20).map((each) => (each as { value: number }).value));
      // The event is emitted before the task is rejected.
      expect(exits()).toEqual([expect.objectContaining({ pool: 'crashy', reason })]);
      await expect.poll(() => pool.status().threads, { timeout: 5000 }).toBe(2);
      expect(pool.status()).toMatchObject({ crashed: 1, running: 0, queued: 0 });
      expect(await pool.run({ kind: 'value', value: 99 })).toBe(99);
    });
  });

  it('fails only the tasks of the thread that died, when several threads run at once', async () => {
    const { pool } = crashPool({ minThreads: 3, maxThreads: 3 });
    const slow = [pool.run({ kind: 'sleep', ms: 150, value: 1 }), pool.run({ kind: 'sleep', ms: 150, value: 2 })];
    const crashing = pool.run({ kind: 'exit', code: 9 }).catch((caught: unknown) => caught);
    expect(await crashing).toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all(slow)).toEqual([1, 2]);
  });

  it('with minThreads 0, a crash of the only thread does not strand the queued tasks', async () => {
    // piscina alone leaves them queued until the next run(): it replaces threads only up to minThreads.
    const { pool } = crashPool({ minThreads: 0, maxThreads: 1 });
    const crashing = pool.run({ kind: 'exit', code: 1 }).catch((caught: unknown) => caught);
    const queued = values(0, 5).map((each) => pool.run(each));
    expect(await crashing).toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all(queued)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('aborting a task', () => {
  it('a queued task leaves the queue with TaskAbortedError; no thread is harmed', async () => {
    const { pool, exits } = crashPool({ minThreads: 1, maxThreads: 1 });
    const running = pool.run({ kind: 'sleep', ms: 100, value: 1 });
    const controller = new AbortController();
    const queued = pool.run({ kind: 'value', value: 2 }, { signal: controller.signal });
    const reason = new Error('client went away');
    controller.abort(reason);
    const error = await queued.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TaskAbortedError);
    expect(isTaskAbortedError(error)).toBe(true);
    expect((error as TaskAbortedError).cause).toBe(reason);
    expect(await running).toBe(1);
    expect(pool.status()).toMatchObject({ threads: 1, crashed: 0, queued: 0, running: 0 });
    expect(exits()).toEqual([]);
  });

  it('a running task has its thread terminated and replaced; that is not a crash', async () => {
    const { pool, exits } = crashPool({ minThreads: 1, maxThreads: 1 });
    const controller = new AbortController();
    const running = pool.run({ kind: 'spin', ms: 10_000, value: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toBeInstanceOf(TaskAbortedError);
    expect(await pool.run({ kind: 'value', value: 5 })).toBe(5);
    expect(pool.status()).toMatchObject({ crashed: 0 });
    expect(exits()).toEqual([]);
  });

  it('with minThreads 0, aborting the only running task does not strand the queued ones', async () => {
    // piscina terminates the thread and replaces it only up to minThreads.
    const { pool } = crashPool({ minThreads: 0, maxThreads: 1 });
    const controller = new AbortController();
    const running = pool.run({ kind: 'spin', ms: 10_000, value: 1 }, { signal: controller.signal });
    const queued = values(0, 3).map((each) => pool.run(each));
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toBeInstanceOf(TaskAbortedError);
    expect(await Promise.all(queued)).toEqual([0, 1, 2]);
  });

  it('a signal already aborted rejects at once and runs nothing', async () => {
    const { pool } = crashPool();
    await expect(pool.run({ kind: 'exit', code: 1 }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TaskAbortedError);
    expect(pool.status()).toMatchObject({ crashed: 0, completed: 0 });
  });
});

describe('maxQueue', () => {
  it('refuses a task beyond the queue with PoolFullError', async () => {
    const { pool } = crashPool({ minThreads: 1, maxThreads: 1, maxQueue: 2 });
    const accepted = [pool.run({ kind: 'sleep', ms: 50, value: 1 }), pool.run({ kind: 'value', value: 2 }), pool.run({ kind: 'value', value: 3 })];
    await expect(pool.run({ kind: 'value', value: 4 })).rejects.toBeInstanceOf(PoolFullError);
    expect(await Promise.all(accepted)).toEqual([1, 2, 3]);
  });
});

describe('stop', () => {
  it('rejects running and queued tasks with PoolStoppedError, ends every thread and reaches a final state', async () => {
    const { pool, exits } = crashPool({ minThreads: 1, maxThreads: 1 });
    const running = pool.run({ kind: 'spin', ms: 10_000, value: 1 }).catch((caught: unknown) => caught);
    const queued = pool.run({ kind: 'value', value: 2 }).catch((caught: unknown) => caught);
    // The spin task is on the thread and the other one queued behind it.
    await expect.poll(() => pool.status(), { timeout: 5000 }).toMatchObject({ running: 1, queued: 1 });
    await pool.stop();
    expect(await running).toBeInstanceOf(PoolStoppedError);
    expect(await queued).toBeInstanceOf(PoolStoppedError);
    await expect(pool.run({ kind: 'value', value: 3 })).rejects.toMatchObject({ code: 'ERR_POOL_STOPPED' });
    expect(pool.status()).toMatchObject({ phase: 'stopped', threads: 0 });
    expect((pool.actor.getSnapshot() as { status: string }).status).toBe('done');
    expect(exits()).toEqual([]);
  });

  it('stopping the actor outright stops the pool', async () => {
    const { pool } = crashPool({ minThreads: 1, maxThreads: 1 });
    const running = pool.run({ kind: 'spin', ms: 10_000, value: 1 });
    pool.actor.stop();
    await expect(running).rejects.toBeInstanceOf(PoolStoppedError);
    expect(pool.status().phase).toBe('stopped');
  });
});

describe('under a supervisor', () => {
  it('graceful shutdown lets running tasks finish, rejects queued ones and ends the threads', async () => {
    const child = threadPoolChild<CrashTask, CrashResult>({ name: 'cpu', filename: worker('crash'), minThreads: 1, maxThreads: 1, shutdown: 5000 });
    const supervisor = await startSupervisor({ children: [child] });
    const pool = child.pool!;
    const running = pool.run({ kind: 'sleep', ms: 100, value: 1 });
    const queued = pool.run({ kind: 'value', value: 2 }).catch((caught: unknown) => caught);
    await expect.poll(() => pool.status().running, { timeout: 5000 }).toBe(1);
    const startedAt = performance.now();
    await supervisor.stop();
    expect(await running).toBe(1);
    expect(await queued).toBeInstanceOf(PoolStoppedError);
    expect(performance.now() - startedAt).toBeLessThan(2000);
    expect(pool.status()).toMatchObject({ phase: 'stopped', threads: 0 });
  });

  it('a thread busy past the child`s shutdown time is terminated when it runs out', async () => {
    const child = threadPoolChild<CrashTask, CrashResult>({ name: 'cpu', filename: worker('crash'), minThreads: 1, maxThreads: 1, shutdown: 200 });
    const supervisor = await startSupervisor({ children: [child] });
    const pool = child.pool!;
    const spinning = pool.run({ kind: 'spin', ms: 30_000, value: 1 }).catch((caught: unknown) => caught);
    await expect.poll(() => pool.status().running, { timeout: 5000 }).toBe(1);
    const startedAt = performance.now();
    await supervisor.stop();
    expect(await spinning).toBeInstanceOf(PoolStoppedError);
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
    expect(pool.status()).toMatchObject({ phase: 'stopped', threads: 0 });
  });

  it('uses the supervisor`s telemetry, and a restart brings a fresh pool', async () => {
    const telemetry = createTelemetry();
    const exits: unknown[] = [];
    telemetry.select('pool.worker.exit').subscribe((event) => exits.push(event.metadata));
    const child = threadPoolChild<CrashTask, CrashResult>({ name: 'cpu', filename: worker('crash'), minThreads: 1, maxThreads: 1 });
    const supervisor = await startSupervisor({ children: [child] }, { telemetry });
    const first = child.pool!;
    await expect(first.run({ kind: 'exit', code: 4 })).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(exits).toEqual([expect.objectContaining({ pool: 'cpu', reason: 'exit', exitCode: 4 })]);
    await supervisor.terminateChild('cpu');
    expect(first.status().phase).toBe('stopped');
    await supervisor.restartChild('cpu');
    expect(child.pool).not.toBe(first);
    expect(await child.pool!.run({ kind: 'value', value: 1 })).toBe(1);
    await supervisor.stop();
  });
});

describe('options', () => {
  const base = { name: 'p', filename: worker('crash') };
  it.each([
    ['a missing file', { ...base, filename: worker('no-such-worker') }, 'filename'],
    ['an empty name', { ...base, name: '' }, 'name'],
    ['minThreads above maxThreads', { ...base, minThreads: 3, maxThreads: 2 }, 'maxThreads'],
    ['a fractional maxThreads', { ...base, maxThreads: 1.5 }, 'maxThreads'],
    ['a negative maxQueue', { ...base, maxQueue: -1 }, 'maxQueue'],
    ['an unknown resource limit', { ...base, resourceLimits: { heapMb: 1 } }, 'resourceLimits.heapMb'],
    ['a zero resource limit', { ...base, resourceLimits: { maxOldGenerationSizeMb: 0 } }, 'resourceLimits.maxOldGenerationSizeMb'],
    ['a negative idle timeout', { ...base, idleTimeoutMs: -1 }, 'idleTimeoutMs'],
    ['an idle timeout beyond the timers` range', { ...base, idleTimeoutMs: 2 ** 31 }, 'idleTimeoutMs'],
    ['a non-array execArgv', { ...base, execArgv: '--inspect' }, 'execArgv'],
  ])('rejects %s with ConfigError naming the option', (_, options, option) => {
    expect(() => createThreadPool(options as ThreadPoolOptions)).toThrow(ConfigError);
    expect(() => createThreadPool(options as ThreadPoolOptions)).toThrow(expect.objectContaining({ option }));
    expect(() => threadPoolChild(options as ThreadPoolOptions)).toThrow(ConfigError);
  });
});
