/**
 * Why an HTTP worker (an undici `Client`) left its pool: the `reason` of `pool.worker.exit`.
 *
 * - `timeout`: a request ran past its deadline, or undici's headers or body timeout closed the connection;
 * - `aborted`: the caller's signal aborted a request that had been sent;
 * - `reset`: the connection was reset (`ECONNRESET`, `EPIPE`);
 * - `disconnected`: the server closed the connection (idle or mid-request), or it broke otherwise;
 * - `request_failed`: a request failed for another reason (refused connection, TLS error, ...);
 * - `unfinished_request`: its lease was released while a request on it had not finished (a large
 *   response body left unread, a response not awaited), so its connection could serve no one else.
 */
export type HttpWorkerExitReason = 'timeout' | 'aborted' | 'reset' | 'disconnected' | 'request_failed' | 'unfinished_request';

const timeoutCodes: ReadonlySet<unknown> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const resetCodes: ReadonlySet<unknown> = new Set(['ECONNRESET', 'EPIPE']);

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null | undefined)?.code;
}

/**
 * The exit reason a connection's end gives its worker, from the error undici closed it with; or
 * `undefined` when undici closed it itself and the client is fine (its keep-alive idle timeout,
 * an aborted request, a `connection: close` response: an `InformationalError`), so the client
 * stays and reconnects on demand.
 */
export function connectionExitReason(error: unknown): HttpWorkerExitReason | undefined {
  const code = codeOf(error);
  if (code === 'UND_ERR_INFO') return undefined;
  if (timeoutCodes.has(code)) return 'timeout';
  if (resetCodes.has(code) || resetCodes.has(codeOf((error as { cause?: unknown } | null | undefined)?.cause))) return 'reset';
  return 'disconnected';
}

/** The exit reason of a worker whose request failed with `error` (undici's error, untranslated). */
export function requestExitReason(error: unknown): HttpWorkerExitReason {
  if (codeOf(error) === 'UND_ERR_SOCKET') return 'disconnected';
  const reason = connectionExitReason(error);
  return reason === 'timeout' || reason === 'reset' ? reason : 'request_failed';
}
