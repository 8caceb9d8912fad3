/**
 * The one table of telemetry event names overseer emits, matching the contract's table.
 * Components import these constants instead of spelling names inline; subscribers can use them
 * to filter without spelling names either (`event.name === TelemetryEvents.breakerState`).
 * Durations are in ms on the emitter's clock.
 */
export const TelemetryEvents = Object.freeze({
  /** A child started (or restarted). Metadata: supervisor, child. */
  supervisorChildStarted: 'supervisor.child.started',
  /** A child exited. Metadata: supervisor, child, reason (`'normal' | 'shutdown' | 'error'`), error for an error exit. */
  supervisorChildExited: 'supervisor.child.exited',
  /** A child was restarted. Measurements: restarts (counted in the intensity window). Metadata: supervisor, child. */
  supervisorChildRestarted: 'supervisor.child.restarted',
  /** A restart failed to start the child; it will be tried again. Metadata: supervisor, child, error. */
  supervisorChildStartFailed: 'supervisor.child.start_failed',
  /** A child waits before its restart. Measurements: delay. Metadata: supervisor, child, attempt. */
  supervisorChildBackoff: 'supervisor.child.backoff',
  /** A supervisor stopped. Metadata: supervisor, reason (`'intensity'` when it gave up, else `'stop'`), cause. */
  supervisorShutdown: 'supervisor.shutdown',
  /**
   * A breaker call ended or was refused. Measurements: duration. Metadata: breaker, outcome
   * (`'success' | 'failure' | 'timeout' | 'neutral' | 'rejected'`).
   */
  breakerCall: 'breaker.call',
  /** A breaker changed state. Metadata: breaker, from, to. */
  breakerState: 'breaker.state',
  /** A limiter decided a hit. Measurements: count, cost. Metadata: limiter, allowed, reason when denied; `key` only with `telemetryKeys`. */
  limiterHit: 'limiter.hit',
  /** A Redis limiter could not reach Redis. Metadata: limiter, reason (`'timeout' | 'error'`), insured, error. */
  limiterUnavailable: 'limiter.unavailable',
  /** A checkout ended. Measurements: duration, waiting. Metadata: pool, outcome (`'ok' | 'full' | 'timeout' | 'aborted'`). */
  poolCheckout: 'pool.checkout',
  /** A worker (or a thread) left its pool. Metadata: pool, reason; a thread pool adds measurement uptime and metadata thread, exitCode, startup. */
  poolWorkerExit: 'pool.worker.exit',
  /** A worker factory's `destroy` threw or rejected. Metadata: pool, error. */
  poolWorkerDestroyFailed: 'pool.worker.destroy_failed',
  /** A protected call started (emitted only while someone subscribes). Metadata: protect. */
  protectCallStart: 'protect.call.start',
  /** A protected call ended with outcome `'ok'` or `'fallback'`. Measurements: duration. Metadata: protect, outcome, stage. */
  protectCallStop: 'protect.call.stop',
  /** A protected call ended refused or in error. Measurements: duration. Metadata: protect, outcome (`'refused' | 'error'`), stage, error. */
  protectCallException: 'protect.call.exception',
  /** A telemetry subscriber threw (reported once per delivery). Metadata: error. */
  telemetrySubscriberError: 'telemetry.subscriber_error',
  /** A lease was acquired. Measurements: duration (of the claim). Metadata: lease, owner, fence. */
  leaseAcquired: 'lease.acquired',
  /** A lease was renewed. Measurements: duration (of the claim). Metadata: lease, owner, fence. */
  leaseRenewed: 'lease.renewed',
  /** A lease was lost. Measurements: graceMs. Metadata: lease, owner, fence, reason (`'expired' | 'taken' | 'unavailable'`). */
  leaseLost: 'lease.lost',
  /** A lease was released. Metadata: lease, owner, fence, confirmed. */
  leaseReleased: 'lease.released',
  /** A lease listens for release notices (the first time, or again after a drop); a standby tries at once, since a release may have gone unheard. Metadata: lease, owner. */
  leaseNoticesUp: 'lease.notices.up',
  /** A lease stopped hearing release notices (its connection dropped, or it could not subscribe); standbys try every `retryMs` until `lease.notices.up`. Metadata: lease, owner, error. */
  leaseNoticesDown: 'lease.notices.down',
  /** This instance's fleet now isolates a breaker. Metadata: fleet, instance, breaker, by, reason. */
  breakerFleetIsolated: 'breaker.fleet.isolated',
  /** This instance's fleet no longer isolates a breaker. Metadata: fleet, instance, breaker, why (`'restored' | 'expired' | 'unconfirmed'`). */
  breakerFleetRestored: 'breaker.fleet.restored',
  /** A fleet's Redis operation failed; the breakers go on locally. Metadata: fleet, instance, operation, reason (`'timeout' | 'error'`), error. */
  breakerFleetUnavailable: 'breaker.fleet.unavailable',
  /** A fleet's Redis answered again after a failure. Metadata: fleet, instance, operation. */
  breakerFleetAvailable: 'breaker.fleet.available',
} as const);

/** Any event name from {@link TelemetryEvents}. */
export type TelemetryEventName = (typeof TelemetryEvents)[keyof typeof TelemetryEvents];
