// @ts-check
/**
 * Worker entry for CPU work (a thread pool's `filename`). Plain JavaScript on purpose: piscina
 * loads it in a fresh thread, where no TypeScript loader runs; it imports no library code, only
 * the types of the thread boundary (src/pool/thread-protocol.ts).
 */
import { createHash } from 'node:crypto';

/** @typedef {import('./tasks.js').CpuTask} CpuTask */
/** @typedef {import('./tasks.js').CpuResult} CpuResult */

/** @param {number} n @returns {number} */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** @param {string} data @param {number} rounds @returns {string} */
function sha256(data, rounds) {
  let digest = data;
  for (let round = 0; round < rounds; round += 1) digest = createHash('sha256').update(digest).digest('hex');
  return digest;
}

/** @type {import('../src/pool/thread-protocol.js').ThreadTaskHandler<CpuTask, CpuResult>} */
export default function cpu(task) {
  switch (task.kind) {
    case 'fib':
      return fib(task.n);
    case 'sha256':
      return sha256(task.data, task.rounds);
    default:
      throw new TypeError(`cpu worker: unknown task ${JSON.stringify(task)}`);
  }
}
