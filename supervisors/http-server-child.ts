import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActor, fromPromise, setup } from 'xstate';
import type { ChildSpec } from '../src/index.js';

/** Options of {@link httpServerChild}. */
export interface HttpServerChildOptions {
  id: string;
  /** Creates the server (with its request handler); called at each start of the child. */
  createServer: () => Server;
  /** The port to listen on; 0 picks a free one at the first start, which later starts reuse. */
  port: number;
  host: string;
  /** How long draining may take before the supervisor stops the server outright. Default 10000. */
  shutdown?: number;
  /** Called with the bound address once listening, at every start. */
  onListening?: (address: AddressInfo) => void;
  /**
   * Called when draining begins, after the server stopped accepting: end responses that never end
   * by themselves (event streams), which the drain would otherwise wait for until `shutdown`.
   */
  onDrain?: () => void;
}

/**
 * The event that makes a running server child crash, as a bug in it would: it drops every
 * connection and its actor fails with `error`, an `'error'` exit its supervisor restarts.
 */
export interface CrashEvent {
  type: 'overseer.crash';
  error: Error;
}

/** Counts requests in flight on a server so that draining can wait for them. */
function trackInFlight(server: Server): () => number {
  let inFlight = 0;
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', () => (inFlight -= 1));
  });
  return () => inFlight;
}

/** Stops listening and drops every connection at once. */
function closeOutright(server: Server): void {
  if (server.listening) server.close();
  server.closeAllConnections();
}

/**
 * An HTTP server as a supervised child that shuts down gracefully: asked to stop
 * (`overseer.shutdown`), it stops accepting connections, closes idle keep-alive sockets, waits
 * for the requests in flight to finish and then reaches its final state — the protocol every
 * overseer child follows. Stopped outright, it drops every connection at once. Sent a
 * {@link CrashEvent}, it crashes. A restart listens on the port of the first start, so clients
 * find it where it was.
 */
export function httpServerChild(options: HttpServerChildOptions): ChildSpec {
  let port = options.port;
  return {
    id: options.id,
    shutdown: options.shutdown ?? 10_000,
    start: async () => {
      const server = options.createServer();
      const inFlight = trackInFlight(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      port = address.port;
      options.onListening?.(address);
      const machine = setup({
        types: { events: {} as CrashEvent | { type: 'overseer.shutdown' } },
        actions: {
          crash: (_, error: Error) => {
            closeOutright(server);
            // Thrown from an action, it fails the actor: the supervisor sees an 'error' exit.
            throw error;
          },
        },
        actors: {
          drain: fromPromise(
            () =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
                options.onDrain?.();
                server.closeIdleConnections();
                const poll = setInterval(() => {
                  server.closeIdleConnections();
                  if (inFlight() === 0) {
                    clearInterval(poll);
                    server.closeAllConnections();
                  }
                }, 10);
                poll.unref();
              }),
          ),
        },
      }).createMachine({
        id: 'http-server',
        initial: 'serving',
        exit: () => closeOutright(server),
        states: {
          serving: {
            on: {
              'overseer.shutdown': 'draining',
              'overseer.crash': { actions: { type: 'crash', params: ({ event }) => event.error } },
            },
          },
          draining: { invoke: { src: 'drain', onDone: 'closed' } },
          closed: { type: 'final' },
        },
      });
      return createActor(machine);
    },
  };
}
