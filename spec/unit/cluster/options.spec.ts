import { describe, expect, it } from 'vitest';
import { ConfigError, createTestClock } from '../../../src/index.js';
import { createPostgresLease, createRedisLease } from '../../../src/cluster/index.js';

const pool = { query: async () => ({ rows: [] }) };
const redis = { evalsha: async () => undefined, eval: async () => undefined };

function configError(create: () => unknown): ConfigError {
  try {
    create();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('lease options', () => {
  it.each([
    ['name', { name: '' }],
    ['name', { name: 'lone \ud800 surrogate' }],
    ['ttlMs', { ttlMs: 9 }],
    ['ttlMs', { ttlMs: 1000.5 }],
    ['ttlMs', { ttlMs: Infinity }],
    ['owner', { owner: '' }],
    ['owner', { owner: 42 }],
    ['clock', { clock: { now: () => 0 } }],
    ['telemetry', { telemetry: {} }],
  ])('both backends refuse a bad %s with a ConfigError naming it', (option, patch) => {
    expect(configError(() => createPostgresLease({ name: 'lease', pool, ...patch } as never)).option).toBe(option);
    expect(configError(() => createRedisLease({ name: 'lease', redis, ...patch } as never)).option).toBe(option);
  });

  it.each([
    ['pool', { pool: undefined }],
    ['pool.query', { pool: {} }],
    ['table', { table: 'drop table x; --' }],
    ['table', { table: 'a.b.c' }],
    ['table', { table: '1leases' }],
    ['table', { table: 'x'.repeat(64) }],
  ])('createPostgresLease refuses a bad %s', (option, patch) => {
    expect(configError(() => createPostgresLease({ name: 'lease', pool, ...patch } as never)).option).toBe(option);
  });

  it.each([
    ['redis', { redis: undefined }],
    ['redis.evalsha', { redis: { eval: redis.eval } }],
    ['redis.eval', { redis: { evalsha: redis.evalsha } }],
    ['prefix', { prefix: '' }],
    ['prefix', { prefix: 'a{b' }],
    ['prefix', { prefix: 'a}' }],
  ])('createRedisLease refuses a bad %s', (option, patch) => {
    expect(configError(() => createRedisLease({ name: 'lease', redis, ...patch } as never)).option).toBe(option);
  });

  it('defaults: ttlMs 15000, a random owner per object, a schema-qualified table is accepted', () => {
    const clock = createTestClock();
    const one = createRedisLease({ name: 'lease', redis, clock });
    const two = createRedisLease({ name: 'lease', redis, clock });
    expect(one.ttlMs).toBe(15_000);
    expect(one.owner).not.toBe(two.owner);
    expect(one.owner.length).toBeGreaterThan(0);
    expect(createPostgresLease({ name: 'lease', pool, table: 'ops.Leases', clock }).name).toBe('lease');
  });
});
