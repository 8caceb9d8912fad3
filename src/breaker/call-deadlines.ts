import type { Clock } from '../clock/index.js';

/** One timed call waiting for its deadline, linked in place in {@link CallDeadlines}. */
export interface Deadline {
  /** `clock.now()` at which the call times out. */
  readonly at: number;
  /** Times the call out. */
  expire(): void;
  previous: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
}

/**
 * The deadlines of a breaker's calls in flight, on one clock timer for all of them instead of a
 * timer per call (a Node timer, armed and cleared, costs more than the rest of a call's
 * bookkeeping). Calls share one `callTimeoutMs`, so deadlines arrive in order and each add or
 * remove is O(1); after a hot reload shortens the timeout, an earlier deadline is slotted in from
 * the back. The timer always waits for the earliest deadline, and is cleared when none is left.
 */
export class CallDeadlines {
  private head: Deadline | undefined;
  private tail: Deadline | undefined;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  add(deadline: Deadline): void {
    // Hot path, with `remove` (bench/service.bench.ts, service.throughput: once per timed call).
    let after = this.tail;
    while (after !== undefined && after.at > deadline.at) after = after.previous;
    deadline.previous = after;
    deadline.next = after === undefined ? this.head : after.next;
    if (deadline.next) deadline.next.previous = deadline;
    else this.tail = deadline;
    if (after) after.next = deadline;
    else this.head = deadline;
    deadline.queued = true;
    if (deadline !== this.head) return;
    // A timer due before this head (its head settled) fires early and re-arms for it.
    // Stryker disable next-line EqualityOperator: a timer due exactly then is as good as a new one
    if (deadline.at < this.timerAt) this.arm(deadline);
  }

  remove(deadline: Deadline): void {
    if (!deadline.queued) return;
    deadline.queued = false;
    if (deadline.previous) deadline.previous.next = deadline.next;
    else this.head = deadline.next;
    if (deadline.next) deadline.next.previous = deadline.previous;
    else this.tail = deadline.previous;
    deadline.previous = undefined;
    deadline.next = undefined;
    if (this.head === undefined) this.disarm();
  }

  /** Sets the one timer for `head`, the earliest deadline, replacing any timer set before. */
  private arm(head: Deadline): void {
    this.disarm();
    this.timerAt = head.at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, head.at - this.clock.now()));
  }

  private disarm(): void {
    // Stryker disable next-line ConditionalExpression: every Clock ignores clearTimeout(undefined); the check only saves the call
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let head = this.head; head !== undefined && head.at <= now; head = this.head) {
      this.remove(head);
      head.expire();
    }
    const head = this.head;
    if (head === undefined) return;
    // An expired call's `expire` may have started a call whose deadline armed the timer already.
    // Stryker disable next-line ConditionalExpression: arming it again for the same head only replaces it with one due at the same time
    if (this.timer === undefined) this.arm(head);
  }
}
