/**
 * One instance of the small service the multi-process scenario forks
 * (`node --import tsx spec/cluster/service/instance.ts`, with an IPC channel; configuration in the
 * environment, see `protocol.ts`). It declares a supervision tree whose one child is a singleton:
 * while this instance holds the lease, a writer appends fenced rows to a PostgreSQL table every
 * `writes.everyMs`. Beside it, a Redis rate limiter shared by every instance answers `hit`
 * commands, and a breaker `breakers.name` (a child of the tree) is attached to a breaker fleet on
 * the same Redis, so that an isolation made on one instance reaches the others. It reports what
 * happens to the harness over IPC and, on `stop` or SIGTERM, stops the tree (releasing the lease),
 * leaves the fleet, closes its connections and exits by itself: nothing may hold the process open.
 *
 * The writer checks `lease.isHeld()` and the fence before each write: a process whose event loop
 * was stopped past the lease's local deadline learns so there, before it writes anything.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { assign, createActor, fromPromise, setup } from 'xstate';
import {
  TelemetryEvents,
  breakerChild,
  createPostgresLease,
  createRedisLease,
  createRedisRateLimiter,
  createTelemetry,
  isBreakerOpenError,
  singletonChild,
  startSupervisor,
  type ClusterLease,
  type SingletonStartContext,
  type Supervisor,
} from '../../../src/index.js';
import { createBreakerFleet } from '../../../src/cluster/index.js';
import { fencedWriteStatements } from './fenced-writes.js';
import { SERVICE_CONFIG_ENV, type Command, type ServiceConfig, type ServiceEvent } from './protocol.js';

type Report = ServiceEvent extends infer Event ? (Event extends ServiceEvent ? Omit<Event, 'instance' | 'pid' | 'at'> : never) : never;

const config = JSON.parse(process.env[SERVICE_CONFIG_ENV] ?? 'null') as ServiceConfig | null;
if (config === null || typeof process.send !== 'function') {
  process.stderr.write(`instance.ts is forked by spec/cluster/harness.ts, with ${SERVICE_CONFIG_ENV} and an IPC channel\n`);
  process.exit(2);
}
const { instance } = config;

function report(event: Report): void {
  if (!process.connected) return;
  process.send!({ ...event, instance, pid: process.pid, at: Date.now() } as ServiceEvent, undefined, undefined, () => undefined);
}

process.on('uncaughtException', (error) => {
  report({ type: 'fault', message: `uncaught: ${error.stack ?? error.message}` });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 50).unref();
});

// ---------------------------------------------------------------- connections

const pool = new pg.Pool({
  connectionString: config.databaseUrl,
  application_name: instance,
  max: 4,
  connectionTimeoutMillis: config.lease.ttlMs,
  query_timeout: config.lease.ttlMs,
});
// A backend terminated under an idle client (pg_terminate_backend) is an expected fault here: the
// pool drops that client and opens another for the next query.
pool.on('error', () => undefined);

const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 50, connectTimeout: config.lease.ttlMs });
redis.on('error', () => undefined);

const telemetry = createTelemetry();
const leaseEvents = telemetry.select('lease').subscribe((event) => {
  const fence = Number(event.metadata.fence);
  if (event.name === TelemetryEvents.leaseAcquired) report({ type: 'lease.acquired', fence });
  else if (event.name === TelemetryEvents.leaseLost) report({ type: 'lease.lost', fence, reason: String(event.metadata.reason) });
  else if (event.name === TelemetryEvents.leaseReleased) report({ type: 'lease.released', fence, confirmed: event.metadata.confirmed === true });
});

const lease: ClusterLease =
  config.lease.backend === 'postgres'
    ? createPostgresLease({ name: config.lease.name, pool, table: config.lease.table, ttlMs: config.lease.ttlMs, owner: instance, telemetry })
    : createRedisLease({ name: config.lease.name, redis, prefix: config.lease.prefix, ttlMs: config.lease.ttlMs, owner: instance, telemetry });

const limiter = createRedisRateLimiter({
  name: config.limiter.name,
  redis,
  prefix: config.limiter.prefix,
  limit: config.limiter.limit,
  windowMs: config.limiter.windowMs,
  telemetry,
});

// ---------------------------------------------------------------- the shared breaker

/** A breaker every instance has, under the same name: counting stays local, isolations are shared. */
const upstream = breakerChild({ name: config.breakers.name, tolerance: { failures: 5, windowMs: 10_000 }, resetMs: 5000 });

/** The fleet makes (and owns) its subscriber from `redis.duplicate()`; Redis failing reaches telemetry, never a caller. */
const fleet = createBreakerFleet({ redis, instance, prefix: config.breakers.prefix, heartbeatMs: config.breakers.heartbeatMs, telemetry });
fleet.onChange((change) => {
  if (change.type === 'state' && change.instance === instance && change.breaker === config.breakers.name) {
    report({ type: 'breaker.state', state: change.state, isolated: change.isolated });
  }
});

// ---------------------------------------------------------------- the singleton's writer

const statements = fencedWriteStatements(config.writes.log, config.writes.mark);

/** One fenced write, reported whatever its outcome. */
async function write(fence: number): Promise<void> {
  const sentAt = Date.now();
  try {
    const result = await pool.query(statements.write, [fence, instance]);
    const row = result.rows[0] as { seq: string; at_ms: string } | undefined;
    report(
      row === undefined
        ? { type: 'write', fence, sentAt, accepted: false }
        : { type: 'write', fence, sentAt, accepted: true, seq: Number(row.seq), dbAt: Number(row.at_ms) },
    );
  } catch (error) {
    report({ type: 'write', fence, sentAt, accepted: false, error: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * The singleton's actor for one holding: writes every `everyMs` while the lease is held with its
 * fence; on `overseer.shutdown` it lets the write in flight settle, then ends.
 */
function writerMachine(context: SingletonStartContext) {
  const { fence, signal } = context;
  return setup({
    types: { context: {} as { stopping: boolean } },
    actors: { write: fromPromise(() => write(fence)) },
    delays: { every: () => config!.writes.everyMs },
    guards: {
      // Looking is what tells a process resumed after its deadline that the lease is gone.
      holding: () => !signal.aborted && lease.isHeld() && lease.fence === fence,
      stopping: ({ context: machine }) => machine.stopping,
    },
  }).createMachine({
    id: 'writer',
    context: { stopping: false },
    entry: () => report({ type: 'run.started', fence }),
    initial: 'waiting',
    states: {
      waiting: {
        after: { every: [{ guard: 'holding', target: 'writing' }, { target: 'waiting', reenter: true }] },
        on: { 'overseer.shutdown': 'done' },
      },
      writing: {
        invoke: {
          src: 'write',
          onDone: [{ guard: 'stopping', target: 'done' }, { target: 'waiting' }],
          onError: [{ guard: 'stopping', target: 'done' }, { target: 'waiting' }],
        },
        on: { 'overseer.shutdown': { actions: assign({ stopping: true }) } },
      },
      done: { type: 'final' },
    },
  });
}

// ---------------------------------------------------------------- the tree

let supervisor: Supervisor;
try {
  supervisor = await startSupervisor(
    {
      children: [
        singletonChild({
          id: 'writer',
          lease,
          retryMs: config.lease.retryMs,
          shutdown: config.lease.ttlMs,
          start: (context) => {
            const actor = createActor(writerMachine(context), { clock: context.clock });
            const fence = context.fence;
            actor.subscribe({ complete: () => report({ type: 'run.stopped', fence }), error: () => report({ type: 'run.stopped', fence }) });
            return actor;
          },
        }),
        upstream,
      ],
    },
    { id: instance, telemetry },
  );
  fleet.attach(upstream.breaker!);
} catch (error) {
  report({ type: 'fault', message: `the tree did not start: ${error instanceof Error ? error.message : String(error)}` });
  process.exit(1);
}

// ---------------------------------------------------------------- commands and stopping

let stopping: Promise<void> | undefined;

/** Stops the tree, closes every connection and the IPC channel; the process then exits by itself. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await supervisor.stop();
    } catch (error) {
      report({ type: 'fault', message: `stop failed: ${error instanceof Error ? error.message : String(error)}` });
    }
    await fleet.stop();
    leaseEvents.unsubscribe();
    await pool.end().catch((error: unknown) => report({ type: 'fault', message: `pool.end failed: ${String(error)}` }));
    await redis.quit().catch(() => redis.disconnect());
    process.off('message', onCommand);
    process.off('SIGTERM', onTerminate);
    process.off('disconnect', onTerminate);
    // The last word: the channel is closed once it has been sent, and nothing else holds the process.
    if (process.connected) {
      await new Promise<void>((resolve) => process.send!({ type: 'stopped', instance, pid: process.pid, at: Date.now() } satisfies ServiceEvent, undefined, undefined, () => resolve()));
      process.disconnect();
    }
  })();
  return stopping;
}

function onCommand(message: Command): void {
  switch (message.type) {
    case 'stop':
      void stop();
      return;
    case 'hit':
      limiter.hit(message.key).then(
        (decision) => report({ type: 'hit', id: message.id, allowed: decision.allowed }),
        (error: unknown) => report({ type: 'hit', id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    case 'isolate':
      fleet.isolate(config!.breakers.name, { reason: message.reason }).then(
        (isolation) => report({ type: 'isolate', id: message.id, by: isolation.by }),
        (error: unknown) => report({ type: 'isolate', id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    case 'restore':
      fleet.restore(config!.breakers.name).then(
        (existed) => report({ type: 'restore', id: message.id, existed }),
        (error: unknown) => report({ type: 'restore', id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    case 'call': {
      const breaker = upstream.breaker!;
      breaker.call(() => 'ok').then(
        () => report({ type: 'call', id: message.id, outcome: 'ran', state: breaker.state() }),
        (error: unknown) => {
          if (!isBreakerOpenError(error)) {
            report({ type: 'fault', message: `a call through the shared breaker failed: ${String(error)}` });
            return;
          }
          report({ type: 'call', id: message.id, outcome: 'refused', state: error.state, isolatedBy: error.isolation?.by });
        },
      );
      return;
    }
    case 'view': {
      const view = Object.fromEntries(
        Object.entries(fleet.view()).map(([id, breakers]) => [
          id,
          Object.fromEntries(Object.entries(breakers).map(([name, entry]) => [name, { state: entry.state, isolated: entry.isolated }])),
        ]),
      );
      report({ type: 'view', id: message.id, view, subscribed: fleet.status().subscribed });
      return;
    }
  }
}

/** SIGTERM, or the harness gone: stop as gracefully as on `stop`. */
function onTerminate(): void {
  void stop();
}

process.on('message', onCommand);
process.on('SIGTERM', onTerminate);
process.on('disconnect', onTerminate);
report({ type: 'ready' });
