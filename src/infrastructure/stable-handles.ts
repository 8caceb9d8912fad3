import { attempt } from '../core/index.js';
import type { Pool, PoolChildSpec, ThreadPool, ThreadPoolChildSpec } from '../pool/index.js';
import { current } from './errors.js';

/** A pool handle that always reaches the current run of a supervised pool. */
export function stablePool<W>(spec: PoolChildSpec<W>, name: string): Pool<W> {
  const now = (): Pool<W> => current(spec.pool, `pool '${name}'`);
  return {
    name,
    get actor() {
      return now().actor;
    },
    checkout: (options) => attempt(() => now().checkout(options)),
    tryCheckout: () => now().tryCheckout(),
    transaction: (fn, options) => attempt(() => now().transaction(fn, options)),
    status: () => now().status(),
    stop: () => attempt(() => now().stop()),
    [Symbol.asyncDispose]: () => attempt(() => now().stop()),
    reconfigure: (patch) => spec.reconfigure(patch),
  };
}

/** A thread-pool handle that always reaches the current run of a supervised thread pool. */
export function stableThreadPool<Task, Result>(spec: ThreadPoolChildSpec<Task, Result>, name: string): ThreadPool<Task, Result> {
  const now = (): ThreadPool<Task, Result> => current(spec.pool, `thread pool '${name}'`);
  return {
    name,
    get actor() {
      return now().actor;
    },
    run: (task, options) => attempt(() => now().run(task, options)),
    status: () => now().status(),
    stop: () => attempt(() => now().stop()),
    [Symbol.asyncDispose]: () => attempt(() => now().stop()),
  };
}
