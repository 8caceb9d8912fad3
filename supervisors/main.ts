import { telemetry, type TelemetryEvent } from '../src/index.js';
import { startBackend, type Backend } from './backend.js';

/**
 * `npm start`: the example back end under supervision on the embedded defaults.
 * Environment: PORT (default 3000), REDIS_URL (runs across instances on that Redis: the rate
 * limiters count there, the quote publisher runs as a singleton child on a Redis lease, and the
 * upstream breaker joins a breaker fleet; every instance started with the same REDIS_URL shares
 * them), INSTANCE (with REDIS_URL: this instance's id, default <hostname>:<pid>:<random>),
 * UPSTREAM_FAILURE_RATE (default 0.1), UPSTREAM_LATENCY_MS (default 2), CLIENT_RATE (default 200),
 * QUOTE_REFRESH_MS (default 5000), SOAK_HOOKS (1 turns on the soak harness's routes under /soak/).
 * The observer's live page of the tree is at /observer/ (read-only, on 127.0.0.1).
 * SIGINT or SIGTERM: stop accepting, drain calls in flight, stop the tree in order, exit 0.
 *
 * The start script runs this file with `exec node --import tsx`, so the shell npm spawns becomes
 * this very process: npm passes SIGTERM and SIGINT on to it, and exits with its exit code. Run
 * through a shell or the tsx CLI instead, a SIGTERM to npm would stop npm and the shell and leave
 * this process running, orphaned.
 */
function describe(event: TelemetryEvent): string {
  const { supervisor, child, reason, error, breaker, from, to, attempt } = event.metadata as Record<string, unknown>;
  const parts = [event.name];
  if (supervisor) parts.push(`supervisor=${String(supervisor)}`);
  if (child) parts.push(`child=${String(child)}`);
  if (reason) parts.push(`reason=${String(reason)}`);
  if (event.measurements.restarts !== undefined) parts.push(`restarts=${event.measurements.restarts}`);
  if (event.measurements.delay !== undefined) parts.push(`delay=${Math.round(event.measurements.delay)}ms`);
  if (attempt !== undefined) parts.push(`attempt=${String(attempt)}`);
  if (breaker) parts.push(`breaker=${String(breaker)} ${String(from)}->${String(to)}`);
  if (error instanceof Error) parts.push(`(${error.message})`);
  return `[telemetry] ${parts.join(' ')}`;
}

const logged = telemetry.events$.subscribe((event) => {
  if (event.name.startsWith('supervisor.') || event.name === 'breaker.state' || event.name === 'pool.worker.exit') {
    console.log(describe(event));
  }
});

const number = (value: string | undefined, fallback: number): number => (value === undefined || value === '' ? fallback : Number(value));

// The signal handlers come first: a SIGTERM while the tree is still starting waits for the start,
// then stops what it started, instead of killing the process half-way.
let stopping = false;
let started: Promise<Backend | undefined> = Promise.resolve(undefined);
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: draining and stopping the tree in reverse start order`);
  const backend = await started;
  await backend?.stop();
  logged.unsubscribe();
  console.log('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const starting = startBackend({
  port: number(process.env.PORT, 3000),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  ...(process.env.INSTANCE ? { instance: process.env.INSTANCE } : {}),
  upstream: {
    failureRate: number(process.env.UPSTREAM_FAILURE_RATE, 0.1),
    latencyMs: number(process.env.UPSTREAM_LATENCY_MS, 2),
  },
  clientRate: number(process.env.CLIENT_RATE, 200),
  quoteRefreshMs: number(process.env.QUOTE_REFRESH_MS, 5_000),
  ...(process.env.SOAK_HOOKS === '1' ? { soakHooks: true } : {}),
});
started = starting.catch(() => undefined);
const backend = await starting.catch((error: unknown) => {
  // Stopping already: the shutdown exits once the start has settled.
  if (stopping) return undefined;
  console.error(`the back end could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
if (backend !== undefined && !stopping) {
  console.log(`overseer example back end listening on ${backend.url} (upstream ${backend.upstream.origin})`);
  console.log(`  GET ${backend.url}/quote   GET ${backend.url}/cpu?n=27   GET ${backend.url}/metrics   GET ${backend.url}/health`);
  console.log(`  POST ${backend.url}/crash?child=http crashes the HTTP server child: watch its supervisor restart it, here and in /health`);
  console.log(`  POST ${backend.url}/crash?child=quote-refresher crashes the quote refresher: its supervisor restarts it after a backoff (1 s, 2 s, 4 s ...), shown in /health`);
  if (backend.fleet) {
    console.log(`  across instances on REDIS_URL as ${backend.fleet.instance}: /health shows who holds the quote publisher's lease (with its fence) and every instance's breakers`);
    console.log(`  POST ${backend.url}/isolate?breaker=quotes.upstream&reason=... refuses upstream calls on every instance; POST ${backend.url}/restore?breaker=quotes.upstream lifts it`);
  }
  if (backend.observer) console.log(`  ${backend.url}${backend.observer.base}/ shows the tree live in a browser (read-only): restarts, backoffs, the breaker, pools, limiters`);
  void backend.infra.supervisor.exited.then((reason) => {
    if (stopping) return;
    console.error(`the supervision tree gave up (${reason}); exiting`);
    process.exit(1);
  });
}
