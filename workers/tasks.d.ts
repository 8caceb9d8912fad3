/**
 * The tasks and results of the worker modules in this folder: the example back end's CPU work
 * (`cpu.mjs`) and the specs' workers. Types only, for the modules' JSDoc and the TypeScript that
 * runs them; the library's own side of the thread boundary is src/pool/thread-protocol.ts.
 */

// ------------------------------------------------------------------ workers/cpu.mjs

/** A task of `workers/cpu.mjs`: real CPU work. */
export type CpuTask =
  /** The `n`-th Fibonacci number, computed the slow recursive way (fib(30) ≈ 10 ms). */
  | { kind: 'fib'; n: number }
  /** `rounds` chained SHA-256 digests of `data`, as hex. */
  | { kind: 'sha256'; data: string; rounds: number };

/** The result of a {@link CpuTask}: a number for `fib`, a hex digest for `sha256`. */
export type CpuResult = number | string;

// ------------------------------------------------------------------ workers/echo.mjs

/** `workers/echo.mjs` returns its task unchanged: the thread round trip and nothing else. */
export type EchoTask = unknown;

// ------------------------------------------------------------------ workers/crash.mjs

/**
 * A task of `workers/crash.mjs`: each kind ends its task, or its thread, in one of the ways a
 * thread can end. Specs and the chaos spec mix them on one pool.
 */
export type CrashTask =
  /** Returns `value`. */
  | { kind: 'value'; value: number }
  /** Resolves with `value` after `ms` (a timer inside the thread). */
  | { kind: 'sleep'; ms: number; value: number }
  /** Keeps the thread's CPU busy for `ms` without yielding, then returns `value`. */
  | { kind: 'spin'; ms: number; value: number }
  /** Throws an ordinary `Error(message)`: the task rejects, the thread lives on. */
  | { kind: 'throw'; message: string }
  /** Calls `process.exit(code)` in the thread. */
  | { kind: 'exit'; code: number }
  /** Throws `Error(message)` from a timer, outside the task's promise (which never settles): an uncaught exception. */
  | { kind: 'uncaught'; message: string }
  /** Allocates until the thread runs out of its `resourceLimits` heap. */
  | { kind: 'out_of_memory' }
  /** Returns a function: a result that cannot be cloned back. */
  | { kind: 'uncloneable_result' }
  /** Throws a plain object holding a function: a thrown value that cannot be cloned back. */
  | { kind: 'throw_uncloneable' };

/** The result of a {@link CrashTask} that completes. */
export type CrashResult = number;

// ------------------------------------------------------------------ workers/ledger.mjs

/**
 * A task of `workers/ledger.mjs`: the thread appends `id` to `ledger` when the task starts to run,
 * then returns `id` (after `ms`, when given). `ledger` is an `Int32Array` over a
 * `SharedArrayBuffer` (shared, not copied): `ledger[0]` counts the entries, `ledger[1 + n]` is the
 * id of the n-th task that ran. Specs read it to see which tasks ran, how often and in which order.
 */
export interface LedgerTask {
  ledger: Int32Array;
  id: number;
  ms?: number;
}

// ------------------------------------------------------------------ workers/broken.mjs

// `workers/broken.mjs` throws at its top level: every thread that loads it dies while starting.
