import type { EventView } from './views.js';

/** A notable event as kept: its clock time instead of "ago". */
export type LoggedEvent = Omit<EventView, 'agoMs' | 'id'>;

/**
 * The most recent notable events, in a ring of `capacity`: what the page lists as "what happened".
 * Each gets an increasing id, so that a client given the same event twice (in a snapshot and a
 * delta) shows it once.
 */
export class EventLog {
  private readonly ring: Array<{ id: number; at: number; event: LoggedEvent }> = [];
  private nextId = 1;

  constructor(private readonly capacity = 100) {}

  /** Adds one event at `now`; returns its id. */
  add(event: LoggedEvent, now: number): number {
    const id = this.nextId++;
    this.ring.push({ id, at: now, event });
    if (this.ring.length > this.capacity) this.ring.shift();
    return id;
  }

  /** The events with an id above `afterId` (all of them for 0), oldest first, as seen at `now`. */
  since(afterId: number, now: number): EventView[] {
    const views: EventView[] = [];
    for (const { id, at, event } of this.ring) {
      if (id > afterId) views.push({ id, ...event, agoMs: Math.max(0, Math.round(now - at)) });
    }
    return views;
  }

  /** The id of the newest event, 0 when none. */
  get lastId(): number {
    return this.nextId - 1;
  }
}
