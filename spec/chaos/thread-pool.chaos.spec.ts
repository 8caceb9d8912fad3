import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createThreadPool, isWorkerCrashedError, type ThreadPool } from '../../src/pool/index.js';
import type { CrashResult, CrashTask } from '../../src/pool/thread-protocol.js';
import { createTelemetry } from '../../src/index.js';

/**
 * Chaos: 10,000 tasks (twice) on a thread pool of real worker threads (workers/crash.mjs, two threads)
 * while threads are crashed at random by the tasks themselves: `process.exit`, uncaught exceptions
 * thrown from timers, and a few that run out of their `resourceLimits` heap; ordinary errors are
 * mixed in. Every task must settle within a bounded wait, each with the outcome its kind calls for
 * (a crash fails only the task that caused it: one task per thread), the crashes must all be
 * reported, and the main thread's heap must not grow with the tasks: the second round of 10,000
 * may leave at most ~50 bytes a task behind (leaking one settled promise per task is ~120).
 *
 * CHAOS_SEED=<n> replays a run; the seed is printed when the spec fails.
 */

const TASKS = 10_000;
const DEADLINE_MS = 25_000;
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
  const mismatches: string[] = [];
  const outcomes = plan.map(({ task, expected }, index) =>
    pool.run(task).then(
      (value) => {
        unsettled -= 1;
        if (expected !== 'value' || value !== (task as { value: number }).value) mismatches.push(`#${index} ${task.kind}: resolved ${value}`);
      },
      (error: unknown) => {
        unsettled -= 1;
        if (isWorkerCrashedError(error)) {
          crashes += 1;
          if (expected !== 'crash') mismatches.push(`#${index} ${task.kind}: WorkerCrashedError (${error.reason})`);
        } else if (expected !== 'error' || (error as Error).message !== (task as { message: string }).message) {
          mismatches.push(`#${index} ${task.kind}: rejected with ${String(error)}`);
        }
      },
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), DEADLINE_MS)));
  await Promise.race([Promise.all(outcomes), deadline]);
  clearTimeout(timer);
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
      expect(unsettled, `${label}, seed ${seed}: tasks still pending after ${DEADLINE_MS} ms`).toBe(0);
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
  }, 60_000);
});
