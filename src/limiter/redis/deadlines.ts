import type { Clock } from '../../clock/index.js';
import { delayUntil, nextUp } from '../algorithms/float-time.js';
import { timerDelay } from '../timer-delay.js';

/** A wait with a deadline. */
export interface Waiting {
  /** Set by {@link Deadlines.add}. */
  deadline: number;
  /** True once it has settled some other way; the queue then just lets it go. */
  readonly settled: boolean;
  /** Called once, when its deadline passes while it is still unsettled. */
  expire(): void;
}

/** Compact the queue's array once this many slots before `head` are spent (and they are half of it). */
const COMPACT_AFTER = 1024;

/**
 * Timeouts of one length for many waits, on one timer. Every wait gets the same `timeoutMs`, so
 * waits join in the order of their deadlines and the queue is a FIFO: the timer is armed for the
 * oldest unsettled wait, waits that settle are let go from the front, and an empty queue holds no
 * timer. This replaces a timer per Redis hit (a Timeout object, an insert and a clear, and their
 * garbage) with an array slot.
 */
export class Deadlines {
  private readonly queue: Array<Waiting | undefined> = [];
  private head = 0;
  private timer: unknown = undefined;
  private readonly onTimer = (): void => this.fire();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Starts a wait's timeout now, and returns now. Its deadline is the first double at least
   * `timeoutMs` after now: on a clock whose doubles are coarser than `timeoutMs`, `now + timeoutMs`
   * would round back to now and expire the wait at once.
   */
  add(wait: Waiting): number {
    const now = this.clock.now();
    let deadline = now + this.timeoutMs;
    if (deadline - now < this.timeoutMs) deadline = nextUp(deadline);
    wait.deadline = deadline;
    this.queue.push(wait);
    if (this.timer === undefined) this.arm(wait.deadline);
    return now;
  }

  /** To be called when a wait settles other than by expiring. */
  settled(): void {
    this.dropSettled();
    if (this.head === this.queue.length) this.empty();
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.head < this.queue.length) {
      const wait = this.queue[this.head]!;
      if (!wait.settled && wait.deadline > now) break;
      this.queue[this.head] = undefined;
      this.head += 1;
      if (!wait.settled) wait.expire();
    }
    this.dropSettled();
    if (this.head < this.queue.length) this.arm(this.queue[this.head]!.deadline);
    else this.empty();
  }

  private dropSettled(): void {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.settled) {
      queue[this.head] = undefined;
      this.head += 1;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= queue.length) {
      queue.copyWithin(0, this.head);
      queue.length -= this.head;
      this.head = 0;
    }
  }

  private empty(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
  }

  /**
   * Arms the one timer for `deadline`. A wait added from inside an expiry (a telemetry subscriber
   * hitting again) has armed for its own, later deadline while {@link fire} still runs: that timer
   * is replaced, not left to fire on its own.
   */
  private arm(deadline: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const now = this.clock.now();
    this.timer = this.clock.setTimeout(this.onTimer, timerDelay(now, delayUntil(now, deadline)));
  }
}
