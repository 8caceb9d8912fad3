/**
 * What a benchmark suite is. A suite is the default export of `bench/<name>.bench.ts`; `run.ts`
 * discovers suites by that file pattern, so a suite that does not exist yet is simply not listed.
 */
import type { Comparison } from './report.js';

export interface SuiteContext {
  /** `--quick`: fewer measured iterations, every case still runs; the whole suite stays under 30 s. */
  readonly quick: boolean;
  /** Prints one BENCH line (ratio = ours / peer). */
  bench(comparison: Comparison): void;
  /** Prints a human-readable context line. */
  note(message: string): void;
  /** Prints a SKIP line for a peer or case that could not run. */
  skip(what: string, reason: string): void;
}

export interface Suite {
  /** Must match the file name: `bench/<name>.bench.ts`. */
  readonly name: string;
  /** One line shown by `npm run bench -- --list`. */
  readonly description: string;
  run(context: SuiteContext): Promise<void>;
}

/** Identity helper that type-checks a suite definition. */
export function defineSuite(suite: Suite): Suite {
  return suite;
}

/** Whether a module's default export looks like a {@link Suite}. */
export function isSuite(value: unknown): value is Suite {
  const candidate = value as Partial<Suite> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.run === 'function'
  );
}
