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

/**
 * Warms every contender up with `warmupBatches` batches, then runs `rounds` rounds of one timed
 * batch each, the contender that goes first rotating from round to round (so that drift in the
 * machine's load falls on all alike); returns each contender's batch results by name.
 */
export async function interleavedRounds<C extends { name: string }>(
  contenders: readonly C[],
  rounds: number,
  warmupBatches: number,
  batch: (contender: C) => Promise<number>,
): Promise<Map<string, number[]>> {
  for (const contender of contenders) for (let warmup = 0; warmup < warmupBatches; warmup += 1) await batch(contender);
  const samples = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let turn = 0; turn < contenders.length; turn += 1) {
      const contender = contenders[(round + turn) % contenders.length]!;
      samples.get(contender.name)!.push(await batch(contender));
    }
  }
  return samples;
}
