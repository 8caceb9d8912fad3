import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyspace, MAX_RAW_KEY_BYTES } from '../../../src/limiter/redis/keyspace.js';

describe('Redis keys', () => {
  const space = new Keyspace('app', 'login');

  it('are <prefix>:<name length>:<name>:k:<key> for short, well-formed keys', () => {
    expect(space.keyOf('alice')).toBe('app:5:login:k:alice');
    expect(space.keyOf('')).toBe('app:5:login:k:');
    expect(space.keyOf('a:b*{c}\n')).toBe('app:5:login:k:a:b*{c}\n');
    expect(space.keyOf('x'.repeat(MAX_RAW_KEY_BYTES))).toBe(`app:5:login:k:${'x'.repeat(MAX_RAW_KEY_BYTES)}`);
  });

  it('are a SHA-256 digest under h: for keys over 256 UTF-8 bytes or with a lone surrogate', () => {
    for (const key of ['x'.repeat(MAX_RAW_KEY_BYTES + 1), 'é'.repeat(129), '😀'.repeat(65), '\uD800', 'a\uDC00b', 'y'.repeat(1 << 20)]) {
      expect(space.keyOf(key)).toMatch(/^app:5:login:h:[A-Za-z0-9_-]{43}$/);
    }
  });

  it('never collide: distinct (prefix, name, key) triples give distinct Redis keys, byte for byte', () => {
    // Names and prefixes are validated well-formed (and prefixes free of ':'); keys are anything.
    const name = fc.string({ unit: fc.constantFrom('a', ':', '1', 'k', 'h', '\uFFFD', '😀'), minLength: 1, maxLength: 6 });
    const key = fc.string({ unit: fc.constantFrom('a', ':', '1', 'k', 'h', '\uD800', '\uDC00', '\uFFFD', '😀'), maxLength: 6 });
    const prefix = fc.string({ unit: fc.constantFrom('a', 'b', '1'), minLength: 1, maxLength: 2 });
    const bytes = ([p, n, k]: [string, string, string]) => Buffer.from(new Keyspace(p, n).keyOf(k), 'utf8');
    fc.assert(
      fc.property(fc.tuple(prefix, name, key), fc.tuple(prefix, name, key), (one, two) => {
        fc.pre(one.join('\u0001') !== two.join('\u0001'));
        expect(bytes(one).equals(bytes(two))).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('tell apart keys that UTF-8 would merge', () => {
    expect(space.keyOf('\uD800')).not.toBe(space.keyOf('\uFFFD'));
    expect(space.keyOf('\uD800')).not.toBe(space.keyOf('\uDBFF'));
  });
});
