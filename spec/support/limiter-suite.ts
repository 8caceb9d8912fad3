import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, isInvalidArgumentError, type Algorithm, type Decision, type RateLimiter, type TestClock } from '../../src/index.js';
import { ALGORITHMS, brief, type LimiterBackend, type SpecLimiterOptions } from './limiter.js';

/**
 * The limiter suite every backend runs, once per algorithm (STYLE §15): Hammer's own cases, cost,
 * denial, exact retry, reset, keys, telemetry. It only uses `hit`, the method every backend has,
 * on a test clock. Windows are 1,000 ms or longer: the Redis backend keeps keys a window longer
 * than the test clock says, and real time must not outrun that.
 */
export function limiterSuite(backend: LimiterBackend): void {
  for (const algorithm of ALGORITHMS) {
    describe(`${algorithm} (${backend.name})`, () => algorithmSuite(backend, algorithm));
  }
}

/** What a fresh key's hits look like after it used up `limit` 2 at t = 0, per algorithm. */
const refill: Record<Algorithm, { retryAfterMs: number; window: boolean }> = {
  fixed_window: { retryAfterMs: 1000, window: true },
  sliding_window: { retryAfterMs: 1000, window: true },
  token_bucket: { retryAfterMs: 500, window: false },
  leaky_bucket: { retryAfterMs: 500, window: false },
};

function algorithmSuite(backend: LimiterBackend, algorithm: Algorithm): void {
  let clock: TestClock;
  const make = (options: Partial<SpecLimiterOptions> = {}): RateLimiter => {
    clock = options.clock ?? createTestClock();
    return backend.create({ name: 'suite', algorithm, limit: 2, windowMs: 1000, ...options, clock });
  };
  const hits = async (limiter: RateLimiter, key: string, costs: number[]): Promise<string[]> => {
    const out: string[] = [];
    for (const cost of costs) out.push(brief(await limiter.hit(key, cost)));
    return out;
  };

  describe("Hammer's cases", () => {
    it('limit 2: allow 1, allow 2, deny, deny', async () => {
      const limiter = make();
      const expected = refill[algorithm].retryAfterMs;
      expect(await hits(limiter, 'user', [1, 1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', `deny ${expected}`, `deny ${expected}`]);
    });

    it('keeps keys independent', async () => {
      const limiter = make();
      expect(await hits(limiter, 'alice', [1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', `deny ${refill[algorithm].retryAfterMs}`]);
      expect(await hits(limiter, 'bob', [1, 1])).toEqual(['allow 1/1', 'allow 2/0']);
    });

    it('increments 4, 5, 3 against limit 10: allow 4, allow 9, deny', async () => {
      const limiter = make({ limit: 10 });
      const out = await hits(limiter, 'user', [4, 5, 3]);
      expect(out.slice(0, 2)).toEqual(['allow 4/6', 'allow 9/1']);
      expect(out[2]).toMatch(/^deny \d+$/);
    });

    if (algorithm === 'token_bucket') {
      it('a bucket of capacity 2 admits 2, then denies until a token refills', async () => {
        const limiter = make();
        expect(await hits(limiter, 'user', [1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', 'deny 500']);
        clock.advance(250);
        expect(await hits(limiter, 'user', [1])).toEqual(['deny 250']);
        clock.advance(250);
        expect(await hits(limiter, 'user', [1, 1])).toEqual(['allow 2/0', 'deny 500']);
        clock.advance(10_000);
        expect(await hits(limiter, 'user', [2])).toEqual(['allow 2/0']);
      });
    }

    if (algorithm === 'leaky_bucket') {
      it('a bucket of capacity 2 fills with 2, then denies until a unit leaks out', async () => {
        const limiter = make();
        expect(await hits(limiter, 'user', [1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', 'deny 500']);
        clock.advance(250);
        expect(await hits(limiter, 'user', [1])).toEqual(['deny 250']);
        clock.advance(250);
        expect(await hits(limiter, 'user', [1, 1])).toEqual(['allow 2/0', 'deny 500']);
        clock.advance(10_000);
        expect(await hits(limiter, 'user', [2])).toEqual(['allow 2/0']);
      });
    }
  });

  if (refill[algorithm].window) describe('windows', () => {
    if (algorithm === 'fixed_window') {
      it('counts per aligned window floor(now / windowMs): a new window starts every key at zero', async () => {
        const limiter = make({ clock: createTestClock(900) });
        expect(await hits(limiter, 'user', [1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', 'deny 100']);
        clock.advance(100);
        expect(await hits(limiter, 'user', [1, 1, 1])).toEqual(['allow 1/1', 'allow 2/0', 'deny 1000']);
      });
    }
    if (algorithm === 'sliding_window') {
      it('counts each hit for exactly windowMs after it: no burst at a boundary', async () => {
        const limiter = make({ clock: createTestClock(900) });
        expect(await hits(limiter, 'user', [1])).toEqual(['allow 1/1']);
        clock.advance(300);
        expect(await hits(limiter, 'user', [1, 1])).toEqual(['allow 2/0', 'deny 700']);
        clock.advance(699);
        expect(await hits(limiter, 'user', [1])).toEqual(['deny 1']);
        clock.advance(1);
        expect(await hits(limiter, 'user', [1, 1])).toEqual(['allow 2/0', 'deny 300']);
      });

      it('a costly hit waits for as many of the oldest entries as it needs', async () => {
        const limiter = make({ limit: 5 });
        await hits(limiter, 'user', [2]);
        clock.advance(100);
        await hits(limiter, 'user', [2]);
        clock.advance(100);
        await hits(limiter, 'user', [1]);
        expect(await hits(limiter, 'user', [1, 3, 5])).toEqual(['deny 800', 'deny 900', 'deny 1000']);
      });
    }
  });

  describe('cost', () => {
    it('a denied hit changes nothing', async () => {
      const limiter = make({ limit: 5 });
      expect(await hits(limiter, 'user', [3, 3, 3, 2])).toEqual(['allow 3/2', expect.stringMatching(/^deny/), expect.stringMatching(/^deny/), 'allow 5/0']);
    });

    it('a cost above the limit is denied for good, with a reason, and changes nothing', async () => {
      const limiter = make();
      const decision = await limiter.hit('user', 3);
      expect(decision).toEqual({ allowed: false, retryAfterMs: Number.POSITIVE_INFINITY, reason: 'cost_exceeds_limit' });
      expect(await hits(limiter, 'user', [2])).toEqual(['allow 2/0']);
    });

    it('a cost equal to the limit is admitted on a fresh key', async () => {
      expect(await hits(make({ limit: 7 }), 'user', [7])).toEqual(['allow 7/0']);
    });

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('rejects cost %s with an InvalidArgumentError naming hit.cost', async (cost) => {
      await expect(make().hit('user', cost)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'hit.cost', value: cost });
    });

    it('rejects a non-number cost and a non-string key with an InvalidArgumentError (an overseer TypeError), without throwing', async () => {
      const limiter = make();
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = limiter.hit('user', '2' as unknown as number))).not.toThrow();
      const refusals = [pending, limiter.hit(42 as unknown as string), limiter.reset(undefined as unknown as string)].map((refused) =>
        refused!.then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
      const [cost, key, reset] = await Promise.all(refusals);
      for (const error of [cost, key, reset]) {
        expect(isInvalidArgumentError(error), String(error)).toBe(true);
        expect(error).toBeInstanceOf(TypeError);
      }
      expect([cost, key, reset].map((error) => (error as { argument: string }).argument)).toEqual(['hit.cost', 'hit.key', 'reset.key']);
    });
  });

  describe('retryAfterMs', () => {
    /** A limiter (named apart, for Redis) whose key 'user' was just denied a hit of cost 2. */
    const denied = async (name: string, start: number) => {
      const limiter = make({ name, clock: createTestClock(start), limit: 3 });
      await hits(limiter, 'user', [2, 1]);
      const decision = (await limiter.hit('user', 2)) as Extract<Decision, { allowed: false }>;
      expect(decision).toMatchObject({ allowed: false, reason: 'limit_exceeded' });
      return { limiter, clock, retryAfterMs: decision.retryAfterMs };
    };

    it.each([0, 0.1, 123.456, 1e9 + 0.3])('is exact from t = %s: after it the same hit is admitted, a moment before it is not', async (start) => {
      const exact = await denied(`exact-${start}`, start);
      exact.clock.advance(exact.retryAfterMs);
      expect(await exact.limiter.hit('user', 2)).toMatchObject({ allowed: true });
      const early = await denied(`early-${start}`, start);
      // Windows: any moment before the window (or entry) ends; buckets: a whole millisecond, the rounding unit.
      early.clock.advance(refill[algorithm].window ? early.retryAfterMs * 0.999 : early.retryAfterMs - 1);
      expect(await early.limiter.hit('user', 2)).toMatchObject({ allowed: false });
    });
  });

  describe('reset', () => {
    it('forgets the key, and only that key', async () => {
      const limiter = make();
      await hits(limiter, 'a', [2]);
      await hits(limiter, 'b', [2]);
      await limiter.reset('a');
      await limiter.reset('never seen');
      expect(await hits(limiter, 'a', [2])).toEqual(['allow 2/0']);
      expect((await limiter.hit('b')).allowed).toBe(false);
    });
  });

  describe('keys', () => {
    const megabyte = 'x'.repeat(1 << 20);
    const keys = [
      '',
      megabyte,
      `${megabyte}y`,
      'ünïcödé 🦀 日本語 \u0301',
      'a:b',
      'k:a:b',
      'h:',
      '*',
      '?[]',
      '{tag}',
      '}{',
      'line\nbreak\r\n',
      '\u0000',
      '\uD800',
      '\uDC00\uD800',
      '\uFFFD',
      'x'.repeat(256),
      'x'.repeat(257),
      'é'.repeat(128),
      'é'.repeat(129),
    ];

    it('takes any string, and no two keys share a count', async () => {
      const limiter = make({ limit: 1 });
      for (const key of keys) expect(brief(await limiter.hit(key)), JSON.stringify(key.slice(0, 20))).toBe('allow 1/0');
      for (const key of keys) expect((await limiter.hit(key)).allowed, JSON.stringify(key.slice(0, 20))).toBe(false);
    });

    it('keeps limiters apart, even with names and keys that could be spliced', async () => {
      const clock = createTestClock();
      const pairs: Array<[string, string]> = [
        ['a', 'b'],
        ['a:b', ''],
        ['a', ':b'],
        ['a:1', 'b'],
        ['a', '1:b'],
        ['1:a', 'k:b'],
      ];
      const limiters = pairs.map(([name]) => backend.create({ name, algorithm, limit: 1, windowMs: 1000, clock }));
      for (const [index, [, key]] of pairs.entries()) expect(brief(await limiters[index]!.hit(key))).toBe('allow 1/0');
    });
  });

  describe('telemetry', () => {
    it('emits limiter.hit with count and cost, the limiter and the outcome, never the key', async () => {
      const telemetry = createTelemetry();
      const events: Array<{ measurements: Record<string, number>; metadata: Record<string, unknown> }> = [];
      telemetry.select('limiter.hit').subscribe((event) => events.push(event));
      const limiter = make({ telemetry, name: 'login' });
      await hits(limiter, 'secret@example.com', [1, 1, 1, 3]);
      expect(events.map(({ measurements, metadata }) => ({ measurements, metadata }))).toEqual([
        { measurements: { count: 1, cost: 1 }, metadata: { limiter: 'login', allowed: true } },
        { measurements: { count: 2, cost: 1 }, metadata: { limiter: 'login', allowed: true } },
        { measurements: { count: 2, cost: 1 }, metadata: { limiter: 'login', allowed: false, reason: 'limit_exceeded' } },
        { measurements: { count: 0, cost: 3 }, metadata: { limiter: 'login', allowed: false, reason: 'cost_exceeds_limit' } },
      ]);
      expect(JSON.stringify(events)).not.toContain('secret');
    });

    it('adds the key only with telemetryKeys: true', async () => {
      const telemetry = createTelemetry();
      const keys: unknown[] = [];
      telemetry.select('limiter.hit').subscribe((event) => keys.push(event.metadata.key));
      await make({ telemetry, telemetryKeys: true }).hit('user-7');
      expect(keys).toEqual(['user-7']);
    });
  });
}
