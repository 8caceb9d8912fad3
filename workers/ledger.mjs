// @ts-check
/**
 * Worker entry that writes each task it runs into a shared ledger (see `LedgerTask` in
 * src/pool/thread-protocol.ts), so a spec can read which tasks ran, how often and in which order,
 * whatever the pool reported. Used by the thread pool's unit specs.
 */

/** @typedef {import('./tasks.js').LedgerTask} LedgerTask */

/** @type {import('../src/pool/thread-protocol.js').ThreadTaskHandler<LedgerTask, number>} */
export default function ledger(task) {
  const entry = Atomics.add(task.ledger, 0, 1);
  Atomics.store(task.ledger, 1 + entry, task.id);
  if (task.ms === undefined) return task.id;
  return new Promise((resolve) => setTimeout(() => resolve(task.id), task.ms));
}
