/**
 * The output protocol of every suite.
 *
 * - `BENCH {json}`: one line per comparison, exactly the keys
 *   `case, ours, peer, peerName, unit, ratio` in that order; `ratio = ours / peer`. When the peer
 *   could not run, `peer` and `ratio` are `null` and a `SKIP` line says why.
 * - `SKIP <case> <reason>`: a peer (or a case) that could not run.
 * - anything else (indented, prefixed with the suite name) is human-readable context.
 */
import { roundFigure, roundRatio } from './stats.js';

export type Unit = 'ns' | 'bytes';

/** One comparison of our figure against a peer's. */
export interface Comparison {
  case: string;
  ours: number;
  /** `null` when the peer did not run (a SKIP line says why). */
  peer: number | null;
  peerName: string;
  unit: Unit;
}

/** The JSON object of a BENCH line, figures rounded. */
export interface BenchRecord {
  case: string;
  ours: number;
  peer: number | null;
  peerName: string;
  unit: Unit;
  ratio: number | null;
}

/** Rounds the figures and computes the ratio. */
export function toBenchRecord(comparison: Comparison): BenchRecord {
  if (!Number.isFinite(comparison.ours)) throw new RangeError(`${comparison.case}: ours is not a finite number (${comparison.ours})`);
  const peer = comparison.peer === null || !Number.isFinite(comparison.peer) ? null : comparison.peer;
  const ratio = peer === null || peer === 0 ? null : roundRatio(comparison.ours / peer);
  return {
    case: comparison.case,
    ours: roundFigure(comparison.ours),
    peer: peer === null ? null : roundFigure(peer),
    peerName: comparison.peerName,
    unit: comparison.unit,
    ratio,
  };
}

/** The BENCH line of a comparison. */
export function benchLine(comparison: Comparison): string {
  return `BENCH ${JSON.stringify(toBenchRecord(comparison))}`;
}

/** Parses a BENCH line back (for tools that read the output); undefined for any other line. */
export function parseBenchLine(line: string): BenchRecord | undefined {
  if (!line.startsWith('BENCH ')) return undefined;
  return JSON.parse(line.slice('BENCH '.length)) as BenchRecord;
}

/** Writes lines to stdout as one write, so lines of concurrent writers never interleave. */
export function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The printer a suite writes through; every context line names the suite. */
export class Reporter {
  constructor(private readonly suite: string) {}

  /** One BENCH line. */
  bench(comparison: Comparison): void {
    writeLine(benchLine(comparison));
  }

  /** A human-readable context line. */
  note(message: string): void {
    for (const line of message.split('\n')) writeLine(`  [${this.suite}] ${line}`);
  }

  /** A SKIP line: a peer or case that could not run, and why. */
  skip(what: string, reason: string): void {
    writeLine(`SKIP ${what}: ${reason}`);
  }
}
