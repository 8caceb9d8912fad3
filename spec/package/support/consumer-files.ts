/**
 * The sources of the consumer projects, as a user of the published package would write them
 * (they import `overseer`, never a path into this checkout). Kept as text, not files under spec/,
 * because the checkout's own typecheck would resolve `overseer` to its own dist/.
 */

/**
 * `node --import ./record-resolutions.mjs …` registers {@link resolutionHooks}: every module the
 * ESM loader resolves in the process is appended to `resolutions-<pid>.log` beside it.
 */
const recordResolutions = `import { register } from 'node:module';
register('./resolution-hooks.mjs', import.meta.url);
`;

/** Loader hooks (they run on the loader's thread, hence a file as the channel). */
const resolutionHooks = `import { appendFileSync } from 'node:fs';
const log = new URL(\`./resolutions-\${process.pid}.log\`, import.meta.url);
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(log, \`\${resolved.url}\\n\`);
  return resolved;
}
`;

/**
 * \`node --import ./record-resolutions.mjs probe.mjs <specifier>\`: imports the specifier after
 * the peers (a consumer has loaded xstate and rxjs already; what is measured is the package's own
 * effect) and prints, as JSON: the names it exports; every module the process resolved (ESM) or
 * required (CommonJS); every property of a global object, every process listener count and every
 * active handle that differs from before the import; and RxJS's \`config.onUnhandledError\`.
 */
const probe = `import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { config } from 'rxjs';
import 'xstate';

const watched = {
  globalThis, process, 'process.env': process.env, Object, 'Object.prototype': Object.prototype,
  Function, 'Function.prototype': Function.prototype, 'Array.prototype': Array.prototype,
  Promise, 'Promise.prototype': Promise.prototype, Error, 'Error.prototype': Error.prototype, Symbol,
  'Map.prototype': Map.prototype, 'Set.prototype': Set.prototype, AbortSignal,
  'AbortSignal.prototype': AbortSignal.prototype, 'EventTarget.prototype': EventTarget.prototype,
  EventEmitter, 'EventEmitter.prototype': EventEmitter.prototype, 'rxjs config': config,
};

function snapshot() {
  const state = new Map();
  for (const [name, target] of Object.entries(watched)) {
    for (const key of Reflect.ownKeys(target)) {
      const { value, get, set, writable, enumerable, configurable } = Reflect.getOwnPropertyDescriptor(target, key);
      state.set(\`\${name}[\${String(key)}]\`, [value, get, set, writable, enumerable, configurable]);
    }
  }
  for (const event of process.eventNames()) state.set(\`process listeners of \${String(event)}\`, [process.listenerCount(event)]);
  state.set('EventEmitter.defaultMaxListeners', [EventEmitter.defaultMaxListeners]);
  state.set('active resources', [process.getActiveResourcesInfo().sort().join(',')]);
  return state;
}

// Node defines most web globals (AbortController, TextEncoder, ...) as getters that replace
// themselves with a plain value on first read: read them all now, or a package that merely uses
// one would look as if it had changed a global.
for (const key of Reflect.ownKeys(globalThis)) {
  if (Reflect.getOwnPropertyDescriptor(globalThis, key)?.get) Reflect.get(globalThis, key);
}
const settle = () => new Promise((resolve) => setImmediate(resolve));
await settle();
const before = snapshot();
const namespace = await import(process.argv[2]);
await settle();
const after = snapshot();
const changed = [...new Set([...before.keys(), ...after.keys()])].filter((key) => {
  const was = before.get(key);
  const is = after.get(key);
  return !was || !is || was.some((part, index) => !Object.is(part, is[index]));
});
console.log(JSON.stringify({
  names: Object.keys(namespace).sort(),
  resolved: readFileSync(new URL(\`./resolutions-\${process.pid}.log\`, import.meta.url), 'utf8').split('\\n').filter(Boolean),
  required: Object.keys(createRequire(import.meta.url).cache),
  changed,
  onUnhandledError: config.onUnhandledError,
}));
`;

/** \`node deep-import.mjs <specifier>\`: prints the error code importing it fails with, or 'imported'. */
const deepImport = `try {
  await import(process.argv[2]);
  console.log('imported');
} catch (error) {
  console.log(error.code);
}
`;

/**
 * \`node require.cjs '<json list of specifiers>'\`: CommonJS requiring each (require(esm)), printing
 * its names and whether it is the very module object \`import()\` gives.
 */
const requireEntries = `'use strict';
async function main() {
  const report = { requireModule: process.features.require_module === true, names: {}, sameAsImport: {} };
  for (const specifier of JSON.parse(process.argv[2])) {
    const required = require(specifier);
    report.names[specifier] = Object.keys(required).sort();
    report.sameAsImport[specifier] = required === (await import(specifier));
  }
  const { ConfigError, isConfigError, createBreaker } = require('overseer');
  try {
    createBreaker({ name: 'x', resetMs: -1 });
  } catch (error) {
    report.error = { configError: error instanceof ConfigError, guard: isConfigError(error), option: error.option };
  }
  report.version = require('overseer/package.json').version;
  console.log(JSON.stringify(report));
}
main();
`;

/** The task module of the thread pool the pools check runs. */
const square = `export default function square(n) {
  return n * n;
}
`;

/**
 * \`node pools.mjs\`: a thread pool and an HTTP pool of the installed package, doing one task each;
 * prints which of piscina and undici were loaded before first use, after the thread pool and after
 * the HTTP pool, and what the two returned.
 */
const pools = `import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createHttpPool } from 'overseer/http';
import { createThreadPool } from 'overseer/threads';

const cache = createRequire(import.meta.url).cache;
const loaded = () => ['piscina', 'undici'].filter((name) => Object.keys(cache).some((path) => path.includes(\`/node_modules/\${name}/\`)));
const report = { beforeUse: loaded() };
const threads = createThreadPool({ name: 'square', filename: new URL('./square.mjs', import.meta.url), maxThreads: 1 });
report.squared = await threads.run(12);
await threads.stop();
report.afterThreadPool = loaded();
const server = createServer((request, response) => response.end(\`pong \${request.url}\`)).listen(0, '127.0.0.1');
await once(server, 'listening');
const http = await createHttpPool({ name: 'local', origin: \`http://127.0.0.1:\${server.address().port}\`, size: 1 });
const response = await http.request({ path: '/ping' });
report.response = { status: response.statusCode, body: response.text() };
await http.stop();
server.close();
report.afterHttpPool = loaded();
console.log(JSON.stringify(report));
`;

/**
 * The supervision example (run after tsc compiles it): a one_for_one supervisor with one XState
 * worker that crashes on 'crash'; the crash is an 'error' exit, the worker is restarted, then
 * the tree stops as its \`await using\` scope ends.
 */
const supervise = `import { createActor, setup } from 'xstate';
import { firstValueFrom } from 'rxjs';
import { createTelemetry, startSupervisor } from 'overseer';

const worker = setup({ actions: { crash: () => { throw new Error('boom'); } } }).createMachine({
  initial: 'working',
  states: { working: { on: { crash: { actions: 'crash' } } } },
});
const telemetry = createTelemetry();
telemetry.select('supervisor').subscribe(({ name, metadata }) => console.log(name, metadata.child ?? '-', metadata.reason ?? '-'));

{
  await using app = await startSupervisor(
    { strategy: 'one_for_one', intensity: 3, period: 5_000, children: [{ id: 'worker', start: ({ clock }) => createActor(worker, { clock }) }] },
    { id: 'app', telemetry },
  );
  const restarted = firstValueFrom(telemetry.select('supervisor.child.restarted'));
  app.whichChildren()[0]?.ref?.send({ type: 'crash' });
  console.log('restarts', (await restarted).measurements.restarts, 'running', app.countChildren().active);
}
console.log('stopped');
`;

/**
 * Every entry point used with its real types, including the optional peers' own objects (an
 * OpenTelemetry \`Meter\`, a prom-client \`Registry\`). Type-checked, never run.
 */
const consumeEverything = `import { metrics } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { createActor, createMachine } from 'xstate';
import {
  createBreaker,
  createRateLimiter,
  isConfigError,
  startSupervisor,
  telemetry,
  type BreakerState,
  type Decision,
  type Supervisor,
} from 'overseer';
import { createHttpPool, type HttpResponse } from 'overseer/http';
import { bridgeToOpenTelemetry } from 'overseer/opentelemetry';
import { bridgeToPromClient } from 'overseer/prom-client';
import { createThreadPool, type ThreadPool } from 'overseer/threads';

export async function consumeEverything(): Promise<string> {
  await using supervisor: Supervisor = await startSupervisor({ children: [{ id: 'idle', start: () => createActor(createMachine({})) }] });
  const breaker = createBreaker({ name: 'upstream', resetMs: 1_000 });
  const state: BreakerState = breaker.state();
  const decision: Decision = createRateLimiter({ name: 'api', limit: 10, windowMs: 1_000 }).hitSync('client');
  const waitMs: number = decision.allowed ? 0 : decision.retryAfterMs;
  await using threads: ThreadPool<number, number> = createThreadPool<number, number>({ name: 'cpu', filename: new URL('./square.mjs', import.meta.url) });
  const squared: number = await threads.run(3);
  await using http = await createHttpPool({ name: 'api', origin: 'http://127.0.0.1:8080' });
  const response: HttpResponse = await http.request({ path: '/health' });
  const otel = bridgeToOpenTelemetry(telemetry.events$, metrics.getMeter('overseer'));
  const prom = bridgeToPromClient(telemetry.events$, new Registry());
  otel.stop();
  prom.stop();
  try {
    createBreaker({ name: 'bad', resetMs: -1 });
  } catch (error) {
    if (isConfigError(error)) return error.option;
  }
  // @ts-expect-error a strategy OTP does not have is a type error
  await startSupervisor({ strategy: 'one_for_none', children: [] });
  return [supervisor.id, state, waitMs, squared, response.statusCode].join(' ');
}

// @ts-expect-error a module inside the package that its exports map does not name is not importable
export type Internal = typeof import('overseer/dist/supervisor/index.js');
`;

/** Only the root and only the required peers' types: what a consumer without the optional peers writes. */
const consumeRoot = `import { createActor, createMachine } from 'xstate';
import { createBreaker, startSupervisor, type Supervisor } from 'overseer';

export async function consumeRoot(): Promise<string> {
  await using supervisor: Supervisor = await startSupervisor({ children: [{ id: 'idle', start: () => createActor(createMachine({})) }] });
  return \`\${supervisor.id} \${createBreaker({ name: 'upstream' }).state()}\`;
}
`;

/** A strict consumer tsconfig; \`skipLibCheck\` off (TypeScript's default) so the package's declarations are checked too. */
function tsconfig(compilerOptions: Record<string, unknown>, files: string[]): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'ESNext.Disposable'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        ...compilerOptions,
      },
      files,
    },
    null,
    2,
  )}\n`;
}

const runtimeChecks = {
  'record-resolutions.mjs': recordResolutions,
  'resolution-hooks.mjs': resolutionHooks,
  'probe.mjs': probe,
  'deep-import.mjs': deepImport,
  'require.cjs': requireEntries,
};

/** The consumer with every peer installed, optional ones included. */
export const fullConsumerFiles: Readonly<Record<string, string>> = {
  ...runtimeChecks,
  'square.mjs': square,
  'pools.mjs': pools,
  'supervise.ts': supervise,
  'consume-everything.ts': consumeEverything,
  // node16 emits: the supervision example runs from out/.
  'tsconfig.node16.json': tsconfig({ module: 'node16', moduleResolution: 'node16', outDir: 'out' }, ['supervise.ts', 'consume-everything.ts']),
  'tsconfig.bundler.json': tsconfig({ module: 'esnext', moduleResolution: 'bundler', noEmit: true }, ['supervise.ts', 'consume-everything.ts']),
};

/** The consumer with only the required peers (xstate, rxjs) installed. */
export const bareConsumerFiles: Readonly<Record<string, string>> = {
  ...runtimeChecks,
  'consume-root.ts': consumeRoot,
  'tsconfig.json': tsconfig({ module: 'node16', moduleResolution: 'node16', noEmit: true }, ['consume-root.ts']),
};
