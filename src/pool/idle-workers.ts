/**
 * The idle workers of a pool, as a ring-buffer deque: returned workers go to the back; lifo takes
 * from the back, fifo from the front, both O(1). A worker that dies while idle is not searched
 * for: it is marked dead and skipped when it comes up.
 */
export class IdleWorkers<T extends { state: string }> {
  private items: Array<T | undefined> = new Array(8);
  private head = 0;
  private length = 0;
  private live = 0;

  /** Idle workers that are alive. */
  get count(): number {
    return this.live;
  }

  add(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) % this.items.length] = item;
    this.length += 1;
    this.live += 1;
  }

  /** Takes a live idle worker from the back (lifo) or the front (fifo). */
  take(strategy: 'lifo' | 'fifo'): T | undefined {
    while (this.length > 0) {
      let item: T | undefined;
      if (strategy === 'lifo') {
        const index = (this.head + this.length - 1) % this.items.length;
        item = this.items[index];
        this.items[index] = undefined;
      } else {
        item = this.items[this.head];
        this.items[this.head] = undefined;
        this.head = (this.head + 1) % this.items.length;
      }
      this.length -= 1;
      if (item && item.state === 'idle') {
        this.live -= 1;
        return item;
      }
    }
    return undefined;
  }

  /** A worker in the deque stopped being idle (it died); it will be skipped, or compacted away. */
  forget(): void {
    this.live -= 1;
    // Under lifo a dead worker below the working set would never come up: compact when the dead
    // outnumber the live, so the deque stays O(live) and dead workers are not kept reachable.
    if (this.length - this.live > Math.max(16, this.live)) this.compact();
  }

  private compact(): void {
    const kept: Array<T | undefined> = new Array(Math.max(8, this.live * 2));
    let count = 0;
    for (let index = 0; index < this.length; index += 1) {
      const item = this.items[(this.head + index) % this.items.length];
      if (item && item.state === 'idle') kept[count++] = item;
    }
    this.items = kept;
    this.head = 0;
    this.length = count;
  }

  /** Removes and returns every live idle worker. */
  drain(): T[] {
    const all: T[] = [];
    // Stryker disable next-line StringLiteral: take() treats any strategy but 'lifo' as fifo, so '' drains in the same order
    for (let item = this.take('fifo'); item; item = this.take('fifo')) all.push(item);
    return all;
  }

  private grow(): void {
    const grown = new Array<T | undefined>(this.items.length * 2);
    // Stryker disable next-line EqualityOperator: grow() runs when the ring is full, so one more copies the head into the slot add() overwrites at once
    for (let index = 0; index < this.length; index += 1) grown[index] = this.items[(this.head + index) % this.items.length];
    this.items = grown;
    this.head = 0;
  }
}
