import type { Clock } from '../../clock/index.js';
import { attempt } from '../../core/index.js';
import type { Telemetry } from '../../telemetry/index.js';
import type { KeyedAlgorithm } from '../algorithms/keyed-algorithm.js';
import type { Limits } from '../algorithms/limits.js';
import { costExceedsLimit, type Decision } from '../decision.js';
import { checkCost, checkKey } from '../hit-arguments.js';
import { reportHit } from '../limiter-telemetry.js';
import { defaultSweepInterval, reconfigured, type LimiterReconfiguration, type ResolvedMemoryLimiterOptions } from '../options.js';
import type { MemoryRateLimiter } from '../rate-limiter.js';
import { Sweeper } from './sweeper.js';

/** How many maps the keys are spread over; a power of two. */
export const SHARDS = 16;

/**
 * Which map a key lives in, from its length and two of its characters: cheap whatever the key's
 * length, and spread enough for ids, addresses and digests. Keys that collide only share a map.
 */
export function shardOf(key: string): number {
  const length = key.length;
  if (length === 0) return 0;
  return (key.charCodeAt(length - 1) + 31 * key.charCodeAt(length >> 1) + length) & (SHARDS - 1);
}

/**
 * The embedded limiter for the algorithms with per-key state objects (sliding window, token
 * bucket, leaky bucket): the keys in {@link SHARDS} maps, and a {@link Sweeper} that drops the keys
 * whose state has become equivalent to a fresh key's (log empty, token bucket full, leaky bucket
 * empty).
 *
 * Why shards: V8 rehashes a whole Map when it grows past its capacity or shrinks below a quarter
 * of it, which for a million entries holds the event loop for tens of milliseconds; sixteen maps
 * make every rehash a sixteenth of that.
 */
export class KeyedLimiter<State> implements MemoryRateLimiter {
  readonly name: string;
  private readonly shards: Array<Map<string, State>> = Array.from({ length: SHARDS }, () => new Map<string, State>());
  private readonly sweeper: Sweeper<State>;
  private options: ResolvedMemoryLimiterOptions;
  private limits: Limits;
  private telemetryKeys: boolean;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;

  constructor(
    private readonly algorithm: KeyedAlgorithm<State>,
    options: ResolvedMemoryLimiterOptions,
  ) {
    this.name = options.name;
    this.options = options;
    this.limits = Object.freeze({ limit: options.limit, windowMs: options.windowMs });
    this.clock = options.clock;
    this.telemetry = options.telemetry;
    this.telemetryKeys = options.telemetryKeys;
    this.sweeper = new Sweeper(this.shards, (state, now) => algorithm.isFresh(state, now, this.limits), options.clock, options.sweepIntervalMs);
  }

  reconfigure(patch: LimiterReconfiguration): void {
    const changed = reconfigured(this.options, patch);
    const options = changed.sweepIntervalGiven ? changed : Object.freeze({ ...changed, sweepIntervalMs: defaultSweepInterval(changed.windowMs) });
    this.options = options;
    this.limits = Object.freeze({ limit: options.limit, windowMs: options.windowMs });
    this.telemetryKeys = options.telemetryKeys;
    this.sweeper.intervalMs = options.sweepIntervalMs;
  }

  hitSync(key: string, cost = 1): Decision {
    // Hot path (bench/limiter.bench.ts measures the fixed window; these algorithms share its
    // shape): one clock read, a shard picked from two characters, one Map get, the algorithm's
    // arithmetic on the key's state in place.
    checkKey(key);
    if (cost !== 1) {
      checkCost(cost);
      if (cost > this.limits.limit) return this.telemetry.observed ? this.report(key, costExceedsLimit(), cost) : costExceedsLimit();
    }
    const now = this.clock.now();
    const states = this.shards[shardOf(key)]!;
    let state = states.get(key);
    if (state === undefined) {
      state = this.algorithm.fresh(now, this.limits);
      states.set(key, state);
    }
    this.sweeper.arm();
    const decision = this.algorithm.hit(state, now, cost, this.limits);
    return this.telemetry.observed ? this.report(key, decision, cost) : decision;
  }

  hit(key: string, cost?: number): Promise<Decision> {
    // No closure per hit (the fixed window's hit shows the shape; bench/limiter.bench.ts).
    try {
      return Promise.resolve(this.hitSync(key, cost));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  reset(key: string): Promise<void> {
    return attempt(() => {
      checkKey(key, 'reset');
      this.shards[shardOf(key)]!.delete(key);
    });
  }

  get size(): number {
    let size = 0;
    for (const states of this.shards) size += states.size;
    return size;
  }

  stop(): void {
    this.sweeper.stop();
  }

  /** Reports the hit; called only while someone observes the telemetry. */
  private report(key: string, decision: Decision, cost: number): Decision {
    const state = decision.allowed || decision.reason === 'cost_exceeds_limit' ? undefined : this.shards[shardOf(key)]!.get(key);
    const used = state === undefined ? 0 : this.algorithm.used(state, this.clock.now(), this.limits);
    reportHit(this.telemetry, this.name, this.telemetryKeys ? key : undefined, decision, cost, used);
    return decision;
  }
}
