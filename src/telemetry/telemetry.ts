import { Observable, Subject, filter, config as rxjsConfig } from 'rxjs';
import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';

/** One thing that happened, as every component reports it. */
export interface TelemetryEvent {
  /** Dot-separated name, e.g. `'breaker.state'`. */
  name: string;
  /** `clock.now()` of the emitter when it happened. */
  time: number;
  /** Numbers about the event (durations, counts). */
  measurements: Record<string, number>;
  /** Everything else: which component instance, outcome, reason. */
  metadata: Record<string, unknown>;
}

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Stamps `time` on every event and measures span durations. Default `systemClock`. */
  clock?: Clock;
}

const noMeasurements: Record<string, number> = Object.freeze({}) as Record<string, number>;
const noMetadata: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * A hot stream of {@link TelemetryEvent}s on an RxJS `Subject`.
 *
 * Emitting with no subscriber returns before the event object is built. A subscriber that throws
 * is isolated: RxJS catches the error where it is delivered, so the emitter and the other
 * subscribers carry on, and the error is reported once as a process warning (see
 * {@link reportSubscriberError}).
 *
 * @example
 * ```ts
 * telemetry.select('supervisor').subscribe((event) => console.log(event.name, event.metadata));
 * ```
 */
export class Telemetry {
  /** Every event, hot. */
  readonly events$: Observable<TelemetryEvent>;
  private readonly subject = new Subject<TelemetryEvent>();
  private readonly clock: Clock;

  constructor(options: TelemetryOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.events$ = this.subject.asObservable();
  }

  /** True while anyone is subscribed; emitters may skip building measurements when false. */
  get observed(): boolean {
    return this.subject.observed;
  }

  /**
   * The events whose name is `prefix` or starts with `prefix.`: `'pool'` matches `'pool'` and
   * `'pool.checkout'`, not `'poolx'`.
   */
  select(prefix: string): Observable<TelemetryEvent> {
    const dotted = `${prefix}.`;
    return this.events$.pipe(filter((event) => event.name === prefix || event.name.startsWith(dotted)));
  }

  /** Reports an event to the current subscribers; costs next to nothing when there are none. */
  emit(name: string, measurements?: Record<string, number>, metadata?: Record<string, unknown>): void {
    if (!this.subject.observed) return;
    this.subject.next({
      name,
      time: this.clock.now(),
      measurements: measurements ?? noMeasurements,
      metadata: metadata ?? noMetadata,
    });
  }

  /**
   * Runs `fn` as a span: emits `${name}.start`, then `${name}.stop` with `measurements.duration`,
   * or `${name}.exception` with `metadata.error` and `measurements.duration`; the error is
   * rethrown (as a rejection).
   */
  async span<T>(name: string, metadata: Record<string, unknown>, fn: () => T | Promise<T>): Promise<T> {
    const started = this.clock.now();
    this.emit(`${name}.start`, noMeasurements, metadata);
    try {
      const result = await fn();
      this.emit(`${name}.stop`, { duration: this.clock.now() - started }, metadata);
      return result;
    } catch (error) {
      this.emit(`${name}.exception`, { duration: this.clock.now() - started }, { ...metadata, error });
      throw error;
    }
  }
}

/**
 * Where errors thrown by telemetry subscribers end up: RxJS hands every error a subscriber throws
 * to `config.onUnhandledError`, whose default rethrows it on a timer and so crashes the process.
 * overseer installs this reporter there when the application has not set one, so that a faulty
 * metrics subscriber costs a warning, not the service. It reports each error exactly once, as a
 * process warning with code `OVERSEER_SUBSCRIBER_ERROR`. An application that sets its own
 * `config.onUnhandledError` keeps it.
 */
export function reportSubscriberError(error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.emitWarning(`A telemetry subscriber threw: ${detail}`, {
    type: 'OverseerTelemetryWarning',
    code: 'OVERSEER_SUBSCRIBER_ERROR',
  });
}

if (rxjsConfig.onUnhandledError === null) rxjsConfig.onUnhandledError = reportSubscriberError;

/** Creates a separate {@link Telemetry}, e.g. one per test, with its own clock. */
export function createTelemetry(options?: TelemetryOptions): Telemetry {
  return new Telemetry(options);
}

/** The shared default instance every component reports to unless given another. */
export const telemetry: Telemetry = createTelemetry();
