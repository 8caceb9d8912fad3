import { Socket } from 'node:net';
import type { buildConnector } from 'undici';
import { loadUndici } from './optional-dependencies.js';

/** A client's connector that can abandon the connection it is still opening. */
export interface AbandonableConnector {
  /** undici's `connect` option. */
  readonly connect: buildConnector.connector;
  /**
   * Destroys the socket being connected, if any. `Client.destroy()` does not: a connection whose
   * TCP or TLS handshake hangs would stay open until the connect timeout. Call it after
   * `client.destroy()`, so that undici drops the error as the client's, already destroyed.
   */
  abandon(): void;
}

/**
 * Wraps undici's connector (`buildConnector`, which returns the socket it opens) so that the socket
 * is known until its handshake ends. One per client: a client opens one connection at a time.
 */
export function abandonableConnector(base: buildConnector.connector): AbandonableConnector {
  let connecting: Socket | undefined;
  const connect: buildConnector.connector = (options, callback) => {
    const opened: unknown = base(options, (...outcome) => {
      if (connecting === opened) connecting = undefined;
      callback(...outcome);
    });
    // undici's own connector returns the socket; were that to change, abandon() does nothing and
    // the connect timeout still ends a hung handshake.
    if (opened instanceof Socket) connecting = opened;
  };
  return {
    connect,
    abandon(): void {
      const socket = connecting;
      connecting = undefined;
      socket?.destroy(new (loadUndici().errors.ClientDestroyedError)());
    },
  };
}
