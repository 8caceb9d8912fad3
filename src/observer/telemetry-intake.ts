import type { ExitReason } from '../supervisor/index.js';
import { TelemetryEvents, type TelemetryEvent } from '../telemetry/index.js';
import { errorMessage, type ChildHistory } from './child-history.js';
import type { EventLog, LoggedEvent } from './event-log.js';
import { RecentCounts } from './recent-counts.js';

/** The most limiters whose hits are counted (limiters are few; the bound only keeps a flood of names out). */
const MAX_LIMITERS = 1_000;

const EXIT_REASONS: readonly string[] = ['normal', 'shutdown', 'error'];

/** What the next message must carry: supervisors by id, and whether the other components may have changed. */
export interface Dirty {
  readonly supervisors: Set<string>;
  components: boolean;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : errorMessage(value));

/**
 * Turns telemetry events into what the observer keeps — restarts and last exits per child,
 * hits and denials per limiter, notable events — and marks what changed in `dirty`, for the
 * next coalesced message. Runs once per event while a client is connected, so it does little:
 * a switch on the name and a few counters.
 */
export class TelemetryIntake {
  readonly limiterCounts = new Map<string, RecentCounts>();

  constructor(
    private readonly history: ChildHistory,
    private readonly log: EventLog,
    private readonly dirty: Dirty,
    private readonly historyMs: number,
  ) {}

  /** Takes one event seen at `now` (the observer's clock); returns whether it changed anything shown. */
  take(event: TelemetryEvent, now: number): boolean {
    const metadata = event.metadata;
    switch (event.name) {
      case TelemetryEvents.supervisorChildStarted:
        return this.markSupervisor(metadata.supervisor);
      case TelemetryEvents.supervisorChildExited: {
        const { supervisor, child, reason, error } = metadata;
        if (typeof supervisor !== 'string' || typeof child !== 'string') return false;
        const exit = (EXIT_REASONS.includes(reason as string) ? reason : 'error') as ExitReason;
        this.history.exited(supervisor, child, exit, error, now);
        if (exit === 'error') {
          this.note({ kind: 'exit', subject: `${supervisor}/${child}`, severity: 'error', text: `${child} exited: ${error === undefined ? 'error' : errorMessage(error)}` }, now);
        }
        return this.markSupervisor(supervisor);
      }
      case TelemetryEvents.supervisorChildRestarted: {
        const { supervisor, child } = metadata;
        if (typeof supervisor !== 'string' || typeof child !== 'string') return false;
        this.history.restarted(supervisor, child, now);
        const restarts = event.measurements.restarts;
        const counted = typeof restarts === 'number' ? ` (${restarts} in the intensity window)` : '';
        this.note({ kind: 'restart', subject: `${supervisor}/${child}`, severity: 'warning', text: `${child} restarted by ${supervisor}${counted}` }, now);
        return this.markSupervisor(supervisor);
      }
      case TelemetryEvents.supervisorChildStartFailed: {
        const { supervisor, child, error } = metadata;
        if (typeof supervisor !== 'string' || typeof child !== 'string') return false;
        this.note({ kind: 'exit', subject: `${supervisor}/${child}`, severity: 'error', text: `${child} failed to start: ${errorMessage(error)}` }, now);
        return this.markSupervisor(supervisor);
      }
      case TelemetryEvents.supervisorChildBackoff: {
        const { supervisor, child, attempt } = metadata;
        if (typeof supervisor !== 'string' || typeof child !== 'string') return false;
        const delay = Math.round(event.measurements.delay ?? 0);
        this.note({ kind: 'backoff', subject: `${supervisor}/${child}`, severity: 'warning', text: `${child} restarts in ${delay} ms (attempt ${String(attempt)})` }, now);
        return this.markSupervisor(supervisor);
      }
      case TelemetryEvents.supervisorShutdown: {
        const { supervisor, reason } = metadata;
        if (typeof supervisor !== 'string') return false;
        const gaveUp = reason === 'intensity';
        this.note({ kind: 'shutdown', subject: supervisor, severity: gaveUp ? 'error' : 'info', text: gaveUp ? `${supervisor} gave up: restart intensity exceeded` : `${supervisor} stopped` }, now);
        return this.markSupervisor(supervisor);
      }
      case TelemetryEvents.breakerState: {
        const { breaker, from, to } = metadata;
        if (typeof breaker !== 'string') return false;
        const severity = to === 'open' ? 'error' : to === 'closed' ? 'info' : 'warning';
        this.note({ kind: 'breaker', subject: breaker, severity, text: `${breaker}: ${text(from)} → ${text(to)}` }, now);
        return this.markComponents();
      }
      case TelemetryEvents.limiterHit: {
        const { limiter, allowed } = metadata;
        if (typeof limiter !== 'string') return false;
        let counts = this.limiterCounts.get(limiter);
        if (counts === undefined) {
          if (this.limiterCounts.size >= MAX_LIMITERS) return false;
          this.limiterCounts.set(limiter, (counts = new RecentCounts(this.historyMs)));
        }
        counts.record(now, allowed !== false, event.measurements.count ?? 0);
        return this.markComponents();
      }
      case TelemetryEvents.poolCheckout:
        return this.markComponents();
      case TelemetryEvents.poolWorkerExit: {
        const { pool, reason } = metadata;
        if (typeof pool !== 'string') return false;
        this.note({ kind: 'worker', subject: pool, severity: 'warning', text: `${pool}: a worker exited (${text(reason)})` }, now);
        return this.markComponents();
      }
      case TelemetryEvents.leaseAcquired:
      case TelemetryEvents.leaseLost:
      case TelemetryEvents.leaseReleased: {
        const { lease, owner, fence, reason } = metadata;
        if (typeof lease !== 'string') return false;
        const what =
          event.name === TelemetryEvents.leaseAcquired
            ? `held by ${text(owner)} (fence ${String(fence)})`
            : event.name === TelemetryEvents.leaseLost
              ? `lost by ${text(owner)} (${text(reason)})`
              : `released by ${text(owner)}`;
        const severity = event.name === TelemetryEvents.leaseLost ? 'error' : 'info';
        this.note({ kind: 'lease', subject: lease, severity, text: `${lease}: ${what}` }, now);
        return this.markComponents();
      }
      case TelemetryEvents.leaseRenewed:
        return this.markComponents();
      default:
        return false;
    }
  }

  private note(event: LoggedEvent, now: number): void {
    this.log.add(event, now);
  }

  private markSupervisor(supervisor: unknown): boolean {
    if (typeof supervisor !== 'string') return false;
    this.dirty.supervisors.add(supervisor);
    return true;
  }

  private markComponents(): boolean {
    this.dirty.components = true;
    return true;
  }
}
