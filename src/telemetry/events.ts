/**
 * The one table of telemetry event names overseer emits, matching the contract's table.
 * Components import these constants instead of spelling names inline.
 */
export const TelemetryEvents = Object.freeze({
  supervisorChildStarted: 'supervisor.child.started',
  supervisorChildExited: 'supervisor.child.exited',
  supervisorChildRestarted: 'supervisor.child.restarted',
  supervisorChildStartFailed: 'supervisor.child.start_failed',
  supervisorChildBackoff: 'supervisor.child.backoff',
  supervisorShutdown: 'supervisor.shutdown',
  breakerCall: 'breaker.call',
  breakerState: 'breaker.state',
  limiterHit: 'limiter.hit',
  limiterUnavailable: 'limiter.unavailable',
  poolCheckout: 'pool.checkout',
  poolWorkerExit: 'pool.worker.exit',
  poolWorkerDestroyFailed: 'pool.worker.destroy_failed',
  telemetrySubscriberError: 'telemetry.subscriber_error',
  // Leases (metadata: lease, owner, fence): acquired and renewed carry the claim's duration,
  // lost its graceMs and reason ('expired' | 'taken' | 'unavailable'), released `confirmed`.
  leaseAcquired: 'lease.acquired',
  leaseRenewed: 'lease.renewed',
  leaseLost: 'lease.lost',
  leaseReleased: 'lease.released',
} as const);

/** Any event name from {@link TelemetryEvents}. */
export type TelemetryEventName = (typeof TelemetryEvents)[keyof typeof TelemetryEvents];
