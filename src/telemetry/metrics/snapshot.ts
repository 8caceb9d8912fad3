import type { MetricDefinition } from './definition.js';

/** The value of one series of a counter, sum or last-value metric. */
export interface ScalarValue {
  readonly kind: 'scalar';
  readonly value: number;
}

/** The value of one series of a summary metric. */
export interface SummaryValue {
  readonly kind: 'summary';
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** The value of one series of a distribution: per-bucket (non-cumulative) counts, `+Inf` last. */
export interface DistributionValue {
  readonly kind: 'distribution';
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

/** One series: the tag values that name it and its value. */
export interface SeriesSnapshot {
  readonly tags: Readonly<Record<string, string>>;
  readonly value: ScalarValue | SummaryValue | DistributionValue;
}

/** A point-in-time copy of one metric with all its series. */
export interface MetricSnapshot {
  readonly definition: MetricDefinition;
  readonly series: readonly SeriesSnapshot[];
  /**
   * Events not counted because the metric already had `definition.maxSeries` series and the
   * event would have started another. Absent counts as 0.
   */
  readonly droppedSeries?: number;
}

/** What a metric operator emits after each event it counted: its live state. */
export interface MetricReading {
  readonly definition: MetricDefinition;
  /** Copies the current state; cheap enough for a scrape, too dear for every event. */
  snapshot(): MetricSnapshot;
}
