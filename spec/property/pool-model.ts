/**
 * poolboy's model of a pool for the property specs: only the number of checked-out workers and
 * the queue of waiters matter; everything else follows from them.
 */
export interface PoolModel {
  readonly size: number;
  readonly maxOverflow: number;
  out: number;
  /** Waiting checkouts in arrival order: their ids and the time they give up. */
  waiting: Array<{ id: number; deadline: number }>;
  now: number;
}

export function expectedStatus(model: PoolModel) {
  const { size, maxOverflow, out } = model;
  const state = out >= size + maxOverflow ? 'full' : out >= size ? 'overflow' : 'ready';
  return {
    state,
    idle: Math.max(0, size - out),
    overflow: Math.max(0, out - size),
    checkedOut: out,
    waiting: model.waiting.length,
  };
}

/** A checkout: served at once while there is room, else it waits (blocking) or is refused. */
export function checkout(model: PoolModel, id: number, block: boolean, timeoutMs: number): 'served' | 'waiting' | 'full' {
  if (model.out < model.size + model.maxOverflow) {
    model.out += 1;
    return 'served';
  }
  if (!block) return 'full';
  model.waiting.push({ id, deadline: model.now + timeoutMs });
  return 'waiting';
}

/**
 * A checked-out worker comes back (released) or goes (destroyed, died): either way the oldest
 * waiter is served (with it or with its replacement), else one fewer worker is out.
 */
export function returnWorker(model: PoolModel): number | undefined {
  const waiter = model.waiting.shift();
  if (waiter) return waiter.id;
  model.out -= 1;
  return undefined;
}

/** Time passes: waiters whose deadline came give up. */
export function advance(model: PoolModel, ms: number): number[] {
  model.now += ms;
  const expired = model.waiting.filter((waiter) => waiter.deadline <= model.now).map((waiter) => waiter.id);
  model.waiting = model.waiting.filter((waiter) => waiter.deadline > model.now);
  return expired;
}
