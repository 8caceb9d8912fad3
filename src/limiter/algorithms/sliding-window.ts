import { admitted, limitExceeded } from '../decision.js';
import { delayUntil, nextUp } from './float-time.js';
import type { KeyedAlgorithm } from './keyed-algorithm.js';
import type { Limits } from './limits.js';

/**
 * Sliding window, exact (a log, not the two-window estimate): every admitted hit is logged with
 * its time and cost, and counts while `now − time < windowMs`. A hit is admitted when the costs
 * still counting plus its own fit in `limit`, so over any span of `windowMs` at most `limit`
 * units are admitted. A denied hit may retry when enough of the oldest entries have expired.
 *
 * The log holds at most `limit` live entries (each costs at least 1), so a key's memory is
 * bounded by its limit.
 */

/** A key's log: admitted hits oldest first, as (time, cost) pairs from `head` on. */
export interface SlidingLog {
  /** `[time0, cost0, time1, cost1, …]`; pairs before `head` have expired and await compaction. */
  entries: number[];
  /** Index of the oldest pair still logged. */
  head: number;
  /** The sum of the costs from `head` on. */
  used: number;
}

/** Compact the log's array once this many expired numbers lie before `head` (and they are half of it). */
const COMPACT_AFTER = 64;

/** The time the log is read at: `now`, or its newest entry's time if the clock stepped back. */
function readingTime(log: SlidingLog, now: number): number {
  const length = log.entries.length;
  if (length === 0) return now;
  const newest = log.entries[length - 2]!;
  return newest > now ? newest : now;
}

/** Drops the entries that no longer count at `time` (expiry is not a change of meaning). */
function expire(log: SlidingLog, time: number, windowMs: number): void {
  const entries = log.entries;
  let head = log.head;
  let used = log.used;
  while (head < entries.length && time - entries[head]! >= windowMs) {
    used -= entries[head + 1]!;
    head += 2;
  }
  log.head = head;
  log.used = used;
}

function append(log: SlidingLog, time: number, cost: number): void {
  const entries = log.entries;
  if (log.head === entries.length) {
    entries.length = 0;
    log.head = 0;
  } else if (log.head >= COMPACT_AFTER && log.head * 2 >= entries.length) {
    entries.copyWithin(0, log.head);
    entries.length -= log.head;
    log.head = 0;
  }
  entries.push(time, cost);
  log.used += cost;
}

/**
 * When a hit of `cost` denied at `now` fits: when the entry whose expiry frees enough units has
 * expired, stepping past rounding so that the log, read at `now + retryAfterMs`, has let it go.
 */
function retryAfter(log: SlidingLog, now: number, cost: number, limits: Limits): number {
  const entries = log.entries;
  const need = log.used + cost - limits.limit;
  let index = log.head;
  let freed = entries[index + 1]!;
  while (freed < need) {
    index += 2;
    freed += entries[index + 1]!;
  }
  const time = entries[index]!;
  const newest = entries[entries.length - 2]!;
  let at = time + limits.windowMs;
  while ((at > newest ? at : newest) - time < limits.windowMs) at = nextUp(at);
  return delayUntil(now, at);
}

/** The exact sliding window; see the module comment. */
export const slidingWindow: KeyedAlgorithm<SlidingLog> = {
  fresh: () => ({ entries: [], head: 0, used: 0 }),

  hit(log, now, cost, limits) {
    const time = readingTime(log, now);
    expire(log, time, limits.windowMs);
    if (log.used + cost > limits.limit) return limitExceeded(retryAfter(log, now, cost, limits));
    append(log, time, cost);
    return admitted(log.used, limits.limit - log.used);
  },

  isFresh(log, now, limits) {
    const length = log.entries.length;
    return log.head === length || now - log.entries[length - 2]! >= limits.windowMs;
  },

  used(log, now, limits) {
    const time = readingTime(log, now);
    const entries = log.entries;
    let used = 0;
    for (let index = log.head; index < entries.length; index += 2) {
      if (time - entries[index]! < limits.windowMs) used += entries[index + 1]!;
    }
    return used;
  },
};
