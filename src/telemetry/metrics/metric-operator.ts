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
  readonly definition: MetricDefinition;
}

interface Series {
  readonly tags: Record<string, string>;
  readonly accumulator: Accumulator;
}

function tagValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Error) return value.name;
  return String(value);
}

/**
 * The state behind a metric: series keyed by their tag values. It is also the reading the
 * operator emits, so counting an event allocates nothing once its series exists.
 */
export class MetricState implements MetricReading {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly definition: MetricDefinition,
    private readonly createAccumulator: () => Accumulator,
  ) {}

  /** Counts the event if it is this metric's and carries its measurement; true when it did. */
  record(event: TelemetryEvent): boolean {
    const definition = this.definition;
    if (event.name !== definition.event) return false;
    if (definition.keep !== undefined && !definition.keep(event)) return false;
    const value = definition.type === 'counter' ? 1 : definition.readMeasurement(event);
    if (typeof value !== 'number' || Number.isNaN(value)) return false;
    this.seriesFor(event.metadata).accumulator.add(value);
    return true;
  }

  snapshot(): MetricSnapshot {
    const series: SeriesSnapshot[] = [];
    for (const entry of this.series.values()) series.push({ tags: { ...entry.tags }, value: entry.accumulator.read() });
    return { definition: this.definition, series };
  }

  private seriesFor(metadata: Record<string, unknown>): Series {
    const tagNames = this.definition.tags;
    let key = '';
    for (let index = 0; index < tagNames.length; index += 1) {
      key += `${index === 0 ? '' : '\u0000'}${tagValue(metadata[tagNames[index]!])}`;
    }
    let series = this.series.get(key);
    if (series === undefined) {
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
