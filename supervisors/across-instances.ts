import type { Redis } from 'ioredis';
import { createActor, fromPromise, setup } from 'xstate';
import { createRedisLease, singletonChild, type Breaker, type ChildSpec, type Clock, type ClusterLease, type Metric, type Telemetry } from '../src/index.js';
import { createBreakerFleet, type BreakerFleet, type BreakerFleetIsolation, type BreakerFleetStatus } from '../src/cluster/index.js';
import { breakerFleetMetrics } from '../src/cluster/breaker-fleet-metrics.js';
import { leaseMetrics } from '../src/telemetry/metrics/index.js';

/**
 * What the example back end runs across instances when it is given a Redis (`REDIS_URL`): a
 * singleton child on a Redis lease (the quote publisher) and a breaker fleet that its upstream
 * breaker joins. Every instance on the same Redis and prefix runs the same; one of them holds the
 * lease and publishes, and an isolation made on any of them refuses upstream calls on all.
 */

/** One singleton of this instance, as `/health` shows it. */
export interface SingletonHealth {
  /** The child's id in the tree. */
  readonly id: string;
  /** The lease's name (shared by every instance). */
  readonly lease: string;
  /** This instance's owner id on that lease. */
  readonly owner: string;
  /** Whether this instance holds the lease now (and its local deadline has not passed). */
  readonly held: boolean;
  /** The fence of its holding, or `null` when it does not hold it. */
  readonly fence: number | null;
}

/** One breaker of one instance in `/health`'s view: its state, for how long, and how long ago it was heard of. */
export interface BreakerViewHealth {
  readonly state: string;
  readonly isolated: boolean;
  /** How long it has been in `state`, ms (as near as this instance can tell). */
  readonly forMs: number;
  /** How long ago this instance last heard of it, ms. */
  readonly heardMsAgo: number;
}

/** The breaker fleet as `/health` shows it. */
export interface BreakerFleetHealth {
  readonly instance: string;
  readonly prefix: string;
  readonly status: BreakerFleetStatus;
  readonly isolated: Record<string, BreakerFleetIsolation>;
  /** instance → breaker → state, for every instance heard from lately (this one included). */
  readonly view: Record<string, Record<string, BreakerViewHealth>>;
}

/** Options of {@link acrossInstances}. */
export interface AcrossInstancesOptions {
  /** The back end's command connection (the one its limiters use). */
  readonly redis: Redis;
  /** Every key and channel starts with it. */
  readonly prefix: string;
  /** This instance's id: the lease owner and the fleet instance. */
  readonly instance: string;
  /** The singleton's lease time to live, ms. */
  readonly leaseTtlMs: number;
  /** How often the publisher publishes while it holds the lease, ms. */
  readonly publishEveryMs: number;
  /** The quote to publish now, if there is one yet. */
  readonly latestQuote: () => unknown;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

/** The back end's cross-instance parts, made before its tree grows them. */
export interface AcrossInstances {
  readonly fleet: BreakerFleet;
  /** The singleton children to start under the back end's root supervisor. */
  readonly children: readonly ChildSpec[];
  /** Puts the breaker in the fleet. */
  attach(breaker: Breaker): void;
  /** What `/health` shows under `singletons` (the lease's side; the back end adds whether the child's actor runs). */
  singletons(): SingletonHealth[];
  /** What `/health` shows under `breakerFleet`. */
  breakerFleet(): BreakerFleetHealth;
  /** Leaves the fleet and closes its subscriber (after the tree stopped: the singleton released its lease). */
  stop(): Promise<void>;
}

/** The id of the quote publisher child, and the name of its lease. */
export const QUOTE_PUBLISHER = 'quote-publisher';

/**
 * Publishes (KEYS: the quote hash; ARGV: fence, owner, quote JSON) unless a holding with a larger
 * fence published already: a publisher paused past its lease (a long GC pause) and resumed
 * cannot overwrite what its successor wrote. 1 when written, 0 when refused.
 */
const fencedPublishScript = `
local highest = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if tonumber(ARGV[1]) < highest then return 0 end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'owner', ARGV[2], 'quote', ARGV[3])
return 1
`;

/** The Redis key the quote publisher writes under `prefix`. */
export function publishedQuoteKey(prefix: string): string {
  return `${prefix}:published-quote`;
}

/**
 * The quote publisher's actor for one holding: every `everyMs` it writes the latest quote to
 * Redis with the holding's fence, and ends when the singleton child stops it.
 */
function publisherMachine(options: AcrossInstancesOptions, fence: number) {
  const key = publishedQuoteKey(options.prefix);
  const publish = async (): Promise<void> => {
    const quote = options.latestQuote();
    if (quote === undefined) return;
    await options.redis.eval(fencedPublishScript, 1, key, String(fence), options.instance, JSON.stringify(quote));
  };
  return setup({
    actors: { publish: fromPromise(publish) },
    delays: { every: options.publishEveryMs },
  }).createMachine({
    id: QUOTE_PUBLISHER,
    initial: 'waiting',
    states: {
      waiting: { after: { every: 'publishing' } },
      // A failed publish (Redis away) waits for the next round: the lease decides whether this instance goes on.
      publishing: { invoke: { src: 'publish', onDone: 'waiting', onError: 'waiting' } },
    },
  });
}

/** The metrics of the cross-instance parts: `lease_held`, `lease_fence`, … and `breaker_fleet_isolated`, … */
export function acrossInstancesMetrics(): Metric[] {
  return [...leaseMetrics(), ...breakerFleetMetrics()];
}

/**
 * Makes the cross-instance parts of the back end: the lease and singleton child of the quote
 * publisher, and the breaker fleet. One subscriber connection serves both (the lease hears release
 * notices on it, the fleet its messages); it is awaited (5 s at most) before either subscribes,
 * so that a slow connection at start is not reported as Redis failing, and an unreachable Redis
 * leaves them to report that and retry.
 */
export async function acrossInstances(options: AcrossInstancesOptions): Promise<AcrossInstances> {
  const { redis, prefix, instance, clock, telemetry } = options;
  const subscriber = redis.duplicate({ enableOfflineQueue: true });
  subscriber.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    if (subscriber.status === 'ready') return resolve();
    const timer = setTimeout(resolve, 5_000);
    timer.unref();
    subscriber.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const lease: ClusterLease = createRedisLease({ name: QUOTE_PUBLISHER, redis, subscriber, prefix, ttlMs: options.leaseTtlMs, owner: instance, clock, telemetry });
  const publisher = singletonChild({
    id: QUOTE_PUBLISHER,
    lease,
    start: ({ fence, clock: actorClock }) => createActor(publisherMachine(options, fence), { clock: actorClock }),
  });
  const fleet = createBreakerFleet({ redis, subscriber, instance, prefix, clock, telemetry });
  const ago = (at: number): number => Math.max(0, Math.round(clock.now() - at));
  return {
    fleet,
    children: [publisher],
    attach: (breaker) => void fleet.attach(breaker),
    singletons: () => [{ id: QUOTE_PUBLISHER, lease: lease.name, owner: lease.owner, held: lease.isHeld(), fence: lease.isHeld() ? (lease.fence ?? null) : null }],
    breakerFleet: () => ({
      instance: fleet.instance,
      prefix: fleet.prefix,
      status: fleet.status(),
      isolated: fleet.isolated(),
      view: Object.fromEntries(
        Object.entries(fleet.view()).map(([id, breakers]) => [
          id,
          Object.fromEntries(
            Object.entries(breakers).map(([name, entry]) => [name, { state: entry.state, isolated: entry.isolated, forMs: ago(entry.since), heardMsAgo: ago(entry.updatedAt) }]),
          ),
        ]),
      ),
    }),
    async stop() {
      // The fleet unsubscribed (bounded by its timeoutMs); QUIT could wait on a connection that never comes back.
      await fleet.stop();
      subscriber.disconnect();
    },
  };
}
