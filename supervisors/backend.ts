import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import type { Client } from 'undici';
import {
  ConfigError,
  httpWorkerFactory,
  overseerMetrics,
  protect,
  stageOf,
  isRefusal,
  startMetrics,
  supervisorOf,
  telemetry as sharedTelemetry,
  toPrometheus,
  counter,
  distribution,
  durationBucketsMs,
  type ChildInfo,
  type Clock,
  type CpuResult,
  type CpuTask,
  type MetricsRegistry,
  type ProtectCall,
  type Supervisor,
  type Telemetry,
} from '../src/index.js';
import { finiteNumber, integer, nonEmptyString, record } from '../src/core/validate.js';
import { startFlakyUpstream, type FlakyUpstream, type UpstreamBehaviour } from './flaky-upstream.js';
import { httpServerChild, type CrashEvent } from './http-server-child.js';
import { startInfrastructure, type Infrastructure } from './infrastructure.js';

/** Options of {@link startBackend}; a bad one rejects the start with a `ConfigError` naming it. */
export interface BackendOptions {
  /** Port of the service on 127.0.0.1, an integer in [0, 65535]. Default 3000; 0 picks a free one. */
  port?: number;
  /** When given, the rate limiters keep their counts in this Redis (one limit across instances). */
  redisUrl?: string;
  /** How the flaky upstream behaves at start. Default 10% failures, 2 ms latency. */
  upstream?: Partial<UpstreamBehaviour>;
  /** Requests per second allowed per client on each route, an integer ≥ 1. Default 200. */
  clientRate?: number;
  /** How long the upstream breaker stays open before probing, > 0. Default 2000. */
  breakerResetMs?: number;
  /** An upstream call slower than this is a failure, > 0. Default 1000. */
  upstreamTimeoutMs?: number;
  clock?: Clock;
  telemetry?: Telemetry;
}

/** The running example back end. */
export interface Backend {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly infra: Infrastructure;
  readonly upstream: FlakyUpstream;
  readonly metrics: MetricsRegistry;
  /** Stops accepting, drains calls in flight, stops the tree in order, then the upstream. */
  stop(): Promise<void>;
}

/** What `GET /health` says of a child's restarts. */
interface ChildRestarts {
  /** Times its supervisor restarted it. */
  restarts: number;
  /** How it last exited, and the error's message for an `'error'` exit. */
  lastExit?: { reason: string; error?: string };
}

/** The children `POST /crash?child=<id>` can crash (children of the root that handle a {@link CrashEvent}). */
const CRASHABLE_CHILDREN: readonly string[] = Object.freeze(['http']);

/** The back end's options after validation and defaults. */
interface ResolvedBackendOptions {
  port: number;
  redisUrl: string | undefined;
  upstream: UpstreamBehaviour;
  clientRate: number;
  breakerResetMs: number;
  upstreamTimeoutMs: number;
}

/** A finite number > 0, or the default when absent. */
function positiveMs(option: string, value: unknown, fallback: number): number {
  const number = finiteNumber(option, value, fallback);
  if (!(number > 0)) throw new ConfigError(option, value, 'a finite number > 0');
  return number;
}

/** Validates {@link BackendOptions}; throws `ConfigError` naming the first bad option. */
function resolveBackendOptions(options: BackendOptions): ResolvedBackendOptions {
  const fields = record('options', options);
  const port = integer('port', fields.port, 3000);
  if (port > 65_535) throw new ConfigError('port', fields.port, 'an integer in [0, 65535]');
  const upstream = fields.upstream === undefined ? {} : record('upstream', fields.upstream);
  const failureRate = finiteNumber('upstream.failureRate', upstream.failureRate, 0.1);
  if (failureRate > 1) throw new ConfigError('upstream.failureRate', upstream.failureRate, 'a number in [0, 1]');
  return {
    port,
    redisUrl: fields.redisUrl === undefined ? undefined : nonEmptyString('redisUrl', fields.redisUrl),
    upstream: { failureRate, latencyMs: finiteNumber('upstream.latencyMs', upstream.latencyMs, 2) },
    clientRate: integer('clientRate', fields.clientRate, 200, 1),
    breakerResetMs: positiveMs('breakerResetMs', fields.breakerResetMs, 2_000),
    upstreamTimeoutMs: positiveMs('upstreamTimeoutMs', fields.upstreamTimeoutMs, 1_000),
  };
}

/** The upstream answered something other than 200. */
class UpstreamStatusError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
  }
}

const cpuWorker = new URL('../workers/cpu.mjs', import.meta.url);

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** The HTTP status and headers a refused or failed protected call turns into. */
function failure(response: ServerResponse, error: unknown): void {
  const stage = stageOf(error);
  const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
  const headers: Record<string, string> =
    retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } : {};
  const code = (error as { code?: string }).code ?? 'ERR_UPSTREAM';
  const status =
    code === 'ERR_RATE_LIMITED' ? 429 : code === 'ERR_BREAKER_TIMEOUT' ? 504 : isRefusal(error) || stage === 'limiter' ? 503 : 502;
  sendJson(response, status, { error: code, stage, message: (error as Error).message }, headers);
}

/**
 * The supervision tree as JSON: each child with its state and its restarts (count, last exit),
 * nested supervisors expanded.
 */
function describeTree(supervisor: Supervisor, restarts: ReadonlyMap<string, ChildRestarts>): unknown {
  return {
    id: supervisor.id,
    children: supervisor.whichChildren().map((child: ChildInfo) => {
      const nested = child.type === 'supervisor' ? (supervisorOf(child.ref) as Supervisor | undefined) : undefined;
      const history = restarts.get(`${supervisor.id}/${child.id}`) ?? { restarts: 0 };
      return nested
        ? { ...(describeTree(nested, restarts) as object), running: true, ...history }
        : { id: child.id, type: child.type, restart: child.restart, running: child.ref !== undefined, ...history };
    }),
  };
}

/**
 * Keeps, per child (`<supervisor id>/<child id>`), how often it was restarted and how it last
 * exited, from the supervisors' telemetry. Unsubscribe with the returned function.
 */
function trackRestarts(telemetry: Telemetry): { restarts: Map<string, ChildRestarts>; stop: () => void } {
  const restarts = new Map<string, ChildRestarts>();
  const entry = (metadata: Record<string, unknown>): ChildRestarts => {
    const key = `${String(metadata.supervisor)}/${String(metadata.child)}`;
    let found = restarts.get(key);
    if (found === undefined) restarts.set(key, (found = { restarts: 0 }));
    return found;
  };
  const subscription = telemetry.select('supervisor.child').subscribe((event) => {
    if (event.name === 'supervisor.child.restarted') entry(event.metadata).restarts += 1;
    if (event.name === 'supervisor.child.exited') {
      const { reason, error } = event.metadata;
      entry(event.metadata).lastExit = error instanceof Error ? { reason: String(reason), error: error.message } : { reason: String(reason) };
    }
  });
  return { restarts, stop: () => subscription.unsubscribe() };
}

/**
 * Starts the example back end under the infrastructure tree, on the embedded defaults:
 *
 * - `GET /quote` calls the flaky upstream (a second local server it starts) through `protect()`:
 *   a per-client token bucket → the `upstream` breaker → the HTTP worker pool (undici clients);
 *   when the breaker refuses, the last good quote is served from cache.
 * - `GET /cpu?n=27` computes a Fibonacci number on the worker-thread pool, limited per client.
 * - `GET /direct/quote` is the same upstream call without the chain (the benchmark's baseline).
 * - `GET /metrics` is the Prometheus text of every overseer metric; `GET /health` shows the
 *   supervision tree (each child with its restart count and last exit), breaker states and pool
 *   status as JSON.
 * - `POST /crash?child=http` crashes the HTTP server child, as a bug would: its supervisor
 *   restarts it on the same port, and the restart shows in the log and in `/health`.
 *
 * The server is itself a supervised child (the last one, so it is stopped first): stopping drains
 * it, then the pools and the rest of the tree stop in reverse start order.
 *
 * Rejects (never throws) with a `ConfigError` naming a bad option before starting anything; a
 * start that fails later (the port taken, a pool that cannot start) stops what it had started
 * and rejects with that failure.
 */
export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  const resolved = resolveBackendOptions(options);
  // What has been started so far, undone in reverse when a later step fails.
  const undo: Array<() => unknown> = [];
  try {
    return await launch(resolved, options, undo);
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // The start's own failure is the one to report.
      }
    }
    throw error;
  }
}

/** Starts the back end's parts in order, pushing onto `undo`, as each one runs, how to stop it. */
async function launch(resolved: ResolvedBackendOptions, options: BackendOptions, undo: Array<() => unknown>): Promise<Backend> {
  const telemetry = options.telemetry ?? sharedTelemetry;
  const { clientRate } = resolved;
  const upstream = await startFlakyUpstream(resolved.upstream);
  undo.push(() => upstream.close());
  const redis = resolved.redisUrl
    ? new Redis(resolved.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
    : undefined;
  if (redis) {
    undo.push(() => redis.quit().catch(() => redis.disconnect()));
    redis.on('error', () => undefined);
    // Hits before the connection is up would be answered by the insurance limiters; give Redis a
    // bounded moment to answer first (an unreachable Redis leaves the insurance in charge).
    await new Promise<void>((resolve) => {
      if (redis.status === 'ready') return resolve();
      const timer = setTimeout(resolve, 5_000);
      timer.unref();
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  const metrics = startMetrics(telemetry.events$, [
    ...overseerMetrics(),
    counter('protect.call.count', { event: 'protect.call.stop', tags: ['protect', 'outcome', 'stage'], description: 'Protected calls that returned, by outcome' }),
    counter('protect.call.failed.count', { event: 'protect.call.exception', tags: ['protect', 'outcome', 'stage'], description: 'Protected calls that failed, by stage' }),
    distribution('protect.call.duration', { event: 'protect.call.stop', buckets: durationBucketsMs, tags: ['protect'], unit: 'millisecond', description: 'Protected call duration in seconds' }),
  ]);
  undo.push(() => metrics.stop());
  const tracked = trackRestarts(telemetry);
  undo.push(tracked.stop);

  const infra = await startInfrastructure({
    ...(options.clock ? { clock: options.clock } : {}),
    telemetry,
    ...(redis ? { redis, redisPrefix: 'overseer-backend' } : {}),
    namespaces: {
      quotes: {
        breakers: {
          upstream: {
            tolerance: { failures: 5, windowMs: 5_000 },
            resetMs: resolved.breakerResetMs,
            callTimeoutMs: resolved.upstreamTimeoutMs,
          },
        },
        limiters: { clients: { algorithm: 'token_bucket', limit: clientRate, windowMs: 1_000 } },
        pools: { upstream: { size: 4, maxOverflow: 12, checkoutTimeoutMs: 1_000, worker: httpWorkerFactory({ origin: upstream.origin }) } },
      },
      compute: {
        limiters: { clients: { algorithm: 'sliding_window', limit: clientRate, windowMs: 1_000 } },
        threadPools: { cpu: { filename: cpuWorker, minThreads: 1, maxThreads: 2, maxQueue: 256 } },
      },
    },
  });
  undo.push(() => infra.stop());

  let cachedQuote: unknown;
  const fetchQuote = async (client: Client, signal: AbortSignal): Promise<object> => {
    const answer = await client.request({ path: '/quote', method: 'GET', signal });
    if (answer.statusCode !== 200) {
      await answer.body.dump();
      throw new UpstreamStatusError(answer.statusCode);
    }
    const body = (await answer.body.json()) as object;
    cachedQuote = body;
    return { ...body, source: 'upstream' };
  };
  const quote = protect(
    {
      name: 'quote',
      limiter: infra.limiter('quotes', 'clients'),
      breaker: infra.breaker('quotes', 'upstream'),
      pool: infra.pool<Client>('quotes', 'upstream'),
      fallback: (refusal, stage) => {
        if (stage === 'breaker' && cachedQuote !== undefined) return { ...(cachedQuote as object), source: 'cache' };
        throw refusal;
      },
      telemetry,
      ...(options.clock ? { clock: options.clock } : {}),
    },
    fetchQuote,
  );
  const compute = protect<undefined, CpuResult, ProtectCall & { n: number }>(
    { name: 'cpu', limiter: infra.limiter('compute', 'clients'), telemetry, ...(options.clock ? { clock: options.clock } : {}) },
    (_worker, signal, call) => infra.threadPool<CpuTask, CpuResult>('compute', 'cpu').run({ kind: 'fib', n: call.n }, { signal }),
  );

  const clientOf = (request: IncomingMessage): string =>
    (request.headers['x-client-id'] as string | undefined) ?? request.socket.remoteAddress ?? 'unknown';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const aborted = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) aborted.abort();
    });
    if (request.method !== (url.pathname === '/crash' ? 'POST' : 'GET')) return sendJson(response, 405, { error: 'method not allowed' });
    switch (url.pathname) {
      case '/crash': {
        const id = url.searchParams.get('child') ?? '';
        const child = CRASHABLE_CHILDREN.includes(id) ? infra.supervisor.whichChildren().find((info) => info.id === id)?.ref : undefined;
        if (child === undefined) return sendJson(response, 404, { error: 'no such crashable child', child: id, crashable: CRASHABLE_CHILDREN });
        const crash: CrashEvent = { type: 'overseer.crash', error: new Error(`crash requested by POST /crash?child=${id}`) };
        // Once this answer is on its way: the crash drops every connection, this one included.
        response.once('finish', () => setImmediate(() => child.send(crash)));
        return sendJson(response, 202, { crashing: id });
      }
      case '/quote':
        return quote({ key: clientOf(request), signal: aborted.signal }).then(
          (body) => sendJson(response, 200, body),
          (error: unknown) => failure(response, error),
        );
      case '/direct/quote':
        // The same upstream call without the protection chain: the baseline bench/service.bench.ts compares against.
        return infra
          .pool<Client>('quotes', 'upstream')
          .transaction((client) => fetchQuote(client, aborted.signal))
          .then(
            (body) => sendJson(response, 200, body),
            (error: unknown) => failure(response, error),
          );
      case '/cpu': {
        const n = Math.min(32, Math.max(1, Number(url.searchParams.get('n') ?? 25) | 0));
        return compute({ key: clientOf(request), signal: aborted.signal, n }).then(
          (result) => sendJson(response, 200, { n, fib: result }),
          (error: unknown) => failure(response, error),
        );
      }
      case '/metrics':
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(toPrometheus(metrics.snapshot()));
        return;
      case '/health':
        return sendJson(response, 200, {
          status: 'ok',
          tree: describeTree(infra.supervisor, tracked.restarts),
          breakers: { 'quotes/upstream': infra.breaker('quotes', 'upstream').state() },
          pools: { 'quotes/upstream': infra.pool('quotes', 'upstream').status() },
          threadPools: { 'compute/cpu': infra.threadPool('compute', 'cpu').status() },
        });
      default:
        return sendJson(response, 404, { error: 'not found' });
    }
  };

  let port = resolved.port;
  await infra.supervisor.startChild(
    httpServerChild({
      id: 'http',
      host: '127.0.0.1',
      port,
      createServer: () =>
        createServer((request, response) => {
          handle(request, response).catch((error: unknown) => {
            if (!response.headersSent) sendJson(response, 500, { error: 'internal', message: String(error) });
          });
        }),
      onListening: (address) => (port = address.port),
    }),
  );

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    infra,
    upstream,
    metrics,
    async stop() {
      await infra.stop();
      tracked.stop();
      metrics.stop();
      await upstream.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
