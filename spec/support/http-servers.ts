import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

/**
 * Real servers on 127.0.0.1 (ephemeral ports) for the HTTP pool's specs: a `node:http` server whose
 * paths misbehave on request, and a raw TCP server that never answers a TLS ClientHello. Each
 * records the connections it accepted and which of them are still open, so a spec can check
 * that nothing was left behind.
 */

/** Connection bookkeeping shared by both servers. */
export interface Connections {
  /** TCP connections accepted so far. */
  accepted(): number;
  /** Sockets open now. */
  readonly open: Set<Socket>;
  /** Closes every socket and the listener. */
  close(): Promise<void>;
}

export interface TestHttpServer extends Connections {
  readonly server: Server;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Requests whose headers arrived, as `METHOD path`. */
  readonly seen: string[];
}

/** Bytes of `/large` unless `?kb=` says otherwise: far beyond what undici and the socket buffer between them. */
export const largeBodyKb = 512;

/**
 * The paths:
 * - `/destroy`: the server closes the connection (FIN) instead of answering;
 * - `/reset`: the server resets the connection (RST);
 * - `/never`: no response, ever (headers never come);
 * - `/slow-headers?ms=`: the response after `ms`;
 * - `/slow-body?ms=`: headers and a first chunk, the rest after `ms`;
 * - `/endless`: headers, then a chunk every 50 ms for as long as the connection lives (a body that never ends);
 * - `/large?kb=`: a body of `kb` KiB (default {@link largeBodyKb});
 * - `/echo`: the method, query, body and `x-test` header as JSON;
 * - `/missing`: a 404;
 * - anything else: `ok <path>`.
 */
function handle(request: IncomingMessage, response: ServerResponse, body: string): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/destroy':
      request.socket.destroy();
      return;
    case '/reset':
      request.socket.resetAndDestroy();
      return;
    case '/never':
      return;
    case '/slow-headers': {
      const timer = setTimeout(() => response.end('late'), Number(url.searchParams.get('ms') ?? 1000));
      response.on('close', () => clearTimeout(timer));
      return;
    }
    case '/slow-body': {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('first chunk, ');
      const timer = setTimeout(() => response.end('last chunk'), Number(url.searchParams.get('ms') ?? 1000));
      response.on('close', () => clearTimeout(timer));
      return;
    }
    case '/endless': {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('chunk ');
      const timer = setInterval(() => response.write('chunk '), 50);
      response.on('close', () => clearInterval(timer));
      return;
    }
    case '/large':
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(Number(url.searchParams.get('kb') ?? largeBodyKb) * 1024, 'x'));
      return;
    case '/echo':
      response.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'test' });
      response.end(JSON.stringify({ method: request.method, query: Object.fromEntries(url.searchParams), body, header: request.headers['x-test'] ?? null }));
      return;
    case '/missing':
      response.writeHead(404);
      response.end('not here');
      return;
    default:
      response.end(`ok ${url.pathname}`);
  }
}

function track(server: Server | TcpServer): Omit<Connections, 'close'> {
  const open = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  return { accepted: () => accepted, open };
}

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server | TcpServer, open: Set<Socket>): () => Promise<void> {
  return async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
}

/** Starts the misbehaving `node:http` server on an ephemeral port of 127.0.0.1. */
export async function startHttpServer(): Promise<TestHttpServer> {
  const seen: string[] = [];
  const server = createHttpServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => handle(request, response, body));
  });
  server.keepAliveTimeout = 30_000;
  const connections = track(server);
  const port = await listen(server);
  return { ...connections, server, origin: `http://127.0.0.1:${port}`, seen, close: closer(server, connections.open) };
}

export interface SilentTlsServer extends Connections {
  /** `https://127.0.0.1:<port>`: TCP connects, the TLS handshake never completes. */
  readonly origin: string;
  /** Bytes received (the ClientHello), so a spec can see the handshake began. */
  received(): number;
}

/** Starts a raw TCP server that accepts connections and never answers the TLS ClientHello they send. */
export async function startSilentTlsServer(): Promise<SilentTlsServer> {
  let received = 0;
  const server = createTcpServer((socket) => {
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => undefined);
  });
  const connections = track(server);
  const port = await listen(server);
  return { ...connections, origin: `https://127.0.0.1:${port}`, received: () => received, close: closer(server, connections.open) };
}

/** `promise`, or a rejection naming `what` if it is still pending after `ms` of real time (a spec's bounded wait). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/** Settles with the rejection reason, or fails if `promise` resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}
