import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Infrastructure } from '../src/index.js';
import type { FlakyUpstream, UpstreamBehaviour } from './flaky-upstream.js';

/**
 * The worker module of the CPU pool when the soak hooks are on: workers/cpu.mjs plus a task that
 * crashes its thread (see soak-cpu-worker.mjs).
 */
export const soakCpuWorker = new URL('./soak-cpu-worker.mjs', import.meta.url);

/** The task of {@link soakCpuWorker} that ends its thread with `process.exit(70)`. */
interface SoakCrashTask {
  kind: 'soak-crash';
}

/** Percentiles of event-loop delay, in ms. */
export interface EventLoopDelayFigures {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Delays recorded (one per 10 ms timer turn, fewer when the loop is blocked). */
  count: number;
}

/** What `GET /soak/sample` answers: the back end's process seen from inside. */
export interface SoakSample {
  /** `process.uptime()` in ms. */
  uptimeMs: number;
  /** `process.cpuUsage()`: CPU time of the process since it started (all threads), µs. */
  cpuUsage: NodeJS.CpuUsage;
  /** `process.memoryUsage()` before any forced collection, bytes. */
  memory: NodeJS.MemoryUsage;
  /** `heapUsed` and `rss` right after a full collection (`?gc=1` and `--expose-gc`), else `null`. */
  afterGc: { heapUsed: number; rss: number; gcMs: number } | null;
  /** `process.getActiveResourcesInfo().length`: handles and requests keeping the loop alive, timers included. */
  activeResources: number;
  /** The same, counted by type (`TCPSocketWrap`, `Timeout`, `FSReqCallback` …). */
  resourcesByType: Record<string, number>;
  /** Event-loop delay (`monitorEventLoopDelay`, 10 ms resolution) since the previous sample, and since `?reset=1`. */
  eventLoopDelay: { window: EventLoopDelayFigures; total: EventLoopDelayFigures };
  /** Open sockets: the back end's HTTP server (this request's included), the in-process upstream's server. */
  sockets: { server: number; upstream: number };
  /** The upstream breaker's state and the CPU thread pool's status, for context. */
  breaker: string;
  threadPool: unknown;
  upstream: UpstreamBehaviour;
}

/** The opt-in routes the soak harness (bench/soak/) drives; see {@link startSoakHooks}. */
export interface SoakHooks {
  /** Answers a request under `/soak/`. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): void;
  /** Stops the event-loop delay monitors. */
  stop(): void;
}

/** What {@link startSoakHooks} reads and drives. */
export interface SoakHooksOptions {
  infra: Infrastructure;
  upstream: FlakyUpstream;
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

function figures(histogram: IntervalHistogram): EventLoopDelayFigures {
  if (histogram.count === 0) return { p50: 0, p99: 0, max: 0, mean: 0, count: 0 };
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean), count: histogram.count };
}

function connections(server: Server | undefined): Promise<number> {
  if (server === undefined) return Promise.resolve(-1);
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? -1 : count)));
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The numbers of `names` given in `query`; `undefined` for absent ones, `NaN` for unreadable ones (the upstream's validation refuses them). */
function numbers(query: URLSearchParams, names: readonly string[]): Record<string, number> {
  const patch: Record<string, number> = {};
  for (const name of names) {
    const value = query.get(name);
    if (value !== null) patch[name] = value.trim() === '' ? Number.NaN : Number(value);
  }
  return patch;
}

/**
 * Opt-in routes for the soak harness (bench/soak/), on only with the back end's `soakHooks: true`
 * (`SOAK_HOOKS=1` for `npm start`): never part of the example's public routes.
 *
 * - `GET /soak/sample[?gc=1][&reset=1]`: a {@link SoakSample}. `gc=1` forces a full collection
 *   (when Node runs with `--expose-gc`) after reading the event-loop figures and reports the heap
 *   after it; its pause is recorded by the monitors like any other (`afterGc.gcMs` says how long).
 *   `reset=1` restarts the whole-run histogram (`eventLoopDelay.total`); the window histogram
 *   restarts at every sample.
 * - `POST /soak/upstream?failureRate=&latencyMs=`: changes the in-process upstream's behaviour live
 *   (the upstream of the example has no control route of its own); a bad value is a 400.
 * - `POST /soak/crash-thread`: runs a task that kills its thread on the CPU pool (`compute/cpu`);
 *   answers 200 with the error the task rejected with (`ERR_WORKER_CRASHED`) once the pool has
 *   seen the crash, 500 if the task did not fail.
 */
export function startSoakHooks(options: SoakHooksOptions): SoakHooks {
  const { infra, upstream } = options;
  const windowDelay = monitorEventLoopDelay({ resolution: 10 });
  const totalDelay = monitorEventLoopDelay({ resolution: 10 });
  windowDelay.enable();
  totalDelay.enable();

  const sample = async (request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<void> => {
    const eventLoopDelay = { window: figures(windowDelay), total: figures(totalDelay) };
    const cpuUsage = process.cpuUsage();
    windowDelay.reset();
    if (query.get('reset') === '1') totalDelay.reset();
    const memory = process.memoryUsage();
    const collect = (globalThis as { gc?: () => void }).gc;
    let afterGc: SoakSample['afterGc'] = null;
    if (query.get('gc') === '1' && collect !== undefined) {
      const started = performance.now();
      collect();
      const gcMs = Math.round((performance.now() - started) * 100) / 100;
      const after = process.memoryUsage();
      afterGc = { heapUsed: after.heapUsed, rss: after.rss, gcMs };
    }
    const resources = process.getActiveResourcesInfo();
    const resourcesByType: Record<string, number> = {};
    for (const type of resources) resourcesByType[type] = (resourcesByType[type] ?? 0) + 1;
    // Node sets `server` on the sockets a net.Server accepts; @types/node does not declare it.
    const server = (request.socket as Socket & { server?: Server }).server;
    const [serverSockets, upstreamSockets] = await Promise.all([connections(server), connections(upstream.server)]);
    const body: SoakSample = {
      uptimeMs: Math.round(process.uptime() * 1000),
      cpuUsage,
      memory,
      afterGc,
      activeResources: resources.length,
      resourcesByType,
      eventLoopDelay,
      sockets: { server: serverSockets, upstream: upstreamSockets },
      breaker: infra.breaker('quotes', 'upstream').state(),
      threadPool: infra.threadPool('compute', 'cpu').status(),
      upstream: upstream.behaviour(),
    };
    send(response, 200, body);
  };

  const crashThread = async (response: ServerResponse): Promise<void> => {
    try {
      const result = await infra.threadPool<SoakCrashTask, unknown>('compute', 'cpu').run({ kind: 'soak-crash' });
      send(response, 500, { error: 'ERR_NOT_CRASHED', message: 'the crashing task returned', result });
    } catch (error) {
      const { code, reason } = error as { code?: string; reason?: string };
      send(response, 200, { crashed: code ?? String(error), reason });
    }
  };

  const routes: Record<string, { method: string; run: (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void> }> = {
    '/soak/sample': { method: 'GET', run: (request, response, url) => sample(request, response, url.searchParams) },
    '/soak/upstream': {
      method: 'POST',
      run: (_request, response, url) => {
        try {
          upstream.set(numbers(url.searchParams, ['failureRate', 'latencyMs']) as Partial<UpstreamBehaviour>);
          send(response, 200, upstream.behaviour());
        } catch (error) {
          send(response, 400, { error: (error as { code?: string }).code ?? 'ERR_BAD_REQUEST', message: (error as Error).message });
        }
      },
    },
    '/soak/crash-thread': { method: 'POST', run: (_request, response) => crashThread(response) },
  };

  return {
    handle(request, response, url) {
      const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
      if (route === undefined) return send(response, 404, { error: 'ERR_NOT_FOUND', message: `no soak route ${url.pathname}` });
      if (request.method !== route.method) {
        response.setHeader('allow', route.method);
        return send(response, 405, { error: 'ERR_METHOD_NOT_ALLOWED', message: `${url.pathname} answers ${route.method} only` });
      }
      Promise.resolve(route.run(request, response, url)).catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, { error: 'internal', message: String(error) });
      });
    },
    stop() {
      windowDelay.disable();
      totalDelay.disable();
    },
  };
}
