import type { BreakerState } from '../breaker/index.js';
import type { HeartbeatBreaker } from './breaker-fleet-messages.js';

/**
 * One breaker of one instance, as a fleet's `view()` shows it: serve the view from `/health` to
 * see every instance's breakers in one answer. Times are on the viewing fleet's clock.
 */
export interface BreakerFleetEntry {
  /** What the breaker's `state()` reported (`'disabled'` while isolated). */
  readonly state: BreakerState;
  /** Whether that instance isolates it on behalf of the fleet. */
  readonly isolated: boolean;
  /** When it entered this state, as near as this fleet can tell (at the latest: when it first heard of it). */
  readonly since: number;
  /** When this fleet last heard about it. */
  readonly updatedAt: number;
}

/** A change in the view of other instances. */
export type ViewChange =
  | { readonly type: 'state'; readonly instance: string; readonly breaker: string; readonly state: BreakerState; readonly isolated: boolean }
  | { readonly type: 'detached'; readonly instance: string; readonly breaker: string }
  | { readonly type: 'departed'; readonly instance: string; readonly cause: 'left' | 'expired' };

interface InstanceEntry {
  expiresAt: number;
  readonly breakers: Map<string, BreakerFleetEntry>;
}

/**
 * The other instances' breakers as one instance has heard of them: the pure core of the view half
 * of a breaker fleet (no timers, no I/O; every input carries its time). An instance is kept for
 * the `ttlMs` its last message gave (three of its heartbeats) and dropped when that passes unheard,
 * or at once when it says it left.
 */
export class ClusterView {
  private readonly instances = new Map<string, InstanceEntry>();

  /** A heartbeat of `instance` at `now`: its breakers, all of them. */
  heartbeat(instance: string, ttlMs: number, breakers: readonly HeartbeatBreaker[], now: number): ViewChange[] {
    const entry = this.entry(instance, ttlMs, now);
    const changes: ViewChange[] = [];
    const named = new Set<string>();
    for (const breaker of breakers) {
      named.add(breaker.name);
      const before = entry.breakers.get(breaker.name);
      entry.breakers.set(breaker.name, {
        state: breaker.state,
        isolated: breaker.isolated,
        // Kept while the state is: a heartbeat's age is less exact than the moment a transition was heard.
        since: before?.state === breaker.state ? before.since : now - breaker.ageMs,
        updatedAt: now,
      });
      if (before?.state !== breaker.state || before.isolated !== breaker.isolated) changes.push({ type: 'state', instance, breaker: breaker.name, state: breaker.state, isolated: breaker.isolated });
    }
    for (const name of [...entry.breakers.keys()]) {
      if (named.has(name)) continue;
      entry.breakers.delete(name);
      changes.push({ type: 'detached', instance, breaker: name });
    }
    return changes;
  }

  /** `instance` reports that its breaker `name` is in `state` now. */
  state(instance: string, ttlMs: number, name: string, state: BreakerState, isolated: boolean, now: number): ViewChange[] {
    const entry = this.entry(instance, ttlMs, now);
    const before = entry.breakers.get(name);
    entry.breakers.set(name, { state, isolated, since: before?.state === state ? before.since : now, updatedAt: now });
    return before?.state === state && before.isolated === isolated ? [] : [{ type: 'state', instance, breaker: name, state, isolated }];
  }

  /** `instance` no longer has breaker `name`. */
  detached(instance: string, name: string): ViewChange[] {
    return this.instances.get(instance)?.breakers.delete(name) === true ? [{ type: 'detached', instance, breaker: name }] : [];
  }

  /** `instance` stopped its fleet. */
  left(instance: string): ViewChange[] {
    return this.instances.delete(instance) ? [{ type: 'departed', instance, cause: 'left' }] : [];
  }

  /** Drops every instance not heard from in time. */
  expire(now: number): ViewChange[] {
    const changes: ViewChange[] = [];
    for (const [instance, entry] of [...this.instances]) {
      if (entry.expiresAt > now) continue;
      this.instances.delete(instance);
      changes.push({ type: 'departed', instance, cause: 'expired' });
    }
    return changes;
  }

  /** When the next instance expires, unless heard from. */
  earliestExpiry(): number | undefined {
    let earliest: number | undefined;
    for (const { expiresAt } of this.instances.values()) if (earliest === undefined || expiresAt < earliest) earliest = expiresAt;
    return earliest;
  }

  /** instance → breaker → entry, for the instances still in time at `now`. */
  snapshot(now: number): Array<[string, Array<[string, BreakerFleetEntry]>]> {
    const shown: Array<[string, Array<[string, BreakerFleetEntry]>]> = [];
    for (const [instance, entry] of this.instances) if (entry.expiresAt > now) shown.push([instance, [...entry.breakers]]);
    return shown;
  }

  clear(): void {
    this.instances.clear();
  }

  private entry(instance: string, ttlMs: number, now: number): InstanceEntry {
    let entry = this.instances.get(instance);
    if (entry === undefined) {
      entry = { expiresAt: now + ttlMs, breakers: new Map() };
      this.instances.set(instance, entry);
    }
    entry.expiresAt = Math.max(entry.expiresAt, now + ttlMs);
    return entry;
  }
}
