import { OverseerError, hasOverseerCode } from '../core/index.js';

/** The fleet operations that report their failure to the caller (`attach` only after `stop()`). */
export type BreakerFleetOperation = 'isolate' | 'restore' | 'attach';

/**
 * A breaker fleet could not do what it was asked across instances: Redis failed, did not answer
 * within the fleet's `timeoutMs`, or the fleet was stopped. `isolate()` and `restore()` reject
 * with it, and then changed nothing here (if Redis did apply it after all, every instance,
 * this one included, learns so from Redis within one heartbeat). Calls through the breakers never
 * see it: a fleet that loses Redis reports that in telemetry and the breakers go on locally.
 *
 * @example
 * ```ts
 * try { await fleet.isolate('payments', { reason: 'provider incident' }); }
 * catch (error) { if (isBreakerFleetUnavailableError(error)) payments.disable(); else throw error; }
 * ```
 */
export class BreakerFleetUnavailableError extends OverseerError {
  /** The stable code of this error. */
  readonly code = 'ERR_BREAKER_FLEET_UNAVAILABLE' as const;
  /** What was asked. */
  readonly operation: BreakerFleetOperation;
  /** The breaker name it was asked for. */
  readonly breaker: string;
  /** `'timeout'`: no answer in time; `'error'`: Redis answered with an error (see `cause`); `'stopped'`: the fleet was stopped. */
  readonly reason: 'timeout' | 'error' | 'stopped';

  constructor(operation: BreakerFleetOperation, breaker: string, reason: 'timeout' | 'error' | 'stopped', detail: string, cause?: unknown) {
    super(`breaker fleet could not ${operation} '${breaker}': ${detail}`, cause === undefined ? undefined : { cause });
    this.operation = operation;
    this.breaker = breaker;
    this.reason = reason;
  }
}

/** True when `error` is a {@link BreakerFleetUnavailableError}, even from another copy of the package (by the package's brand and the code). */
export function isBreakerFleetUnavailableError(error: unknown): error is BreakerFleetUnavailableError {
  return hasOverseerCode(error, 'ERR_BREAKER_FLEET_UNAVAILABLE');
}
