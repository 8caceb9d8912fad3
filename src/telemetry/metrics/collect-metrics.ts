import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { ConfigError } from '../../core/index.js';
import { observable } from '../../core/validate.js';
import type { TelemetryEvent } from '../telemetry.js';
import { MetricState, accumulatorOf, type Metric } from './metric-operator.js';
import { checkDistinctFamilies } from './prometheus-naming.js';
import type { MetricSnapshot } from './snapshot.js';

/**
 * Checks that `metrics` are metrics and that no two of them would share a Prometheus name (with
 * `prefix` in front), throwing a `ConfigError` naming `metrics` otherwise.
 */
export function checkMetrics(metrics: readonly Metric[], prefix = ''): void {
  if (!Array.isArray(metrics)) throw new ConfigError('metrics', metrics, 'an array of metrics (counter, sum, ...)');
  metrics.forEach((metric, index) => {
    if (typeof metric !== 'function' || typeof (metric as Partial<Metric>).definition !== 'object') {
      throw new ConfigError(`metrics[${index}]`, metric, 'a metric built by counter, sum, lastValue, summary or distribution');
    }
  });
  checkDistinctFamilies(
    metrics.map((metric) => metric.definition),
    'metrics',
    prefix,
  );
}

/** Fresh states of `metrics`, checked as {@link checkMetrics} does. */
export function createStates(metrics: readonly Metric[], prefix = ''): MetricState[] {
  checkMetrics(metrics, prefix);
  return metrics.map((metric) => new MetricState(metric.definition, accumulatorOf(metric)));
}

/** Feeds each event of `events$` to the states listening to its name; returns the subscription. */
export function feedStates(events$: Observable<TelemetryEvent>, states: readonly MetricState[]): Subscription {
  const byEvent = indexByEvent(states);
  return events$.subscribe((event) => {
    const listening = byEvent.get(event.name);
    if (listening === undefined) return;
    for (const state of listening) state.record(event);
  });
}

/**
 * The metric states of a set of metrics, indexed by the event each listens to, so that an event
 * visits only its own metrics (a registry of many metrics costs little per event).
 */
function indexByEvent(states: readonly MetricState[]): Map<string, MetricState[]> {
  const index = new Map<string, MetricState[]>();
  for (const state of states) {
    for (const event of state.definition.events) {
      const list = index.get(event);
      if (list) list.push(state);
      else index.set(event, [state]);
    }
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
 * event that any of them counted. Throws `ConfigError` when two metrics would share a Prometheus
 * name.
 *
 * @example
 * ```ts
 * telemetry.events$.pipe(collectMetrics([counter('breaker.call.count'), summary('breaker.call.duration')]))
 * ```
 */
export function collectMetrics(metrics: readonly Metric[]): OperatorFunction<TelemetryEvent, MetricsReading> {
  checkMetrics(metrics);
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
 * Throws `ConfigError` when two metrics would share a Prometheus name (`a.b.c` and `a_b.c`), so
 * that a bad set is refused at start, never at scrape time, and when `events$` is not an
 * observable.
 *
 * @example
 * ```ts
 * const registry = startMetrics(telemetry.events$, [counter('supervisor.child.restarted.count')]);
 * response.end(toPrometheus(registry.snapshot()));
 * ```
 */
export function startMetrics(events$: Observable<TelemetryEvent>, metrics: readonly Metric[]): MetricsRegistry {
  observable('events$', events$);
  const states = createStates(metrics);
  const subscription: Subscription = feedStates(events$, states);
  return {
    snapshot: () => states.map((state) => state.snapshot()),
    stop: () => subscription.unsubscribe(),
  };
}
