import { describe, expect, it } from 'vitest';
import { ConfigError, counter, distribution, lastValue, sum, summary, type Metric, type TelemetryEvent } from '../../../../src/index.js';
import { harness } from './metric-harness.js';

const anEvent = (measurements: Record<string, number>): TelemetryEvent => ({ name: 'x', time: 0, measurements, metadata: {} });

describe('a metric name gives its event (all but the last segment) and measurement (the last segment)', () => {
  it.each<[string, (name: string) => Metric, string, string]>([
    ['counter', (name) => counter(name), 'counter', 'breaker.call.count'],
    ['sum', (name) => sum(name), 'sum', 'limiter.hit.cost'],
    ['lastValue', (name) => lastValue(name), 'last_value', 'pool.checkout.waiting'],
    ['summary', (name) => summary(name), 'summary', 'breaker.call.duration'],
    ['distribution', (name) => distribution(name, { buckets: [1] }), 'distribution', 'pool.checkout.duration'],
  ])('%s', (_label, create, type, name) => {
    const { definition } = create(name);
    const lastDot = name.lastIndexOf('.');
    expect(definition.name).toBe(name);
    expect(definition.type).toBe(type);
    expect(definition.event).toBe(name.slice(0, lastDot));
    expect(definition.tags).toEqual([]);
    expect(definition.description).toBe(`${type} of ${name.slice(0, lastDot)}`);
    expect(definition.unit).toBeUndefined();
    expect(definition.keep).toBeUndefined();
    expect(definition.readMeasurement(anEvent({ [name.slice(lastDot + 1)]: 12, other: 99 }))).toBe(12);
  });

  it('a two-segment name listens to its first segment', () => {
    const metric = harness(sum('queue.depth'));
    metric.emit('queue', { depth: 3 });
    metric.emit('queue.depth', { depth: 100 });
    expect(metric.snapshot().definition.event).toBe('queue');
    expect(metric.values()['']).toEqual({ kind: 'scalar', value: 3 });
  });
});

describe('options override the name-derived defaults and are frozen into the definition', () => {
  it('event, measurement, tags, description and unit', () => {
    const tags = ['pool'];
    const { definition } = summary('db.checkout.time', {
      event: 'pool.checkout',
      measurement: 'duration',
      tags,
      description: 'How long checkouts took',
      unit: 'millisecond',
    });
    tags.push('outcome');
    expect(definition).toMatchObject({
      name: 'db.checkout.time',
      event: 'pool.checkout',
      tags: ['pool'],
      description: 'How long checkouts took',
      unit: 'millisecond',
    });
    expect(definition.readMeasurement(anEvent({ duration: 4, time: 1 }))).toBe(4);
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.tags)).toBe(true);
  });

  it('keep is kept as given', () => {
    const keep = (event: TelemetryEvent): boolean => event.metadata.allowed === true;
    expect(counter('limiter.hit.count', { keep }).definition.keep).toBe(keep);
  });
});

describe('an invalid metric definition throws ConfigError', () => {
  it.each(['', 'count', '.count', 'pool.', 'pool..count', '1pool.count', 'pool.1count', 'pool.check-out', 'pool checkout.count', 42, undefined])(
    'name %j',
    (name) => {
      for (const create of [
        () => counter(name as string),
        () => sum(name as string),
        () => lastValue(name as string),
        () => summary(name as string),
        () => distribution(name as string, { buckets: [1] }),
      ]) {
        let thrown: unknown;
        try {
          create();
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ConfigError);
        expect(thrown).toBeInstanceOf(TypeError);
        expect((thrown as ConfigError).code).toBe('ERR_CONFIG');
        expect((thrown as ConfigError).option).toBe('name');
      }
    },
  );

  it.each([
    ['an empty tag', ['']],
    ['a non-string tag', [7]],
    ['not an array', 'pool'],
  ])('tags with %s', (_label, tags) => {
    expect(() => counter('pool.checkout.count', { tags } as unknown as { tags: string[] })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG', option: 'tags' }),
    );
  });

  it('names the option and the value in the message', () => {
    expect(() => counter('nodots')).toThrow(/name.*"nodots"/);
    expect(() => distribution('pool.checkout.duration', { buckets: [3, 2] })).toThrow(/buckets/);
  });
});
