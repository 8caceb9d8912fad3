import { describe, expect, it, vi } from 'vitest';
import {
  bridgeToOpenTelemetry,
  createTelemetry,
  createTestClock,
  type OpenTelemetryBridgeOptions,
  type OpenTelemetryMeter,
} from '../../../src/index.js';
import { captureProcessWarnings } from '../../support/warnings.js';
import { configErrorOf } from '../../support/thrown.js';

type Attributes = Record<string, string | number | boolean>;

/** A Meter that records what the bridge asks of it: instruments created, values added and recorded. */
function recordingMeter() {
  const counters: { name: string; options: unknown }[] = [];
  const histograms: { name: string; options: unknown }[] = [];
  const added: { name: string; value: number; attributes: Attributes | undefined }[] = [];
  const recorded: { name: string; value: number; attributes: Attributes | undefined }[] = [];
  const meter: OpenTelemetryMeter = {
    createCounter(name, options) {
      counters.push({ name, options });
      return { add: (value, attributes) => void added.push({ name, value, attributes }) };
    },
    createHistogram(name, options) {
      histograms.push({ name, options });
      return { record: (value, attributes) => void recorded.push({ name, value, attributes }) };
    },
  };
  return { meter, counters, histograms, added, recorded };
}

function bridged(options?: OpenTelemetryBridgeOptions) {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const subscriberErrors: unknown[] = [];
  telemetry.select('telemetry.subscriber_error').subscribe((event) => subscriberErrors.push(event.metadata.error));
  const recording = recordingMeter();
  const bridge = bridgeToOpenTelemetry(telemetry.events$, recording.meter, options);
  return { telemetry, bridge, subscriberErrors, ...recording };
}

const warnings = captureProcessWarnings();

describe('the bridge sends scalar metadata as attributes', () => {
  it('keeps strings, numbers and booleans, drops objects, arrays, null, undefined and bigints', () => {
    const { telemetry, added } = bridged();
    telemetry.emit('job.run', {}, {
      job: 'nightly',
      attempt: 2,
      retried: false,
      nested: { a: 1 },
      list: ['a'],
      nothing: null,
      absent: undefined,
      big: 10n,
    });
    expect(added).toEqual([{ name: 'overseer.job.run', value: 1, attributes: { job: 'nightly', attempt: 2, retried: false } }]);
  });

  it('by default omits key, error, child and thread, even when they are strings or numbers', () => {
    const { telemetry, added } = bridged();
    telemetry.emit('supervisor.child.started', {}, { supervisor: 'root', key: 'alice', error: 'boom', child: 'worker-1', thread: 7 });
    expect(added[0]!.attributes).toEqual({ supervisor: 'root' });
  });

  it('omits exactly the keys given in omitAttributes instead', () => {
    const { telemetry, added } = bridged({ omitAttributes: ['tenant'] });
    telemetry.emit('job.run', {}, { tenant: 't1', child: 'worker-1', job: 'nightly' });
    expect(added[0]!.attributes).toEqual({ child: 'worker-1', job: 'nightly' });
  });
});

describe('the bridge creates one counter per event and one histogram per measurement', () => {
  it('describes each counter as the count of its events', () => {
    const { telemetry, counters } = bridged();
    telemetry.emit('breaker.call', { duration: 3 }, { breaker: 'payments' });
    telemetry.emit('breaker.call', { duration: 4 }, { breaker: 'payments' });
    expect(counters).toEqual([{ name: 'overseer.breaker.call', options: { description: 'Count of breaker.call events' } }]);
  });

  it('gives duration histograms a unit and bucket advice, other measurements neither', () => {
    const { telemetry, histograms, recorded } = bridged({ prefix: 'app.', durationUnit: 'ms' });
    telemetry.emit('limiter.hit', { count: 2, duration: 5 }, { limiter: 'api' });
    expect(histograms.map((histogram) => histogram.name)).toEqual(['app.limiter.hit.count', 'app.limiter.hit.duration']);
    expect(histograms[0]!.options).toBeUndefined();
    expect(histograms[1]!.options).toEqual({ unit: 'ms', advice: { explicitBucketBoundaries: expect.any(Array) } });
    expect(recorded).toEqual([
      { name: 'app.limiter.hit.count', value: 2, attributes: { limiter: 'api' } },
      { name: 'app.limiter.hit.duration', value: 5, attributes: { limiter: 'api' } },
    ]);
  });

  it('skips measurements that are NaN or not numbers, and creates no histogram for them', () => {
    const { telemetry, histograms, recorded, added } = bridged();
    telemetry.emit('job.run', { duration: Number.NaN, size: 'large' as never, depth: 3 }, { job: 'a' });
    expect(histograms.map((histogram) => histogram.name)).toEqual(['overseer.job.run.depth']);
    expect(recorded.map((sample) => [sample.name, sample.value])).toEqual([['overseer.job.run.depth', 3]]);
    expect(added).toHaveLength(1);
  });
});

describe('an instrument name already taken is not created, and the bridge keeps recording the others', () => {
  it('a measurement named like an earlier event: warning with code and type, no histogram, no subscriber error', async () => {
    const { telemetry, counters, histograms, added, recorded, subscriberErrors } = bridged();
    telemetry.emit('job.run.attempts', {}, { job: 'a' });
    telemetry.emit('job.run', { attempts: 3, duration: 20 }, { job: 'a' });
    telemetry.emit('job.run', { attempts: 4, duration: 30 }, { job: 'a' });
    expect(counters.map((counter) => counter.name)).toEqual(['overseer.job.run.attempts', 'overseer.job.run']);
    expect(histograms.map((histogram) => histogram.name)).toEqual(['overseer.job.run.duration']);
    expect(added.map((sample) => sample.name)).toEqual(['overseer.job.run.attempts', 'overseer.job.run', 'overseer.job.run']);
    expect(recorded.map((sample) => sample.value)).toEqual([0.02, 0.03]);
    expect(subscriberErrors).toEqual([]);
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(warnings[0]!.name).toBe('OverseerTelemetryWarning');
    expect(warnings[0]!.code).toBe('OVERSEER_INSTRUMENT_NAME_TAKEN');
    expect(warnings[0]!.message).toBe(
      'OpenTelemetry instrument overseer.job.run.attempts is already the counter of event job.run.attempts; ' +
        'the histogram of measurement attempts of event job.run is not exported',
    );
  });

  it('an event named like an earlier measurement: the warning names both owners', async () => {
    const { telemetry, counters, subscriberErrors } = bridged();
    telemetry.emit('job.run', { attempts: 3 }, { job: 'a' });
    telemetry.emit('job.run.attempts', {}, { job: 'a' });
    expect(counters.map((counter) => counter.name)).toEqual(['overseer.job.run']);
    expect(subscriberErrors).toEqual([]);
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(warnings.map((warning) => warning.message)).toEqual([
      'OpenTelemetry instrument overseer.job.run.attempts is already the histogram of measurement attempts of event job.run; ' +
        'the counter of event job.run.attempts is not exported',
    ]);
  });
});

describe('bridgeToOpenTelemetry refuses a bad meter or options with a ConfigError saying what it takes', () => {
  const createCounter = () => ({ add: () => undefined });
  const createHistogram = () => ({ record: () => undefined });
  const events$ = () => createTelemetry({ clock: createTestClock() }).events$;

  it.each([
    ['null', null],
    ['a string', 'meter'],
    ['a function with both methods', Object.assign(() => undefined, { createCounter, createHistogram })],
    ['an object without createCounter', { createHistogram }],
    ['an object without createHistogram', { createCounter }],
    ['an empty object', {}],
  ])('a meter that is %s', (_kind, meter) => {
    const error = configErrorOf(() => bridgeToOpenTelemetry(events$(), meter as never));
    expect(error.option).toBe('meter');
    expect(error.value).toBe(meter);
    expect(error.message).toContain('expected an OpenTelemetry Meter (createCounter, createHistogram)');
  });

  it('accepts an object with both methods', () => {
    expect(() => bridgeToOpenTelemetry(events$(), { createCounter, createHistogram }).stop()).not.toThrow();
  });

  it('options that are not an object', () => {
    const error = configErrorOf(() => bridgeToOpenTelemetry(events$(), recordingMeter().meter, 'fast' as never));
    expect(error.option).toBe('options');
  });

  it.each([
    ['prefix', { prefix: 3 }, 'a string'],
    ['omitAttributes', { omitAttributes: 'key' }, 'an array of metadata keys'],
    ['omitAttributes', { omitAttributes: ['key', 3] }, 'an array of metadata keys'],
    ['omitAttributes', { omitAttributes: [3, 'key'] }, 'an array of metadata keys'],
    ['durationUnit', { durationUnit: 'minutes' }, "'s' or 'ms'"],
  ])('a bad %s (%j)', (option, options, expectation) => {
    const error = configErrorOf(() => bridgeToOpenTelemetry(events$(), recordingMeter().meter, options as never));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`expected ${expectation}, got`);
  });

  it('stop() ends the recording', () => {
    const { telemetry, bridge, added } = bridged();
    telemetry.emit('job.run');
    bridge.stop();
    bridge.stop();
    telemetry.emit('job.run');
    expect(added).toHaveLength(1);
    expect(telemetry.observed).toBe(true);
  });
});

describe('instruments are created once', () => {
  it('calls the meter only on the first event of each name', () => {
    const { meter } = recordingMeter();
    const createCounter = vi.spyOn(meter, 'createCounter');
    const telemetry = createTelemetry({ clock: createTestClock() });
    bridgeToOpenTelemetry(telemetry.events$, meter);
    telemetry.emit('job.run');
    telemetry.emit('job.run');
    expect(createCounter).toHaveBeenCalledTimes(1);
  });
});
