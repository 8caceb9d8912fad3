import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createThreadPool, isWorkerCrashedError, threadPoolChild, type ThreadPool } from '../../src/pool/index.js';
import type { CrashResult, CrashTask } from '../../workers/tasks.js';
import { createTelemetry, startSupervisor } from '../../src/index.js';

/**
 * Chaos, part 1: 10,000 tasks (twice) on a thread pool of real worker threads (workers/crash.mjs, two threads)
 * while threads are crashed at random by the tasks themselves: `process.exit`, uncaught exceptions
 * thrown from timers, and a few that run out of their `resourceLimits` heap; ordinary errors are
 * mixed in. Every task must settle within a bounded wait (no stall of STALL_MS, no round over
 * ROUND_CAP_MS), each with the outcome its kind calls for (a crash fails only the task that caused
 * it: one task per thread), the crashes must all be
 * reported, and the main thread's heap must not grow with the tasks: the second round of 10,000
 * may leave at most ~50 bytes a task behind (leaking one settled promise per task is ~120).
 *
 * CHAOS_SEED=<n> replays a run; the seed is printed when the spec fails.
 *
 * Part 2: thread pools whose worker entry cannot load (workers/broken.mjs throws at its top level),
 * alone and under a supervisor, with tasks arriving all along: thread starts are bounded and backed
 * off, every task rejects with WorkerStartError, and the pool's failure escalates to its
 * supervisor, which restarts it within its intensity and then gives up.
 */

const TASKS = 10_000;
/**
 * A round fails when no task settles for this long: a stall, not slowness. Each crash costs a
 * thread start (~30 ms on an idle machine, ~500 ms on a loaded one with two cores), so a fixed
 * deadline for the whole round would fail a pool that is only slow; a stalled pool never settles
 * another task.
 */
const STALL_MS = 10_000;
/** And no round may take longer than this, however steadily it progresses. */
const ROUND_CAP_MS = 80_000;
/** Heap the main thread may keep from 10,000 more tasks and their crashes (after full collections): ~50 bytes a task (we measure ~10). */
const HEAP_TOLERANCE_BYTES = 512 * 1024;

const seed = Number(process.env.CHAOS_SEED ?? 20_261_125);

/** A small seeded generator (mulberry32): the same seed gives the same task mix. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Expected = 'value' | 'crash' | 'error';

function planTasks(count: number, next: () => number, oomBudget: { left: number }): Array<{ task: CrashTask; expected: Expected }> {
  return Array.from({ length: count }, (_, index) => {
    const roll = next();
    if (roll < 0.004) return { task: { kind: 'exit', code: 1 + Math.floor(next() * 100) }, expected: 'crash' };
    if (roll < 0.008) return { task: { kind: 'uncaught', message: `chaos ${index}` }, expected: 'crash' };
    if (roll < 0.0085 && oomBudget.left > 0) {
      oomBudget.left -= 1;
      return { task: { kind: 'out_of_memory' }, expected: 'crash' };
    }
    if (roll < 0.03) return { task: { kind: 'throw', message: `ordinary ${index}` }, expected: 'error' };
    return { task: { kind: 'value', value: index }, expected: 'value' };
  });
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

async function heapAfterGc(gc: () => void): Promise<number> {
  // Let finished promise chains and the pool's end-of-turn cleanup run before collecting.
  for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  gc();
  return process.memoryUsage().heapUsed;
}

async function runAll(
  pool: ThreadPool<CrashTask, CrashResult>,
  plan: Array<{ task: CrashTask; expected: Expected }>,
): Promise<{ mismatches: string[]; unsettled: number; crashes: number }> {
  let unsettled = plan.length;
  let crashes = 0;
  let lastSettledAt = performance.now();
  const mismatches: string[] = [];
  const outcomes = plan.map(({ task, expected }, index) =>
    pool.run(task).then(
      (value) => {
        unsettled -= 1;
        lastSettledAt = performance.now();
        if (expected !== 'value' || value !== (task as { value: number }).value) mismatches.push(`#${index} ${task.kind}: resolved ${value}`);
      },
      (error: unknown) => {
        unsettled -= 1;
        lastSettledAt = performance.now();
        if (isWorkerCrashedError(error)) {
          crashes += 1;
          if (expected !== 'crash') mismatches.push(`#${index} ${task.kind}: WorkerCrashedError (${error.reason})`);
        } else if (expected !== 'error' || (error as Error).message !== (task as { message: string }).message) {
          mismatches.push(`#${index} ${task.kind}: rejected with ${String(error)}`);
        }
      },
    ),
  );
  const startedAt = performance.now();
  let watch: NodeJS.Timeout | undefined;
  const stalled = new Promise<void>((resolve) => {
    watch = setInterval(() => {
      const now = performance.now();
      if (now - lastSettledAt > STALL_MS || now - startedAt > ROUND_CAP_MS) resolve();
    }, 250);
  });
  await Promise.race([Promise.all(outcomes), stalled]);
  clearInterval(watch);
  return { mismatches: mismatches.slice(0, 20), unsettled, crashes };
}

describe('thread pool chaos: 10,000 tasks while threads crash at random', () => {
  it('settles every task as its kind calls for, reports every crash, and keeps the heap stable', async () => {
    const gc = collectGarbage();
    const telemetry = createTelemetry();
    let reported = 0;
    telemetry.select('pool.worker.exit').subscribe(() => (reported += 1));
    const pool = createThreadPool<CrashTask, CrashResult>({
      name: 'chaos',
      filename: fileURLToPath(new URL('../../workers/crash.mjs', import.meta.url)),
      minThreads: 2,
      maxThreads: 2,
      resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
      telemetry,
    });
    const next = random(seed);
    let outOfMemory = 0;
    const round = async (label: string) => {
      const oomBudget = { left: 2 };
      const plan = planTasks(TASKS, next, oomBudget);
      outOfMemory += 2 - oomBudget.left;
      const expectedCrashes = plan.filter((each) => each.expected === 'crash').length;
      const reportedBefore = reported;
      const startedAt = performance.now();
      const { mismatches, unsettled, crashes } = await runAll(pool, plan);
      const elapsedMs = performance.now() - startedAt;
      expect(unsettled, `${label}, seed ${seed}: tasks still pending after ${Math.round(elapsedMs)} ms (none settled for ${STALL_MS} ms, or over ${ROUND_CAP_MS} ms)`).toBe(0);
      expect(mismatches, `${label}, seed ${seed}`).toEqual([]);
      expect(crashes, `${label}, seed ${seed}`).toBe(expectedCrashes);
      expect(expectedCrashes).toBeGreaterThan(40);
      expect(reported - reportedBefore, `${label}, seed ${seed}: pool.worker.exit events`).toBe(expectedCrashes);
      expect(pool.status()).toMatchObject({ phase: 'running', running: 0, queued: 0 });
      return { expectedCrashes, elapsedMs };
    };
    try {
      // Round 1 is the chaos proper; it also warms up every path (JIT, piscina's queues), so that
      // round 2, the same again, shows what the tasks leave behind on the heap.
      const first = await round('round 1');
      const heapBefore = await heapAfterGc(gc);
      const second = await round('round 2');
      const heapAfter = await heapAfterGc(gc);
      await expect.poll(() => pool.status().threads, { timeout: 5000 }).toBe(2);
      expect(await pool.run({ kind: 'value', value: 42 })).toBe(42);
      const growth = heapAfter - heapBefore;
      console.info(
        `chaos seed ${seed}: 2 × ${TASKS} tasks, ${first.expectedCrashes} + ${second.expectedCrashes} crashes (${outOfMemory} out of memory) ` +
          `in ${Math.round(first.elapsedMs)} + ${Math.round(second.elapsedMs)} ms; heap after round 1 ${(heapBefore / 1048576).toFixed(2)} MiB, ` +
          `after round 2 ${(heapAfter / 1048576).toFixed(2)} MiB`,
      );
      expect(growth, `seed ${seed}: heap grew by ${growth} bytes over ${TASKS} tasks`).toBeLessThan(HEAP_TOLERANCE_BYTES);
    } finally {
      await pool.stop();
    }
  }, 2 * ROUND_CAP_MS + 20_000);
});

describe('thread pool chaos: a worker entry that cannot load', () => {
  const broken = fileURLToPath(new URL('../../workers/broken.mjs', import.meta.url));

  /** How a task settled: `'ok'` or the error's code (handled at once, so no rejection goes unhandled). */
  const outcomeOf = (task: Promise<unknown>): Promise<string> =>
    task.then(
      () => 'ok',
      (error: unknown) => String((error as { code?: unknown } | null)?.code ?? error),
    );

  /** How many tasks settled each way, `'pending'` for those that have not within `ms`. */
  function settledWithin(outcomes: Array<Promise<string>>, ms: number): Promise<Record<string, number>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
    return Promise.all(outcomes.map((outcome) => Promise.race([outcome, deadline]))).then((all) => {
      clearTimeout(timer);
      const counts: Record<string, number> = {};
      for (const kind of all) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    });
  }

  it('an idle pool starts a bounded number of threads, each after a growing backoff, then fails; run() then rejects with WorkerStartError', async () => {
    const telemetry = createTelemetry();
    const deaths: Array<{ at: number; startup: unknown }> = [];
    telemetry.select('pool.worker.exit').subscribe((event) => deaths.push({ at: performance.now(), startup: event.metadata.startup }));
    // Default maxStartFailures (5) and retryBackoffMs (100): restarts after 100, 200, 400 and 800 ms.
    const pool = createThreadPool<number, number>({ name: 'unloadable', filename: broken, minThreads: 1, maxThreads: 2, telemetry });
    try {
      await expect.poll(() => pool.status().phase, { timeout: 20_000, interval: 50 }).toBe('failed');
      expect(deaths).toHaveLength(5);
      expect(deaths.every((death) => death.startup === true)).toBe(true);
      const gaps = deaths.slice(1).map((death, index) => death.at - deaths[index]!.at);
      // Timers may fire up to a millisecond early against performance.now().
      gaps.forEach((gap, index) => expect(gap, `gap ${index} of ${gaps.map(Math.round).join(', ')} ms`).toBeGreaterThanOrEqual(100 * 2 ** index - 2));
      expect(pool.status()).toMatchObject({ threads: 0, crashed: 5 });
      expect(await settledWithin([outcomeOf(pool.run(1)), outcomeOf(pool.run(2))], 1000)).toEqual({ ERR_WORKER_START_FAILED: 2 });
    } finally {
      await pool.stop();
    }
    expect(deaths).toHaveLength(5);
  }, 30_000);

  it('under a supervisor, with tasks arriving all along: each pool fails after maxStartFailures start-up deaths, the supervisor restarts it within its intensity and gives up; every task rejects with WorkerStartError', async () => {
    const telemetry = createTelemetry();
    let startupDeaths = 0;
    const childExits: Array<Record<string, unknown>> = [];
    const shutdowns: Array<Record<string, unknown>> = [];
    telemetry.select('pool.worker.exit').subscribe((event) => (startupDeaths += event.metadata.startup === true ? 1 : 0));
    telemetry.select('supervisor.child.exited').subscribe((event) => childExits.push(event.metadata));
    telemetry.select('supervisor.shutdown').subscribe((event) => shutdowns.push(event.metadata));
    const maxStartFailures = 3;
    const intensity = 3;
    const child = threadPoolChild<number, number>({ name: 'unloadable', filename: broken, minThreads: 2, maxThreads: 4, maxStartFailures, retryBackoffMs: 20 });
    const supervisor = await startSupervisor({ children: [child], intensity, period: 60_000 }, { telemetry });
    const pools = new Set<ThreadPool<number, number>>();
    const tasks: Array<Promise<string>> = [];
    const feeder = setInterval(() => {
      const pool = child.pool;
      if (pool === undefined) return;
      pools.add(pool);
      for (let task = 0; task < 5; task += 1) tasks.push(outcomeOf(pool.run(task)));
    }, 10);
    let exited: unknown;
    try {
      exited = await Promise.race([supervisor.exited, new Promise((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000))]);
    } finally {
      clearInterval(feeder);
    }
    expect(exited).toBe('shutdown');
    expect(shutdowns).toEqual([expect.objectContaining({ reason: 'intensity' })]);
    // The first pool and `intensity` restarts, each failing after exactly maxStartFailures start-up deaths.
    expect(childExits.map((exit) => exit.reason)).toEqual(Array.from({ length: intensity + 1 }, () => 'error'));
    expect(childExits.every((exit) => (exit.error as { code?: unknown }).code === 'ERR_WORKER_START_FAILED')).toBe(true);
    expect(startupDeaths).toBe((intensity + 1) * maxStartFailures);
    expect(pools.size).toBe(intensity + 1);
    for (const pool of pools) expect(pool.status()).toMatchObject({ phase: 'failed', threads: 0, running: 0, queued: 0 });
    expect(tasks.length).toBeGreaterThan(0);
    expect(await settledWithin(tasks, 5000)).toEqual({ ERR_WORKER_START_FAILED: tasks.length });
  }, 60_000);
});
