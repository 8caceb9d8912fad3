import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The worker entry files (workers/*.mjs) and the thread boundary (src/pool/thread-protocol.ts):
 * the entries conform to the protocol's types, load no library code at run time, and load the same
 * way under vitest (the other specs), `node --import tsx` and the `tsx` CLI that `npm start` uses.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const workersDir = join(root, 'workers');

async function workerEntries(): Promise<string[]> {
  return (await readdir(workersDir)).filter((file) => file.endsWith('.mjs')).map((file) => join(workersDir, file));
}

/** Type errors of JavaScript files checked under `// @ts-check` as strictly as the TypeScript sources. */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    strict: true,
    noUncheckedIndexedAccess: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

describe('worker entry files', () => {
  it('type-check against src/pool/thread-protocol.ts (tsconfig.json does not include .mjs)', async () => {
    const files = await workerEntries();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(typeErrors(files)).toEqual([]);
  }, 30_000);

  it('the pool`s own thread entry (src/pool/thread-entry.mjs) type-checks against the protocol too', () => {
    expect(typeErrors([join(root, 'src', 'pool', 'thread-entry.mjs')])).toEqual([]);
  }, 30_000);

  it('import only node: built-ins at run time, and type the protocol through JSDoc', async () => {
    for (const file of await workerEntries()) {
      const source = await readFile(file, 'utf8');
      const imports = [...source.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1]);
      expect(imports.filter((specifier) => !specifier!.startsWith('node:')), file).toEqual([]);
      expect(source, file).toContain('// @ts-check');
      expect(source, file).toContain("import('../src/pool/thread-protocol.js')");
    }
  });
});

function runScript(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('loading outside vitest', () => {
  const script = (poolIndex: string, workers: string) => `
import { createThreadPool, isWorkerCrashedError } from ${JSON.stringify(poolIndex)};
const cpu = createThreadPool({ name: 'cpu', filename: ${JSON.stringify(join(workers, 'cpu.mjs'))}, minThreads: 1, maxThreads: 1 });
const crash = createThreadPool({ name: 'crash', filename: new URL('crash.mjs', ${JSON.stringify(pathToFileURL(workers + '/').href)}), minThreads: 1, maxThreads: 1 });
const fib = await cpu.run({ kind: 'fib', n: 20 });
const crashed = await crash.run({ kind: 'exit', code: 2 }).then(() => false, (error) => isWorkerCrashedError(error));
const after = await crash.run({ kind: 'value', value: 5 });
await Promise.all([cpu.stop(), crash.stop()]);
console.log('RESULT ' + JSON.stringify({ fib, crashed, after }));
`;

  it.each([
    ['node --import tsx', process.execPath, ['--import', 'tsx']],
    ['the tsx CLI (npm start)', join(root, 'node_modules', '.bin', 'tsx'), []],
  ])('works under %s', async (_, command, flags) => {
    const dir = await mkdtemp(join(tmpdir(), 'overseer-threads-'));
    try {
      const file = join(dir, 'load.mts');
      await writeFile(file, script(pathToFileURL(join(root, 'src', 'pool', 'index.ts')).href, workersDir));
      const { code, output } = await runScript(command, [...flags, file]);
      expect(output).toContain('RESULT {"fib":6765,"crashed":true,"after":5}');
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
