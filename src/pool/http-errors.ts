import { OverseerError, hasOverseerCode } from '../core/index.js';

/**
 * Which limit a request ran into: the whole request's deadline (`requestTimeoutMs` or the
 * request's `timeoutMs`), or one of undici's inactivity timeouts (no response headers for
 * `headersTimeoutMs` after sending, a pause in the body longer than `bodyTimeoutMs`).
 */
export type HttpTimeoutPhase = 'request' | 'headers' | 'body';

/** The words a message uses for each limit. */
function describeLimit(phase: HttpTimeoutPhase, origin: string, timeoutMs: number): string {
  switch (phase) {
    case 'request':
      return `request to ${origin} timed out (deadline ${timeoutMs} ms)`;
    case 'headers':
      return `no response headers from ${origin} within ${timeoutMs} ms of sending (headersTimeoutMs)`;
    case 'body':
      return `the response body from ${origin} paused for more than ${timeoutMs} ms (bodyTimeoutMs)`;
  }
}

/**
 * An HTTP request through an HTTP pool took too long. Its connection was closed and its worker
 * replaced; `cause` is undici's error when undici's own timeout fired. `timeoutMs` is the limit
 * that was exceeded, `elapsedMs` how long after the call of `request()` it was given up (on the
 * pool's clock): undici checks its timeouts on a coarse timer, so for `headers` and `body` the
 * two can differ by up to a second.
 *
 * @example
 * ```ts
 * const response = await api.request({ path: '/slow' }).catch((error) => {
 *   if (isHttpTimeoutError(error)) return fallback();
 *   throw error;
 * });
 * ```
 */
export class HttpTimeoutError extends OverseerError {
  /** Always `'ERR_HTTP_TIMEOUT'`. */
  readonly code = 'ERR_HTTP_TIMEOUT' as const;
  /** The pool's name. */
  readonly pool: string;
  /** The origin the request went to (the pool's `origin`, e.g. `https://api.example.com`). */
  readonly origin: string;
  /** Which limit ran out (see {@link HttpTimeoutPhase}). */
  readonly phase: HttpTimeoutPhase;
  /** The limit that was exceeded, in ms. */
  readonly timeoutMs: number;
  /** Time from the call of `request()` to giving up, in ms on the pool's clock. */
  readonly elapsedMs: number;

  /** Builds the error of a request of `pool` to `origin`; raised by the HTTP pool, built by hand only in tests. */
  constructor(pool: string, origin: string, phase: HttpTimeoutPhase, timeoutMs: number, elapsedMs: number, cause?: unknown) {
    super(`pool '${pool}': ${describeLimit(phase, origin, timeoutMs)}; gave up after ${Math.round(elapsedMs)} ms`, cause === undefined ? undefined : { cause });
    this.pool = pool;
    this.origin = origin;
    this.phase = phase;
    this.timeoutMs = timeoutMs;
    this.elapsedMs = elapsedMs;
  }
}

/** True when `error` is an {@link HttpTimeoutError}, across package copies (by the package's brand and the code). */
export function isHttpTimeoutError(error: unknown): error is HttpTimeoutError {
  return hasOverseerCode(error, 'ERR_HTTP_TIMEOUT');
}
