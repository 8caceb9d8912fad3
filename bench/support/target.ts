/**
 * Which overseer the suites measure.
 *
 * By default `run.ts` compiles src/ with tsc (tsconfig.build.json, as `npm run build` ships it)
 * into a temporary directory under `.bench-tmp/` and tells each suite process where through
 * OVERSEER_BENCH_BUILD. `--source` measures src/ as tsx loads it instead: tsx compiles with
 * esbuild's keepNames, which wraps every closure in a `__name()` call (Object.defineProperty on
 * each new function) and makes the retained closures larger, so per-call figures come out ~25 %
 * slower and per-child memory ~1 KB larger than what users run.
 *
 * Suites get the package through {@link loadOverseer} and import only types from src/.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as OverseerModule from '../../src/index.js';

export type Overseer = typeof OverseerModule;

/** The environment variable naming the compiled build a suite process should load. */
export const BUILD_ENV = 'OVERSEER_BENCH_BUILD';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The package the suite measures, and a line saying which one it is. */
export async function loadOverseer(): Promise<{ overseer: Overseer; description: string }> {
  const build = process.env[BUILD_ENV];
  if (build) {
    const overseer = (await import(pathToFileURL(buildEntry(build)).href)) as Overseer;
    return { overseer, description: `tsc build of src/ (${relative(repoRoot, build)})` };
  }
  const overseer = await import('../../src/index.js');
  return { overseer, description: 'src/ through tsx (esbuild keepNames: a __name() call per closure; slower than the tsc build)' };
}

/**
 * The compiled package entry of a build: `index.js` when tsconfig.build.json has `rootDir: "src"`,
 * `src/index.js` when it has `rootDir: "."` (src/ and supervisors/ side by side).
 */
function buildEntry(dir: string): string {
  const flat = join(dir, 'index.js');
  return existsSync(flat) ? flat : join(dir, 'src', 'index.js');
}

/**
 * The compiled counterpart of a repository module in the build this suite process was given
 * (e.g. `'supervisors/backend.ts'` → `<build>/supervisors/backend.js`), or undefined when there is
 * no build (`--source`, or tsc failed) or the build does not contain it (a `rootDir: "src"` build
 * holds src/ only). A compiled module importing `../src/index.js` gets the same instance as
 * {@link loadOverseer}.
 */
export function builtModule(repoPath: string): string | undefined {
  const build = process.env[BUILD_ENV];
  if (!build) return undefined;
  const compiled = repoPath.replace(/\.(m?)ts$/, '.$1js');
  const rootIsRepo = !existsSync(join(build, 'index.js'));
  const path = rootIsRepo ? join(build, compiled) : compiled.startsWith('src/') ? join(build, compiled.slice('src/'.length)) : undefined;
  return path !== undefined && existsSync(path) ? path : undefined;
}

export type Build = { ok: true; dir: string; dispose(): Promise<void> } | { ok: false; reason: string };

/** Compiles src/ with tsc into `.bench-tmp/build-XXXXXX/` (JavaScript only). Never throws. */
export async function buildOverseer(): Promise<Build> {
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return { ok: false, reason: `${relative(repoRoot, tsc)} not found (npm install)` };
  const parent = join(repoRoot, '.bench-tmp');
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'build-'));
  const dispose = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    await rmdir(parent).catch(() => undefined); // only when no other run is using it
  };
  const args = [
    tsc,
    '-p',
    join(repoRoot, 'tsconfig.build.json'),
    '--outDir',
    dir,
    '--declaration',
    'false',
    '--declarationMap',
    'false',
    '--sourceMap',
    'false',
  ];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    let output = '';
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (exit) => resolve({ code: exit, output }));
  });
  // tsc emits despite type errors; a build whose entry exists is usable, but say so.
  if (!existsSync(buildEntry(dir))) {
    await dispose();
    return { ok: false, reason: `tsc failed (exit ${code}): ${output.trim().split('\n').slice(0, 5).join(' | ')}` };
  }
  if (code !== 0) {
    process.stdout.write(`WARN tsc reported errors in src/; measuring what it emitted anyway: ${output.trim().split('\n')[0] ?? ''}\n`);
  }
  return { ok: true, dir, dispose };
}
