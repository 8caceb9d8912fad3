import { Subject, filter, type Observable } from 'rxjs';
import type { Clock } from '../clock/index.js';
import { systemClock } from '../clock/index.js';
import { InvalidArgumentError } from '../core/index.js';
import { clockOption, record } from '../core/validate.js';
import { TelemetryEvents } from './events.js';
import { GuardedObservable } from './guarded-observable.js';

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

/** Options of `createTelemetry` (and of the `Telemetry` constructor). */
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
 * is isolated, without touching RxJS's global `config`: `events$` and every observable piped from
 * it catch what a subscriber's callback throws (an observable of the package's own), so the emitter and
 * the other subscribers carry on; the error is reported once, as a
 * `telemetry.subscriber_error` event (metadata `error`) and as a process warning with code
 * `OVERSEER_SUBSCRIBER_ERROR`.
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
  /** What subscribers threw during the delivery in progress, reported once it has finished. */
  private unreported: unknown[] = [];
  /** Set while subscriber errors are being reported: what is thrown meanwhile is not reported again. */
  private reporting = false;

  /** Builds a separate telemetry, as `createTelemetry` does; throws `ConfigError` for options that are not an object or a bad `clock`. */
  constructor(options: TelemetryOptions = {}) {
    this.clock = clockOption<Clock>('clock', record('options', options).clock, systemClock);
    this.events$ = new GuardedObservable<TelemetryEvent>(
      (error) => this.noteSubscriberError(error),
      (subscriber) => this.subject.subscribe(subscriber),
    );
  }

  /** True while anyone is subscribed; emitters may skip building measurements when false. */
  get observed(): boolean {
    return this.subject.observed;
  }

  /**
   * The events whose name is `prefix` or starts with `prefix.`: `'pool'` matches `'pool'` and
   * `'pool.checkout'`, not `'poolx'`. A `prefix` that is not a string throws `InvalidArgumentError`.
   */
  select(prefix: string): Observable<TelemetryEvent> {
    if (typeof prefix !== 'string') throw new InvalidArgumentError('select.prefix', prefix, 'an event name prefix (a string)');
    const dotted = `${prefix}.`;
    return this.events$.pipe(filter((event) => event.name === prefix || event.name.startsWith(dotted)));
  }

  /**
   * Reports an event to the current subscribers; costs next to nothing when there are none. A
   * `name` that is not a string, or `measurements`/`metadata` that are not objects, throw
   * `InvalidArgumentError`, whether or not anyone listens.
   */
  emit(name: string, measurements?: Record<string, number>, metadata?: Record<string, unknown>): void {
    // Hot path (every component's reports): three type checks, then nothing when no one listens.
    if (typeof name !== 'string') throw new InvalidArgumentError('emit.name', name, 'an event name (a string)');
    if (measurements !== undefined && (typeof measurements !== 'object' || measurements === null)) {
      throw new InvalidArgumentError('emit.measurements', measurements, 'an object of numbers or undefined');
    }
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null)) {
      throw new InvalidArgumentError('emit.metadata', metadata, 'an object or undefined');
    }
    if (!this.subject.observed) return;
    this.subject.next({
      name,
      time: this.clock.now(),
      measurements: measurements ?? noMeasurements,
      metadata: metadata ?? noMetadata,
    });
    if (this.unreported.length > 0) this.reportSubscriberErrors();
  }

  /**
   * Runs `fn` as a span: emits `${name}.start`, then `${name}.stop` with `measurements.duration`,
   * or `${name}.exception` with `metadata.error` and `measurements.duration`; the error is
   * rethrown (as a rejection). A `name` that is not a string, `metadata` that is not an object or
   * an `fn` that is not a function rejects with `InvalidArgumentError`, and nothing is emitted.
   */
  async span<T>(name: string, metadata: Record<string, unknown>, fn: () => T | Promise<T>): Promise<T> {
    if (typeof name !== 'string') throw new InvalidArgumentError('span.name', name, 'a span name (a string)');
    if (typeof fn !== 'function') throw new InvalidArgumentError('span.fn', fn, 'a function');
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null)) {
      throw new InvalidArgumentError('span.metadata', metadata, 'an object or undefined');
    }
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

  /** A subscriber's callback threw: noted, and reported once the event has reached every subscriber. */
  private noteSubscriberError(error: unknown): void {
    if (this.reporting) return;
    this.unreported.push(error);
    // Thrown outside an emit (an error or completion callback): reported at once.
    // Stryker disable next-line ConditionalExpression: a microtask queued for a later error finds the errors already reported by the first and does nothing
    if (this.unreported.length === 1) queueMicrotask(() => this.reportSubscriberErrors());
  }

  /**
   * Reports each noted error as a process warning and as a `telemetry.subscriber_error` event.
   * What a subscriber throws while those events are delivered is not reported again: a subscriber
   * that throws on every event would otherwise report its own reports for ever. Called only when
   * `reporting` is false (`emit` calls it when errors are noted, and none are noted while reporting;
   * the microtask runs after any report has finished), so it needs no guard of its own: a microtask
   * that finds the errors already reported does nothing.
   */
  private reportSubscriberErrors(): void {
    const errors = this.unreported;
    this.unreported = [];
    this.reporting = true;
    try {
      for (const error of errors) {
        warnOfSubscriberError(error);
        this.emit(TelemetryEvents.telemetrySubscriberError, undefined, { error });
      }
    } finally {
      this.reporting = false;
    }
  }
}

/** Reports what a telemetry subscriber threw as a process warning (code `OVERSEER_SUBSCRIBER_ERROR`). */
function warnOfSubscriberError(error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.emitWarning(`A telemetry subscriber threw: ${detail}`, {
    type: 'OverseerTelemetryWarning',
    code: 'OVERSEER_SUBSCRIBER_ERROR',
  });
}

/**
 * Creates a separate {@link Telemetry}, e.g. one per test, with its own clock: components given it
 * report there instead of to the shared `telemetry`.
 *
 * @example
 * ```ts
 * const events = createTelemetry({ clock });
 * events.select('breaker').subscribe((event) => seen.push(event.name));
 * const breaker = createBreaker({ name: 'payments', clock, telemetry: events });
 * ```
 */
export function createTelemetry(options?: TelemetryOptions): Telemetry {
  return new Telemetry(options);
}

/** The shared default instance every component reports to unless given another. */
export const telemetry: Telemetry = createTelemetry();
