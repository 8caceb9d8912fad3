import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  collectMetrics,
  counter,
  createTelemetry,
  createTestClock,
  startMetrics,
  sum,
  type Metric,
  type TelemetryEvent,
} from '../../../../src/index.js';
import { MetricState } from '../../../../src/telemetry/metrics/metric-operator.js';
import { harness } from './metric-harness.js';
import { configErrorOf } from '../../../support/thrown.js';

const anEvent = (name: string, measurements: Record<string, number> = {}, metadata: Record<string, unknown> = {}): TelemetryEvent => ({
  name,
  time: 0,
  measurements,
  metadata,
});

describe('collectMetrics refuses what is not a list of metrics', () => {
  it('not an array', () => {
    const error = configErrorOf(() => collectMetrics('counter' as never));
    expect(error.option).toBe('metrics');
    expect(error.message).toBe('Invalid option metrics: expected an array of metrics (counter, sum, ...), got "counter"');
  });

  it.each<[string, unknown]>([
    ['a number', 42],
    ['an object with a definition', { definition: counter('a.b.count').definition }],
    ['a function without a definition', () => 0],
  ])('an element that is %s, naming its index', (_label, element) => {
    const error = configErrorOf(() => collectMetrics([counter('a.b.count'), element as Metric]));
    expect(error.option).toBe('metrics[1]');
    expect(error.message).toMatch(/^Invalid option metrics\[1\]: expected a metric built by counter, sum, lastValue, summary or distribution, got /);
  });

  it('startMetrics refuses them too', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    expect(configErrorOf(() => startMetrics(telemetry.events$, [42 as never])).option).toBe('metrics[0]');
  });
});

/** Every event name a telemetry delivers, so a subscriber error it reports shows. */
function eventNames(telemetry: ReturnType<typeof createTelemetry>): string[] {
  const names: string[] = [];
  telemetry.events$.subscribe((event) => names.push(event.name));
  return names;
}

describe('events no metric listens to pass by without error', () => {
  it('in startMetrics', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const names = eventNames(telemetry);
    const registry = startMetrics(telemetry.events$, [counter('a.b.count')]);
    telemetry.emit('other.event');
    telemetry.emit('a.b');
    expect(names).toEqual(['other.event', 'a.b']);
    expect(registry.snapshot()[0]!.series[0]!.value).toEqual({ kind: 'scalar', value: 1 });
    registry.stop();
  });

  it('in collectMetrics', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const names = eventNames(telemetry);
    const readings: number[] = [];
    const subscription = telemetry.events$.pipe(collectMetrics([counter('a.b.count')])).subscribe((reading) => readings.push(reading.snapshot().length));
    telemetry.emit('other.event');
    telemetry.emit('a.b');
    expect(names).toEqual(['other.event', 'a.b']);
    expect(readings).toEqual([1]);
    subscription.unsubscribe();
  });
});

describe('the completion and error of the events pass through', () => {
  const operators: [string, () => (source: Subject<TelemetryEvent>) => ReturnType<Subject<TelemetryEvent>['pipe']>][] = [
    ['collectMetrics', () => (source) => source.pipe(collectMetrics([counter('a.b.count')]))],
    ['a metric operator', () => (source) => source.pipe(sum('a.b.c'))],
  ];

  it.each(operators)('%s completes when the events complete', (_label, make) => {
    const source = new Subject<TelemetryEvent>();
    const seen: string[] = [];
    make()(source).subscribe({ next: () => seen.push('next'), error: () => seen.push('error'), complete: () => seen.push('complete') });
    source.next(anEvent('a.b', { c: 1 }));
    source.complete();
    expect(seen).toEqual(['next', 'complete']);
  });

  it.each(operators)('%s errors with the error of the events', (_label, make) => {
    const source = new Subject<TelemetryEvent>();
    const failure = new Error('upstream');
    const errors: unknown[] = [];
    make()(source).subscribe({ error: (error: unknown) => errors.push(error) });
    source.error(failure);
    expect(errors).toEqual([failure]);
  });
});

describe('a metric operator', () => {
  it('emits no reading for an event dropped at maxSeries', () => {
    const metric = harness(sum('a.b.c', { tags: ['k'], maxSeries: 1 }));
    metric.emit('a.b', { c: 1 }, { k: 'x' });
    metric.emit('a.b', { c: 1 }, { k: 'y' });
    expect(metric.readings).toHaveLength(1);
    expect(metric.snapshot().droppedSeries).toBe(1);
  });

  it('splits series only by its tags, whatever else the metadata holds', () => {
    const metric = harness(sum('a.b.c', { tags: ['k'] }));
    metric.emit('a.b', { c: 1 }, { k: 'x', undefined: 'first' });
    metric.emit('a.b', { c: 2 }, { k: 'x', undefined: 'second' });
    expect(metric.snapshot().series).toEqual([{ tags: { k: 'x' }, value: { kind: 'scalar', value: 3 } }]);
  });

  it('writes tag values as text: errors by name, other objects by their text', () => {
    const metric = harness(counter('a.b.count', { tags: ['n', 'b', 'big', 'e', 'o', 's', 'missing'] }));
    metric.emit('a.b', {}, { n: 1.5, b: false, big: 12n, e: new RangeError('x'), o: { toString: () => 'custom' }, s: 'text', missing: null });
    expect(metric.snapshot().series[0]!.tags).toEqual({ n: '1.5', b: 'false', big: '12', e: 'RangeError', o: 'custom', s: 'text', missing: '' });
  });

  it('listens to each of several events and to no other', () => {
    const metric = harness(counter('a.b.count', { event: ['x.one', 'x.two'] }));
    metric.emit('x.two');
    metric.emit('x.one');
    metric.emit('x.three');
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 2 });
  });
});

describe('a metric state', () => {
  it('forgets its series and dropped count when cleared', () => {
    const { definition } = sum('a.b.c', { tags: ['k'], maxSeries: 1 });
    const state = new MetricState(definition, () => {
      let total = 0;
      return { add: (value) => (total += value), read: () => ({ kind: 'scalar', value: total }) };
    });
    expect(state.record(anEvent('a.b', { c: 2 }, { k: 'x' }))).toBe(true);
    expect(state.record(anEvent('a.b', { c: 2 }, { k: 'y' }))).toBe(false);
    state.clear();
    expect(state.snapshot()).toEqual({ definition, series: [], droppedSeries: 0 });
    expect(state.record(anEvent('a.b', { c: 5 }, { k: 'y' }))).toBe(true);
    expect(state.snapshot().series).toEqual([{ tags: { k: 'y' }, value: { kind: 'scalar', value: 5 } }]);
  });
});
