/** Heap measurement around `global.gc()`; `npm run bench` runs node with --expose-gc. */

type GcFunction = () => void;

function gcFunction(): GcFunction | undefined {
  return (globalThis as { gc?: GcFunction }).gc;
}

/** Whether the process was started with --expose-gc. */
export function canCollectGarbage(): boolean {
  return typeof gcFunction() === 'function';
}

/** Forces full collections (twice, so that objects freed by finalisers of the first go too). */
export function collectGarbage(): void {
  const gc = gcFunction();
  if (!gc) throw new Error('global.gc is not available: run node with --expose-gc (npm run bench does)');
  gc();
  gc();
}

/** `process.memoryUsage().heapUsed` right after full collections. */
export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap retained by what `build` creates and keeps alive until `release` runs: heap after GC with
 * the objects alive minus heap after GC before `build`.
 */
export async function measureRetainedHeap<T>(build: () => Promise<T> | T): Promise<{ bytes: number; value: T }> {
  const before = heapUsedAfterGc();
  const value = await build();
  const after = heapUsedAfterGc();
  return { bytes: after - before, value };
}
