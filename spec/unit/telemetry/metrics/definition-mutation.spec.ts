import { describe, expect, it } from 'vitest';
import { ConfigError, distribution, sum, summary } from '../../../../src/index.js';

/** The ConfigError `fn` throws, checked to name `option` and to say what it expected and got. */
function expectConfigError(fn: () => unknown, option: string, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).option).toBe(option);
  expect((error as Error).message).toBe(message);
}

describe('a metric definition refuses each bad option with a ConfigError naming it', () => {
  it.each<[string, unknown, string]>([
    ['a number', 42, 'got 42'],
    ['a name without a dot', 'latency', 'got "latency"'],
    ['an array whose text is a dotted name', ['a.b.c'], 'got array(1)'],
  ])('name: %s', (_label, name, got) => {
    expectConfigError(() => sum(name as string), 'name', `Invalid option name: expected a dotted metric name such as "breaker.call.duration", ${got}`);
  });

  it('event: an empty string', () => {
    expectConfigError(() => sum('a.b.c', { event: '' }), 'event', 'Invalid option event: expected an event name (a non-empty string), or a non-empty array of them, got ""');
  });

  it('measurement: neither a name nor a function', () => {
    expectConfigError(() => sum('a.b.c', { measurement: 42 as never }), 'measurement', 'Invalid option measurement: expected a measurement name or a function (event) => number, got 42');
  });

  it('keep: not a function', () => {
    expectConfigError(() => sum('a.b.c', { keep: true as never }), 'keep', 'Invalid option keep: expected a function (event) => boolean, got true');
  });

  it('description: not a string', () => {
    expectConfigError(() => sum('a.b.c', { description: 7 as never }), 'description', 'Invalid option description: expected a string, got 7');
  });

  it('tags: an empty tag', () => {
    expectConfigError(() => sum('a.b.c', { tags: ['ok', ''] }), 'tags', 'Invalid option tags: expected an array of metadata keys, got array(2)');
  });

  it.each<[string, unknown, string]>([
    ['a number', 1000, 'got 1000'],
    ['an empty string', '', 'got ""'],
  ])('unit: %s', (_label, unit, got) => {
    expectConfigError(() => sum('a.b.c', { unit: unit as string }), 'unit', `Invalid option unit: expected a non-empty string such as "millisecond", ${got}`);
  });

  it('buckets of a distribution: not ascending', () => {
    expectConfigError(
      () => distribution('a.b.c', { buckets: [5, 1] }),
      'buckets',
      'Invalid option buckets: expected a non-empty array of finite, strictly ascending numbers, got array(2)',
    );
  });

  it('relativeAccuracy of a summary: above 0.5', () => {
    expectConfigError(() => summary('a.b.c', { relativeAccuracy: 0.6 }), 'relativeAccuracy', 'Invalid option relativeAccuracy: expected a number in (0, 0.5], got 0.6');
  });
});

describe('a summary takes a relativeAccuracy up to 0.5 included', () => {
  it('0.5', () => {
    expect(summary('a.b.c', { relativeAccuracy: 0.5 }).definition.type).toBe('summary');
  });
});
