import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { Observable, Subscription } from 'rxjs';
import type { TelemetryEvent } from './telemetry.js';

/** Options of {@link bridgeToOpenTelemetry}. */
export interface OpenTelemetryBridgeOptions {
  /** Prefix of every instrument name. Default `'overseer.'`. */
  prefix?: string;
  /** Metadata keys never sent as attributes (keys can be personal data). Default `['key', 'error']`. */
  omitAttributes?: readonly string[];
}

/** A running bridge; `stop()` unsubscribes it. */
export interface OpenTelemetryBridge {
  stop(): void;
}

function attributesOf(metadata: Record<string, unknown>, omit: ReadonlySet<string>): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (omit.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attributes[key] = value;
  }
  return attributes;
}

/**
 * Exports telemetry to OpenTelemetry metrics, for users who collect there instead of scraping
 * Prometheus: each event name becomes a counter `<prefix><name>.count`, each of its measurements a
 * histogram `<prefix><name>.<measurement>` (durations in ms), with the event's scalar metadata as
 * attributes (never the raw limiter key nor error objects).
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const bridge = bridgeToOpenTelemetry(telemetry.events$, metrics.getMeter('overseer'));
 * ```
 */
export function bridgeToOpenTelemetry(
  events$: Observable<TelemetryEvent>,
  meter: Meter,
  options: OpenTelemetryBridgeOptions = {},
): OpenTelemetryBridge {
  const prefix = options.prefix ?? 'overseer.';
  const omit = new Set(options.omitAttributes ?? ['key', 'error']);
  const counters = new Map<string, Counter>();
  const histograms = new Map<string, Histogram>();
  const subscription: Subscription = events$.subscribe((event) => {
    const attributes = attributesOf(event.metadata, omit);
    let counter = counters.get(event.name);
    if (counter === undefined) {
      counter = meter.createCounter(`${prefix}${event.name}.count`, { description: `Count of ${event.name} events` });
      counters.set(event.name, counter);
    }
    counter.add(1, attributes);
    for (const [measurement, value] of Object.entries(event.measurements)) {
      const name = `${prefix}${event.name}.${measurement}`;
      let histogram = histograms.get(name);
      if (histogram === undefined) {
        histogram = meter.createHistogram(name, measurement === 'duration' ? { unit: 'ms' } : {});
        histograms.set(name, histogram);
      }
      histogram.record(value, attributes);
    }
  });
  return { stop: () => subscription.unsubscribe() };
}
