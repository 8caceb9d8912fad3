import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { TelemetryEvent } from '../telemetry.js';
import { MetricState, accumulatorOf, type Metric } from './metric-operator.js';
import type { MetricSnapshot } from './snapshot.js';

/**
 * The metric states of a set of metrics, indexed by the event each listens to, so that an event
 * visits only its own metrics (a registry of many metrics costs little per event).
 */
function indexByEvent(states: readonly MetricState[]): Map<string, MetricState[]> {
  const index = new Map<string, MetricState[]>();
  for (const state of states) {
    const list = index.get(state.definition.event);
    if (list) list.push(state);
    else index.set(state.definition.event, [state]);
  }
  return index;
}

/** The live state of several metrics at once, as {@link collectMetrics} emits it. */
export interface MetricsReading {
  /** Copies every metric's current state, in the order the metrics were given. */
  snapshot(): MetricSnapshot[];
}

/**
 * Feeds every event to several metrics in one pass and emits their combined reading after each
 * event that any of them counted.
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(collectMetrics([counter('breaker.call.count'), summary('breaker.call.duration')]))
 * ```
 */
export function collectMetrics(metrics: readonly Metric[]): OperatorFunction<TelemetryEvent, MetricsReading> {
  return (source) =>
    new Observable<MetricsReading>((subscriber) => {
      const states = metrics.map((metric) => new MetricState(metric.definition, accumulatorOf(metric)));
      const byEvent = indexByEvent(states);
      const reading: MetricsReading = { snapshot: () => states.map((state) => state.snapshot()) };
      return source.subscribe({
        next: (event) => {
          const listening = byEvent.get(event.name);
          if (listening === undefined) return;
          let counted = false;
          for (const state of listening) counted = state.record(event) || counted;
          if (counted) subscriber.next(reading);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/** A running set of metrics that a scrape endpoint reads. */
export interface MetricsRegistry {
  /** Copies every metric's current state. */
  snapshot(): MetricSnapshot[];
  /** Stops counting. */
  stop(): void;
}

/**
 * Subscribes `metrics` to `events$` and keeps their state for scrapes, e.g. a `/metrics` route.
 *
 * @example
 * ```ts
 * const registry = startMetrics(telemetry.events$, [counter('supervisor.child.restarted.count')]);
 * response.end(toPrometheus(registry.snapshot()));
 * ```
 */
export function startMetrics(events$: Observable<TelemetryEvent>, metrics: readonly Metric[]): MetricsRegistry {
  const states = metrics.map((metric) => new MetricState(metric.definition, accumulatorOf(metric)));
  const byEvent = indexByEvent(states);
  const subscription: Subscription = events$.subscribe((event) => {
    const listening = byEvent.get(event.name);
    if (listening === undefined) return;
    for (const state of listening) state.record(event);
  });
  return {
    snapshot: () => states.map((state) => state.snapshot()),
    stop: () => subscription.unsubscribe(),
  };
}
