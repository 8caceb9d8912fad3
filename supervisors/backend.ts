import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
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
  systemClock,
  telemetry as sharedTelemetry,
  TelemetryEvents,
  toPrometheus,
  counter,
  distribution,
  durationBucketsMs,
  startInfrastructure,
  type Clock,
  type Infrastructure,
  type MetricsRegistry,
  type ProtectCall,
  type Telemetry,
} from '../src/index.js';
import { boolean, finiteNumber, integer, nonEmptyString, record } from '../src/core/validate.js';
import { createObserver, type Observer } from '../src/observer.js';
import { isConfigError, isInvalidArgumentError } from '../src/core/index.js';
import { isBreakerFleetUnavailableError, type BreakerFleet } from '../src/cluster/index.js';
import { acrossInstances, acrossInstancesMetrics, type AcrossInstances } from './across-instances.js';
import { startFlakyUpstream, type FlakyUpstream, type UpstreamBehaviour } from './flaky-upstream.js';
import { httpServerChild, type CrashEvent } from './http-server-child.js';
import type { CpuResult, CpuTask } from '../workers/tasks.js';
import { quoteRefresherBackoff, quoteRefresherChild } from './quote-refresher.js';
import { soakCpuWorker, startSoakHooks } from './soak-hooks.js';
import { clampedInteger, echoed, parseTarget, requiredText, type BadInput, type IntegerRange } from './request-input.js';
import { childState, childrenInBackoffSnapshot, describeTree, trackRestarts } from './tree-health.js';

/** Options of {@link startBackend}; a bad one rejects the start with a `ConfigError` naming it. */
export interface BackendOptions {
  /** Port of the service on 127.0.0.1, an integer in [0, 65535]. Default 3000; 0 picks a free one. */
  port?: number;
  /**
   * When given, the back end runs across instances on this Redis: the rate limiters keep their
   * counts there (one limit across instances), the quote publisher runs as a singleton child on a
   * Redis lease (one instance at a time publishes the latest quote, fenced), and the upstream
   * breaker joins a breaker fleet (`POST /isolate?breaker=` on any instance refuses on all).
   */
  redisUrl?: string;
  /** With `redisUrl`: every key and channel starts with it. Default `'overseer-backend'`. */
  redisPrefix?: string;
  /** With `redisUrl`: this instance's id, as the lease owner and in the fleet's view. Default `<hostname>:<pid>:<random>`. */
  instance?: string;
  /** With `redisUrl`: the quote publisher's lease time to live, ms, an integer ≥ 10. Default 15000. */
  leaseTtlMs?: number;
  /** How the flaky upstream behaves at start. Default 10% failures, 2 ms latency. */
  upstream?: Partial<UpstreamBehaviour>;
  /** Requests per second allowed per client on each route, an integer ≥ 1. Default 200. */
  clientRate?: number;
  /** How long the upstream breaker stays open before probing, > 0. Default 2000. */
  breakerResetMs?: number;
  /** An upstream call slower than this is a failure, > 0. Default 1000. */
  upstreamTimeoutMs?: number;
  /** How often the quote refresher fetches a quote to keep the cache fresh, ms, > 0. Default 5000. */
  quoteRefreshMs?: number;
  /** Whether `/observer` serves the observer's live page of the tree (read-only). Default true. */
  observer?: boolean;
  /** Whether the soak harness's opt-in routes under `/soak/` are on (samples, upstream faults, thread crashes; see soak-hooks.ts). Default false. */
  soakHooks?: boolean;
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
  /** The observer served at `/observer` (read-only), unless `observer: false`. */
  readonly observer: Observer | undefined;
  /** With `redisUrl`: the breaker fleet the upstream breaker belongs to. */
  readonly fleet: BreakerFleet | undefined;
  /** Stops accepting, drains calls in flight, stops the tree in order, then the upstream. */
  stop(): Promise<void>;
}

/** The children `POST /crash?child=<id>` can crash (children of the root that handle a {@link CrashEvent}). */
const CRASHABLE_CHILDREN: readonly string[] = Object.freeze(['quote-refresher', 'http']);

/** `GET /cpu?n=`: the Fibonacci index computed, clamped into [1, 32]; 25 when absent or empty. */
const CPU_N: IntegerRange = Object.freeze({ min: 1, max: 32, fallback: 25 });

/** The method each route answers; any other method is a 405 naming it in `Allow`. */
const ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = Object.freeze({
  '/quote': 'GET',
  '/direct/quote': 'GET',
  '/cpu': 'GET',
  '/metrics': 'GET',
  '/health': 'GET',
  '/crash': 'POST',
  '/isolate': 'POST',
  '/restore': 'POST',
});

/** The back end's options after validation and defaults. */
interface ResolvedBackendOptions {
  port: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  instance: string;
  leaseTtlMs: number;
  upstream: UpstreamBehaviour;
  clientRate: number;
  breakerResetMs: number;
  upstreamTimeoutMs: number;
  quoteRefreshMs: number;
  observer: boolean;
  soakHooks: boolean;
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
    redisPrefix: fields.redisPrefix === undefined ? 'overseer-backend' : nonEmptyString('redisPrefix', fields.redisPrefix),
    instance: fields.instance === undefined ? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}` : nonEmptyString('instance', fields.instance),
    leaseTtlMs: integer('leaseTtlMs', fields.leaseTtlMs, 15_000, 10),
    upstream: { failureRate, latencyMs: finiteNumber('upstream.latencyMs', upstream.latencyMs, 2) },
    clientRate: integer('clientRate', fields.clientRate, 200, 1),
    breakerResetMs: positiveMs('breakerResetMs', fields.breakerResetMs, 2_000),
    upstreamTimeoutMs: positiveMs('upstreamTimeoutMs', fields.upstreamTimeoutMs, 1_000),
    quoteRefreshMs: positiveMs('quoteRefreshMs', fields.quoteRefreshMs, 5_000),
    observer: boolean('observer', fields.observer, true),
    soakHooks: boolean('soakHooks', fields.soakHooks, false),
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

/** A request input refused: 400 naming the parameter, with at most 64 characters of what was given. */
function badRequest(response: ServerResponse, bad: BadInput): void {
  sendJson(response, 400, { error: 'ERR_BAD_REQUEST', parameter: bad.parameter, value: bad.value, message: bad.message });
}

/**
 * Starts the example back end under the infrastructure tree, on the embedded defaults:
 *
 * - `GET /quote` calls the flaky upstream (a second local server it starts) through `protect()`:
 *   a per-client token bucket → the `upstream` breaker → the HTTP worker pool (undici clients);
 *   when the breaker refuses, the last good quote is served from cache.
 * - `GET /cpu?n=27` computes a Fibonacci number on the worker-thread pool, limited per client;
 *   `n` is clamped into [1, 32] and defaults to 25 when absent or empty.
 * - `GET /direct/quote` is the same upstream call without the chain (the benchmark's baseline).
 * - `GET /metrics` is the Prometheus text of every overseer metric, the backoff counter
 *   `supervisor_child_backoff_total{supervisor}` and the gauge
 *   `supervisor_children_in_backoff{supervisor}` (read at scrape time); `GET /health` shows the
 *   supervision tree (each child's state — running, in backoff with `restartInMs` left,
 *   restarting or stopped — with its restart count and last exit), breaker states and pool
 *   status as JSON.
 * - `POST /crash?child=http` crashes the HTTP server child, as a bug would: its supervisor
 *   restarts it at once on the same port. `POST /crash?child=quote-refresher` crashes the quote
 *   refresher (a child that refreshes the cached quote every `quoteRefreshMs` and also crashes
 *   when the upstream fails): its supervisor restarts it after a backoff (1 s, 2 s, 4 s … 30 s),
 *   which `/health` and the log show.
 * - `GET /observer/` is the observer's live page of the tree (`overseer/observer`), read-only:
 *   the supervisors and children with their restarts and last exits, the breaker with its
 *   countdown to the next probe, pools, the thread pool, limiter denials; `GET /observer/snapshot`
 *   the same as JSON. Off with `observer: false`.
 * - With `redisUrl`, across instances (every back end on the same Redis and `redisPrefix`): the
 *   quote publisher, a singleton child on a Redis lease, publishes the latest quote to Redis every
 *   `quoteRefreshMs` on the one instance that holds the lease, each write fenced; the upstream
 *   breaker joins a breaker fleet. `POST /isolate?breaker=quotes.upstream&reason=…` on any
 *   instance makes every instance's breaker of that name refuse (so `/quote` serves the cache),
 *   `POST /restore?breaker=quotes.upstream` lifts it everywhere. `/health` then also shows
 *   `instance`, `singletons` (id, lease, owner, held, fence, running) and `breakerFleet` (status,
 *   isolations, and the view: instance → breaker → state); `/metrics` adds `lease_held`,
 *   `lease_fence`, `breaker_fleet_isolated` and their kin. Without `redisUrl` both routes are a 404.
 * - Bad input is a 4xx, never a 500: a query parameter that is not what the route takes, or a
 *   target that is no URL, a 400 naming the parameter; an unknown route or crashable child a 404;
 *   a child that is not running a 409; a wrong method a 405 with `Allow`.
 *
 * The server is itself a supervised child (the last one, so it is stopped first): stopping ends the
 * observer's event streams (which would otherwise hold the drain open), drains the server, then the
 * refresher, the pools and the rest of the tree stop in reverse start order.
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
    ...(redis ? acrossInstancesMetrics() : []),
    counter('protect.call.count', { event: 'protect.call.stop', tags: ['protect', 'outcome', 'stage'], description: 'Protected calls that returned, by outcome' }),
    counter('protect.call.failed.count', { event: 'protect.call.exception', tags: ['protect', 'outcome', 'stage'], description: 'Protected calls that failed, by stage' }),
    distribution('protect.call.duration', { event: 'protect.call.stop', buckets: durationBucketsMs, tags: ['protect'], unit: 'millisecond', description: 'Protected call duration in seconds' }),
    // Per supervisor only: a child id tag would make a series per child.
    counter('supervisor.child.backoff.count', { event: TelemetryEvents.supervisorChildBackoff, tags: ['supervisor'], description: 'Restarts delayed by a backoff' }),
  ]);
  undo.push(() => metrics.stop());
  const tracked = trackRestarts(telemetry);
  undo.push(tracked.stop);

  const infra = await startInfrastructure({
    ...(options.clock ? { clock: options.clock } : {}),
    telemetry,
    ...(redis ? { redis, redisPrefix: resolved.redisPrefix } : {}),
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
        threadPools: { cpu: { filename: resolved.soakHooks ? soakCpuWorker : cpuWorker, minThreads: 1, maxThreads: 2, maxQueue: 256 } },
      },
    },
  });
  undo.push(() => infra.stop());

  let cachedQuote: unknown;
  // Made once the tree is up (its start may hold the event loop), and stopped after it: the
  // singleton releases its lease on the way out, then the fleet leaves, then Redis closes.
  const across: AcrossInstances | undefined = redis
    ? await acrossInstances({
        redis,
        prefix: resolved.redisPrefix,
        instance: resolved.instance,
        leaseTtlMs: resolved.leaseTtlMs,
        publishEveryMs: resolved.quoteRefreshMs,
        latestQuote: () => cachedQuote,
        clock: options.clock ?? systemClock,
        telemetry,
      })
    : undefined;
  if (across) {
    const stopAcross = across.stop;
    undo.splice(undo.length - 1, 0, stopAcross);
    across.attach(infra.breaker('quotes', 'upstream'));
  }

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

  const clock = options.clock ?? systemClock;

  // Read-only (no actions), on the server's 127.0.0.1; its streams end before the server drains.
  const observer = resolved.observer ? createObserver({ infrastructure: infra, telemetry, clock }) : undefined;
  if (observer) undo.push(() => observer.stop());
  const soak = resolved.soakHooks ? startSoakHooks({ infra, upstream }) : undefined;
  if (soak) undo.push(() => soak.stop());

  /** `POST /crash?child=<id>`: 202 and the crash once the answer is sent; 400, 404 or 409 otherwise. */
  const crash = (query: URLSearchParams, response: ServerResponse): void => {
    const given = requiredText(query, 'child');
    if (!given.ok) return badRequest(response, given);
    const id = given.value;
    if (!CRASHABLE_CHILDREN.includes(id)) {
      return sendJson(response, 404, { error: 'ERR_NOT_FOUND', message: 'no such crashable child', child: echoed(id), crashable: CRASHABLE_CHILDREN });
    }
    const info = infra.supervisor.whichChildren().find((child) => child.id === id);
    const state = info === undefined ? 'stopped' : childState(info);
    const child = info?.ref;
    if (child === undefined) {
      const restartInMs = info?.nextRestartAt === undefined ? undefined : Math.max(0, Math.ceil(info.nextRestartAt - clock.now()));
      return sendJson(response, 409, { error: 'ERR_CHILD_NOT_RUNNING', message: `${id} is not running: nothing to crash`, child: id, state, ...(restartInMs === undefined ? {} : { restartInMs }) });
    }
    const event: CrashEvent = { type: 'overseer.crash', error: new Error(`crash requested by POST /crash?child=${id}`) };
    // Once this answer is on its way (crashing the HTTP server drops every connection, this one
    // included), and only if it has not ended meanwhile (a second request for the same crash).
    response.once('finish', () =>
      setImmediate(() => {
        if (child.getSnapshot().status === 'active') child.send(event);
      }),
    );
    sendJson(response, 202, { crashing: id });
  };

  /**
   * `POST /isolate?breaker=<name>&reason=<text>` and `POST /restore?breaker=<name>`: the operator's
   * "stop calling it" across instances, through the breaker fleet. 200 once Redis has it; 400 for a
   * missing name; 503 when Redis did not confirm (nothing changed); 404 without a fleet.
   */
  const isolation = (action: 'isolate' | 'restore', query: URLSearchParams, response: ServerResponse): void => {
    if (across === undefined) {
      return sendJson(response, 404, { error: 'ERR_NOT_FOUND', message: `no breaker fleet: /${action} needs the back end started with a Redis (REDIS_URL)` });
    }
    const given = requiredText(query, 'breaker');
    if (!given.ok) return badRequest(response, given);
    const reason = query.get('reason') ?? '';
    const done =
      action === 'isolate'
        ? across.fleet.isolate(given.value, reason === '' ? undefined : { reason }).then((made) => ({ isolated: given.value, isolation: made }))
        : across.fleet.restore(given.value).then((existed) => ({ restored: given.value, existed }));
    done.then(
      (body) => sendJson(response, 200, body),
      (error: unknown) => {
        if (isBreakerFleetUnavailableError(error)) return sendJson(response, 503, { error: error.code, reason: error.reason, message: error.message });
        if (isInvalidArgumentError(error) || isConfigError(error)) {
          return sendJson(response, 400, { error: 'ERR_BAD_REQUEST', parameter: 'breaker', value: echoed(given.value), message: (error as Error).message });
        }
        sendJson(response, 500, { error: 'internal', message: String(error) });
      },
    );
  };

  /** `/health`'s view of the singletons: the lease's side, and whether the child's actor runs here. */
  const singletons = (): unknown[] =>
    (across?.singletons() ?? []).map((singleton) => ({
      ...singleton,
      running: infra.supervisor.whichChildren().some((child) => child.id === singleton.id && child.ref !== undefined),
    }));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = parseTarget(request.url ?? '/');
    if (!target.ok) return badRequest(response, target);
    const url = target.value;
    if (observer && (url.pathname === observer.base || url.pathname.startsWith(`${observer.base}/`))) return observer(request, response);
    if (soak && url.pathname.startsWith('/soak/')) return soak.handle(request, response, url);
    // The request's own controller: aborted when the client goes away; the protected routes give it
    // to their chain (`controller`), whose breaker aborts it at the call deadline instead of making
    // a controller of its own for the call.
    const aborted = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) aborted.abort();
    });
    const method = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
    if (method === undefined) return sendJson(response, 404, { error: 'ERR_NOT_FOUND', message: `no route ${echoed(url.pathname)}` });
    if (request.method !== method) {
      return sendJson(response, 405, { error: 'ERR_METHOD_NOT_ALLOWED', message: `${url.pathname} answers ${method} only` }, { allow: method });
    }
    switch (url.pathname) {
      case '/crash':
        return crash(url.searchParams, response);
      case '/isolate':
      case '/restore':
        return isolation(url.pathname === '/isolate' ? 'isolate' : 'restore', url.searchParams, response);
      case '/quote':
        return quote({ key: clientOf(request), controller: aborted }).then(
          (body) => sendJson(response, 200, body),
          (error: unknown) => failure(response, error),
        );
      case '/direct/quote':
        // The same upstream call without the protection chain: the baseline bench/service.bench.ts compares against.
        return infra
          .pool<Client>('quotes', 'upstream')
          .transaction((client) => fetchQuote(client, aborted.signal), { signal: aborted.signal })
          .then(
            (body) => sendJson(response, 200, body),
            (error: unknown) => failure(response, error),
          );
      case '/cpu': {
        const n = clampedInteger(url.searchParams, 'n', CPU_N);
        if (!n.ok) return badRequest(response, n);
        return compute({ key: clientOf(request), controller: aborted, n: n.value }).then(
          (result) => sendJson(response, 200, { n: n.value, fib: result }),
          (error: unknown) => failure(response, error),
        );
      }
      case '/metrics':
        response
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(toPrometheus([...metrics.snapshot(), childrenInBackoffSnapshot(infra.supervisor)]));
        return;
      case '/health':
        return sendJson(response, 200, {
          status: 'ok',
          tree: describeTree(infra.supervisor, tracked.restarts, clock.now()),
          breakers: { 'quotes/upstream': infra.breaker('quotes', 'upstream').state() },
          pools: { 'quotes/upstream': infra.pool('quotes', 'upstream').status() },
          threadPools: { 'compute/cpu': infra.threadPool('compute', 'cpu').status() },
          ...(across ? { instance: resolved.instance, singletons: singletons(), breakerFleet: across.breakerFleet() } : {}),
        });
      default:
        // A route listed in ROUTES without a case here: answered all the same, never left hanging.
        return sendJson(response, 404, { error: 'ERR_NOT_FOUND', message: `no handler for ${url.pathname}` });
    }
  };

  // A consumer of the upstream with a backoff, started before the server so it stops after it.
  const upstreamPool = infra.pool<Client>('quotes', 'upstream');
  await infra.supervisor.startChild(
    quoteRefresherChild({
      id: 'quote-refresher',
      refresh: (signal) => upstreamPool.transaction((client) => fetchQuote(client, signal), { signal }),
      everyMs: resolved.quoteRefreshMs,
      timeoutMs: resolved.upstreamTimeoutMs,
      backoff: quoteRefresherBackoff,
    }),
  );
  // With Redis: the quote publisher, a singleton child (standing by on every instance but one).
  for (const child of across?.children ?? []) await infra.supervisor.startChild(child);

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
      // The observer's event streams never end by themselves: a drain ends them (pages reconnect).
      onDrain: () => observer?.disconnectClients(),
    }),
  );

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    infra,
    upstream,
    metrics,
    observer,
    fleet: across?.fleet,
    async stop() {
      await observer?.stop();
      soak?.stop();
      await infra.stop();
      await across?.stop();
      tracked.stop();
      metrics.stop();
      await upstream.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
