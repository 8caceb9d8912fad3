import type { Subscription } from 'rxjs';
import { createTelemetry, createTestClock, type Metric, type MetricReading, type MetricSnapshot, type SeriesSnapshot } from '../../../../src/index.js';

/** A telemetry on a test clock with one metric subscribed to it, recording every reading it emits. */
export interface MetricHarness {
  emit(name: string, measurements?: Record<string, number>, metadata?: Record<string, unknown>): void;
  /** Every reading the metric operator emitted, one per counted event. */
  readonly readings: MetricReading[];
  /** The metric's current state, from its latest reading. */
  snapshot(): MetricSnapshot;
  /** The value of every series, keyed by its tag values joined with `|`. */
  values(): Record<string, SeriesSnapshot['value']>;
  readonly subscription: Subscription;
}

export function harness(metric: Metric): MetricHarness {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const readings: MetricReading[] = [];
  const subscription = telemetry.events$.pipe(metric).subscribe((reading) => readings.push(reading));
  const snapshot = (): MetricSnapshot => {
    const latest = readings.at(-1);
    if (latest === undefined) throw new Error('the metric has not counted any event yet');
    return latest.snapshot();
  };
  return {
    emit: (name, measurements, metadata) => telemetry.emit(name, measurements, metadata),
    readings,
    snapshot,
    values: () =>
      Object.fromEntries(snapshot().series.map((series) => [Object.values(series.tags).join('|'), series.value])),
    subscription,
  };
}

/** Values emitted in an order that is neither ascending nor lexicographic, so sorting bugs show. */
export function shuffled<T>(values: readonly T[]): T[] {
  // A fixed permutation (multiplicative stride), deterministic across runs; a bijection while the
  // length is not a multiple of the stride.
  const stride = 37;
  if (values.length % stride === 0) throw new Error(`shuffled: length ${values.length} is a multiple of ${stride}`);
  return values.map((_, index) => values[(index * stride) % values.length]!);
}
