import { describe, expect, it } from 'vitest';
import { Keyspace, MAX_RAW_KEY_BYTES } from '../../../src/limiter/redis/keyspace.js';
import { thrownBy } from '../../support/thrown.js';

describe('a keyspace', () => {
  it.each(['a:b', 'a{b', '{}', 'a\uD800'])('refuses the unusable prefix %j with a RangeError naming it', (prefix) => {
    const error = thrownBy(() => new Keyspace(prefix, 'login'));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as RangeError).message).toBe(`unusable Redis key prefix ${JSON.stringify(prefix)}`);
  });

  it('keeps short keys raw, whether or not they are surely short by length alone', () => {
    const space = new Keyspace('app', 'login');
    expect(space.keyOf('alice')).toBe('app:5:login:k:alice');
    const ascii = 'x'.repeat(200);
    expect(space.keyOf(ascii)).toBe(`app:5:login:k:${ascii}`);
    const wide = 'é'.repeat(MAX_RAW_KEY_BYTES / 2);
    expect(space.keyOf(wide)).toBe(`app:5:login:k:${wide}`);
    expect(space.keyOf('é'.repeat(MAX_RAW_KEY_BYTES / 2 + 1))).toMatch(/^app:5:login:h:[A-Za-z0-9_-]{43}$/);
  });

  it('under a hash-tagged prefix, files hit records under the shared tag alone', () => {
    const space = new Keyspace('{limits}', 'login');
    const key = space.keyOf('alice');
    expect(key).toBe('{limits}:5:login:k:alice');
    expect(space.recordOf(key, 'h1')).toBe('{limits}:5:login:r:h1');
  });

  it('under a hash-tagged prefix, keeps keys with stray braces raw, the prefix fixing the slot', () => {
    const space = new Keyspace('{limits}', 'login');
    expect(space.keyOf('a{b')).toBe('{limits}:5:login:k:a{b');
    expect(space.recordOf(space.keyOf('a{b'), 'h2')).toBe('{limits}:5:login:r:h2');
  });

  it('under a plain prefix, tags each hit record with its key', () => {
    const space = new Keyspace('app', 'login');
    expect(space.recordOf('app:5:login:k:alice', 'h1')).toBe('app:5:login:r:h1{app:5:login:k:alice}');
    expect(space.recordOf('app:5:login:k:{u1}x', 'h1')).toBe('app:5:login:r:h1{u1}');
    expect(space.keyOf('a{b')).toMatch(/^app:5:login:h:[A-Za-z0-9_-]{43}$/);
  });
});
