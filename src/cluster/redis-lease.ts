import { createHash } from 'node:crypto';
import { ConfigError, describeValue } from '../core/index.js';
import { nonEmptyString, record } from '../core/validate.js';
import { resolveLeaseOptions, wellFormed, type LeaseOptions } from './lease-options.js';
import { fenceOf, type Claim, type LeaseStore } from './lease-store.js';
import { sharedReleaseFeed, type FeedTransport, type ReleaseFeed } from './release-feed.js';
import { createStoreLease, type StoreLease } from './store-lease.js';

/**
 * The part of a Redis client a Redis lease uses (a subset of the limiter's `RedisLike`):
 * ioredis's `Redis` and `Cluster` fit as they are.
 */
export interface LeaseRedis {
  /** Runs a loaded script by its SHA-1; rejects with a `NOSCRIPT` error when the server lacks it. */
  evalsha(sha1: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** Runs (and loads) a script. */
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * A connection a Redis lease can listen for release notices on, as ioredis offers it: `subscribe`
 * and the `'message'` event (`(channel, message)`). When it emits `'ready'` (ioredis does, on
 * every reconnection) the lease subscribes again and counts as listening once that is confirmed;
 * `'close'` counts as a drop. (The shape of a breaker fleet's subscriber: one connection serves both.)
 */
export interface LeaseSubscriber {
  /** Subscribes the connection to a channel; resolves once Redis confirmed it. */
  subscribe(channel: string): Promise<unknown>;
  /** Optional: used, when the last listener goes, on a subscriber the lease did not make. */
  unsubscribe?(channel: string): Promise<unknown>;
  /** Adds a listener of `'message'`, `'ready'`, `'close'` or `'error'`. */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener `on` added. */
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /** Optional: used, when the last listener goes, on the subscriber the lease made with `redis.duplicate()`. */
  disconnect?(): void;
}

/** Options of {@link createRedisLease}. */
export interface RedisLeaseOptions extends LeaseOptions {
  /** The client: ioredis `Redis` or `Cluster`, or any `RedisLike`. Required. */
  redis: LeaseRedis;
  /** Every key the lease writes starts with it; no `{` or `}` (the lease adds its own hash tag). Default `'overseer'`. */
  prefix?: string;
  /**
   * Where the lease listens for release notices while it has `onReleased` listeners (a singleton
   * child's standby has one), so that a standby tries at once when the holder releases: a
   * connection of its own (a subscribed connection runs no other command), or `false` for none
   * (standbys then learn of a release at their next try, every `retryMs`). Default
   * `redis.duplicate()` when the client has it (ioredis does), made with the first listener and
   * disconnected with the last, shared by every lease on the same `redis` and `prefix`. A
   * subscriber you pass stays yours: the lease subscribes and unsubscribes, never disconnects it.
   */
  subscriber?: LeaseSubscriber | false;
}

/** A Lua script and its SHA-1. */
export interface LeaseScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): LeaseScript {
  return Object.freeze({ source, sha1: createHash('sha1').update(source).digest('hex') });
}

/**
 * Takes or renews (KEYS: holder, fence; ARGV: owner, ttlMs). The holder key is the lease itself,
 * written with `SET … PX` (Redis's clock decides expiry); the fence key is a counter that never
 * expires, incremented on every takeover, so the fence only grows. A missing counter (a new name,
 * or a Redis that lost its data in a restart or a failover to a lagging replica) is seeded from
 * Redis's clock in milliseconds, so fences keep increasing across such a loss as long as there is
 * less than one takeover per millisecond on average. Replies `{1, fence}` when the owner holds it
 * now, `{0, holder}` otherwise. Atomic: Redis runs a script alone.
 */
export const claimScript = script(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  local fence = tonumber(redis.call('GET', KEYS[2]))
  if fence then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, fence}
  end
elseif holder then
  return {0, holder}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local now = redis.call('TIME')
  redis.call('SET', KEYS[2], string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, fence}
`);

/**
 * Ends a holding (KEYS: holder, fence; ARGV: owner, fence, channel) when it is still that owner's
 * holding with that fence, and then publishes the holder key on the release channel: listening
 * standbys try at once. Nothing is published when there was nothing to end.
 */
export const releaseScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[3], KEYS[1])
  return 1
end
return 0
`);

/** The two keys of one lease. */
export interface LeaseKeys {
  readonly holder: string;
  readonly fence: string;
}

/**
 * The channel release notices of every lease under `prefix` are published on (a channel, not a
 * key); each notice is the holder key of the lease released.
 */
export function releaseChannel(prefix: string): string {
  return `${prefix}:lease-released`;
}

/**
 * Where a lease lives in Redis:
 *
 *     <prefix>:lease:{<name>}:holder          the owner, expiring (PX)
 *     <prefix>:lease:{<name>}:fence           the fence counter, never expiring
 *
 * Both keys share the hash tag `{<name>}`, so they sit in one hash slot and the scripts work on
 * Redis Cluster. A name holding `{` or `}` (which would change the tag) is tagged by its SHA-256
 * instead, under `lease-digest:`, so it never meets a plain name's keys.
 */
export function leaseKeys(prefix: string, name: string): LeaseKeys {
  const base = /[{}]/.test(name)
    ? `${prefix}:lease-digest:{${createHash('sha256').update(name).digest('hex')}}`
    : `${prefix}:lease:{${name}}`;
  return Object.freeze({ holder: `${base}:holder`, fence: `${base}:fence` });
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs a script by its SHA-1; on `NOSCRIPT` (and only then) runs it with EVAL, which loads it. */
async function run(redis: LeaseRedis, leaseScript: LeaseScript, keys: LeaseKeys, args: string[]): Promise<unknown> {
  try {
    return await redis.evalsha(leaseScript.sha1, 2, keys.holder, keys.fence, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return redis.eval(leaseScript.source, 2, keys.holder, keys.fence, ...args);
  }
}

function claimOf(reply: unknown): Claim {
  if (Array.isArray(reply) && reply.length === 2) {
    const [held, value] = reply as [unknown, unknown];
    const fence = fenceOf(value);
    if (held === 1 && fence !== undefined) return { held: true, fence };
    if (held === 0 && typeof value === 'string') return { held: false, holder: value };
  }
  throw new TypeError(`unexpected reply to the lease claim: ${describeValue(reply)}`);
}

/** The store of one lease name in Redis; a release publishes its notice on `channel`. */
export function redisLeaseStore(redis: LeaseRedis, keys: LeaseKeys, ttlMs: number, channel: string): LeaseStore {
  const ttl = String(ttlMs);
  return {
    claim: async (owner) => claimOf(await run(redis, claimScript, keys, [owner, ttl])),
    release: async (owner, fence) => {
      await run(redis, releaseScript, keys, [owner, String(fence), channel]);
    },
  };
}

/**
 * Listens on `channel` through the subscriber `connect()` gives: one the lease made (`owned`:
 * its errors are handled here and it is disconnected on close) or one it was given (unsubscribed
 * on close, left connected). Confirmed subscriptions are `up`; `'close'` is `down`; on `'ready'`
 * (a reconnection) it subscribes again.
 */
export function redisReleaseTransport(connect: () => { subscriber: LeaseSubscriber; owned: boolean }, channel: string): FeedTransport {
  return {
    open(events) {
      const { subscriber, owned } = connect();
      let closed = false;
      let lastError: unknown = undefined;
      const subscribe = (): void => {
        let subscribed: Promise<unknown>;
        try {
          subscribed = Promise.resolve(subscriber.subscribe(channel));
        } catch (error) {
          subscribed = Promise.reject(error);
        }
        subscribed.then(
          () => {
            if (!closed) events.up();
          },
          (error: unknown) => {
            if (!closed) events.down(error);
          },
        );
      };
      const onMessage = (from: unknown, message: unknown): void => {
        if (!closed && from === channel && typeof message === 'string') events.message(message);
      };
      const onReady = (): void => {
        if (!closed) subscribe();
      };
      const onClose = (): void => {
        if (!closed) events.down(lastError ?? new Error('the subscriber connection closed'));
      };
      const onError = (error: unknown): void => {
        lastError = error;
      };
      subscriber.on('message', onMessage);
      subscriber.on('ready', onReady);
      subscriber.on('close', onClose);
      // A connection the lease made is the lease's to watch: ioredis reports an 'error' nobody
      // listens to on the console. A subscriber passed in stays its owner's to watch.
      if (owned) subscriber.on('error', onError);
      subscribe();
      return () => {
        closed = true;
        subscriber.removeListener('message', onMessage);
        subscriber.removeListener('ready', onReady);
        subscriber.removeListener('close', onClose);
        try {
          if (owned) subscriber.disconnect?.();
          else subscriber.unsubscribe?.(channel)?.catch(() => undefined);
        } catch {
          // Closing is best effort: the connection is given up either way.
        }
      };
    },
  };
}

const subscriberMethods = ['subscribe', 'on', 'removeListener'] as const;

function checkSubscriber(option: string, subscriber: unknown): LeaseSubscriber {
  const candidate = record(option, subscriber);
  for (const method of subscriberMethods) {
    if (typeof candidate[method] !== 'function') throw new ConfigError(`${option}.${method}`, candidate[method], 'a function (an ioredis client)');
  }
  return candidate as unknown as LeaseSubscriber;
}

/** The release feed of a Redis lease, or `undefined` when it listens to none. */
function redisReleaseFeed(redis: LeaseRedis, given: unknown, channel: string): ReleaseFeed | undefined {
  if (given === false) return undefined;
  if (given !== undefined) {
    if (given === redis) throw new ConfigError('subscriber', given, 'a connection other than redis (a subscribed connection runs no other command), or false');
    const subscriber = checkSubscriber('subscriber', given);
    return sharedReleaseFeed(subscriber, channel, () => redisReleaseTransport(() => ({ subscriber, owned: false }), channel));
  }
  const duplicate = (redis as { duplicate?: unknown }).duplicate;
  if (typeof duplicate !== 'function') return undefined;
  return sharedReleaseFeed(redis, channel, () =>
    redisReleaseTransport(() => ({ subscriber: checkSubscriber('redis.duplicate()', duplicate.call(redis)), owned: true }), channel),
  );
}

/**
 * A {@link ClusterLease} kept in Redis: one atomic script takes or renews it (`SET` with `NX PX`
 * semantics plus an owner check) and another releases it (owner and fence checked); the fence
 * counter shares the lease's hash slot, so it works on Redis Cluster. Expiry is Redis's `PX`.
 * A release publishes a notice on `<prefix>:lease-released`, which standbys listening through
 * `subscriber` hear at once (see {@link RedisLeaseOptions.subscriber}).
 *
 * @example
 * ```ts
 * const lease = createRedisLease({ name: 'ledger-compactor', redis: new Redis(), ttlMs: 10_000 });
 * ```
 */
export function createRedisLease(options: RedisLeaseOptions): StoreLease {
  const resolved = resolveLeaseOptions(options);
  const fields = options as unknown as Record<string, unknown>;
  const redis = record('redis', fields.redis) as unknown as LeaseRedis;
  for (const method of ['evalsha', 'eval'] as const) {
    if (typeof redis[method] !== 'function') throw new ConfigError(`redis.${method}`, redis[method], 'a function (an ioredis client or a RedisLike)');
  }
  const prefix = fields.prefix === undefined ? 'overseer' : wellFormed('prefix', nonEmptyString('prefix', fields.prefix));
  if (/[{}]/.test(prefix)) throw new ConfigError('prefix', prefix, "a string without '{' or '}'");
  const keys = leaseKeys(prefix, resolved.name);
  const channel = releaseChannel(prefix);
  const feed = redisReleaseFeed(redis, fields.subscriber, channel);
  return createStoreLease(redisLeaseStore(redis, keys, resolved.ttlMs, channel), resolved, feed === undefined ? undefined : { feed, key: keys.holder });
}
