/**
 * The thread boundary: the one typed description of what crosses between a thread pool (src/)
 * and the worker entry files it runs (workers/).
 *
 * It holds types only, on purpose. A worker entry is a plain `.mjs` module that piscina loads in a
 * fresh thread, where no TypeScript loader runs (vitest's transform does not reach worker
 * threads, and registering tsx in every thread costs ~100 ms and an esbuild process per thread).
 * So a worker entry imports nothing from the library at run time; it names these types in JSDoc
 * (`// @ts-check`), and spec/unit/pool/thread-pool-workers.spec.ts type-checks the entries
 * against them.
 *
 * The rules of the boundary, as piscina and the pool's thread entry (`thread-entry.mjs`) define it:
 * - A thread first loads the worker entry; it takes tasks only once that has loaded. An entry that
 *   cannot load (it throws at its top level, has a syntax error or a missing import, has no
 *   default export function) kills the thread while it starts: the pool backs off, rejects the
 *   tasks no thread can run with `WorkerStartError`, and gives up after `maxStartFailures`.
 * - A task is copied into the thread with the structured clone algorithm (functions, class
 *   instances and symbols do not cross); `run(task, { transferList })` moves buffers instead. A
 *   task that cannot be cloned is not sent: `UncloneableValueError` (`part: 'task'`).
 * - The entry's default export is called with each task; what it returns (or resolves to) is
 *   cloned back as the result. A result that cannot be cloned rejects the task with
 *   `UncloneableValueError` (`part: 'result'`); the thread lives on.
 * - An error it throws (or rejects with) is cloned back and rejects the task: `name` (for the
 *   built-in error classes), `message`, `stack` and `cause` cross; other properties such as
 *   `code` do not. Throw a plain object (`{ code, message }`) to keep more. A thrown value that
 *   cannot be cloned rejects with `UncloneableValueError` (`part: 'error'`).
 * - Anything that kills the thread instead (an uncaught exception outside the task's promise,
 *   `process.exit`, running out of `resourceLimits` memory) rejects the thread's task with
 *   `WorkerCrashedError`; the pool replaces the thread.
 */

/** The default export of a worker entry: called with each task, returns (or resolves to) its result. */
export type ThreadTaskHandler<Task, Result> = (task: Task) => Result | Promise<Result>;

// ------------------------------------------------------------------ src/pool/thread-entry.mjs

/**
 * The argument by which a thread pool names its worker entry to its thread entry: piscina loads
 * `thread-entry.mjs` in every thread, with `${WorkerModuleArgument}${file URL of the worker entry}`
 * added to the thread's `process.argv`; the thread entry removes it before it loads the worker
 * entry, which sees only the pool's `argv` option.
 */
export type WorkerModuleArgument = '--overseer-worker-module=';

/** The property that marks a {@link ThreadFailure}: a string key crosses the boundary, a symbol would not. */
export type ThreadFailureKey = '@@overseer/thread-failure';

/**
 * What the thread entry rejects a task with when its handler threw `null` (piscina would read a
 * `null` error as success and resolve the task with `null`). The pool rejects the task with `null`.
 */
export type ThrownNull = { [key in ThreadFailureKey]: 'thrown_null' };

/**
 * What the thread entry rejects a task with instead of a value that cannot be cloned back (which
 * would otherwise kill the thread, its `DataCloneError` arriving as `{}`): which value, and the
 * `DataCloneError`'s name and message (a `DOMException` does not survive the clone itself). The
 * pool turns it into `UncloneableValueError`.
 */
export type ThreadFailure = {
  [key in ThreadFailureKey]: 'uncloneable_result' | 'uncloneable_error';
} & {
  name: string;
  message: string;
};
