import { Observable, type OperatorFunction } from 'rxjs';
import type { TelemetryEvent } from '../telemetry.js';
import type { MetricDefinition } from './definition.js';
import type { MetricReading, MetricSnapshot, SeriesSnapshot } from './snapshot.js';

/** The per-series state of one kind of metric. */
export interface Accumulator {
  add(value: number): void;
  read(): SeriesSnapshot['value'];
}

/** A metric: an RxJS operator from telemetry events to its live reading, with its definition. */
export interface Metric extends OperatorFunction<TelemetryEvent, MetricReading> {
  /** What it counts and how exporters name it. */
  readonly definition: MetricDefinition;
}

interface Series {
  readonly tags: Record<string, string>;
  readonly accumulator: Accumulator;
}

function tagValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Error) return value.name;
  return String(value);
}

/**
 * The state behind a metric: series keyed by their tag values, at most `definition.maxSeries` of
 * them. It is also the reading the operator emits, so counting an event allocates nothing once its
 * series exists.
 */
export class MetricState implements MetricReading {
  private readonly series = new Map<string, Series>();
  private dropped = 0;

  constructor(
    readonly definition: MetricDefinition,
    private readonly createAccumulator: () => Accumulator,
  ) {}

  /**
   * Counts the event if it is this metric's and carries its measurement; true when it did.
   * Hot path: runs for every event a registry listens to, e.g. every breaker call while a
   * `/metrics` registry is started (the service benchmark runs with one).
   */
  record(event: TelemetryEvent): boolean {
    const definition = this.definition;
    // The first comparison is a fast path for a metric of one event (most are): `events.includes` alone gives the same answer.
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: the fast path and the includes decide alike (see above)
    if (event.name !== definition.event && (definition.events.length === 1 || !definition.events.includes(event.name))) return false;
    if (definition.keep !== undefined && !definition.keep(event)) return false;
    const value = definition.type === 'counter' ? 1 : definition.readMeasurement(event);
    if (typeof value !== 'number' || Number.isNaN(value)) return false;
    const series = this.seriesFor(event.metadata);
    if (series === undefined) {
      this.dropped += 1;
      return false;
    }
    series.accumulator.add(value);
    return true;
  }

  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const entry of this.series.values()) series.push({ tags: { ...entry.tags }, value: entry.accumulator.read() });
    return { definition: this.definition, series, droppedSeries: this.dropped };
  }

  /** Forgets every series and the dropped count, as if no event had been counted. */
  clear(): void {
    this.series.clear();
    this.dropped = 0;
  }

  /** The series of these tag values, created if there is room; undefined when the metric is full. */
  private seriesFor(metadata: Record<string, unknown>): Series | undefined {
    const tagNames = this.definition.tags;
    // Each value is prefixed with its length, so no two lists of values share a key.
    // Stryker disable next-line StringLiteral: every key starts with this same text, so which text it is changes no lookup
    let key = '';
    for (let index = 0; index < tagNames.length; index += 1) {
      const value = tagValue(metadata[tagNames[index]!]);
      key += `${value.length}:${value}`;
    }
    let series = this.series.get(key);
    if (series === undefined) {
      if (this.series.size >= this.definition.maxSeries) return undefined;
      const tags: Record<string, string> = {};
      for (const name of tagNames) tags[name] = tagValue(metadata[name]);
      series = { tags, accumulator: this.createAccumulator() };
      this.series.set(key, series);
    }
    return series;
  }
}

/** Builds the operator of a metric from its definition and accumulator factory. */
export function metricOperator(definition: MetricDefinition, createAccumulator: () => Accumulator): Metric {
  const operator = (source: Observable<TelemetryEvent>): Observable<MetricReading> =>
    new Observable<MetricReading>((subscriber) => {
      const state = new MetricState(definition, createAccumulator);
      return source.subscribe({
        next: (event) => {
          if (state.record(event)) subscriber.next(state);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
  return Object.assign(operator, { definition, createAccumulator });
}

/** The accumulator factory behind a metric built by {@link metricOperator}. */
export function accumulatorOf(metric: Metric): () => Accumulator {
  return (metric as Metric & { createAccumulator: () => Accumulator }).createAccumulator;
}
