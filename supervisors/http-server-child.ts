import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActor, fromPromise, setup } from 'xstate';
import type { ChildSpec } from '../src/index.js';

/** Options of {@link httpServerChild}. */
export interface HttpServerChildOptions {
  id: string;
  /** Creates the server (with its request handler); called at each start of the child. */
  createServer: () => Server;
  port: number;
  host: string;
  /** How long draining may take before the supervisor stops the server outright. Default 10000. */
  shutdown?: number;
  /** Called with the bound address once listening. */
  onListening?: (address: AddressInfo) => void;
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

/**
 * An HTTP server as a supervised child that shuts down gracefully: asked to stop
 * (`overseer.shutdown`), it stops accepting connections, closes idle keep-alive sockets, waits
 * for the requests in flight to finish and then reaches its final state — the protocol every
 * overseer child follows. Stopped outright, it drops every connection at once.
 */
export function httpServerChild(options: HttpServerChildOptions): ChildSpec {
  return {
    id: options.id,
    shutdown: options.shutdown ?? 10_000,
    start: async () => {
      const server = options.createServer();
      const inFlight = trackInFlight(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      options.onListening?.(server.address() as AddressInfo);
      const machine = setup({
        actors: {
          drain: fromPromise(
            () =>
              new Promise<void>((resolve) => {
                server.close(() => resolve());
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
        exit: () => {
          if (server.listening) server.close();
          server.closeAllConnections();
        },
        states: {
          serving: { on: { 'overseer.shutdown': 'draining' } },
          draining: { invoke: { src: 'drain', onDone: 'closed' } },
          closed: { type: 'final' },
        },
      });
      return createActor(machine);
    },
  };
}
