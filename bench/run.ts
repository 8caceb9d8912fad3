/**
 * The benchmark runner behind `npm run bench` (`node --expose-gc --import tsx bench/run.ts`).
 *
 *   npm run bench                         every suite
 *   npm run bench -- supervisor           one suite (several names may be given)
 *   npm run bench -- supervisor --quick   fewer measured iterations; each suite stays under 30 s
 *   npm run bench -- --list               the suites found
 *   npm run bench -- --source             measure src/ as tsx loads it, not the tsc build
 *
 * A suite is the default export of `bench/<name>.bench.ts` (see `bench/support/suite.ts`); they are
 * discovered by that file pattern. Each suite runs in its own node process (fresh heap and JIT,
 * `--expose-gc` always on), one after another. The overseer they measure is src/ compiled by tsc
 * into `.bench-tmp/` for the run, as `npm run build` ships it (see `bench/support/target.ts`). Output: one `BENCH {json}` line per comparison
 * (see `bench/support/report.ts`), `SKIP` lines, and indented context lines.
 * Exit code: 0 when every selected suite completed, 1 when one failed, 2 on a usage error.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatMs } from './support/format.js';
import { Reporter, writeLine } from './support/report.js';
import { isSuite, type SuiteContext } from './support/suite.js';
import { BUILD_ENV, buildOverseer } from './support/target.js';
import { nowNs } from './support/timing.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const runnerPath = fileURLToPath(import.meta.url);
const SUITE_SUFFIX = '.bench.ts';
/** Suites run in this order when present; any other suite found runs after them, by name. */
const PREFERRED_ORDER = ['supervisor', 'breaker', 'limiter', 'pool', 'service'];
const QUICK_BUDGET_MS = 30_000;
const CHILD_FLAG = '--run-suite';

/** Every `bench/<name>.bench.ts`, as name → path, in run order. */
function discoverSuites(): Map<string, string> {
  const names = readdirSync(benchDir)
    .filter((file) => file.endsWith(SUITE_SUFFIX))
    .map((file) => basename(file, SUITE_SUFFIX))
    .sort((a, b) => {
      const rank = (name: string): number => {
        const index = PREFERRED_ORDER.indexOf(name);
        return index === -1 ? PREFERRED_ORDER.length : index;
      };
      return rank(a) - rank(b) || a.localeCompare(b);
    });
  return new Map(names.map((name) => [name, join(benchDir, `${name}${SUITE_SUFFIX}`)]));
}

interface Options {
  quick: boolean;
  list: boolean;
  help: boolean;
  source: boolean;
  suites: string[];
  child: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, list: false, help: false, source: false, suites: [], child: undefined };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === '--quick' || arg === '-q') options.quick = true;
    else if (arg === '--list') options.list = true;
    else if (arg === '--source') options.source = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === CHILD_FLAG) options.child = argv[++index];
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else options.suites.push(arg);
  }
  return options;
}

class UsageError extends Error {}

const USAGE = `usage: npm run bench [-- [suite ...] [--quick] [--list]]
  suite     run only these suites (default: all of bench/*${SUITE_SUFFIX})
  --quick   fewer measured iterations; every case still runs, each suite under 30 s
  --list    print the suites found and exit
  --source  measure src/ as tsx loads it instead of a tsc build of it`;

/** Child mode: imports one suite and runs it in this process. */
async function runSuiteHere(name: string, path: string, quick: boolean): Promise<void> {
  const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  const suite = module.default;
  if (!isSuite(suite)) throw new Error(`${path} must default-export a suite (see bench/support/suite.ts)`);
  if (suite.name !== name) throw new Error(`${path} exports suite '${suite.name}', expected '${name}'`);
  const reporter = new Reporter(name);
  const context: SuiteContext = {
    quick,
    bench: (comparison) => reporter.bench(comparison),
    note: (message) => reporter.note(message),
    skip: (what, reason) => reporter.skip(what, reason),
  };
  await suite.run(context);
}

/** Runs one suite in a fresh node process with the same loader flags plus --expose-gc. */
function runSuiteInChild(name: string, quick: boolean, env: NodeJS.ProcessEnv): Promise<number> {
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : ['--expose-gc', ...process.execArgv];
  const args = [...execArgv, runnerPath, CHILD_FLAG, name, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env });
    child.on('error', (error) => {
      writeLine(`ERROR suite ${name}: could not start node: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const suites = discoverSuites();

  if (options.child !== undefined) {
    const path = suites.get(options.child);
    if (!path) throw new Error(`no suite named '${options.child}'`);
    await runSuiteHere(options.child, path, options.quick);
    return 0;
  }
  if (options.help) {
    writeLine(USAGE);
    return 0;
  }
  if (options.list) {
    for (const name of suites.keys()) writeLine(name);
    return 0;
  }
  const unknown = options.suites.filter((name) => !suites.has(name));
  if (unknown.length > 0) {
    process.stderr.write(
      `no such suite: ${unknown.join(', ')} (expected bench/<name>${SUITE_SUFFIX}); found: ${[...suites.keys()].join(', ') || 'none'}\n`,
    );
    return 2;
  }
  const selected = options.suites.length > 0 ? [...new Set(options.suites)] : [...suites.keys()];
  if (selected.length === 0) {
    writeLine(`no suites found in ${benchDir} (bench/<name>${SUITE_SUFFIX})`);
    return 0;
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[BUILD_ENV];
  let disposeBuild: (() => Promise<void>) | undefined;
  let target = 'src/ through tsx (--source)';
  if (!options.source) {
    const build = await buildOverseer();
    if (build.ok) {
      env[BUILD_ENV] = build.dir;
      disposeBuild = build.dispose;
      target = 'tsc build of src/';
    } else {
      writeLine(`WARN could not build src/ with tsc, measuring src/ through tsx instead: ${build.reason}`);
    }
  }
  const onSignal = (): void => {
    void (disposeBuild?.() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);

  writeLine(
    `# overseer bench: ${selected.join(', ')}${options.quick ? ' (quick)' : ''} on node ${process.version}, ${process.platform}/${process.arch}; overseer: ${target}`,
  );
  const failed: string[] = [];
  try {
    for (const name of selected) {
      writeLine(`# suite ${name}`);
      const started = nowNs();
      const code = await runSuiteInChild(name, options.quick, env);
      const elapsedMs = (nowNs() - started) / 1e6;
      if (code !== 0) {
        failed.push(name);
        writeLine(`ERROR suite ${name} failed (exit ${code}) after ${formatMs(elapsedMs)}`);
        continue;
      }
      writeLine(`# suite ${name} done in ${formatMs(elapsedMs)}`);
      if (options.quick && elapsedMs > QUICK_BUDGET_MS) {
        writeLine(`WARN suite ${name} took ${formatMs(elapsedMs)} with --quick (budget ${formatMs(QUICK_BUDGET_MS)})`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    await disposeBuild?.();
  }
  if (failed.length > 0) {
    writeLine(`# failed: ${failed.join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // A suite may leave unref'd timers or handles; the runner never waits on them.
    if (process.argv.includes(CHILD_FLAG)) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
