import type { Observable, Subscription } from 'rxjs';
import { ConfigError } from '../core/index.js';
import { observable, record } from '../core/validate.js';
import { durationBucketsMs } from './metrics/default-metrics.js';
import type { TelemetryEvent } from './telemetry.js';

/** Metric attributes, as OpenTelemetry takes them. */
type Attributes = Record<string, string | number | boolean>;

/**
 * The part of an OpenTelemetry `Meter` the bridge uses, described structurally so that the
 * package's types do not need `@opentelemetry/api` (an optional peer): a `Meter` from
 * `metrics.getMeter(...)` is one.
 */
export interface OpenTelemetryMeter {
  /** Creates the counter of one event (`Meter.createCounter`); the bridge adds 1 per event, with its attributes. */
  createCounter(
    name: string,
    options?: { description?: string },
  ): { add(value: number, attributes?: Record<string, string | number | boolean>): void };
  /**
   * Creates the histogram of one measurement (`Meter.createHistogram`); durations come with
   * `unit` and bucket boundaries as advice.
   */
  createHistogram(
    name: string,
    options?: { unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: Record<string, string | number | boolean>): void };
}


/** Options of {@link bridgeToOpenTelemetry}. */
export interface OpenTelemetryBridgeOptions {
  /** Prefix of every instrument name. Default `'overseer.'`. */
  prefix?: string;
  /**
   * Metadata keys never sent as attributes: keys can be personal data, and ids that are new for
   * every child or thread would make a time series each. Default `['key', 'error', 'child', 'thread']`.
   */
  omitAttributes?: readonly string[];
  /**
   * The unit durations (the `duration` measurement, in ms in every event) are recorded in:
   * `'s'` (OpenTelemetry's and Prometheus's convention) or `'ms'` as measured. Default `'s'`.
   */
  durationUnit?: 's' | 'ms';
}

/** A running bridge; `stop()` unsubscribes it. */
export interface OpenTelemetryBridge {
  /** Unsubscribes from the events: nothing more is recorded (the instruments stay in the meter). Idempotent. */
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

/** An instrument of the bridge, or `null` when its name was taken by another one. */
type Recorder = { add(value: number, attributes: Attributes): void } | null;

/**
 * Exports telemetry to OpenTelemetry metrics, for users who collect there instead of scraping
 * Prometheus: each event name becomes a counter `<prefix><name>` (`overseer.limiter.hit`), each
 * of its measurements a histogram `<prefix><name>.<measurement>` (`overseer.limiter.hit.count`,
 * `overseer.breaker.call.duration` in seconds), with the event's scalar metadata as attributes
 * (never the raw limiter key, error objects, child ids or thread ids). No two instruments share a
 * name: should an event's name equal another event's name plus a measurement, the later
 * instrument is not created and a process warning (`OVERSEER_INSTRUMENT_NAME_TAKEN`) says so.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const bridge = bridgeToOpenTelemetry(telemetry.events$, metrics.getMeter('overseer'));
 * ```
 */
export function bridgeToOpenTelemetry(
  events$: Observable<TelemetryEvent>,
  meter: OpenTelemetryMeter,
  options: OpenTelemetryBridgeOptions = {},
): OpenTelemetryBridge {
  observable('events$', events$);
  const instruments = meter as Partial<OpenTelemetryMeter> | null;
  if (typeof instruments !== 'object' || instruments === null || typeof instruments.createCounter !== 'function' || typeof instruments.createHistogram !== 'function') {
    throw new ConfigError('meter', meter, 'an OpenTelemetry Meter (createCounter, createHistogram)');
  }
  record('options', options);
  const prefix = options.prefix ?? 'overseer.';
  if (typeof prefix !== 'string') throw new ConfigError('prefix', prefix, 'a string');
  const omitted = options.omitAttributes ?? ['key', 'error', 'child', 'thread'];
  if (!Array.isArray(omitted) || omitted.some((key) => typeof key !== 'string')) {
    throw new ConfigError('omitAttributes', omitted, 'an array of metadata keys');
  }
  const omit = new Set(omitted);
  const durationUnit = options.durationUnit ?? 's';
  if (durationUnit !== 's' && durationUnit !== 'ms') throw new ConfigError('durationUnit', durationUnit, "'s' or 'ms'");
  const durationScale = durationUnit === 's' ? 1000 : 1;
  const durationBoundaries = durationBucketsMs.map((bound) => bound / durationScale);

  /** Instrument name → who owns it (`event x` or `measurement m of x`), so that no name is used twice. */
  const owners = new Map<string, string>();
  const counters = new Map<string, Recorder>();
  const histograms = new Map<string, Recorder>();

  function claim(name: string, owner: string): boolean {
    const current = owners.get(name);
    if (current === undefined) {
      owners.set(name, owner);
      return true;
    }
    process.emitWarning(`OpenTelemetry instrument ${name} is already the ${current}; the ${owner} is not exported`, {
      type: 'OverseerTelemetryWarning',
      code: 'OVERSEER_INSTRUMENT_NAME_TAKEN',
    });
    return false;
  }

  function counterOf(event: string): Recorder {
    let counter = counters.get(event);
    if (counter === undefined) {
      const name = `${prefix}${event}`;
      const created: ReturnType<OpenTelemetryMeter['createCounter']> | undefined = claim(name, `counter of event ${event}`)
        ? meter.createCounter(name, { description: `Count of ${event} events` })
        : undefined;
      counter = created ?? null;
      counters.set(event, counter);
    }
    return counter;
  }

  function histogramOf(event: string, measurement: string): Recorder {
    const key = `${event}\u0000${measurement}`;
    let histogram = histograms.get(key);
    if (histogram === undefined) {
      const name = `${prefix}${event}.${measurement}`;
      let created: ReturnType<OpenTelemetryMeter['createHistogram']> | undefined;
      if (claim(name, `histogram of measurement ${measurement} of event ${event}`)) {
        created =
          measurement === 'duration'
            ? meter.createHistogram(name, { unit: durationUnit, advice: { explicitBucketBoundaries: durationBoundaries } })
            : meter.createHistogram(name);
      }
      histogram = created === undefined ? null : { add: (value, attributes) => created.record(value, attributes) };
      histograms.set(key, histogram);
    }
    return histogram;
  }

  const subscription: Subscription = events$.subscribe((event) => {
    const attributes = attributesOf(event.metadata, omit);
    counterOf(event.name)?.add(1, attributes);
    for (const [measurement, value] of Object.entries(event.measurements)) {
      if (typeof value !== 'number' || Number.isNaN(value)) continue;
      histogramOf(event.name, measurement)?.add(measurement === 'duration' ? value / durationScale : value, attributes);
    }
  });
  return { stop: () => subscription.unsubscribe() };
}
