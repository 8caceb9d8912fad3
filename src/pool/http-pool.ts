import type { IncomingHttpHeaders } from 'node:http';
import { Client } from 'undici';
import type { Clock } from '../clock/index.js';
import { maxTimerDelayMs, systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { finiteNumber, integer, record } from '../core/validate.js';
import { HttpTimeoutError } from './http-errors.js';
import type { PoolOptions, WorkerContext, WorkerFactory } from './options.js';
import { ResourcePool, type Pool } from './resource-pool.js';

/** Options of {@link httpWorkerFactory}. */
export interface HttpWorkerOptions {
  /** The one origin every worker talks to, e.g. `'http://127.0.0.1:8080'` (no path). Required. */
  origin: string | URL;
  /** Longest wait for a response's headers once the request is sent, in ms (undici's `headersTimeout`). Default 30000. */
  headersTimeoutMs?: number;
  /** Longest pause between two chunks of a response body, in ms (undici's `bodyTimeout`). Default 30000. */
  bodyTimeoutMs?: number;
  /** How long an idle keep-alive connection is kept open, in ms (undici's `keepAliveTimeout`). Default 4000. */
  keepAliveTimeoutMs?: number;
  /** Longest wait to establish a connection, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Requests sent on a connection before the first response arrives (HTTP pipelining). Default 1. */
  pipelining?: number;
}

/** HTTP worker options after validation and defaults, frozen. */
interface ResolvedHttpWorkerOptions {
  readonly origin: string;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly pipelining: number;
}

/** The longest delay Node's timers keep; a longer one fires after 1 ms. */
const maxTimerMs = maxTimerDelayMs;

function positive(option: string, value: unknown, fallback: number): number {
  const number = finiteNumber(option, value, fallback, 0);
  if (number <= 0 || number > maxTimerMs) throw new ConfigError(option, value, `a number of ms > 0 and <= ${maxTimerMs}`);
  return number;
}

function httpOrigin(value: unknown): string {
  let url: URL | undefined;
  try {
    url = value instanceof URL ? value : typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigError('origin', value, "an http: or https: origin without a path, e.g. 'http://127.0.0.1:8080'");
  }
  return url.origin;
}

function resolveHttpWorkerOptions(fields: Record<string, unknown>, defaultTimeoutMs = 30_000): ResolvedHttpWorkerOptions {
  return Object.freeze({
    origin: httpOrigin(fields.origin),
    headersTimeoutMs: positive('headersTimeoutMs', fields.headersTimeoutMs, defaultTimeoutMs),
    bodyTimeoutMs: positive('bodyTimeoutMs', fields.bodyTimeoutMs, defaultTimeoutMs),
    keepAliveTimeoutMs: positive('keepAliveTimeoutMs', fields.keepAliveTimeoutMs, 4000),
    connectTimeoutMs: positive('connectTimeoutMs', fields.connectTimeoutMs, 10_000),
    pipelining: integer('pipelining', fields.pipelining, 1, 1),
  });
}

/**
 * undici reports a connection it closed itself (its keep-alive idle timeout, an aborted request,
 * `reset`) as an `InformationalError`: the client is fine and reconnects on demand.
 */
function closedByClient(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'UND_ERR_INFO';
}

/**
 * A worker factory for {@link createPool} whose workers are undici `Client`s to one origin: one
 * keep-alive connection each, opened on first use, with undici's headers and body timeouts. When
 * the server closes a worker's connection (or it breaks), the worker exits through its context
 * (`reason: 'disconnected'`) and the pool replaces it with a fresh client.
 *
 * @example
 * ```ts
 * const api = await createPool({ name: 'api', size: 4, worker: httpWorkerFactory({ origin: 'http://127.0.0.1:8080' }) });
 * const users = await api.transaction(async (client) => (await client.request({ path: '/users', method: 'GET' })).body.json());
 * ```
 */
export function httpWorkerFactory(options: HttpWorkerOptions): WorkerFactory<Client> {
  const resolved = resolveHttpWorkerOptions(record('options', options));
  return factoryFor(resolved);
}

function factoryFor(options: ResolvedHttpWorkerOptions): WorkerFactory<Client> {
  const retired = new WeakSet<Client>();
  return {
    create(context: WorkerContext): Client {
      const client = new Client(options.origin, {
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
        connect: { timeout: options.connectTimeoutMs },
        pipelining: options.pipelining,
      });
      client.on('disconnect', (_origin, _targets, error) => {
        if (retired.has(client) || closedByClient(error)) return;
        context.exit('disconnected');
      });
      return client;
    },
    async destroy(client: Client): Promise<void> {
      retired.add(client);
      await client.destroy();
    },
  };
}

// ------------------------------------------------------------------ the pool with request()

/** Options of {@link createHttpPool}: the pool's, less `worker`, plus the HTTP worker's. */
export interface HttpPoolOptions extends Omit<PoolOptions<Client>, 'worker'>, HttpWorkerOptions {
  /**
   * Deadline of a whole `request()`, from sending it to having read the body, in ms (on the
   * pool's clock); also the default of `headersTimeoutMs` and `bodyTimeoutMs`. Default 30000.
   */
  requestTimeoutMs?: number;
}

/** Options of {@link HttpPool.request}. */
export interface HttpRequestOptions {
  /** Path and query, e.g. `'/users?active=1'`. Required. */
  path: string;
  /** Default `'GET'`. */
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array | null;
  /** Query parameters appended to `path`. */
  query?: Record<string, unknown>;
  /** Aborts the checkout or the request. */
  signal?: AbortSignal;
  /** This request's deadline, in ms. Default the pool's `requestTimeoutMs`. */
  timeoutMs?: number;
}

/** A response read to its end. */
export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The whole body. */
  body: Buffer;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

/** A pool of undici clients to one origin; see {@link createHttpPool}. */
export interface HttpPool extends Pool<Client> {
  /** The origin every client talks to. */
  readonly origin: string;
  /**
   * Checks a client out, sends the request, reads the whole response and releases the client.
   * A request that fails (network error, timeout, abort) destroys its client, which the pool
   * replaces. Rejects with `HttpTimeoutError` past its deadline; 4xx and 5xx are responses, not errors.
   */
  request(options: HttpRequestOptions): Promise<HttpResponse>;
}

class ReadResponse implements HttpResponse {
  constructor(
    readonly statusCode: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
  ) {}

  text(): string {
    return this.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** The pool behind {@link createHttpPool}: a {@link ResourcePool} of clients plus `request`. */
class HttpClientPool extends ResourcePool<Client> implements HttpPool {
  readonly origin: string;
  private readonly worker: ResolvedHttpWorkerOptions;
  private readonly requestTimeoutMs: number;
  private readonly deadlines: Clock;

  constructor(options: HttpPoolOptions) {
    const fields = record('options', options);
    const requestTimeoutMs = positive('requestTimeoutMs', fields.requestTimeoutMs, 30_000);
    const worker = resolveHttpWorkerOptions(fields, requestTimeoutMs);
    const {
      origin: _origin,
      headersTimeoutMs: _headers,
      bodyTimeoutMs: _body,
      keepAliveTimeoutMs: _keepAlive,
      connectTimeoutMs: _connect,
      pipelining: _pipelining,
      requestTimeoutMs: _request,
      ...poolOptions
    } = options;
    super({ ...poolOptions, worker: factoryFor(worker) });
    this.origin = worker.origin;
    this.worker = worker;
    this.requestTimeoutMs = requestTimeoutMs;
    this.deadlines = options.clock ?? systemClock;
  }

  async request(options: HttpRequestOptions): Promise<HttpResponse> {
    const signal = options.signal;
    const timeoutMs = options.timeoutMs === undefined ? this.requestTimeoutMs : positive('timeoutMs', options.timeoutMs, 0);
    const lease = await this.checkout(signal === undefined ? undefined : { signal });
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.deadlines.setTimeout(() => {
      timedOut = true;
      controller.abort(new HttpTimeoutError(this.name, this.origin, 'request', timeoutMs));
    }, timeoutMs);
    const forwardAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      const response = await lease.worker.request({
        path: options.path,
        method: (options.method ?? 'GET') as 'GET',
        headers: options.headers ?? null,
        body: options.body ?? null,
        ...(options.query === undefined ? {} : { query: options.query }),
        signal: controller.signal,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      lease.release();
      return new ReadResponse(response.statusCode, response.headers, body);
    } catch (error) {
      const failure = this.translate(error, timedOut, timeoutMs);
      // The connection is in an unknown state (or gone): never hand this client to anyone else.
      lease.destroy(timedOut || failure !== error ? 'timeout' : 'request_failed');
      throw failure;
    } finally {
      this.deadlines.clearTimeout(timer);
      signal?.removeEventListener('abort', forwardAbort);
    }
  }

  private translate(error: unknown, timedOut: boolean, timeoutMs: number): unknown {
    if (timedOut) return new HttpTimeoutError(this.name, this.origin, 'request', timeoutMs);
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return new HttpTimeoutError(this.name, this.origin, 'headers', this.worker.headersTimeoutMs, error);
    if (code === 'UND_ERR_BODY_TIMEOUT') return new HttpTimeoutError(this.name, this.origin, 'body', this.worker.bodyTimeoutMs, error);
    return error;
  }
}

/**
 * Creates a pool of keep-alive undici clients to one origin (see {@link httpWorkerFactory}) with
 * poolboy's semantics, and a `request()` that checks a client out, runs one request to the end and
 * releases it. A connection the server closes retires its client; the pool replaces it.
 *
 * @example
 * ```ts
 * const api = await createHttpPool({ name: 'api', origin: 'http://127.0.0.1:8080', size: 4, requestTimeoutMs: 2000 });
 * const response = await api.request({ path: '/health' });
 * if (response.statusCode === 200) console.log(response.json());
 * ```
 */
export async function createHttpPool(options: HttpPoolOptions): Promise<HttpPool> {
  const pool = new HttpClientPool(options);
  await pool.start();
  return pool;
}
