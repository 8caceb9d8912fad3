import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyspace, MAX_RAW_KEY_BYTES, isUsablePrefix } from '../../../src/limiter/redis/keyspace.js';

/** CRC16/XMODEM, as Redis Cluster computes it. */
function crc16(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Redis Cluster slot of a key, by the rule in the Cluster specification (its hash tag, else all of it). */
function slotOf(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf('{');
  if (open >= 0) {
    const close = bytes.indexOf('}', open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % 16384;
  }
  return crc16(bytes) % 16384;
}

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
    // Names and prefixes are validated well-formed (prefixes free of ':', their braces a hash tag); keys are anything.
    const name = fc.string({ unit: fc.constantFrom('a', ':', '1', 'k', 'h', '#', '{', '}', '\uFFFD', '😀'), minLength: 1, maxLength: 6 });
    const key = fc.string({ unit: fc.constantFrom('a', ':', '1', 'k', 'h', '{', '}', '\uD800', '\uDC00', '\uFFFD', '😀'), maxLength: 6 });
    const prefix = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '1'), minLength: 1, maxLength: 2 }), fc.constantFrom('{a}', 'a{b}'));
    const bytes = ([p, n, k]: [string, string, string]) => Buffer.from(new Keyspace(p, n).keyOf(k), 'utf8');
    fc.assert(
      fc.property(fc.tuple(prefix, name, key), fc.tuple(prefix, name, key), (one, two) => {
        fc.pre(one.join('\u0001') !== two.join('\u0001'));
        expect(bytes(one).equals(bytes(two))).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('are digested when their braces are not a Cluster hash tag, raw when they are', () => {
    for (const key of ['{', '}', '{}', 'a}b', '{x', '{}x}']) expect(space.keyOf(key), key).toMatch(/^app:5:login:h:[A-Za-z0-9_-]{43}$/);
    for (const key of ['{x}', 'a{b}c', '}{x}', '{x}}']) expect(space.keyOf(key), key).toBe(`app:5:login:k:${key}`);
  });

  it('start with #<digest of the name> when the name\'s braces would spoil the start', () => {
    expect(new Keyspace('app', 'a}b').keyOf('k')).toMatch(/^app:#[A-Za-z0-9_-]{43}:k:k$/);
    expect(new Keyspace('app', '{').keyOf('k')).toMatch(/^app:#[A-Za-z0-9_-]{43}:k:k$/);
    expect(new Keyspace('app', 'api{v2}').keyOf('k')).toBe('app:7:api{v2}:k:k');
  });

  it('take prefixes without braces, or whose braces are a hash tag', () => {
    expect(['app', '{limits}', 'a{b}c', '}{x}'].map(isUsablePrefix)).toEqual([true, true, true, true]);
    expect(['a:b', '{', '}', '{}', 'a}', 'lone\uD800'].map(isUsablePrefix)).toEqual([false, false, false, false, false, false]);
  });

  it('keep each hit record in its key\'s Redis Cluster slot', () => {
    const text = (units: string[], minLength = 0) => fc.string({ unit: fc.constantFrom(...units), minLength, maxLength: 8 });
    const prefix = fc.oneof(text(['a', '1', '}'], 1).filter(isUsablePrefix), fc.constantFrom('{t}', 'x{y}', '}{z}'));
    const name = text(['a', '{', '}', ':', '1'], 1);
    const key = fc.oneof(text(['a', '{', '}', ':', '\uD800', 'é']), fc.string({ maxLength: 300 }));
    fc.assert(
      fc.property(prefix, name, key, (p, n, k) => {
        const space = new Keyspace(p, n);
        const redisKey = space.keyOf(k);
        expect(slotOf(space.recordOf(redisKey, 'hitId7'))).toBe(slotOf(redisKey));
      }),
      { numRuns: 3000 },
    );
  });

  it('keep hit records apart from keys and from each other', () => {
    const name = fc.string({ unit: fc.constantFrom('a', ':', 'r', 'k', '{', '}'), minLength: 1, maxLength: 5 });
    const key = fc.string({ unit: fc.constantFrom('a', ':', 'r', 'k', '{', '}'), maxLength: 6 });
    const id = fc.constantFrom('id0', 'id1');
    fc.assert(
      fc.property(fc.tuple(name, key, id), fc.tuple(name, key), ([n1, k1, id1], [n2, k2]) => {
        const one = new Keyspace('app', n1);
        const record = one.recordOf(one.keyOf(k1), id1);
        const two = new Keyspace('app', n2);
        expect(record).not.toBe(two.keyOf(k2));
        if (n1 !== n2 || one.keyOf(k1) !== two.keyOf(k2)) expect(record).not.toBe(two.recordOf(two.keyOf(k2), id1));
      }),
      { numRuns: 3000 },
    );
  });

  it('tell apart keys that UTF-8 would merge', () => {
    expect(space.keyOf('\uD800')).not.toBe(space.keyOf('\uFFFD'));
    expect(space.keyOf('\uD800')).not.toBe(space.keyOf('\uDBFF'));
  });
});
