import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

/** One sample group as parse-prometheus-text-format returns it (values are strings). */
export interface ParsedSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  quantiles?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** One metric family as parse-prometheus-text-format returns it. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ParsedSample[];
}

/**
 * parse-prometheus-text-format (a port of the Go text parser's rules to JavaScript, CommonJS
 * without types): throws on a line it cannot read.
 */
export const parsePrometheusText = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const metricNameGrammar = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNameGrammar = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses `text` with the npm parser and checks what that lenient parser does not: every family
 * once, names and label names in the grammar (no reserved `__` labels), counters ending in
 * `_total`, and no two samples of a family with one label set. Returns the families by name.
 */
export function parseStrictly(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheusText(text);
  const byName = new Map<string, ParsedFamily>();
  for (const family of families) {
    expect(byName.has(family.name), `family ${family.name} appears once`).toBe(false);
    byName.set(family.name, family);
    expect(family.name).toMatch(metricNameGrammar);
    expect(family.type, `family ${family.name} has a TYPE line`).not.toBe('UNTYPED');
    if (family.type === 'COUNTER') expect(family.name).toMatch(/_total$/);
    const labelSets = new Set<string>();
    for (const sample of family.metrics) {
      const labels = sample.labels ?? {};
      for (const label of Object.keys(labels)) {
        expect(label).toMatch(labelNameGrammar);
        expect(label.startsWith('__')).toBe(false);
      }
      const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
      expect(labelSets.has(key), `family ${family.name} has one sample group for ${key}`).toBe(false);
      labelSets.add(key);
    }
  }
  // Every sample line belongs to a family the parser returned (nothing was silently merged away).
  const sampleNames = new Set(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(/[{ ]/, 1)[0]!),
  );
  for (const name of sampleNames) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    expect(byName.has(name) || byName.has(base), `sample ${name} belongs to a family`).toBe(true);
  }
  return byName;
}

/** Where promtool is, or undefined when it is not installed. */
export function findPromtool(): string | undefined {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? 'promtool' : undefined;
}

/**
 * Whether specs that need promtool run: always under CI (where its absence must fail them), else
 * only when it is installed. Prints once why they are skipped.
 */
export function promtoolRequired(): boolean {
  if (process.env.CI || findPromtool() !== undefined) return true;
  console.warn('promtool not found on PATH (Debian package "prometheus"): the promtool checks of the exposition are skipped locally; CI runs them.');
  return false;
}

/** `promtool check metrics` on `text`: exit status and everything it printed (parse errors and lint problems). */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) throw new Error(`promtool could not run (install Debian's "prometheus" package): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
