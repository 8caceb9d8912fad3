import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { clockOption, integer, nonEmptyString, record, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';

/** The options every lease backend shares. */
export interface LeaseOptions {
  /** The lease's name, shared by every process competing for it. Required; well-formed Unicode. */
  name: string;
  /** How long the store keeps a holding after each renewal, in ms: an integer, at least 10. Default 15000. */
  ttlMs?: number;
  /** This holder's id; lease objects with the same owner are the same holder. Default a random UUID. */
  owner?: string;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** {@link LeaseOptions} with every default applied. */
export interface ResolvedLeaseOptions {
  readonly name: string;
  readonly ttlMs: number;
  readonly owner: string;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

/** The shortest `ttlMs` accepted: renewals every 3 ms are already more than any store can take. */
const MIN_TTL_MS = 10;

/** Validates the shared options; throws {@link ConfigError} naming the first bad one. */
export function resolveLeaseOptions(options: unknown): ResolvedLeaseOptions {
  const fields = record('options', options);
  const name = wellFormed('name', nonEmptyString('name', fields.name));
  const ttlMs = integer('ttlMs', fields.ttlMs, 15_000, MIN_TTL_MS);
  const owner = fields.owner === undefined ? randomUUID() : wellFormed('owner', nonEmptyString('owner', fields.owner));
  const clock = clockOption<Clock>('clock', fields.clock, systemClock);
  const telemetry = telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry);
  return Object.freeze({ name, ttlMs, owner, clock, telemetry });
}

/** The string, when it is well-formed Unicode (no lone surrogate, which no store could keep). */
export function wellFormed(option: string, value: string): string {
  // Node 20 has String.prototype.isWellFormed; the ES2022 lib does not declare it.
  if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new ConfigError(option, value, 'well-formed Unicode (no lone surrogate)');
  return value;
}
