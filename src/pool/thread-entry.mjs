// @ts-check
/**
 * The thread pool's own side of the thread boundary: the module piscina loads in every thread of a
 * pool created by `createThreadPool` (thread-pool.ts). It is library code running in the thread,
 * as piscina's own `worker.js` is; worker entries (workers/*.mjs) hold none.
 *
 * - It loads the pool's worker entry, named by an argument the pool adds to the thread's
 *   `process.argv` (removed before the worker entry loads). piscina reports a thread ready only
 *   once this module, and so the worker entry, has loaded: a worker entry that cannot load kills
 *   the thread while it starts, which is how the pool tells a start-up death from a crash.
 * - It runs each task with the worker entry's default export, and checks that what goes back can
 *   be sent: a result, or a thrown value, that cannot be cloned would otherwise make piscina throw
 *   in the thread and kill it, and the `DataCloneError` would reach the pool as `{}`. The task is
 *   rejected with a `ThreadFailure` naming it instead, and the thread lives on.
 *
 * Plain JavaScript on purpose: no TypeScript loader runs in a thread. Types: thread-protocol.ts.
 */

/** @typedef {import('./thread-protocol.js').ThreadFailure} ThreadFailure */

/** @type {import('./thread-protocol.js').WorkerModuleArgument} */
const workerModuleArgument = '--overseer-worker-module=';

/** @type {import('./thread-protocol.js').ThreadFailureKey} */
const threadFailureKey = '@@overseer/thread-failure';

/** piscina's mark of a result made with `Piscina.move()`: transferred, not cloned, so not checked. */
const transferable = Symbol.for('Piscina.transferable');

const argumentIndex = process.argv.findIndex((argument) => argument.startsWith(workerModuleArgument));
if (argumentIndex === -1) {
  throw new Error(`overseer thread entry: no ${workerModuleArgument} argument (only a thread pool of overseer loads this module)`);
}
const workerModule = /** @type {string} */ (process.argv[argumentIndex]).slice(workerModuleArgument.length);
process.argv.splice(argumentIndex, 1);

/** @type {{ default?: unknown }} */
const loaded = await import(workerModule);
const handler = loaded.default;
if (typeof handler !== 'function') {
  throw new TypeError(`worker entry ${workerModule} has no default export function (its default export is ${typeof handler})`);
}

/**
 * Why `value` cannot be sent back to the pool, or `undefined` when it can. Primitives always can;
 * an object is cloned once here, as piscina's postMessage would clone it (the price of knowing).
 * @param {unknown} value
 * @param {ThreadFailure[typeof threadFailureKey]} kind
 * @returns {ThreadFailure | undefined}
 */
function cloneFailure(value, kind) {
  const type = typeof value;
  if (value === null || (type !== 'object' && type !== 'function' && type !== 'symbol')) return undefined;
  if (type === 'object' && transferable in /** @type {object} */ (value)) return undefined;
  try {
    structuredClone(value);
    return undefined;
  } catch (error) {
    const { name, message } = /** @type {{ name?: unknown; message?: unknown }} */ (error ?? {});
    return { [threadFailureKey]: kind, name: String(name ?? 'DataCloneError'), message: String(message ?? error) };
  }
}

/**
 * @param {unknown} result
 * @returns {unknown}
 */
function sendable(result) {
  const failure = cloneFailure(result, 'uncloneable_result');
  if (failure !== undefined) throw failure;
  return result;
}

/**
 * What crosses instead of a thrown `null`: piscina reads a `null` error as no error and would
 * resolve the task with `null`.
 * @type {import('./thread-protocol.js').ThrownNull}
 */
const thrownNull = { [threadFailureKey]: 'thrown_null' };

/**
 * @param {unknown} error
 * @returns {never}
 */
function rethrowSendable(error) {
  if (error === null) throw thrownNull;
  throw cloneFailure(error, 'uncloneable_error') ?? error;
}

/**
 * Runs one task (piscina calls the default export with each).
 * Hot path (bench/pool.bench.ts, `thread.run@*`): a primitive result costs one `typeof`.
 * @param {unknown} task
 * @returns {unknown}
 */
export default function runTask(task) {
  let result;
  try {
    result = /** @type {(task: unknown) => unknown} */ (handler)(task);
  } catch (error) {
    rethrowSendable(error);
  }
  if (typeof (/** @type {{ then?: unknown } | null | undefined} */ (result)?.then) === 'function') {
    return Promise.resolve(result).then(sendable, rethrowSendable);
  }
  return sendable(result);
}
