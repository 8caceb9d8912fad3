/**
 * fast-check for mutation runs (aliased in .ci/mutation/vitest.config.ts): the real library, with
 * `assert` capped at OVERSEER_MUTATE_NUM_RUNS runs (default 25) per property. A surviving mutant
 * runs every spec that reaches it, and the model-based specs at 100–300 runs made a supervisor
 * run take over an hour. Fewer runs can only find fewer counterexamples, so a score measured
 * this way is at most what full runs would give; `npm test` always runs the specs in full.
 */
import * as real from '../../node_modules/fast-check/lib/fast-check.js';

export * from '../../node_modules/fast-check/lib/fast-check.js';

const cap = Number(process.env.OVERSEER_MUTATE_NUM_RUNS ?? 25);

type Assert = typeof real.assert;

/** `fc.assert` with at most {@link cap} runs. */
export const assert = ((property: Parameters<Assert>[0], parameters?: Parameters<Assert>[1]) =>
  real.assert(property as never, { ...parameters, numRuns: Math.min(parameters?.numRuns ?? 100, cap) })) as Assert;

const capped: typeof real = { ...real, assert };
export default capped;
