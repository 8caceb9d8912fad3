// @ts-check
/**
 * Worker entry whose tasks end their task, or their thread, in each of the ways a thread can end
 * (see `CrashTask` in workers/tasks.d.ts). Used by the thread pool's unit and chaos specs.
 */

/** @typedef {import('./tasks.js').CrashTask} CrashTask */
/** @typedef {import('./tasks.js').CrashResult} CrashResult */

/** Holds allocations so that they cannot be collected. @type {unknown[]} */
const hoard = [];

/** @type {import('../src/pool/thread-protocol.js').ThreadTaskHandler<CrashTask, CrashResult>} */
export default function crash(task) {
  switch (task.kind) {
    case 'value':
      return task.value;
    case 'sleep':
      return new Promise((resolve) => setTimeout(() => resolve(task.value), task.ms));
    case 'spin': {
      const until = performance.now() + task.ms;
      while (performance.now() < until);
      return task.value;
    }
    case 'throw':
      throw new Error(task.message);
    case 'exit':
      return process.exit(task.code);
    case 'uncaught':
      setTimeout(() => {
        throw new Error(task.message);
      }, 0);
      return new Promise(() => undefined);
    case 'out_of_memory':
      for (;;) hoard.push(new Array(100_000).fill(hoard.length));
    case 'uncloneable_result':
      // A function is not cloneable: the result cannot be sent back to the pool.
      return /** @type {CrashResult} */ (/** @type {unknown} */ (() => task.kind));
    case 'throw_uncloneable':
      throw { code: 'E_CALLBACK', callback: () => task.kind };
    default:
      throw new TypeError(`crash worker: unknown task ${JSON.stringify(task)}`);
  }
}
