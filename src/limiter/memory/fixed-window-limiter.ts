import type { Clock } from '../../clock/index.js';
import { attempt } from '../../core/index.js';
import type { Telemetry } from '../../telemetry/index.js';
import { denyFixedWindow, fixedWindowEnd, windowOf } from '../algorithms/fixed-window.js';
import { delayUntil } from '../algorithms/float-time.js';
import type { Limits } from '../algorithms/limits.js';
import { AdmittedDecisions, costExceedsLimit, type Decision } from '../decision.js';
import { checkCost, checkKey } from '../hit-arguments.js';
import { reportHit } from '../limiter-telemetry.js';
import { reconfigured, type LimiterReconfiguration, type ResolvedMemoryLimiterOptions } from '../options.js';
import type { MemoryRateLimiter } from '../rate-limiter.js';
import { timerDelay } from '../timer-delay.js';
import { SettledDecisions } from './settled-decisions.js';

/** A key's count in the current window, boxed so that a hit on a known key updates it in place (one Map read, no write). */
interface Counter {
  count: number;
}

/**
 * The embedded fixed-window limiter. It keeps only the current window's counts, in one
 * `Map<string, Counter>`; when the window ends, the whole map is dropped (at the first hit of
 * another window, or by a timer at the window's end so that an idle limiter frees its memory too).
 * No per-key timers: a key costs its map entry, its counter and its string.
 *
 * Which window `now` is in is `windowOf(now)` (Hammer's `floor(now / windowMs)`); the hot path
 * checks `windowStart ≤ now < windowEnd` instead, the exact bounds of that window as doubles, which
 * is the same test without a division.
 */
export class FixedWindowLimiter implements MemoryRateLimiter {
  readonly name: string;
  private counts = new Map<string, Counter>();
  /** The window `counts` belongs to, and its bounds: `windowOf(t) === window` ⇔ `windowStart ≤ t < windowEnd`. */
  private window = Number.NaN;
  private windowStart = Number.POSITIVE_INFINITY;
  private windowEnd = Number.NEGATIVE_INFINITY;
  private endTimer: unknown = undefined;
  private options: ResolvedMemoryLimiterOptions;
  private limits: Limits;
  private limit: number;
  private decisions: AdmittedDecisions;
  private telemetryKeys: boolean;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry;
  private readonly onWindowEnd = (): void => this.windowEnded();
  /** The promises `hit` answers with. */
  private readonly settled = new SettledDecisions();

  constructor(options: ResolvedMemoryLimiterOptions) {
    this.name = options.name;
    this.clock = options.clock;
    this.telemetry = options.telemetry;
    this.options = options;
    this.limits = Object.freeze({ limit: options.limit, windowMs: options.windowMs });
    this.limit = options.limit;
    this.decisions = new AdmittedDecisions(options.limit);
    this.telemetryKeys = options.telemetryKeys;
  }

  hitSync(key: string, cost = 1): Decision {
    // Hot path (bench/limiter.bench.ts: limiter.hitSync and limiter.hitSync.fresh_keys, and under
    // `hit`). For a key already counted in this window: one clock read, two comparisons, one Map
    // read (with a fresh key string, V8 hashes it there: the one cost that grows with the key), a
    // field check, an in-place increment and a shared frozen decision. Nothing is allocated.
    // Stryker disable next-line StringLiteral: checkKey makes the same test, so sending every key to it (as '' does) decides the same
    if (typeof key !== 'string') checkKey(key);
    if (cost !== 1) {
      checkCost(cost);
      if (cost > this.limit) return this.report(key, costExceedsLimit(), cost, 0);
    }
    const now = this.clock.now();
    if (now >= this.windowEnd || now < this.windowStart) this.enter(now);
    const counter = this.counts.get(key);
    if (counter === undefined) return this.first(key, cost, now);
    // Unset with counts held only after stop(): any hit re-arms the window's end, as a first hit does.
    if (this.endTimer === undefined) this.armWindowEnd(now);
    const count = counter.count + cost;
    if (count > this.limit) return this.report(key, denyFixedWindow(this.window, now, this.limits), cost, counter.count);
    counter.count = count;
    const decision = this.decisions.of(count);
    if (this.telemetry.observed) reportHit(this.telemetry, this.name, this.telemetryKeys ? key : undefined, decision, cost, count);
    return decision;
  }

  hit(key: string, cost?: number): Promise<Decision> {
    // Hot path (bench/limiter.bench.ts, limiter.hit and limiter.hit.fresh_keys): `hitSync`, then a
    // promise already fulfilled with its shared decision; no closure, and nothing allocated for an
    // admitted hit whose count is shared (see SettledDecisions).
    let decision: Decision;
    try {
      decision = this.hitSync(key, cost);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.settled.of(decision, this.limit);
  }

  reset(key: string): Promise<void> {
    return attempt(() => {
      checkKey(key, 'reset');
      this.counts.delete(key);
    });
  }

  get size(): number {
    const now = this.clock.now();
    if (now >= this.windowEnd || now < this.windowStart) this.dropCounts();
    return this.counts.size;
  }

  stop(): void {
    if (this.endTimer !== undefined) this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
  }

  reconfigure(patch: LimiterReconfiguration): void {
    const options = reconfigured(this.options, patch);
    if (options.windowMs !== this.limits.windowMs) {
      // New windows: the next hit finds itself outside the current one and counts afresh.
      this.dropCounts();
      this.window = Number.NaN;
      this.windowStart = Number.POSITIVE_INFINITY;
      this.windowEnd = Number.NEGATIVE_INFINITY;
    }
    this.options = options;
    this.limits = Object.freeze({ limit: options.limit, windowMs: options.windowMs });
    this.limit = options.limit;
    if (this.decisions.limit !== options.limit) this.decisions = new AdmittedDecisions(options.limit);
    this.telemetryKeys = options.telemetryKeys;
  }

  /** The first hit of a key in this window (a fresh key always fits: `cost ≤ limit`). */
  private first(key: string, cost: number, now: number): Decision {
    this.counts.set(key, { count: cost });
    if (this.endTimer === undefined) this.armWindowEnd(now);
    const decision = this.decisions.of(cost);
    if (this.telemetry.observed) reportHit(this.telemetry, this.name, this.telemetryKeys ? key : undefined, decision, cost, cost);
    return decision;
  }

  /** Moves to the window `now` is in: another window (later, or earlier if the clock stepped back) counts afresh. */
  private enter(now: number): void {
    const window = windowOf(now, this.limits.windowMs);
    if (window !== this.window) this.dropCounts();
    this.window = window;
    this.windowStart = fixedWindowEnd(window - 1, this.limits);
    this.windowEnd = fixedWindowEnd(window, this.limits);
  }

  private dropCounts(): void {
    // A fresh map rather than clear(): the old table goes to the garbage collector whole.
    if (this.counts.size > 0) this.counts = new Map();
    if (this.endTimer !== undefined) this.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
  }

  private windowEnded(): void {
    this.endTimer = undefined;
    const now = this.clock.now();
    if (now >= this.windowEnd || now < this.windowStart) this.dropCounts();
    // A real timer can fire a hair early: wait for the rest of the window.
    else if (this.counts.size > 0) this.armWindowEnd(now);
  }

  /** Arms the one timer that drops the counts when the window ends (in steps, for windows longer than a Node timer). */
  private armWindowEnd(now: number): void {
    this.endTimer = this.clock.setTimeout(this.onWindowEnd, timerDelay(now, delayUntil(now, this.windowEnd)));
  }

  private report(key: string, decision: Decision, cost: number, used: number): Decision {
    if (this.telemetry.observed) reportHit(this.telemetry, this.name, this.telemetryKeys ? key : undefined, decision, cost, used);
    return decision;
  }
}
