import type { BreakerIsolation, BreakerState } from '../breaker/index.js';

/**
 * What breaker fleets tell each other on their channel, and the isolation record they keep in
 * Redis, as JSON. Pure: encoding and a decoding that turns anything malformed (another program
 * on the channel, another version) into `undefined` rather than an exception.
 */

/**
 * An isolation as Redis keeps it, `isolate()` returns it, `isolated()` lists it and a refused
 * call's `BreakerOpenError.isolation` carries it. Read it from a refusal to tell a caller who
 * stopped the calls and why.
 */
export interface BreakerFleetIsolation extends BreakerIsolation {
  /** Unique per `isolate()` call: the instance that made it refreshes only this very record. */
  readonly id: string;
  /** The instance that isolated it. */
  readonly by: string;
  /** The reason given to `isolate()`, if any. */
  readonly reason: string | undefined;
  /** How long it outlives the instance that made it, in ms. */
  readonly ttlMs: number;
}

/** One breaker in a heartbeat: its state, for how long it has been in it, and whether it is isolated. */
export interface HeartbeatBreaker {
  readonly name: string;
  readonly state: BreakerState;
  readonly ageMs: number;
  readonly isolated: boolean;
}

/** A message on a fleet's channel. */
export type FleetMessage =
  /** An isolation was written (`value` is the record as stored). */
  | { readonly type: 'isolated'; readonly name: string; readonly value: string }
  /** Restore `id` by `by` deleted the isolation; `value` the record deleted, `false` when there was none. */
  | { readonly type: 'restored'; readonly name: string; readonly by: string; readonly id: string; readonly value: string | false }
  /** An instance's breakers, every `heartbeatMs`; it stays in views for `ttlMs` after. */
  | { readonly type: 'heartbeat'; readonly instance: string; readonly ttlMs: number; readonly breakers: readonly HeartbeatBreaker[] }
  /** One of an instance's breakers changed state. */
  | { readonly type: 'state'; readonly instance: string; readonly ttlMs: number; readonly name: string; readonly state: BreakerState; readonly isolated: boolean }
  /** An instance no longer has this breaker. */
  | { readonly type: 'detached'; readonly instance: string; readonly name: string }
  /** An instance (re)subscribed: the others send a heartbeat now, so it sees them at once. */
  | { readonly type: 'hello'; readonly instance: string }
  /** An instance stopped its fleet. */
  | { readonly type: 'left'; readonly instance: string };

const states: readonly string[] = ['closed', 'open', 'half_open', 'disabled'];

/** The isolation record as the fleet stores it in Redis and publishes it (JSON); read back by {@link decodeIsolation}. */
export function encodeIsolation(record: BreakerFleetIsolation): string {
  return JSON.stringify({ id: record.id, by: record.by, reason: record.reason ?? null, ttlMs: record.ttlMs });
}

/**
 * Reads an isolation record from Redis or a message: frozen, or `undefined` for anything this
 * version cannot read (another program's key, a newer format), which then isolates nothing.
 */
export function decodeIsolation(value: string): BreakerFleetIsolation | undefined {
  const fields = parse(value);
  if (fields === undefined) return undefined;
  const { id, by, reason, ttlMs } = fields;
  if (typeof id !== 'string' || typeof by !== 'string' || !isDuration(ttlMs)) return undefined;
  if (reason !== null && typeof reason !== 'string') return undefined;
  return Object.freeze({ id, by, reason: reason ?? undefined, ttlMs });
}

/** A message as published on the fleet's channel (JSON; a heartbeat's breakers as compact tuples). */
export function encodeMessage(message: FleetMessage): string {
  if (message.type === 'heartbeat') {
    const breakers = message.breakers.map((breaker) => [breaker.name, breaker.state, breaker.ageMs, breaker.isolated]);
    return JSON.stringify({ type: 'heartbeat', instance: message.instance, ttlMs: message.ttlMs, breakers });
  }
  return JSON.stringify(message);
}

/**
 * The head of a `restored` message up to its `value`: the restore script appends the deleted
 * record (as JSON) and the closing brace, so the message names what it deleted.
 */
export function restoredMessageHead(name: string, by: string, id: string): string {
  return `{"type":"restored","name":${JSON.stringify(name)},"by":${JSON.stringify(by)},"id":${JSON.stringify(id)},"value":`;
}

/**
 * Reads a message heard on the channel; `undefined` for anything malformed or unknown (another
 * program on the channel, another version), which the fleet ignores rather than throw.
 */
export function decodeMessage(text: unknown): FleetMessage | undefined {
  if (typeof text !== 'string') return undefined;
  const fields = parse(text);
  if (fields === undefined) return undefined;
  switch (fields.type) {
    case 'isolated':
      return isName(fields.name) && typeof fields.value === 'string' ? { type: 'isolated', name: fields.name, value: fields.value } : undefined;
    case 'restored':
      return isName(fields.name) && isName(fields.by) && isName(fields.id) && (typeof fields.value === 'string' || fields.value === false)
        ? { type: 'restored', name: fields.name, by: fields.by, id: fields.id, value: fields.value }
        : undefined;
    case 'heartbeat': {
      if (!isName(fields.instance) || !isDuration(fields.ttlMs) || !Array.isArray(fields.breakers)) return undefined;
      const breakers: HeartbeatBreaker[] = [];
      for (const entry of fields.breakers as unknown[]) {
        if (!Array.isArray(entry)) return undefined;
        const [name, state, ageMs, isolated] = entry as unknown[];
        if (!isName(name) || !isState(state) || typeof ageMs !== 'number' || !(ageMs >= 0) || typeof isolated !== 'boolean') return undefined;
        breakers.push({ name, state, ageMs, isolated });
      }
      return { type: 'heartbeat', instance: fields.instance, ttlMs: fields.ttlMs, breakers };
    }
    case 'state':
      return isName(fields.instance) && isDuration(fields.ttlMs) && isName(fields.name) && isState(fields.state) && typeof fields.isolated === 'boolean'
        ? { type: 'state', instance: fields.instance, ttlMs: fields.ttlMs, name: fields.name, state: fields.state, isolated: fields.isolated }
        : undefined;
    case 'detached':
      return isName(fields.instance) && isName(fields.name) ? { type: 'detached', instance: fields.instance, name: fields.name } : undefined;
    case 'hello':
    case 'left':
      return isName(fields.instance) ? { type: fields.type, instance: fields.instance } : undefined;
    default:
      return undefined;
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isState(value: unknown): value is BreakerState {
  return typeof value === 'string' && states.includes(value);
}

function isDuration(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
