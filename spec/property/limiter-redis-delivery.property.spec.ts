import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedisRateLimiter, createTestClock, type Decision, type RedisLike, type TestClock } from '../../src/index.js';
import { RedisClockEstimate } from '../../src/limiter/redis/redis-time.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the estimate of Redis time', () => {
  // Integer times keep the arithmetic exact, so the bound is checked without a tolerance.
  const ms = (max: number) => fc.integer({ min: 0, max });

  it('never gives a deadline later, in real time, than the budget after the hit started', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2e12, max: 2e12 }), // Redis clock − real time
        fc.integer({ min: -2e12, max: 2e12 }), // limiter clock − real time
        fc.array(fc.record({ readAt: ms(1e6), trip: ms(5000) }), { minLength: 1, maxLength: 5 }),
        ms(2e6),
        fc.integer({ min: 1, max: 1e6 }),
        (redisOffset, localOffset, replies, startedAt, budget) => {
          const estimate = new RedisClockEstimate();
          for (const { readAt, trip } of replies) estimate.observe(readAt + redisOffset, readAt + trip + localOffset);
          const deadline = estimate.deadline(startedAt + localOffset, budget);
          // The real time at which Redis's clock reads the deadline.
          expect(deadline - redisOffset).toBeLessThanOrEqual(startedAt + budget);
        },
      ),
    );
  });

  it('is exact when the last reply took no time, and 0 (passed) before any reply', () => {
    const estimate = new RedisClockEstimate();
    expect(estimate.deadline(123, 750)).toBe(0);
    estimate.observe(5000, 100);
    expect(estimate.deadline(130, 750)).toBe(5000 + 30 + 750);
  });
});

/**
 * Model-based: the Redis limiter against a simulated connection and Redis, on a test clock that
 * stands for real time (Redis's clock is it plus an arbitrary offset). The simulation runs the
 * scripts' delivery rules (scripts.ts: a hit whose record exists is answered from it; a hit past
 * its deadline is refused; an admitted hit leaves a record kept `timeoutMs` + 1 ms) around a
 * fixed window that never ends; the limiter under test decides what it sends: record keys,
 * deadlines, resends. Commands interleave hits, Redis running the oldest waiting call, replies
 * coming back, connections cut (ioredis resends every unanswered call, run or not), calls failing,
 * NOSCRIPT, and time passing. Invariants after each command: Redis applies a hit at most once;
 * never after that hit settled without Redis's answer; a hit answered by Redis was applied exactly
 * when it was admitted, with the count it was admitted at; a hit that settled otherwise was
 * applied only before it settled (its reply lost on the way: the one case no client can rule
 * out); no hit waits past its timeout.
 */
describe('the Redis limiter over a connection that delays, cuts and resends', () => {
  const TIMEOUT_MS = 200;
  const LIMIT = 50;

  interface Call {
    readonly args: readonly string[];
    readonly command: string;
    resolve(reply: unknown): void;
    reject(error: unknown): void;
    /** The reply Redis made, not yet back. */
    reply?: unknown;
  }

  interface Hit {
    readonly key: string;
    readonly cost: number;
    readonly startedAt: number;
    readonly record: string | undefined;
    outcome?: { redis: true; decision: Decision } | { redis: false };
    settledAt?: number;
    /** Times Redis applied it, and the count it brought its key to. */
    applied: Array<{ at: number; count: number }>;
  }

  class World {
    readonly clock: TestClock = createTestClock(1000);
    /** Calls sent and not answered, oldest first (one connection: Redis runs them in order). */
    readonly inFlight: Call[] = [];
    readonly hits: Hit[] = [];
    readonly counts = new Map<string, number>();
    readonly records = new Map<string, { count: number; until: number }>();
    readonly byRecord = new Map<string, Hit>();
    scriptLoaded = true;
    readonly violations: string[] = [];
    readonly limiter;

    constructor(readonly redisOffset: number) {
      const call =
        (command: string) =>
        (...args: unknown[]): Promise<unknown> =>
          new Promise((resolve, reject) => this.inFlight.push({ command, args: args.map(String), resolve, reject }));
      const redis: RedisLike = { evalsha: call('evalsha'), eval: call('eval'), del: call('del') };
      this.limiter = createRedisRateLimiter({ name: 'model', limit: LIMIT, windowMs: 1e12, redis, clock: this.clock, timeoutMs: TIMEOUT_MS });
    }

    redisNow(): number {
      return this.clock.now() + this.redisOffset;
    }

    /** Records a hit just made; `record` is the record key of the call it sent, if it sent one. */
    hit(key: string, cost: number, record: string | undefined): Hit {
      const hit: Hit = { key, cost, startedAt: this.clock.now(), record, applied: [] };
      this.hits.push(hit);
      if (record !== undefined) this.byRecord.set(record, hit);
      return hit;
    }

    /** Redis runs the oldest call it has not run. */
    run(): void {
      const call = this.inFlight.find((waiting) => waiting.reply === undefined);
      if (call === undefined) return;
      if (call.command === 'evalsha' && !this.scriptLoaded) {
        this.inFlight.splice(this.inFlight.indexOf(call), 1);
        call.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
        return;
      }
      if (call.command === 'eval') this.scriptLoaded = true;
      const [, , key, record, cost, deadline, tell] = call.args as [string, string, string, string, string, string, string];
      const admitted = (count: number) => (tell === 't' ? [count, stamp] : count);
      const now = this.redisNow();
      const stamp = Math.floor(now);
      const ran = this.records.get(record);
      if (ran !== undefined && ran.until > now) {
        call.reply = admitted(ran.count);
        return;
      }
      if (now >= Number(deadline)) {
        call.reply = [stamp];
        return;
      }
      const used = this.counts.get(key) ?? 0;
      if (used + Number(cost) > LIMIT) {
        call.reply = ['1000', used, stamp];
        return;
      }
      const count = used + Number(cost);
      this.counts.set(key, count);
      this.records.set(record, { count, until: now + TIMEOUT_MS + 1 });
      const hit = this.byRecord.get(record)!;
      if (hit.outcome !== undefined && !hit.outcome.redis) this.violations.push(`hit on ${hit.key} applied at ${this.clock.now()}, after it settled without Redis at ${hit.settledAt}`);
      hit.applied.push({ at: this.clock.now(), count });
      call.reply = admitted(count);
    }

    /** The oldest reply Redis made comes back. */
    answer(): void {
      const index = this.inFlight.findIndex((waiting) => waiting.reply !== undefined);
      if (index < 0) return;
      const [call] = this.inFlight.splice(index, 1);
      call!.resolve(call!.reply);
    }

    /** The connection dies: replies not back are lost, and every unanswered call is sent again. */
    cut(): void {
      for (const call of this.inFlight) delete call.reply;
    }

    /** The oldest call Redis has not run fails (a closed connection, with no resend). */
    fail(): void {
      const index = this.inFlight.findIndex((waiting) => waiting.reply === undefined);
      if (index < 0) return;
      const [call] = this.inFlight.splice(index, 1);
      call!.reject(new Error('Connection is closed.'));
    }

    /** Redis restarts with the same data but no scripts (as after SCRIPT FLUSH). */
    flushScripts(): void {
      this.scriptLoaded = false;
    }
  }

  type Command = fc.AsyncCommand<object, World>;
  const command = (name: string, act: (world: World) => void | Promise<void>): Command => ({
    check: () => true,
    run: async (_model, world) => {
      await act(world);
      await flush();
      check(world);
    },
    toString: () => name,
  });

  function hitCommand(key: string, cost: number): Command {
    return command(`hit(${key}, ${cost})`, (world) => {
      const before = world.inFlight.length;
      const promise = world.limiter.hit(key, cost);
      const record = world.inFlight.length > before ? world.inFlight[world.inFlight.length - 1]!.args[3] : undefined;
      const hit = world.hit(key, cost, record);
      promise.then(
        (decision) => {
          hit.outcome = { redis: true, decision };
          hit.settledAt = world.clock.now();
        },
        () => {
          hit.outcome = { redis: false };
          hit.settledAt = world.clock.now();
        },
      );
    });
  }

  function check(world: World): void {
    expect(world.violations).toEqual([]);
    for (const hit of world.hits) {
      const what = `hit(${hit.key}, ${hit.cost}) started at ${hit.startedAt}`;
      expect(hit.applied.length, `${what}: applied more than once`).toBeLessThanOrEqual(1);
      if (hit.outcome === undefined) {
        expect(world.clock.now(), `${what}: still waiting past its timeout`).toBeLessThan(hit.startedAt + TIMEOUT_MS);
      } else if (hit.outcome.redis) {
        const { decision } = hit.outcome;
        if (decision.allowed) expect(hit.applied.map((applied) => applied.count), what).toEqual([decision.count]);
        else expect(hit.applied, what).toEqual([]);
      } else {
        for (const applied of hit.applied) expect(applied.at, `${what}: applied after it settled without Redis`).toBeLessThanOrEqual(hit.settledAt!);
      }
    }
  }

  const hits = fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 1, max: 3 })).map(([key, cost]) => hitCommand(key, cost));
  const run = fc.constant(command('run', (world) => world.run()));
  const answer = fc.constant(command('answer', (world) => world.answer()));
  const advance = fc.integer({ min: 1, max: 120 }).map((ms) => command(`advance(${ms})`, (world) => world.clock.advance(ms)));
  // Repeated entries weigh the choice: mostly traffic, now and then a cut, a failure or a flush.
  const commands = [
    hits,
    hits,
    run,
    run,
    run,
    answer,
    answer,
    answer,
    advance,
    advance,
    fc.constant(command('cut', (world) => world.cut())),
    fc.constant(command('fail', (world) => world.fail())),
    fc.constant(command('flushScripts', (world) => world.flushScripts())),
  ];

  // Redis's clock (TIME, Unix time) never reads below 0; the test clock starts at 1000.
  const redisOffset = fc.integer({ min: -1000, max: 1e12 });

  it('Redis counts a hit at most once, never after it settled without Redis, and as it answered', async () => {
    await fc.assert(
      fc.asyncProperty(redisOffset, fc.commands(commands, { maxCommands: 80, size: 'max' }), async (offset, sequence) => {
        const world = new World(offset);
        await fc.asyncModelRun(() => ({ model: {}, real: world }), sequence);
        // Drain: Redis runs and answers everything, time passes; every hit settles.
        for (let round = 0; round < 20 && world.inFlight.length > 0; round += 1) {
          world.run();
          world.answer();
          await flush();
          check(world);
        }
        world.clock.advance(TIMEOUT_MS);
        await flush();
        check(world);
        expect(world.hits.every((hit) => hit.outcome !== undefined)).toBe(true);
      }),
      { numRuns: Number(process.env.LIMITER_PROPERTY_RUNS ?? 300) },
    );
  });
});
