import type { Observable, Subscription } from 'rxjs';
import { ConfigError } from '../core/index.js';
import { observable, record } from '../core/validate.js';
import { createStates, feedStates } from './metrics/collect-metrics.js';
import { overseerMetrics } from './metrics/default-metrics.js';
import type { Metric, MetricState } from './metrics/metric-operator.js';
import { droppedSeriesFamily, prometheusFamily, type PrometheusFamily } from './metrics/prometheus-naming.js';
import type { MetricSnapshot, SeriesSnapshot } from './metrics/snapshot.js';
import type { TelemetryEvent } from './telemetry.js';

/**
 * The part of a prom-client `Registry` the bridge uses; prom-client's own `Registry` (and its
 * `register` global) fits. overseer never imports prom-client: the application hands its registry in.
 */
export interface PromClientRegistry {
  /** Adds a collector; the bridge registers one per metric, read on every scrape. */
  registerMetric(metric: never): void;
  /** Removes a collector by name; the bridge's `stop()` removes each it registered. */
  removeSingleMetric(name: string): void;
}

/** Options of {@link bridgeToPromClient}. */
export interface PromClientBridgeOptions {
  /** The metrics to export. Default `overseerMetrics()`. */
  metrics?: readonly Metric[];
  /** Put in front of every metric name, e.g. `'myapp_'`. Default `''`. */
  prefix?: string;
}

/** A running bridge, as `bridgeToPromClient` returns it; stop it before the registry outlives it (a test, a hot reload). */
export interface PromClientBridge {
  /** The bridged metrics' current state, as `startMetrics` gives it. */
  snapshot(): MetricSnapshot[];
  /** Unsubscribes from the telemetry and removes the bridge's metrics from the registry. */
  stop(): void;
}

type Labels = Record<string, string | number>;

/** One sample as prom-client's registry renders it (`metricName` defaults to the metric's name). */
interface PromClientValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** What prom-client's registry reads from a metric on every scrape. */
interface PromClientCollector {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: PromClientValue[] }>;
  reset(): void;
}

const promClientType = {
  counter: 'counter',
  sum: 'gauge',
  last_value: 'gauge',
  summary: 'summary',
  distribution: 'histogram',
} as const;

function labelsOf(family: PrometheusFamily, tags: readonly string[], series: SeriesSnapshot): Labels {
  const labels: Labels = {};
  // Stryker disable next-line StringLiteral: a series' tags hold a value for every tag of its metric (a missing one is already '')
  for (let index = 0; index < tags.length; index += 1) labels[family.labelNames[index]!] = series.tags[tags[index]!] ?? '';
  return labels;
}

/** The samples of one series, in prom-client's shape; `name` is the metric's current name. */
function valuesOf(name: string, family: PrometheusFamily, tags: readonly string[], series: SeriesSnapshot): PromClientValue[] {
  const { toBase } = family;
  const labels = labelsOf(family, tags, series);
  const { value } = series;
  switch (value.kind) {
    case 'scalar':
      return [{ value: toBase(value.value), labels }];
    case 'summary':
      return [
        { value: toBase(value.p50), labels: { ...labels, quantile: 0.5 } },
        { value: toBase(value.p90), labels: { ...labels, quantile: 0.9 } },
        { value: toBase(value.p99), labels: { ...labels, quantile: 0.99 } },
        { value: toBase(value.sum), labels, metricName: `${name}_sum` },
        { value: value.count, labels, metricName: `${name}_count` },
      ];
    case 'distribution': {
      let cumulative = 0;
      const values: PromClientValue[] = value.buckets.map((bucket) => {
        cumulative += bucket.count;
        const le = bucket.le === Number.POSITIVE_INFINITY ? '+Inf' : toBase(bucket.le);
        return { value: cumulative, labels: { ...labels, le }, metricName: `${name}_bucket` };
      });
      values.push({ value: toBase(value.sum), labels, metricName: `${name}_sum` }, { value: value.count, labels, metricName: `${name}_count` });
      return values;
    }
  }
}

function collectorOf(state: MetricState, prefix: string): PromClientCollector {
  const { definition } = state;
  const family = prometheusFamily(definition);
  const type = promClientType[definition.type];
  const collector: PromClientCollector = {
    name: `${prefix}${family.name}`,
    help: definition.description,
    type,
    aggregator: 'sum',
    // prom-client renames a counter (drops `_total`) for OpenMetrics and adds `_total` to its
    // samples, so the samples are named after the collector's name at the time of the scrape.
    get: async () => {
      const name = collector.name;
      const values = state.snapshot().series.flatMap((series) => valuesOf(name, family, definition.tags, series));
      return { name, help: collector.help, type, aggregator: 'sum', values };
    },
    reset: () => state.clear(),
  };
  return collector;
}

function droppedSeriesCollector(states: readonly MetricState[], prefix: string): PromClientCollector {
  const collector: PromClientCollector = {
    name: `${prefix}${droppedSeriesFamily.name}`,
    help: droppedSeriesFamily.help,
    type: 'counter',
    aggregator: 'sum',
    get: async () => {
      const values: PromClientValue[] = [];
      for (const state of states) {
        const dropped = state.snapshot().droppedSeries ?? 0;
        if (dropped > 0) values.push({ value: dropped, labels: { [droppedSeriesFamily.label]: `${prefix}${prometheusFamily(state.definition).name}` } });
      }
      return { name: collector.name, help: collector.help, type: 'counter', aggregator: 'sum', values };
    },
    reset: () => undefined,
  };
  return collector;
}

/**
 * Exports overseer's metrics through an application's own prom-client registry, for back ends
 * that already serve one `/metrics` from prom-client: each metric becomes a collector of that
 * registry, read at every scrape, with the names `toPrometheus` writes (`breaker_call_total`,
 * `breaker_call_duration_seconds`, ...), plus `overseer_metric_series_dropped_total`. prom-client
 * is not a dependency of overseer and is never loaded by it: pass the registry (`register`, or a
 * `new Registry()`). Throws `ConfigError` when a name is taken in the registry or two metrics
 * share one.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * const bridge = bridgeToPromClient(telemetry.events$, register);
 * app.get('/metrics', async (_req, res) => res.type(register.contentType).send(await register.metrics()));
 * ```
 */
export function bridgeToPromClient(
  events$: Observable<TelemetryEvent>,
  registry: PromClientRegistry,
  options: PromClientBridgeOptions = {},
): PromClientBridge {
  if (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new ConfigError('registry', registry, 'a prom-client Registry (registerMetric, removeSingleMetric)');
  }
  observable('events$', events$);
  record('options', options);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new ConfigError('prefix', prefix, 'a string of the Prometheus metric name grammar, e.g. "myapp_"');
  }
  const states = createStates(options.metrics ?? overseerMetrics(), prefix);
  const collectors = [...states.map((state) => collectorOf(state, prefix)), droppedSeriesCollector(states, prefix)];
  const registered: string[] = [];
  const unregister = (): void => {
    for (const name of registered.splice(0)) registry.removeSingleMetric(name);
  };
  for (const collector of collectors) {
    try {
      registry.registerMetric(collector as never);
    } catch (error) {
      unregister();
      throw new ConfigError('registry', collector.name, `a registry without a metric named "${collector.name}" (${error instanceof Error ? error.message : String(error)})`);
    }
    registered.push(collector.name);
  }
  const subscription: Subscription = feedStates(events$, states);
  return {
    snapshot: () => states.map((state) => state.snapshot()),
    stop: () => {
      subscription.unsubscribe();
      unregister();
    },
  };
}
