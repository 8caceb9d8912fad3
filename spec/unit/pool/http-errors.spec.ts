import { errors } from 'undici';
import { describe, expect, it } from 'vitest';
import { HttpTimeoutError, isHttpTimeoutError } from '../../../src/pool/index.js';
import { connectionExitReason, requestExitReason } from '../../../src/pool/http-exit-reasons.js';

/** Node's system errors as sockets raise them. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`read ${code}`), { code, errno: -1, syscall: 'read' });
}

describe('HttpTimeoutError', () => {
  it.each([
    ['request', 300, 301.4, "pool 'api': request to http://127.0.0.1:1 timed out (deadline 300 ms); gave up after 301 ms"],
    ['headers', 100, 1004.6, "pool 'api': no response headers from http://127.0.0.1:1 within 100 ms of sending (headersTimeoutMs); gave up after 1005 ms"],
    ['body', 100, 980, "pool 'api': the response body from http://127.0.0.1:1 paused for more than 100 ms (bodyTimeoutMs); gave up after 980 ms"],
  ] as const)('a %s timeout states the limit it exceeded and when it was given up', (phase, timeoutMs, elapsedMs, message) => {
    const error = new HttpTimeoutError('api', 'http://127.0.0.1:1', phase, timeoutMs, elapsedMs);
    expect(error.message).toBe(message);
    expect(error).toMatchObject({ code: 'ERR_HTTP_TIMEOUT', pool: 'api', phase, timeoutMs, elapsedMs });
    expect(isHttpTimeoutError(error)).toBe(true);
  });

  it('the guard wants the package`s brand, not just the code', () => {
    expect(isHttpTimeoutError(Object.assign(new Error('x'), { code: 'ERR_HTTP_TIMEOUT' }))).toBe(false);
  });
});

describe('why an HTTP worker exits', () => {
  it.each([
    ['undici closed it itself (keep-alive idle, abort, connection: close)', new errors.InformationalError('socket idle timeout'), undefined],
    ['a headers timeout', new errors.HeadersTimeoutError(), 'timeout'],
    ['a body timeout', new errors.BodyTimeoutError(), 'timeout'],
    ['a reset', systemError('ECONNRESET'), 'reset'],
    ['a broken pipe', systemError('EPIPE'), 'reset'],
    ['the server closing it', new errors.SocketError('other side closed'), 'disconnected'],
    ['an unknown end', undefined, 'disconnected'],
  ])('a connection ended by %s: %s', (_, error, reason) => {
    expect(connectionExitReason(error)).toBe(reason);
  });

  it.each([
    ['a headers timeout', new errors.HeadersTimeoutError(), 'timeout'],
    ['a connect timeout', new errors.ConnectTimeoutError(), 'timeout'],
    ['a reset', systemError('ECONNRESET'), 'reset'],
    ['the server closing the connection', new errors.SocketError('other side closed'), 'disconnected'],
    ['a refused connection', systemError('ECONNREFUSED'), 'request_failed'],
    ['the client destroyed under it', new errors.ClientDestroyedError(), 'request_failed'],
  ])('a request failed by %s: %s', (_, error, reason) => {
    expect(requestExitReason(error)).toBe(reason);
  });
});
