import type { Client } from 'undici';
import { loadUndici } from './optional-dependencies.js';
import { maxTimerDelayMs, systemClock } from '../clock/index.js';
import { attempt, ConfigError } from '../core/index.js';
import { abortSignal, finiteNumber, integer, record } from '../core/validate.js';
import { abandonableConnector, type AbandonableConnector } from './http-connector.js';
import { connectionExitReason, type HttpWorkerExitReason } from './http-exit-reasons.js';
import { exchange, type ExchangeContext, type HttpRequestOptions, type HttpResponse } from './http-request.js';
import type { PoolOptions, WorkerContext, WorkerFactory } from './options.js';
import { ResourcePool, type Pool } from './resource-pool.js';

export type { HttpRequestOptions, HttpResponse } from './http-request.js';
export type { HttpWorkerExitReason } from './http-exit-reasons.js';

/** Options of {@link httpWorkerFactory}. */
export interface HttpWorkerOptions {
  /** The one origin every worker talks to, e.g. `'http://127.0.0.1:8080'` (no path). Required. */
  origin: string | URL;
  /**
   * Longest wait for a response's headers once the request is sent, in ms (undici's
   * `headersTimeout`, checked on a ~1 s timer). Default 30000; in {@link createHttpPool}, the
   * pool's `requestTimeoutMs` for clients used directly, and none for `request()`, whose deadline
   * bounds it.
   */
  headersTimeoutMs?: number;
  /** Longest pause between two chunks of a response body, in ms (undici's `bodyTimeout`). Defaults as `headersTimeoutMs`. */
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

const originExpectation = "an http: or https: origin without a path, e.g. 'http://127.0.0.1:8080'";

function httpOrigin(value: unknown): string {
  let url: URL | undefined;
  try {
    url = value instanceof URL ? value : typeof value === 'string' ? new URL(value) : undefined;
  } catch (error) {
    // Not a URL at all: refused with the URL parser's error as `cause`.
    throw new ConfigError('origin', value, originExpectation, { cause: error });
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigError('origin', value, originExpectation);
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
 * A worker factory for `createPool` whose workers are undici `Client`s to one origin: one
 * keep-alive connection each, opened on first use, with undici's headers and body timeouts. When
 * the server closes a worker's connection or it breaks, the worker exits through its context
 * (`reason`: `'disconnected'`, `'reset'` or `'timeout'`, see {@link HttpWorkerExitReason}) and the
 * pool replaces it with a fresh client. Read (or `dump()`) every response body before releasing a
 * client: a large unread body holds its connection, and the requests after it wait behind it.
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
  const connectors = new WeakMap<Client, AbandonableConnector>();
  // One for the factory, as undici builds one per client by default; it holds the TLS session cache.
  const { buildConnector, Client } = loadUndici();
  const connector = buildConnector({ timeout: options.connectTimeoutMs });
  return {
    create(context: WorkerContext): Client {
      const connection = abandonableConnector(connector);
      const client = new Client(options.origin, {
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
        connect: connection.connect,
        pipelining: options.pipelining,
      });
      connectors.set(client, connection);
      client.on('disconnect', (_origin, _targets, error) => {
        if (retired.has(client)) return;
        const reason = connectionExitReason(error);
        if (reason !== undefined) context.exit(reason);
      });
      return client;
    },
    async destroy(client: Client): Promise<void> {
      retired.add(client);
      const closed = client.destroy();
      // Stryker disable next-line OptionalChaining: create() registers a connector for every client this factory's destroy() receives
      connectors.get(client)?.abandon();
      await closed;
    },
    // A client released with a request unfinished (a large body left unread, a response not
    // awaited) would make the next user's request wait behind it, possibly for ever: it is
    // replaced instead. A small unread body does not count: undici has already read it.
    retireOnRelease: (client: Client): HttpWorkerExitReason | undefined =>
      client.stats.size > 0 ? 'unfinished_request' : undefined,
  };
}

// ------------------------------------------------------------------ the pool with request()

/** Options of {@link createHttpPool}: the pool's, less `worker`, plus the HTTP worker's. */
export interface HttpPoolOptions extends Omit<PoolOptions<Client>, 'worker'>, HttpWorkerOptions {
  /**
   * Deadline of a whole `request()`, in ms on the pool's clock: from the call (the wait for a
   * client included) to having read the body, whatever undici is doing meanwhile. Each request may
   * set its own, longer or shorter (`timeoutMs`). Also the default `headersTimeoutMs` and
   * `bodyTimeoutMs` of clients used directly (`checkout`, `transaction`). Default 30000.
   */
  requestTimeoutMs?: number;
}

/** A pool of undici clients to one origin; see {@link createHttpPool}. */
export interface HttpPool extends Pool<Client> {
  /** The origin every client talks to. */
  readonly origin: string;
  /**
   * Checks a client out, sends the request, reads the whole response and releases the client.
   * A request that fails after it may have been sent (network error, timeout, abort) destroys its
   * client, which the pool replaces. Rejects with `HttpTimeoutError` past its deadline, with the
   * signal's reason when aborted, with `ConfigError` for malformed options (undici's refusal, if
   * it was undici that refused them, is its `cause`; nothing is sent); 4xx and 5xx are responses,
   * not errors. Errors of the connection or the server (undici's) pass unchanged.
   */
  request(options: HttpRequestOptions): Promise<HttpResponse>;
}

/** The pool behind {@link createHttpPool}: a {@link ResourcePool} of clients plus `request`. */
class HttpClientPool extends ResourcePool<Client> implements HttpPool {
  readonly origin: string;
  private readonly requestTimeoutMs: number;
  private readonly exchangeContext: ExchangeContext;

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
    this.requestTimeoutMs = requestTimeoutMs;
    this.exchangeContext = {
      pool: this.name,
      origin: worker.origin,
      clock: options.clock ?? systemClock,
      checkout: (signal) => this.checkout({ signal }),
      // Set by the user: undici enforces them per request; unset: the deadline alone bounds a request.
      headersTimeoutMs: fields.headersTimeoutMs === undefined ? undefined : worker.headersTimeoutMs,
      bodyTimeoutMs: fields.bodyTimeoutMs === undefined ? undefined : worker.bodyTimeoutMs,
    };
  }

  request(options: HttpRequestOptions): Promise<HttpResponse> {
    return attempt(() => {
      const fields = record('options', options);
      const timeoutMs = fields.timeoutMs === undefined ? this.requestTimeoutMs : positive('timeoutMs', fields.timeoutMs, 0);
      abortSignal('signal', fields.signal);
      return exchange(this.exchangeContext, options, timeoutMs);
    });
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
