import type { Clock } from '../clock/index.js';

/** One pending restart as the queue keeps it; the engine's wait objects extend it. */
export interface QueuedWait {
  /** `clock.now()` at which the restart falls due. */
  readonly due: number;
  /** Set by {@link RestartWaits.add}: waits due at the same time fall due in the order added. */
  order: number;
  /** Position in the queue, -1 when not queued (never added, fallen due, or removed). */
  index: number;
}

/** Earlier due first; the same due in the order added. */
function runsBefore(a: QueuedWait, b: QueuedWait): boolean {
  return (
    a.due < b.due ||
    (a.due === b.due &&
      // Stryker disable next-line EqualityOperator: orders are unique (one per add), so `<=` never differs from `<`; `>=` is killed by the tie specs
      a.order < b.order)
  );
}

/**
 * A supervisor's pending restarts, ordered by due time in a binary min-heap that knows each
 * wait's position (O(log n) add, remove and pop), under ONE clock timer armed for the earliest:
 * 10,000 children in backoff hold one timer, not 10,000. A wait that falls due leaves the queue
 * and is handed to `onDue`; a removed wait is never handed over. The timer's wait ends when the
 * earliest wait falls due, or when the queue is cleared or emptied (the owner stopping).
 */
export class RestartWaits<W extends QueuedWait> {
  private readonly heap: W[] = [];
  private added = 0;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private firing = false;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (wait: W) => void,
  ) {}

  /** Queues `wait`; re-arms the timer when it is the new earliest. */
  add(wait: W): void {
    wait.order = this.added++;
    wait.index = this.heap.length;
    this.heap.push(wait);
    this.siftUp(wait.index);
    if (!this.firing && wait.due < this.timerAt) this.arm();
  }

  /** Takes `wait` out of the queue (nothing if it is not queued); clears the timer when none is left. */
  remove(wait: W): void {
    const index = wait.index;
    if (index < 0 || this.heap[index] !== wait) return;
    const last = this.heap.pop()!;
    wait.index = -1;
    if (last !== wait) {
      this.heap[index] = last;
      last.index = index;
      this.siftUp(index);
      this.siftDown(last.index);
    }
    // A timer left armed for a removed wait fires early, finds nothing due and re-arms.
    if (this.heap.length === 0) this.disarm();
  }

  /** Empties the queue and clears the timer: no wait falls due afterwards. */
  clear(): void {
    for (const wait of this.heap) wait.index = -1;
    this.heap.length = 0;
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    const earliest = this.heap[0];
    if (earliest === undefined) return;
    this.timerAt = earliest.due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, earliest.due - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    // What the timer was armed for is due, even if the clock reads a hair earlier (a delay
    // rounded on its way through `now + (due - now)`), or the timer would re-arm for ever.
    const now = Math.max(this.clock.now(), this.timerAt);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.firing = true;
    try {
      for (let earliest = this.heap[0]; earliest !== undefined && earliest.due <= now; earliest = this.heap[0]) {
        this.remove(earliest);
        this.onDue(earliest);
      }
    } finally {
      this.firing = false;
      // No timer is armed while firing (add() leaves that to here): arm for the earliest left, if any.
      this.arm();
    }
  }

  private siftUp(from: number): void {
    const heap = this.heap;
    const wait = heap[from]!;
    let index = from;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!runsBefore(wait, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = wait;
    wait.index = index;
  }

  private siftDown(from: number): void {
    const heap = this.heap;
    const wait = heap[from]!;
    let index = from;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && runsBefore(heap[right]!, heap[left]!) ? right : left;
      if (!runsBefore(heap[child]!, wait)) break;
      heap[index] = heap[child]!;
      heap[index]!.index = index;
      index = child;
    }
    heap[index] = wait;
    wait.index = index;
  }
}
