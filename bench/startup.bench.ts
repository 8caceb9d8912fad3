/**
 * Startup: what importing overseer costs a process, against importing the two peers it needs
 * anyway (xstate and rxjs), in the same run.
 *
 * startup.import (peer xstate+rxjs)
 *   ns from just before to just after `await import(<entry>)` in a fresh `node` process, median over
 *   many processes. Ours: the package root of the tsc build (which imports xstate and rxjs
 *   itself); the peer: `Promise.all([import('xstate'), import('rxjs')])` and nothing else. The
 *   contenders' processes alternate (who goes first rotates each round, so drift in the machine's
 *   load falls on all alike): 40 rounds after two untimed warm-up processes each (file-system
 *   cache); 8 rounds after one with --quick. Every process checks that the import loaded neither
 *   piscina nor undici (they load on first use); a process that did fails the suite.
 *   Target: ratio ≤ 1.25.
 * startup.import.threads, .http, .opentelemetry, .prom-client, .observer (peer xstate+rxjs)
 *   the same for each subpath.
 * Context lines: each contender's median with p10/p90, a process that imports nothing (the
 * floor), and the whole process's wall time (spawn to exit) per contender.
 *
 * The overseer measured is always a tsc build of src/: the one `run.ts` made, or, under
 * `--source`, one this suite makes (the time tsx takes to compile src/ on import is not a startup
 * cost users pay).
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { formatMs, formatNs, formatRatio } from './support/format.js';
import { median, quantile } from './support/stats.js';
import { defineSuite, type SuiteContext } from './support/suite.js';
import { BUILD_ENV, buildOverseer, builtModule, repoRoot } from './support/target.js';
import { interleavedRounds, nowNs } from './support/timing.js';

const TARGET_RATIO = 1.25;
/** Untimed processes per contender before measuring (file-system cache). */
const WARMUP_PROCESSES = 2;
const PEERS = ['xstate', 'rxjs'];

/**
 * The program each process runs (`node --input-type=module -e <program> <specifier>...`): imports
 * its arguments at once and prints the ns that took and which of piscina and undici got loaded.
 */
const PROGRAM = `
const started = process.hrtime.bigint();
await Promise.all(process.argv.slice(1).map((specifier) => import(specifier)));
const ns = Number(process.hrtime.bigint() - started);
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
const heavy = ['piscina', 'undici'].filter((name) => cache.some((path) => path.includes('/node_modules/' + name + '/')));
process.stdout.write(JSON.stringify({ ns, heavy }));
`;

interface Contender {
  name: string;
  /** What the process imports. */
  specifiers: string[];
}

interface Sample {
  importNs: number;
  wallNs: number;
}

/** Runs one process for `contender` and returns its import time and wall time. */
function runProcess(contender: Contender): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = nowNs();
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROGRAM, ...contender.specifiers], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallNs = nowNs() - started;
      if (code !== 0) return reject(new Error(`${contender.name}: node exited with ${code}: ${stderr.trim()}`));
      const report = JSON.parse(stdout) as { ns: number; heavy: string[] };
      if (report.heavy.length > 0) return reject(new Error(`${contender.name}: importing it loaded ${report.heavy.join(' and ')}`));
      resolve({ importNs: report.ns, wallNs });
    });
  });
}

/** The compiled entry of a source module in the build, as a file URL. */
function entryUrl(source: string): string {
  const path = builtModule(source);
  if (path === undefined) throw new Error(`the build in ${process.env[BUILD_ENV]} has no ${source}`);
  return pathToFileURL(path).href;
}

function spread(values: readonly number[], format: (value: number) => string): string {
  return `${format(median(values))} (p10 ${format(quantile(values, 0.1))}, p90 ${format(quantile(values, 0.9))})`;
}

async function measure(context: SuiteContext): Promise<void> {
  const baseline: Contender = { name: 'xstate+rxjs', specifiers: PEERS };
  const root: Contender = { name: 'overseer', specifiers: [entryUrl('src/index.ts')] };
  const subpaths: Contender[] = ['threads', 'http', 'opentelemetry', 'prom-client', 'observer'].map((subpath) => ({
    name: `overseer/${subpath}`,
    specifiers: [entryUrl(`src/${subpath}.ts`)],
  }));
  const floor: Contender = { name: 'nothing', specifiers: [] };
  const contenders = [baseline, root, ...subpaths, floor];
  const rounds = context.quick ? 8 : 40;
  const warmups = context.quick ? 1 : WARMUP_PROCESSES;

  const wall = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
  const samples = await interleavedRounds(contenders, rounds, warmups, async (contender) => {
    const sample = await runProcess(contender);
    wall.get(contender.name)!.push(sample.wallNs);
    return sample.importNs;
  });

  const peer = median(samples.get(baseline.name)!);
  context.note(`${rounds} processes per contender, alternating; import time, then the process's wall time:`);
  for (const contender of contenders) {
    const imports = samples.get(contender.name)!;
    const walls = wall.get(contender.name)!.slice(warmups);
    context.note(`  ${contender.name.padEnd(22)} import ${spread(imports, formatNs)}   process ${spread(walls, formatNs)}`);
  }
  const ours = median(samples.get(root.name)!);
  context.note(
    `root over its peers: +${formatMs((ours - peer) / 1e6)}, ratio ${formatRatio(ours / peer)} (target ≤ ${TARGET_RATIO}); ` +
      'every process checked: neither piscina nor undici loaded',
  );
  context.bench({ case: 'startup.import', ours, peer, peerName: baseline.name, unit: 'ns' });
  for (const subpath of subpaths) {
    context.bench({
      case: `startup.import.${subpath.name.slice('overseer/'.length)}`,
      ours: median(samples.get(subpath.name)!),
      peer,
      peerName: baseline.name,
      unit: 'ns',
    });
  }
}

export default defineSuite({
  name: 'startup',
  description: 'time to import the package root (and each subpath) in a fresh process, vs importing xstate and rxjs alone',
  async run(context) {
    if (process.env[BUILD_ENV]) return measure(context);
    context.note('--source: measuring a tsc build of src/ made for this suite (tsx compile time is no startup cost users pay)');
    const build = await buildOverseer();
    if (!build.ok) {
      context.skip('startup', `no tsc build of src/: ${build.reason}`);
      return;
    }
    process.env[BUILD_ENV] = build.dir;
    try {
      await measure(context);
    } finally {
      delete process.env[BUILD_ENV];
      await build.dispose();
    }
  },
});
