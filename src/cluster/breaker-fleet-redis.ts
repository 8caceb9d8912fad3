import { createHash } from 'node:crypto';
import { describeValue } from '../core/index.js';

/**
 * The command connection a breaker fleet uses (a subset of the limiter's `RedisLike`, the same
 * as a Redis lease's): ioredis's `Redis` and `Cluster` fit as they are. Every fleet command is a
 * script on keys of one hash slot, so the fleet works on Redis Cluster too.
 */
export interface BreakerFleetRedis {
  /** Runs a loaded script by its SHA-1; rejects with a `NOSCRIPT` error when the server lacks it. */
  evalsha(sha1: string, numKeys: number, ...args: string[]): Promise<unknown>;
  /** Runs (and loads) a script. */
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * The connection a breaker fleet subscribes on, as ioredis offers it: `subscribe` and the
 * `'message'` event (`(channel, message)`). When it also emits `'ready'` (ioredis does, on every
 * reconnection) the fleet subscribes again and re-reads the isolations at once; `'close'` marks
 * the subscription as down in `status()`.
 */
export interface BreakerFleetSubscriber {
  /** Subscribes the connection to a channel; resolves once Redis confirmed it. */
  subscribe(channel: string): Promise<unknown>;
  /** Optional: used on `stop()` for a subscriber the fleet does not own. */
  unsubscribe?(channel: string): Promise<unknown>;
  /** Adds a listener of `'message'`, `'ready'`, `'close'` or `'error'`. */
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener `on` added. */
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  /** Optional: used on `stop()` for the subscriber the fleet made. */
  disconnect?(): void;
}

/** A Lua script and its SHA-1. */
export interface FleetScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): FleetScript {
  return Object.freeze({ source, sha1: createHash('sha1').update(source).digest('hex') });
}

/**
 * Isolates (KEYS: isolation; ARGV: record, ttlMs, channel, message): writes the record with `PX`
 * and publishes the message in one atomic step, so no instance can read the key and miss the
 * message's effect, nor hear the message of a key that was never written.
 */
export const isolateScript = script(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`);

/** Refreshes (KEYS: isolation; ARGV: record, ttlMs) an isolation while it is still this very record: 1, else 0. */
export const refreshScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/**
 * Restores (KEYS: isolation; ARGV: channel, message head): deletes the isolation, publishes the
 * head completed with the deleted record as a JSON string (or `false`), and returns that record.
 */
export const restoreScript = script(`
local value = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. cjson.encode(value) .. '}')
return value
`);

/** Reads isolations (KEYS: isolations): for each key its record (or nil) and its PTTL. */
export const readScript = script(`
local reply = {}
for index, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  reply[2 * index - 1] = value
  if value then reply[2 * index] = redis.call('PTTL', key) else reply[2 * index] = -2 end
end
return reply
`);

/**
 * Publishes (KEYS: the fleet's routing key, never read or written; ARGV: channel, message). The
 * key routes it, on Redis Cluster, to the node of the fleet's slot: all of a fleet's commands
 * then travel one connection, in order.
 */
export const publishScript = script(`
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`);

/** Breaker names longer than this are keyed by their SHA-256. */
const LONGEST_KEYED_NAME = 256;

/**
 * Where a fleet lives in Redis. Every key shares the hash tag `{breaker-fleet}` (one slot, so a
 * read of all isolations is one script, on Redis Cluster too):
 *
 *     <prefix>:{breaker-fleet}:isolation:<name>       an isolation record, expiring (PX)
 *     <prefix>:{breaker-fleet}:isolation-digest:<sha> the same, for names over 256 characters
 *     <prefix>:{breaker-fleet}:route                  never written: routes the publishes
 *     <prefix>:breaker-fleet                          the pub/sub channel (not a key)
 */
export interface FleetKeys {
  readonly channel: string;
  readonly route: string;
  isolation(name: string): string;
}

/** The keys and channel of the fleets under `prefix`. */
export function fleetKeys(prefix: string): FleetKeys {
  const base = `${prefix}:{breaker-fleet}`;
  return Object.freeze({
    channel: `${prefix}:breaker-fleet`,
    route: `${base}:route`,
    isolation: (name: string) =>
      name.length > LONGEST_KEYED_NAME ? `${base}:isolation-digest:${createHash('sha256').update(name).digest('hex')}` : `${base}:isolation:${name}`,
  });
}

/** An isolation as Redis holds it: the record string and its remaining time to live. */
export interface StoredIsolation {
  readonly value: string;
  /** Milliseconds left, as Redis counts them; `undefined` when the key has no expiry. */
  readonly pttl: number | undefined;
}

/**
 * What a fleet asks of Redis. Each operation is one atomic script. Once `signal` is aborted (the
 * fleet gave up on the operation) nothing more is sent for it: a `NOSCRIPT` answer arriving after
 * that is not followed by EVAL, so an operation reported as failed cannot take effect later.
 */
export interface BreakerFleetStore {
  /** Writes `value` under `name` for `ttlMs` and publishes `message`. */
  isolate(name: string, value: string, ttlMs: number, message: string, signal: AbortSignal): Promise<void>;
  /** Extends the isolation of `name` by `ttlMs` when it is still `value`; false when it is not (restored, replaced, expired). */
  refresh(name: string, value: string, ttlMs: number, signal: AbortSignal): Promise<boolean>;
  /** Deletes the isolation of `name` and publishes `head` + the deleted record (JSON) + `}`; resolves with the deleted record. */
  restore(name: string, head: string, signal: AbortSignal): Promise<string | undefined>;
  /** The isolation of each name, in order. */
  read(names: readonly string[], signal: AbortSignal): Promise<Array<StoredIsolation | undefined>>;
  /** Publishes a message on the fleet's channel. */
  publish(message: string, signal: AbortSignal): Promise<void>;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Runs a script by its SHA-1; on `NOSCRIPT` (and only then) runs it with EVAL, which loads it,
 * unless the operation was given up meanwhile.
 */
async function run(redis: BreakerFleetRedis, fleetScript: FleetScript, keys: readonly string[], args: readonly string[], signal: AbortSignal): Promise<unknown> {
  try {
    return await redis.evalsha(fleetScript.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error) || signal.aborted) throw error;
    return redis.eval(fleetScript.source, keys.length, ...keys, ...args);
  }
}

function unexpected(what: string, reply: unknown): TypeError {
  return new TypeError(`unexpected reply to the breaker fleet's ${what}: ${describeValue(reply)}`);
}

function isolationsOf(reply: unknown, count: number): Array<StoredIsolation | undefined> {
  if (!Array.isArray(reply) || reply.length !== count * 2) throw unexpected('read', reply);
  const found: Array<StoredIsolation | undefined> = [];
  for (let index = 0; index < count; index += 1) {
    const value: unknown = reply[2 * index];
    const pttl: unknown = reply[2 * index + 1];
    if (value === null || value === undefined) {
      found.push(undefined);
      continue;
    }
    if (typeof value !== 'string' || typeof pttl !== 'number') throw unexpected('read', reply);
    found.push({ value, pttl: pttl >= 0 ? pttl : undefined });
  }
  return found;
}

/** The store of the fleets under `keys` in Redis. */
export function redisFleetStore(redis: BreakerFleetRedis, keys: FleetKeys): BreakerFleetStore {
  return {
    isolate: async (name, value, ttlMs, message, signal) => {
      await run(redis, isolateScript, [keys.isolation(name)], [value, String(ttlMs), keys.channel, message], signal);
    },
    refresh: async (name, value, ttlMs, signal) => {
      const reply = await run(redis, refreshScript, [keys.isolation(name)], [value, String(ttlMs)], signal);
      if (reply !== 0 && reply !== 1) throw unexpected('refresh', reply);
      return reply === 1;
    },
    restore: async (name, head, signal) => {
      const reply = await run(redis, restoreScript, [keys.isolation(name)], [keys.channel, head], signal);
      if (reply !== null && reply !== undefined && typeof reply !== 'string') throw unexpected('restore', reply);
      return reply ?? undefined;
    },
    read: async (names, signal) => isolationsOf(await run(redis, readScript, names.map(keys.isolation), [], signal), names.length),
    publish: async (message, signal) => {
      await run(redis, publishScript, [keys.route], [keys.channel, message], signal);
    },
  };
}
