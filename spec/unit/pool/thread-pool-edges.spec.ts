import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createThreadPool, threadPoolChild, type ThreadPool, type ThreadPoolOptions, type ThreadRunOptions } from '../../../src/pool/index.js';
import type { CrashResult, CrashTask, LedgerTask } from '../../../workers/tasks.js';
import { createTelemetry, createTestClock, startSupervisor, type TelemetryEvent } from '../../../src/index.js';

/**
 * The thread pool's edges against real worker threads (piscina): worker modules that cannot load,
 * the queue bound, tasks whose own errors look like the pool's, values that cannot be cloned, and
 * status() right after run(). workers/ledger.mjs records in shared memory every task that runs, so
 * a spec sees what ran whatever the pool reported. Real threads need real time: every wait here
 * is bounded (a task that never settles fails the spec, it does not hang it) and waits for
 * observable state, never for a fixed sleep.
 */

const worker = (name: string): string => fileURLToPath(new URL(`../../../workers/${name}.mjs`, import.meta.url));

const started: Array<ThreadPool<never, unknown>> = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((pool) => pool.stop()));
});

function pool<Task, Result>(options: Partial<ThreadPoolOptions> & { filename: string }): ThreadPool<Task, Result> {
  const created = createThreadPool<Task, Result>({ name: 'edges', minThreads: 1, maxThreads: 1, ...options });
  started.push(created as ThreadPool<never, unknown>);
  return created;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown } | 'pending';

/** How `promise` settled, or `'pending'` when it has not within `ms`: every task must settle. */
function within(promise: Promise<unknown>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  const settled = promise.then(
    (value): Outcome => ({ ok: true, value }),
    (error: unknown): Outcome => ({ ok: false, error }),
  );
  return Promise.race([settled, pending]).finally(() => clearTimeout(timer));
}

/** `'ok'`, the error's `code` (or `'error'` when it has none), or `'pending'`. */
function kindOf(outcome: Outcome): string {
  if (outcome === 'pending') return 'pending';
  if (outcome.ok) return 'ok';
  return ((outcome.error as { code?: string } | null)?.code ?? 'error') as string;
}

function errorOf(outcome: Outcome): Error & Record<string, unknown> {
  if (outcome === 'pending' || outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
  return outcome.error as Error & Record<string, unknown>;
}

function newLedger(entries = 64): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (1 + entries)));
}

/** The ids of the tasks that ran, in the order they started. */
function ran(ledger: Int32Array): number[] {
  return Array.from({ length: Atomics.load(ledger, 0) }, (_, index) => Atomics.load(ledger, 1 + index));
}

function recordExits(telemetry = createTelemetry()): { telemetry: ReturnType<typeof createTelemetry>; exits: Array<Record<string, unknown>> } {
  const exits: Array<Record<string, unknown>> = [];
  telemetry.select('pool.worker.exit').subscribe((event: TelemetryEvent) => exits.push(event.metadata));
  return { telemetry, exits };
}

describe('a worker module that cannot load', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overseer-unloadable-'));
    await writeFile(join(dir, 'syntax-error.mjs'), 'export default function (task) { return task +; }\n');
    await writeFile(join(dir, 'missing-import.mjs'), "import { gone } from './no-such-module.mjs';\nexport default function (task) { return gone(task); }\n");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const modules: Array<[string, () => string, string]> = [
    ['throws at its top level', () => worker('broken'), 'broken worker: cannot load'],
    ['has a syntax error', () => join(dir, 'syntax-error.mjs'), 'Unexpected token'],
    ['imports a module that does not exist', () => join(dir, 'missing-import.mjs'), 'no-such-module.mjs'],
  ];

  it.each(modules)('rejects every task with WorkerStartError naming the load failure when the module %s', async (_, file, failure) => {
    const filename = file();
    const unloadable = pool<number, number>({ name: 'unloadable', filename, minThreads: 0, maxThreads: 2 });
    const outcomes = await Promise.all([1, 2, 3].map((task) => within(unloadable.run(task), 10_000)));
    expect(outcomes.map(kindOf)).toEqual(['ERR_WORKER_START_FAILED', 'ERR_WORKER_START_FAILED', 'ERR_WORKER_START_FAILED']);
    for (const outcome of outcomes) {
      const error = errorOf(outcome);
      expect(error).toMatchObject({ pool: 'unloadable' });
      expect(error.message).toContain(basename(filename));
      expect(String((error.cause as Error | undefined)?.message)).toContain(failure);
    }
  });

  it('backs off thread starts on its clock and gives up after maxStartFailures start-up deaths in a row', async () => {
    const clock = createTestClock();
    const { telemetry, exits } = recordExits(createTelemetry({ clock }));
    const unloadable = pool<number, number>({
      name: 'unloadable',
      filename: worker('broken'),
      maxStartFailures: 3,
      retryBackoffMs: 100,
      clock,
      telemetry,
    });
    await expect.poll(() => exits.length, { timeout: 10_000 }).toBe(1);
    // No thread starts again until the backoff has passed on the pool's own clock.
    expect(unloadable.status()).toMatchObject({ phase: 'running', threads: 0 });
    clock.advance(99);
    expect(unloadable.status().threads).toBe(0);
    clock.advance(1);
    expect(unloadable.status().threads).toBe(1);
    await expect.poll(() => exits.length, { timeout: 10_000 }).toBe(2);
    // The backoff doubles with each start-up death in a row.
    clock.advance(199);
    expect(unloadable.status().threads).toBe(0);
    clock.advance(1);
    expect(unloadable.status().threads).toBe(1);
    await expect.poll(() => unloadable.status().phase, { timeout: 10_000 }).toBe('failed');
    expect(exits).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ pool: 'unloadable', reason: 'uncaught_exception', startup: true })));
    expect(unloadable.status()).toMatchObject({ threads: 0, crashed: 3 });
    // The actor fails once the pool's threads are gone.
    await expect.poll(() => (unloadable.actor.getSnapshot() as { status: string }).status, { timeout: 5000 }).toBe('error');
    expect((unloadable.actor.getSnapshot() as { error: unknown }).error).toMatchObject({ code: 'ERR_WORKER_START_FAILED', failures: 3 });
    const refused = errorOf(await within(unloadable.run(1), 1000));
    expect(refused).toMatchObject({ code: 'ERR_WORKER_START_FAILED', failures: 3 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('under a supervisor, the pool exits with an error and is restarted within the supervisor`s intensity', async () => {
    const telemetry = createTelemetry();
    const childExits: Array<Record<string, unknown>> = [];
    const shutdowns: Array<Record<string, unknown>> = [];
    telemetry.select('supervisor.child.exited').subscribe((event) => childExits.push(event.metadata));
    telemetry.select('supervisor.shutdown').subscribe((event) => shutdowns.push(event.metadata));
    const child = threadPoolChild<number, number>({
      name: 'unloadable',
      filename: worker('broken'),
      minThreads: 1,
      maxThreads: 1,
      maxStartFailures: 2,
      retryBackoffMs: 10,
    });
    const supervisor = await startSupervisor({ children: [child], intensity: 2, period: 60_000 }, { telemetry });
    expect(await within(supervisor.exited, 15_000)).toEqual({ ok: true, value: 'shutdown' });
    expect(childExits.map((exit) => exit.reason)).toEqual(['error', 'error', 'error']);
    expect(childExits[0]!.error).toMatchObject({ code: 'ERR_WORKER_START_FAILED', pool: 'unloadable' });
    expect(shutdowns).toEqual([expect.objectContaining({ reason: 'intensity' })]);
    expect(child.pool!.status()).toMatchObject({ phase: 'failed', threads: 0 });
  });
});

describe('maxQueue', () => {
  const withSignal = (signal: AbortSignal): ThreadRunOptions => ({ signal });
  const variants: Array<[string, (id: number) => ThreadRunOptions | undefined]> = [
    ['with a signal', () => withSignal(new AbortController().signal)],
    ['without a signal', () => undefined],
    ['with and without a signal', (id) => (id % 2 === 0 ? undefined : withSignal(new AbortController().signal))],
  ];

  it.each(variants)('a task refused with PoolFullError never runs (%s)', async (_, options) => {
    const ledger = newLedger();
    const ledgerPool = pool<LedgerTask, number>({ filename: worker('ledger'), maxQueue: 0 });
    const outcomes = await Promise.all([0, 1, 2, 3].map((id) => within(ledgerPool.run({ ledger, id, ms: 50 }, options(id)), 10_000)));
    expect(outcomes.map(kindOf)).toEqual(['ok', 'ERR_POOL_FULL', 'ERR_POOL_FULL', 'ERR_POOL_FULL']);
    // Once the thread is idle again, nothing but the accepted task has run.
    await expect.poll(() => ledgerPool.status().idle, { timeout: 10_000 }).toBe(1);
    expect(ran(ledger)).toEqual([0]);
    // A task run now starts after anything still queued: a refused task would be in the ledger first.
    expect(kindOf(await within(ledgerPool.run({ ledger, id: 99 }), 10_000))).toBe('ok');
    expect(ran(ledger)).toEqual([0, 99]);
  });

  it.each(variants)('the bound holds for every task (%s): maxQueue tasks wait, one more is refused', async (_, options) => {
    const ledger = newLedger();
    const ledgerPool = pool<LedgerTask, number>({ filename: worker('ledger'), maxQueue: 2 });
    const outcomes = await Promise.all([0, 1, 2, 3, 4, 5].map((id) => within(ledgerPool.run({ ledger, id, ms: 20 }, options(id)), 10_000)));
    // One task for the thread, two waiting; the rest refused.
    expect(outcomes.map(kindOf)).toEqual(['ok', 'ok', 'ok', 'ERR_POOL_FULL', 'ERR_POOL_FULL', 'ERR_POOL_FULL']);
    expect(kindOf(await within(ledgerPool.run({ ledger, id: 99 }), 10_000))).toBe('ok');
    expect(ran(ledger)).toEqual([0, 1, 2, 99]);
  });

  it.each(variants)('tasks start in submission order (%s)', async (_, options) => {
    const ledger = newLedger();
    const ledgerPool = pool<LedgerTask, number>({ filename: worker('ledger') });
    const ids = [0, 1, 2, 3, 4, 5, 6, 7];
    const outcomes = await Promise.all(ids.map((id) => within(ledgerPool.run({ ledger, id, ms: 5 }, options(id)), 10_000)));
    expect(outcomes.map(kindOf)).toEqual(ids.map(() => 'ok'));
    expect(ran(ledger)).toEqual(ids);
  });
});

describe('a task`s own error', () => {
  // piscina's own messages: a task may throw the same text and must still get its own error back.
  it.each(['worker exited with code: 7', 'Task queue is at limit', 'No task queue available and all Workers are busy', 'Terminating worker thread'])(
    'stays the task`s own error when its message is %j',
    async (message) => {
      const { telemetry, exits } = recordExits();
      const crashPool = pool<CrashTask, CrashResult>({ filename: worker('crash'), telemetry });
      const error = errorOf(await within(crashPool.run({ kind: 'throw', message }), 10_000));
      expect(error).toBeInstanceOf(Error);
      expect(error.message).toBe(message);
      expect(error.code).toBeUndefined();
      expect(await crashPool.run({ kind: 'value', value: 1 })).toBe(1);
      expect(crashPool.status()).toMatchObject({ crashed: 0, threads: 1 });
      expect(exits).toEqual([]);
    },
  );
});

describe('a value that cannot be cloned', () => {
  it.each([
    ['a result', { kind: 'uncloneable_result' } as CrashTask, 'result', "the task's result could not be sent back"],
    ['a thrown plain object', { kind: 'throw_uncloneable' } as CrashTask, 'error', 'the value the task threw could not be sent back'],
  ])('%s rejects with UncloneableValueError carrying the DataCloneError; the thread lives on', async (_, task, part, says) => {
    const { telemetry, exits } = recordExits();
    const crashPool = pool<CrashTask, CrashResult>({ filename: worker('crash'), telemetry });
    const error = errorOf(await within(crashPool.run(task), 10_000));
    expect(error).toMatchObject({ code: 'ERR_THREAD_UNCLONEABLE', pool: 'edges', part });
    expect(error.message).toContain(says);
    expect(error.cause).toMatchObject({ name: 'DataCloneError', message: expect.stringContaining('could not be cloned') });
    expect(await crashPool.run({ kind: 'value', value: 2 })).toBe(2);
    expect(crashPool.status()).toMatchObject({ crashed: 0, threads: 1, completed: 2 });
    expect(exits).toEqual([]);
  });

  it('a task that cannot be cloned is not sent: UncloneableValueError naming the task, and the thread stays free', async () => {
    const crashPool = pool<CrashTask, CrashResult>({ filename: worker('crash') });
    const error = errorOf(await within(crashPool.run({ kind: 'value', value: (() => 1) as unknown as number }), 10_000));
    expect(error).toMatchObject({ code: 'ERR_THREAD_UNCLONEABLE', part: 'task' });
    expect(error.message).toContain('the task could not be sent to a thread');
    expect(error.cause).toMatchObject({ name: 'DataCloneError' });
    expect(await crashPool.run({ kind: 'value', value: 3 })).toBe(3);
    expect(crashPool.status()).toMatchObject({ crashed: 0, threads: 1, running: 0 });
  });
});

describe('status() right after run()', () => {
  it('does not count a task refused by run() as running or queued', async () => {
    const ledger = newLedger();
    const ledgerPool = pool<LedgerTask, number>({ filename: worker('ledger'), maxQueue: 0 });
    await expect.poll(() => ledgerPool.status().idle, { timeout: 10_000 }).toBe(1);
    const first = within(ledgerPool.run({ ledger, id: 0, ms: 100 }), 10_000);
    const refused = within(ledgerPool.run({ ledger, id: 1 }), 10_000);
    expect(ledgerPool.status()).toMatchObject({ running: 1, queued: 0, idle: 0 });
    expect(kindOf(await refused)).toBe('ERR_POOL_FULL');
    expect(kindOf(await first)).toBe('ok');
    expect(ledgerPool.status()).toMatchObject({ running: 0, queued: 0, completed: 1 });
  });
});

describe('stopping while threads cannot start', () => {
  it('stop() during the backoff rejects the waiting task with PoolStoppedError, leaves no timer and ends the actor', async () => {
    const clock = createTestClock();
    const { telemetry, exits } = recordExits(createTelemetry({ clock }));
    const unloadable = pool<number, number>({ name: 'unloadable', filename: worker('broken'), clock, telemetry });
    await expect.poll(() => exits.length, { timeout: 10_000 }).toBe(1);
    // No thread can start before the backoff has passed: the task waits for it.
    const waiting = within(unloadable.run(1), 10_000);
    expect(unloadable.status()).toMatchObject({ threads: 0, queued: 1 });
    await unloadable.stop();
    expect(kindOf(await waiting)).toBe('ERR_POOL_STOPPED');
    expect(clock.pendingTimers()).toBe(0);
    expect(unloadable.status()).toMatchObject({ phase: 'stopped', threads: 0, queued: 0 });
    expect((unloadable.actor.getSnapshot() as { status: string }).status).toBe('done');
    clock.advance(60_000);
    expect(unloadable.status().threads).toBe(0);
  });

  it('a graceful shutdown during the backoff rejects the waiting task and stops at once', async () => {
    const clock = createTestClock();
    const { telemetry, exits } = recordExits(createTelemetry({ clock }));
    const child = threadPoolChild<number, number>({ name: 'unloadable', filename: worker('broken'), minThreads: 1, maxThreads: 1, clock, telemetry });
    const supervisor = await startSupervisor({ children: [child] }, { clock, telemetry });
    await expect.poll(() => exits.length, { timeout: 10_000 }).toBe(1);
    const waiting = within(child.pool!.run(1), 10_000);
    await supervisor.stop();
    expect(kindOf(await waiting)).toBe('ERR_POOL_STOPPED');
    expect(child.pool!.status()).toMatchObject({ phase: 'stopped', threads: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('a task withdrawn before it reaches a thread', () => {
  it('an aborted task that waits for a thread to start never runs', async () => {
    const ledger = newLedger();
    const ledgerPool = pool<LedgerTask, number>({ filename: worker('ledger') });
    const controller = new AbortController();
    const aborted = within(ledgerPool.run({ ledger, id: 0 }, { signal: controller.signal }), 10_000);
    controller.abort(new Error('not needed'));
    expect(kindOf(await aborted)).toBe('ERR_TASK_ABORTED');
    expect(kindOf(await within(ledgerPool.run({ ledger, id: 1 }), 10_000))).toBe('ok');
    expect(ran(ledger)).toEqual([1]);
    expect(ledgerPool.status()).toMatchObject({ crashed: 0, completed: 2 });
  });

  it('a task whose transferList cannot be transferred is rejected without using its thread', async () => {
    const echo = pool<unknown, unknown>({ filename: worker('echo') });
    const buffer = new ArrayBuffer(8);
    const refused = errorOf(await within(echo.run(buffer, { transferList: [buffer, buffer] }), 10_000));
    expect(refused).toBeInstanceOf(Error);
    expect(await echo.run(7)).toBe(7);
    expect(echo.status()).toMatchObject({ crashed: 0, threads: 1, running: 0 });
  });
});

describe('idle threads', () => {
  it('a thread above minThreads ends after idleTimeoutMs idle on the pool`s clock; that is not a crash', async () => {
    const clock = createTestClock();
    const { telemetry, exits } = recordExits(createTelemetry({ clock }));
    const echo = pool<number, number>({ filename: worker('echo'), minThreads: 0, maxThreads: 1, idleTimeoutMs: 1000, clock, telemetry });
    expect(echo.status().threads).toBe(0);
    expect(await echo.run(1)).toBe(1);
    expect(echo.status()).toMatchObject({ threads: 1, idle: 1 });
    clock.advance(999);
    expect(echo.status().threads).toBe(1);
    // A task in between starts the idle period again.
    expect(await echo.run(2)).toBe(2);
    clock.advance(999);
    expect(echo.status().threads).toBe(1);
    clock.advance(1);
    await expect.poll(() => echo.status().threads, { timeout: 10_000 }).toBe(0);
    expect(echo.status()).toMatchObject({ crashed: 0, completed: 2 });
    expect(exits).toEqual([]);
    // The next task starts a thread again.
    expect(await echo.run(3)).toBe(3);
  });
});

describe('options of the start-up backoff', () => {
  const base = { name: 'p', filename: worker('crash') };
  it.each([
    ['a zero maxStartFailures', { ...base, maxStartFailures: 0 }, 'maxStartFailures'],
    ['a fractional maxStartFailures', { ...base, maxStartFailures: 1.5 }, 'maxStartFailures'],
    ['a string maxStartFailures', { ...base, maxStartFailures: '3' }, 'maxStartFailures'],
    ['a zero retryBackoffMs', { ...base, retryBackoffMs: 0 }, 'retryBackoffMs'],
    ['a NaN retryBackoffMs', { ...base, retryBackoffMs: Number.NaN }, 'retryBackoffMs'],
    ['an infinite retryBackoffMs', { ...base, retryBackoffMs: Number.POSITIVE_INFINITY }, 'retryBackoffMs'],
    ['a retryBackoffMs beyond the timers` range', { ...base, retryBackoffMs: 2 ** 31 }, 'retryBackoffMs'],
  ])('rejects %s with ConfigError naming the option', (_, options, option) => {
    expect(() => createThreadPool(options as ThreadPoolOptions)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option }));
    expect(() => threadPoolChild(options as ThreadPoolOptions)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', option }));
  });
});
