import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bareConsumerFiles, fullConsumerFiles } from './support/consumer-files.js';
import {
  describeOutcome,
  installConsumer,
  packFreshClone,
  repoRoot,
  runProcess,
  type Consumer,
  type PackedPackage,
  type ProcessOutcome,
} from './support/packed-package.js';

// Real things started: npm pack in a copy of the checkout (prepack runs tsc), npm install
// --offline into two temporary consumer projects, node and tsc processes in them; about a minute.
// Proves the package as users get it: what the tarball holds, publint and attw on it, ESM
// import and CommonJS require() of every entry point, a TypeScript consumer under node16 and
// bundler resolution, and the supervision example compiled and run.

/** Entry points and the source module each is built from. */
const ENTRIES = [
  { specifier: 'overseer', subpath: '.', source: () => import('../../src/index.js') },
  { specifier: 'overseer/threads', subpath: './threads', source: () => import('../../src/threads.js') },
  { specifier: 'overseer/http', subpath: './http', source: () => import('../../src/http.js') },
  { specifier: 'overseer/opentelemetry', subpath: './opentelemetry', source: () => import('../../src/opentelemetry.js') },
  { specifier: 'overseer/prom-client', subpath: './prom-client', source: () => import('../../src/prom-client.js') },
  { specifier: 'overseer/observer', subpath: './observer', source: () => import('../../src/observer.js') },
] as const;
const SPECIFIERS = ENTRIES.map((entry) => entry.specifier);

/** Generous: the specs run beside the whole suite on two cores. */
const PROCESS_TIMEOUT_MS = 120_000;
const TSC_TIMEOUT_MS = 180_000;

/** Packages the root (and every subpath) must not load when imported. */
const HEAVY = /[\\/]node_modules[\\/](piscina|undici|ioredis|redis|@redis[\\/][^\\/]+|pg|pg-pool|mysql2?|mongodb|better-sqlite3|@opentelemetry[\\/][^\\/]+|prom-client)[\\/]/;

/** What every consumer has beside the package: the required peers, and its dependencies (which npm would install with it). */
const PEERS_AND_DEPENDENCIES = { xstate: 'dependencies', rxjs: 'dependencies', piscina: 'dependencies', undici: 'dependencies' } as const;
const OPTIONAL_PEERS = { '@opentelemetry/api': 'dependencies', 'prom-client': 'dependencies' } as const;
const TOOLS = { typescript: 'devDependencies', '@types/node': 'devDependencies' } as const;

let packed: PackedPackage;
/** Every peer installed, optional ones included. */
let full: Consumer;
/** Only the required peers installed. */
let bare: Consumer;

/** Runs once, on first use, shared by the specs that need it (started eagerly in beforeAll). */
function once<T>(run: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= run());
}
const typecheckNode16 = once(() => full.tsc('tsconfig.node16.json'));
const typecheckBundler = once(() => full.tsc('tsconfig.bundler.json'));
const typecheckBare = once(() => bare.tsc('tsconfig.json'));

interface Probe {
  names: string[];
  resolved: string[];
  required: string[];
  changed: string[];
  onUnhandledError: unknown;
}

const probes = new Map<string, Promise<{ report: Probe; outcome: ProcessOutcome }>>();

/**
 * Imports `specifier` in a fresh node process of `consumer` (see probe.mjs), once per consumer
 * and specifier; rejects with the process's output when it fails.
 */
function probe(consumer: Consumer, specifier: string): Promise<{ report: Probe; outcome: ProcessOutcome }> {
  const key = `${consumer.dir}\0${specifier}`;
  let result = probes.get(key);
  if (result === undefined) {
    result = consumer.node(['--import', './record-resolutions.mjs', 'probe.mjs', specifier]).then((outcome) => {
      if (outcome.code !== 0) throw new Error(describeOutcome(`node probe.mjs ${specifier}`, outcome));
      return { report: printedJson<Probe>(`node probe.mjs ${specifier}`, outcome), outcome };
    });
    probes.set(key, result);
  }
  return result;
}

/** The JSON a process printed; throws with its whole output when it printed something else. */
function printedJson<T>(what: string, outcome: ProcessOutcome): T {
  try {
    return JSON.parse(outcome.stdout) as T;
  } catch {
    throw new Error(describeOutcome(`${what} printed no JSON;`, outcome));
  }
}

/** The diagnostics of a tsc run: its output when it failed, '' when it passed. */
function diagnostics(outcome: ProcessOutcome): string {
  return outcome.code === 0 ? '' : describeOutcome('tsc', outcome);
}

beforeAll(async () => {
  packed = await packFreshClone();
  [full, bare] = await Promise.all([
    installConsumer(packed, 'consumer-full', { ...PEERS_AND_DEPENDENCIES, ...OPTIONAL_PEERS, ...TOOLS }, fullConsumerFiles),
    installConsumer(packed, 'consumer-bare', { ...PEERS_AND_DEPENDENCIES, ...TOOLS }, bareConsumerFiles),
  ]);
  // Slow and independent: start them now, the specs below await them.
  void typecheckNode16();
  void typecheckBundler();
  void typecheckBare();
}, 300_000);

afterAll(async () => {
  if (!packed) return;
  // The tsc runs beforeAll started finish before their directory goes.
  if (full && bare) await Promise.allSettled([typecheckNode16(), typecheckBundler(), typecheckBare()]);
  packed.dispose();
});

describe('npm pack from a fresh clone', () => {
  it('ships only the library: dist/, README.md, LICENSE, CHANGELOG.md and package.json', () => {
    const outside = packed.files.map((file) => file.path).filter((path) => !path.startsWith('dist/'));
    expect(outside.sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
  });

  it('dist/ holds exactly the compiled modules of src/ (JavaScript and declarations), no spec, worker, map or stale file', () => {
    const shipped = packed.files.map((file) => file.path).filter((path) => path.startsWith('dist/')).sort();
    const sources = listSources(join(packed.sourceDir, 'src'));
    const expected = sources
      .flatMap((source) =>
        source.endsWith('.mjs')
          ? [`dist/${source}`, `dist/${source.replace(/\.mjs$/, '.d.mts')}`]
          : [`dist/${source.replace(/\.ts$/, '.js')}`, `dist/${source.replace(/\.ts$/, '.d.ts')}`],
      )
      .sort();
    expect(shipped).toEqual(expected);
  });

  it('declares piscina and undici as dependencies, xstate and rxjs as required peers, @opentelemetry/api and prom-client as optional peers', () => {
    const { manifest } = packed;
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['piscina', 'undici']);
    const peers = Object.keys(manifest.peerDependencies ?? {}).sort();
    const optional = peers.filter((peer) => manifest.peerDependenciesMeta?.[peer]?.optional === true);
    expect(peers).toEqual(['@opentelemetry/api', 'prom-client', 'rxjs', 'xstate']);
    expect(optional).toEqual(['@opentelemetry/api', 'prom-client']);
    expect(manifest.type).toBe('module');
    expect(Object.keys(manifest.exports ?? {}).sort()).toEqual([...ENTRIES.map((entry) => entry.subpath), './package.json'].sort());
  });

  it('every package the shipped JavaScript imports is a Node.js builtin, a dependency or a peer dependency', () => {
    const declared = new Set([...Object.keys(packed.manifest.dependencies ?? {}), ...Object.keys(packed.manifest.peerDependencies ?? {})]);
    const imported = new Map<string, string>();
    for (const file of packed.files.filter((entry) => /\.m?js$/.test(entry.path))) {
      for (const specifier of importedSpecifiers(file.contents.toString('utf8'))) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        imported.set(name, file.path);
      }
    }
    // The scan sees them all, the lazily required piscina and undici included.
    expect([...imported.keys()]).toEqual(expect.arrayContaining(['xstate', 'rxjs', 'piscina', 'undici']));
    expect([...imported].filter(([name]) => !declared.has(name)).map(([name, file]) => `${name} (${file})`)).toEqual([]);
  });

  it('publint finds nothing to report on the tarball, suggestions included', async () => {
    const { publint } = await import('publint');
    const { formatMessage } = await import('publint/utils');
    const tarball = readFileSync(packed.tarball);
    const result = await publint({
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    expect(result.messages.map((message) => `${message.type}: ${formatMessage(message, result.pkg, { color: false }) ?? message.code}`)).toEqual([]);
  });

  // --profile esm-only: the package is ESM only by design, so attw's node10 resolution (TypeScript's
  // legacy `moduleResolution: node`, which ignores `exports`) and node16-from-CommonJS (which
  // predates require(esm) and reports every ESM-only package) are not checked; node16 from ESM
  // and bundler, the resolutions the package supports, are.
  it('attw (profile esm-only) finds no problem in any entry point under node16 (ESM) and bundler resolution', async () => {
    const attw = join(repoRoot, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const outcome = await runProcess(process.execPath, [attw, packed.tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'json'], {
      cwd: packed.workDir,
      timeoutMs: 120_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const report = printedJson<{
      analysis: { entrypoints: Record<string, unknown> };
      /** Problems by kind. */
      problems: Record<string, { kind: string; entrypoint?: string; resolutionKind?: string }[]>;
    }>('attw', outcome);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...ENTRIES.map((entry) => entry.subpath), './package.json'].sort());
    const problems = Object.values(report.problems).flat();
    const ignored = (problem: (typeof problems)[number]): boolean => problem.resolutionKind === 'node10' || problem.resolutionKind === 'node16-cjs';
    expect(problems.filter((problem) => !ignored(problem))).toEqual([]);
    // What the profile leaves out is only what ESM-only means: no CommonJS types, no subpaths without `exports`.
    const expectedOfEsmOnly = new Set(['CJSResolvesToESM@node16-cjs', 'NoResolution@node10']);
    expect(problems.map((problem) => `${problem.kind}@${problem.resolutionKind}`).filter((kind) => !expectedOfEsmOnly.has(kind))).toEqual([]);
    expect(outcome.code, describeOutcome('attw', outcome)).toBe(0);
  }, PROCESS_TIMEOUT_MS);
});

describe('the installed package imported from ESM', () => {
  it.each(ENTRIES)('$specifier exports the names its source module exports', async ({ specifier, source }) => {
    const { report } = await probe(full, specifier);
    expect(report.names).toEqual(Object.keys(await source()).sort());
  }, PROCESS_TIMEOUT_MS);

  it.each(SPECIFIERS)(
    'importing %s loads neither piscina, undici, a database client, @opentelemetry/api nor prom-client, and changes no global',
    async (specifier) => {
      const { report, outcome } = await probe(full, specifier);
      expect(report.resolved.some((url) => url.includes('/node_modules/overseer/dist/'))).toBe(true);
      expect(report.resolved.filter((url) => HEAVY.test(url))).toEqual([]);
      expect(report.required.filter((path) => HEAVY.test(path))).toEqual([]);
      expect(report.changed).toEqual([]);
      expect(report.onUnhandledError).toBeNull();
      expect(outcome.stderr).toBe('');
    },
    PROCESS_TIMEOUT_MS,
  );

  it.each(SPECIFIERS)('%s imports with the optional peers (@opentelemetry/api, prom-client) not installed', async (specifier) => {
    const { report, outcome } = await probe(bare, specifier);
    expect(report.names.length).toBeGreaterThan(0);
    expect(report.changed).toEqual([]);
    expect(outcome.stderr).toBe('');
  }, PROCESS_TIMEOUT_MS);

  it('a module inside the package that its exports map does not name cannot be imported', async () => {
    for (const specifier of ['overseer/dist/index.js', 'overseer/dist/supervisor/index.js', 'overseer/src/index.ts']) {
      const outcome = await full.node(['deep-import.mjs', specifier]);
      expect(`${specifier}: ${outcome.stdout.trim()}`).toBe(`${specifier}: ERR_PACKAGE_PATH_NOT_EXPORTED`);
    }
  }, PROCESS_TIMEOUT_MS);

  it('a thread pool and an HTTP pool of the installed package load piscina and undici on first use, and work', async () => {
    const outcome = await full.node(['pools.mjs']);
    expect(outcome.code, describeOutcome('node pools.mjs', outcome)).toBe(0);
    expect(printedJson('node pools.mjs', outcome)).toEqual({
      beforeUse: [],
      squared: 144,
      afterThreadPool: ['piscina'],
      response: { status: 200, body: 'pong /ping' },
      afterHttpPool: ['piscina', 'undici'],
    });
  }, PROCESS_TIMEOUT_MS);
});

describe('the installed package required from CommonJS (require(esm), Node.js ≥ 20.19)', () => {
  it('require() gives the root and every subpath, the very module objects import() gives, errors and guards included', async () => {
    const outcome = await full.node(['require.cjs', JSON.stringify(SPECIFIERS)]);
    expect(outcome.code, describeOutcome('node require.cjs', outcome)).toBe(0);
    expect(outcome.stderr).toBe('');
    const report = printedJson<{
      requireModule: boolean;
      names: Record<string, string[]>;
      sameAsImport: Record<string, boolean>;
      error: unknown;
      version: string;
    }>('node require.cjs', outcome);
    expect(report.requireModule).toBe(true);
    for (const { specifier, source } of ENTRIES) {
      expect(report.names[specifier]).toEqual(Object.keys(await source()).sort());
      expect(report.sameAsImport[specifier]).toBe(true);
    }
    expect(report.error).toEqual({ configError: true, guard: true, option: 'resetMs' });
    expect(report.version).toBe(packed.manifest.version);
  }, PROCESS_TIMEOUT_MS);
});

describe('a TypeScript consumer of the installed package (strict, skipLibCheck off)', () => {
  it('type-checks with module and moduleResolution node16', async () => {
    expect(diagnostics(await typecheckNode16())).toBe('');
  }, TSC_TIMEOUT_MS);

  it('type-checks with moduleResolution bundler', async () => {
    expect(diagnostics(await typecheckBundler())).toBe('');
  }, TSC_TIMEOUT_MS);

  it('type-checks against the root with the optional peers (@opentelemetry/api, prom-client) not installed', async () => {
    expect(diagnostics(await typecheckBare())).toBe('');
  }, TSC_TIMEOUT_MS);
});

describe('the supervision example, compiled by tsc (node16) and run by node', () => {
  it('a crashing XState worker is restarted once, then the tree stops as its await using scope ends', async () => {
    expect(diagnostics(await typecheckNode16())).toBe('');
    const outcome = await full.node(['out/supervise.js']);
    expect(outcome.code, describeOutcome('node out/supervise.js', outcome)).toBe(0);
    expect(outcome.stdout.trim().split('\n')).toEqual([
      'supervisor.child.started worker -',
      'supervisor.child.exited worker error',
      'supervisor.child.started worker -',
      'supervisor.child.restarted worker -',
      'restarts 1 running 1',
      'supervisor.child.exited worker shutdown',
      'supervisor.shutdown - stop',
      'stopped',
    ]);
  }, TSC_TIMEOUT_MS);
});

/** The source modules under `dir`, as relative paths with `/`: .ts except specs and declarations, and .mjs. */
function listSources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((path) => path.split('\\').join('/'))
    .filter((path) => (path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts')) || path.endsWith('.mjs'));
}

/**
 * The module specifiers a compiled module imports: static imports and exports, `import()`,
 * `require()` and `require`-like calls (`requireOptional('piscina')`); comments are left out.
 */
function importedSpecifiers(code: string): string[] {
  const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\b[rR]equire\w*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...withoutComments.matchAll(pattern)].map((match) => match[1]!));
}
