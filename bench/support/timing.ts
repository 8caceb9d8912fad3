/** Monotonic high-resolution time for measurements. */

/** Nanoseconds from an arbitrary origin, as a double (exact to the ns for ~104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Runs `batches` timed batches of `batchSize` operations and returns the mean ns per operation
 * of each batch. `operation` gets the running operation index; `afterBatch` (untimed) may check
 * invariants and throw.
 */
export function timeBatches(
  batches: number,
  batchSize: number,
  operation: (index: number) => void,
  afterBatch?: (batch: number) => void,
): number[] {
  const samples: number[] = [];
  let index = 0;
  for (let batch = 0; batch < batches; batch += 1) {
    const started = nowNs();
    for (let step = 0; step < batchSize; step += 1) operation(index++);
    samples.push((nowNs() - started) / batchSize);
    afterBatch?.(batch);
  }
  return samples;
}

/** Times one (possibly async) run and returns its duration in ns together with its result. */
export async function timeAsync<T>(run: () => Promise<T>): Promise<{ ns: number; result: T }> {
  const started = nowNs();
  const result = await run();
  return { ns: nowNs() - started, result };
}
