import type { MetricDefinition } from './definition.js';

/** The value of one series of a counter, sum or last-value metric. */
export interface ScalarValue {
  /** Tells it from the other values: always `'scalar'`. */
  readonly kind: 'scalar';
  /** The count of events (counter), the total of the measurements (sum), or the latest measurement (last value). */
  readonly value: number;
}

/** The value of one series of a summary metric. */
export interface SummaryValue {
  /** Tells it from the other values: always `'summary'`. */
  readonly kind: 'summary';
  /** Values counted since the metric started. */
  readonly count: number;
  /** Their total. */
  readonly sum: number;
  /** The smallest value since the start; 0 before any. */
  readonly min: number;
  /** The largest value since the start; 0 before any. */
  readonly max: number;
  /** `sum / count`; 0 before any value. */
  readonly mean: number;
  /** The median of about the last `maxSamples` values, within `relativeAccuracy`. */
  readonly p50: number;
  /** The 90th percentile of about the last `maxSamples` values, within `relativeAccuracy`. */
  readonly p90: number;
  /** The 99th percentile of about the last `maxSamples` values, within `relativeAccuracy`. */
  readonly p99: number;
}

/** The value of one series of a distribution: per-bucket (non-cumulative) counts, `+Inf` last. */
export interface DistributionValue {
  /** Tells it from the other values: always `'distribution'`. */
  readonly kind: 'distribution';
  /** Values counted since the metric started. */
  readonly count: number;
  /** Their total. */
  readonly sum: number;
  /** Each bucket's upper bound `le` (inclusive, in the measurement's unit) and the values in it alone, not below it. */
  readonly buckets: readonly {
    /** The bucket's upper bound, inclusive; `Infinity` for the last. */
    readonly le: number;
    /** Values above the previous bound and at most `le`. */
    readonly count: number;
  }[];
}

/** One series: the tag values that name it and its value. */
export interface SeriesSnapshot {
  /** The series' value of each of the metric's tags, as strings (`''` for a missing one). */
  readonly tags: Readonly<Record<string, string>>;
  /** Its value; `kind` tells which shape. */
  readonly value: ScalarValue | SummaryValue | DistributionValue;
}

/** A point-in-time copy of one metric with all its series. */
export interface MetricSnapshot {
  /** The metric it is a copy of. */
  readonly definition: MetricDefinition;
  /** Every series the metric holds, in the order they were first counted. */
  readonly series: readonly SeriesSnapshot[];
  /**
   * Events not counted because the metric already had `definition.maxSeries` series and the
   * event would have started another. Absent counts as 0.
   */
  readonly droppedSeries?: number;
}

/** What a metric operator emits after each event it counted: its live state. */
export interface MetricReading {
  /** The metric it reads. */
  readonly definition: MetricDefinition;
  /** Copies the current state; cheap enough for a scrape, too dear for every event. */
  snapshot(): MetricSnapshot;
}
