// @ts-check
/**
 * Worker entry that cannot load: its top level throws, as a module with a failing initialisation
 * does (a syntax error or a missing import fail the same way, at load). Every thread that loads it
 * dies while starting. Used by the thread pool's unit and chaos specs.
 */

/** @type {import('../src/pool/thread-protocol.js').ThreadTaskHandler<unknown, unknown>} */
export default function broken(task) {
  return task;
}

throw new Error('broken worker: cannot load (its top level throws)');
