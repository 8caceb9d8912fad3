import { TelemetryEvents } from '../telemetry/index.js';

/**
 * The telemetry events of a lease's release notices (see `release-feed.ts`). Metadata always
 * holds `lease` and `owner`. The names are those of the one table, `TelemetryEvents`
 * (`leaseNoticesUp`, `leaseNoticesDown`), gathered here for subscribers to a lease.
 *
 * - `lease.notices.up`: the lease listens for release notices (the first time, or again after a
 *   drop); a standby tries at once, since a release may have gone unheard.
 * - `lease.notices.down` (metadata error): the lease stopped hearing release notices (its
 *   connection dropped, or it could not subscribe); standbys learn of releases by trying every
 *   `retryMs` until `lease.notices.up`.
 *
 * @example
 * ```ts
 * telemetry.select(LeaseNoticeEvents.down).subscribe(({ metadata }) => log.warn('lease notices down', metadata));
 * ```
 */
export const LeaseNoticeEvents = Object.freeze({
  up: TelemetryEvents.leaseNoticesUp,
  down: TelemetryEvents.leaseNoticesDown,
} as const);
