/**
 * The package as a user gets it: `npm pack` run in a copy of the checkout (what a fresh clone
 * holds: tracked and untracked-but-not-ignored files, so no dist/ and no node_modules/), then the
 * tarball installed with npm into temporary consumer projects. Nothing here touches the network
 * or the checkout: the copy's node_modules is a link to the checkout's (for tsc in `prepack`),
 * and the consumers install offline, their other packages linked from the checkout's node_modules.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTarball, type TarballFile } from './tarball.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** What a finished child process said. */
export interface ProcessOutcome {
  /** The exit code, or `null` when it was killed (by its timeout, or a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** A failed command as an error message: the command, how it ended and the end of its output. */
export function describeOutcome(what: string, outcome: ProcessOutcome): string {
  const end = outcome.timedOut ? 'timed out' : `exited with ${outcome.code}`;
  const output = `${outcome.stdout}\n${outcome.stderr}`.trim().split('\n').slice(-40).join('\n');
  return `${what} ${end}${output ? `:\n${output}` : ''}`;
}

/**
 * The environment for a nested npm: without the `npm_*` variables of the npm that runs the specs
 * (`npm test` sets the package's name, scripts and config there), as a user's shell would be.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const keep = !name.toLowerCase().startsWith('npm_') || /^npm_config_(cache|userconfig)$/i.test(name);
    if (keep && name !== 'INIT_CWD') env[name] = value;
  }
  env.npm_config_update_notifier = 'false';
  return env;
}

/** Runs npm: the npm CLI that runs these specs when there is one, else `npm` on the PATH. */
export function runNpm(args: readonly string[], cwd: string, timeoutMs: number): Promise<ProcessOutcome> {
  const cli = process.env.npm_execpath;
  const env = npmEnvironment();
  if (cli !== undefined && /npm-cli\.c?js$/.test(cli)) return runProcess(process.execPath, [cli, ...args], { cwd, timeoutMs, env });
  return runProcess('npm', args, { cwd, timeoutMs, env });
}

/** The files of a fresh clone of the checkout, relative to it: tracked and untracked-but-not-ignored. */
async function cloneFiles(): Promise<string[] | undefined> {
  const listed = await runProcess('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, timeoutMs: 30_000 });
  if (listed.code !== 0) return undefined;
  return listed.stdout.split('\0').filter((path) => path !== '' && existsSync(join(repoRoot, path)) && lstatSync(join(repoRoot, path)).isFile());
}

/** Outside git: everything but what .gitignore names (build output, dependencies, scratch). */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'coverage', '.bench-tmp', '.scratch', '.vitest-results.json']);

/** Copies what a fresh clone of the checkout would hold into `target`. */
async function copyClone(target: string): Promise<void> {
  const files = await cloneFiles();
  if (files === undefined) {
    for (const entry of readdirSync(repoRoot)) {
      if (NOT_IN_A_CLONE.has(entry) || entry.endsWith('.log')) continue;
      cpSync(join(repoRoot, entry), join(target, entry), { recursive: true, filter: (source) => lstatSync(source).isFile() || lstatSync(source).isDirectory() });
    }
    return;
  }
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(target, file));
  }
}

/** The package.json fields these specs read. */
export interface Manifest {
  name: string;
  version: string;
  type?: string;
  exports?: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  engines?: Record<string, string>;
}

/** A packed tarball and what it holds. */
export interface PackedPackage {
  /** The temporary directory holding everything below; removed by {@link PackedPackage.dispose}. */
  readonly workDir: string;
  /** The copy of the checkout `npm pack` ran in (its dist/ is what `prepack` built). */
  readonly sourceDir: string;
  readonly tarball: string;
  readonly files: readonly TarballFile[];
  readonly manifest: Manifest;
  dispose(): void;
}

/**
 * Copies the checkout as a fresh clone holds it and runs `npm pack` there, `prepack` (the build)
 * included. Rejects with npm's output when packing fails.
 */
export async function packFreshClone(): Promise<PackedPackage> {
  const workDir = mkdtempSync(join(tmpdir(), 'overseer-package-'));
  const dispose = (): void => rmSync(workDir, { recursive: true, force: true });
  try {
    const sourceDir = join(workDir, 'clone');
    const packDir = join(workDir, 'packed');
    mkdirSync(sourceDir);
    mkdirSync(packDir);
    await copyClone(sourceDir);
    symlinkSync(join(repoRoot, 'node_modules'), join(sourceDir, 'node_modules'), 'dir');
    const packed = await runNpm(['pack', '--pack-destination', packDir, '--no-audit', '--no-fund'], sourceDir, 180_000);
    const tarballs = readdirSync(packDir).filter((file) => file.endsWith('.tgz'));
    if (packed.code !== 0 || tarballs.length !== 1) throw new Error(describeOutcome('npm pack', packed));
    const tarball = join(packDir, tarballs[0]!);
    const files = readTarball(readFileSync(tarball));
    const manifestFile = files.find((file) => file.path === 'package.json');
    if (!manifestFile) throw new Error(`${tarball} holds no package.json`);
    const manifest = JSON.parse(manifestFile.contents.toString('utf8')) as Manifest;
    return { workDir, sourceDir, tarball, files, manifest, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/** A consumer project with the tarball installed. */
export interface Consumer {
  readonly dir: string;
  /** Runs `node <args>` in the project. */
  node(args: readonly string[], timeoutMs?: number): Promise<ProcessOutcome>;
  /** Runs the project's TypeScript compiler (`tsc -p <project>`; link `typescript` to have one). */
  tsc(project: string, timeoutMs?: number): Promise<ProcessOutcome>;
}

/**
 * Creates `<packed.workDir>/<name>` with `files` written into it and installs, with
 * `npm install --offline`, the tarball and `links`: packages of the checkout's node_modules
 * (name → dependency type), linked as `file:` dependencies the way a registry install would
 * put them beside the tarball. piscina and undici, the package's own dependencies, must be
 * among them: installing offline, npm can take them from nowhere else.
 */
export async function installConsumer(
  packed: PackedPackage,
  name: string,
  links: Readonly<Record<string, 'dependencies' | 'devDependencies'>>,
  files: Readonly<Record<string, string>>,
): Promise<Consumer> {
  const dir = join(packed.workDir, name);
  mkdirSync(dir);
  const manifest: Record<string, unknown> = {
    name: `overseer-${name}`,
    private: true,
    type: 'module',
    dependencies: { [packed.manifest.name]: `file:${packed.tarball}` } as Record<string, string>,
    devDependencies: {} as Record<string, string>,
  };
  for (const [linked, kind] of Object.entries(links)) {
    (manifest[kind] as Record<string, string>)[linked] = `file:${join(repoRoot, 'node_modules', linked)}`;
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [file, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), contents);
  }
  const installed = await runNpm(
    ['install', '--offline', '--install-links=false', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    dir,
    120_000,
  );
  if (installed.code !== 0) throw new Error(describeOutcome(`npm install --offline in ${dir}`, installed));
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  return {
    dir,
    node: (args, timeoutMs = 60_000) => runProcess(process.execPath, args, { cwd: dir, timeoutMs }),
    tsc: (project, timeoutMs = 120_000) => runProcess(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: dir, timeoutMs }),
  };
}
