// @ts-check
/**
 * Worker entry that returns its task: a thread round trip and nothing else (bench/pool.bench.ts
 * runs it under overseer's thread pool and under raw piscina).
 */

/** @type {import('../src/pool/thread-protocol.js').ThreadTaskHandler<import('./tasks.js').EchoTask, unknown>} */
export default function echo(task) {
  return task;
}
