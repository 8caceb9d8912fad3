import { OverseerError, hasCode } from '../core/index.js';

/**
 * Which limit a request ran into: the whole request's deadline (`requestTimeoutMs`), or one of
 * undici's inactivity timeouts (no response headers for `headersTimeoutMs`, no body data for
 * `bodyTimeoutMs`).
 */
export type HttpTimeoutPhase = 'request' | 'headers' | 'body';

/**
 * An HTTP request through an HTTP pool took too long. Its connection was closed and its worker
 * replaced; `cause` is undici's error when undici's own timeout fired.
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
  readonly code = 'ERR_HTTP_TIMEOUT' as const;
  /** The pool's name. */
  readonly pool: string;
  readonly origin: string;
  readonly phase: HttpTimeoutPhase;
  readonly timeoutMs: number;

  constructor(pool: string, origin: string, phase: HttpTimeoutPhase, timeoutMs: number, cause?: unknown) {
    const what = phase === 'request' ? 'request' : phase === 'headers' ? 'response headers' : 'response body';
    super(`pool '${pool}': ${what} from ${origin} timed out after ${timeoutMs} ms`, cause === undefined ? undefined : { cause });
    this.pool = pool;
    this.origin = origin;
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/** True when `error` is an {@link HttpTimeoutError}, across package copies. */
export function isHttpTimeoutError(error: unknown): error is HttpTimeoutError {
  return hasCode(error, 'ERR_HTTP_TIMEOUT');
}
