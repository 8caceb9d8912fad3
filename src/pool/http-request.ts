import type { IncomingHttpHeaders } from 'node:http';
import type { Client, Dispatcher } from 'undici';
import type { Clock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { HttpTimeoutError } from './http-errors.js';
import { requestExitReason, type HttpWorkerExitReason } from './http-exit-reasons.js';
import type { Lease } from './resource-pool.js';

/** Options of {@link HttpPool.request}. */
export interface HttpRequestOptions {
  /** Path and query, e.g. `'/users?active=1'`. Required. */
  path: string;
  /** The HTTP method, e.g. `'POST'`. Default `'GET'`. */
  method?: string;
  /** Request headers; an array value sends the header once per element. Default none. */
  headers?: Record<string, string | string[]>;
  /** The request body, sent as is (set `content-type` in `headers`). Default none. */
  body?: string | Uint8Array | null;
  /** Query parameters appended to `path`. Default none. */
  query?: Record<string, unknown>;
  /**
   * Aborts the request at any stage (waiting for a client, before sending, waiting for the
   * response, reading the body): it rejects at once with the signal's `reason`. One aborted
   * already, or aborted before the request is sent, sends nothing. Default none.
   */
  signal?: AbortSignal;
  /** This request's deadline, in ms from the call, longer or shorter than the pool's. Default the pool's `requestTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * A response read to its end, whatever its status: a 4xx or 5xx resolves like a 200 (check
 * `statusCode`), since only the caller knows which statuses are failures.
 */
export interface HttpResponse {
  /** The HTTP status code, e.g. 200. */
  statusCode: number;
  /** The response headers, names in lower case (as `node:http` gives them). */
  headers: IncomingHttpHeaders;
  /** The whole body. */
  body: Buffer;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

/** What one request needs from its pool. */
export interface ExchangeContext {
  /** The pool's name, for errors. */
  readonly pool: string;
  readonly origin: string;
  /** The pool's clock: the deadline's timer and the elapsed time errors state. */
  readonly clock: Clock;
  /** Checks a client out; aborting `signal` withdraws the checkout. */
  checkout(signal: AbortSignal): Promise<Lease<Client>>;
  /** undici's headers timeout for each request, or `undefined` for none (the deadline is the limit). */
  readonly headersTimeoutMs: number | undefined;
  /** undici's body timeout for each request, or `undefined` for none (the deadline is the limit). */
  readonly bodyTimeoutMs: number | undefined;
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

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null | undefined)?.code;
}

/** Sends one request on `client` and reads its whole body. */
async function readWhole(client: Client, options: Dispatcher.RequestOptions): Promise<HttpResponse> {
  const response = await client.request(options);
  const body = Buffer.from(await response.body.arrayBuffer());
  return new ReadResponse(response.statusCode, response.headers, body);
}

/**
 * Runs one `request()`: checks a client out, sends the request, reads the whole response and
 * releases the client.
 *
 * The returned promise is settled by exactly one of, whichever comes first: the response read to
 * its end; the deadline, a timer on the pool's clock armed at the call (so it holds whatever undici
 * is doing: connecting, a TLS handshake that never ends, a request queued in the client); the
 * caller's signal; the checkout's error; undici's error. Giving up (deadline, signal) settles at
 * once: a checkout still waiting is withdrawn, and a client the request may have been sent on is
 * destroyed, which closes its connection and fails whatever undici still holds of it. A client on
 * which nothing was sent is released.
 */
export function exchange(context: ExchangeContext, options: HttpRequestOptions, timeoutMs: number): Promise<HttpResponse> {
  const { clock } = context;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const startedAt = clock.now();
  return new Promise<HttpResponse>((resolve, reject) => {
    /** Set once the request is about to be sent on it. */
    let lease: Lease<Client> | undefined;
    let settled = false;
    const withdraw = new AbortController();
    const end = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const giveUp = (error: unknown, reason: HttpWorkerExitReason): void => {
      if (!end()) return;
      withdraw.abort(error);
      lease?.destroy(reason);
      reject(error);
    };
    const onAbort = (): void => giveUp(signal!.reason, 'aborted');
    const deadline = clock.setTimeout(() => {
      giveUp(new HttpTimeoutError(context.pool, context.origin, 'request', timeoutMs, clock.now() - startedAt), 'timeout');
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    context.checkout(withdraw.signal).then(
      (checkedOut) => {
        // The listener has already settled an abort; a signal-like object that flipped `aborted`
        // without an event is caught here. Either way nothing is sent.
        if (!settled && signal?.aborted) onAbort();
        // Given up while the lease was on its way: nothing was sent, the client is as good as it was.
        if (settled) return checkedOut.release();
        lease = checkedOut;
        readWhole(checkedOut.worker, dispatchOptions(context, options)).then(
          (response) => {
            if (!end()) return;
            checkedOut.release();
            resolve(response);
          },
          (error: unknown) => {
            if (!end()) return;
            // undici refuses bad arguments before sending anything: the client is unharmed.
            if (codeOf(error) === 'UND_ERR_INVALID_ARG') checkedOut.release();
            // The connection is in an unknown state (or gone): never hand this client to anyone else.
            else checkedOut.destroy(requestExitReason(error));
            reject(translate(context, options, error, clock.now() - startedAt));
          },
        );
      },
      (error: unknown) => {
        if (end()) reject(error);
      },
    );
  });
}

/**
 * undici's options for one request. Its headers and body timeouts are per request: the pool's
 * when set, else none (0), since the deadline bounds the whole request on the pool's clock.
 */
function dispatchOptions(context: ExchangeContext, options: HttpRequestOptions): Dispatcher.RequestOptions {
  return {
    path: options.path,
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: options.headers ?? null,
    body: options.body ?? null,
    ...(options.query === undefined ? {} : { query: options.query }),
    headersTimeout: context.headersTimeoutMs ?? 0,
    bodyTimeout: context.bodyTimeoutMs ?? 0,
  };
}

/**
 * undici's own timeouts become {@link HttpTimeoutError}s stating the limit and when they fired;
 * undici's refusal of malformed options (a path without a leading `/`, a method with a space)
 * becomes a `ConfigError` naming the options, with undici's error as its cause; other errors (the
 * connection's, the server's) pass unchanged.
 */
function translate(context: ExchangeContext, options: HttpRequestOptions, error: unknown, elapsedMs: number): unknown {
  const code = codeOf(error);
  if (code === 'UND_ERR_INVALID_ARG') {
    const detail = (error as { message?: unknown }).message;
    return new ConfigError('options', options, `request options undici accepts${typeof detail === 'string' ? ` (${detail})` : ''}`, { cause: error });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new HttpTimeoutError(context.pool, context.origin, 'headers', context.headersTimeoutMs ?? 0, elapsedMs, error);
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new HttpTimeoutError(context.pool, context.origin, 'body', context.bodyTimeoutMs ?? 0, elapsedMs, error);
  }
  return error;
}
