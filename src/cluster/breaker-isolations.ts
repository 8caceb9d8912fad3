import type { BreakerFleetIsolation } from './breaker-fleet-messages.js';

/** Why an instance stopped isolating a breaker (the `restored` change and `breaker.fleet.restored` event carry it); `'unconfirmed'` is worth an alert. */
export type RestoreCause =
  /** Someone restored it (this instance or another). */
  | 'restored'
  /** Redis no longer has it: it expired (its instance died or stopped refreshing it) or was restored unheard. */
  | 'expired'
  /** Redis did not confirm it by the time it would have expired unrefreshed (fail-open). */
  | 'unconfirmed';

/** A change of what this instance believes about one name. */
export type IsolationChange =
  | { readonly name: string; readonly isolation: BreakerFleetIsolation; readonly cause?: undefined }
  | { readonly name: string; readonly isolation: undefined; readonly cause: RestoreCause };

/**
 * A request to Redis (a read, or this instance's isolate or restore) from the moment it is sent
 * until it ends; every one begun must end exactly once (answered, confirmed, or failed).
 */
export interface IsolationTicket {
  /** The mirror's sequence when it was sent: what its answer says about a name touched later may be out of date. */
  readonly sequence: number;
  readonly sentAt: number;
}

/** What this instance's own confirmed isolate or restore changed. */
export interface Confirmation {
  readonly change: IsolationChange | undefined;
  /**
   * Messages about the name from others arrived while it was in flight, but not its own: on an
   * unbroken subscription they are older than it (the channel keeps Redis's order), but the
   * subscription may have broken, so a read must confirm.
   */
  readonly contested: boolean;
}

/** What the messages about one name said while requests were in flight. */
interface Touched {
  /** The mirror's sequence at the last message about the name. */
  sequence: number;
  /** The isolate and restore operations those messages named (isolation ids, restore ids), with their sequence. */
  heard: Array<{ readonly sequence: number; readonly id: string }>;
}

/** What a read found for one name. */
export interface ReadIsolation {
  readonly record: BreakerFleetIsolation;
  /** Milliseconds left in Redis when read; `undefined` when the key has no expiry. */
  readonly pttl: number | undefined;
}

interface Known {
  readonly record: BreakerFleetIsolation;
  /** Believed until then (this instance's clock) unless Redis confirms it again. */
  readonly deadline: number;
}

/**
 * What one instance believes is isolated across the fleet, and until when: the pure core of the
 * isolation half of a breaker fleet (no timers, no I/O; every input carries its time).
 *
 * Two sources move it. Messages (and this instance's own confirmed isolate/restore) arrive in the
 * order Redis ran them, and each applies at once. Reads (the heartbeat's and the ones a deadline
 * forces) are answered on another connection, so they can overtake a message or be overtaken by
 * one; a read therefore says nothing about a name that a message touched after the read was sent.
 * A message missed while the subscription was down is caught by the next read.
 *
 * Each belief has a deadline: when it was learned plus the time Redis gave it to live (the record's
 * `ttlMs` for a message, the key's PTTL for a read). Past it, the isolation holds only if a read
 * confirms it; a read that fails lifts it (fail-open: an instance cut off from Redis goes on with
 * its breakers alone rather than stay isolated by an isolation it cannot see ending).
 */
export class IsolationMirror {
  private readonly known = new Map<string, Known>();
  /** What was heard about each name while requests were in flight; pruned once none needs it. */
  private readonly touched = new Map<string, Touched>();
  private sequence = 0;
  private readonly tickets = new Set<IsolationTicket>();

  /** The isolation of `name` believed now. */
  get(name: string): BreakerFleetIsolation | undefined {
    return this.known.get(name)?.record;
  }

  /** Every isolation believed now, by name. */
  entries(): Array<[string, BreakerFleetIsolation]> {
    return [...this.known].map(([name, known]) => [name, known.record]);
  }

  /** The names believed isolated. */
  names(): string[] {
    return [...this.known.keys()];
  }

  /** The earliest deadline, when one is believed isolated. */
  earliestDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const { deadline } of this.known.values()) if (earliest === undefined || deadline < earliest) earliest = deadline;
    return earliest;
  }

  /** Whether some belief is past its deadline at `now`. */
  overdue(now: number): boolean {
    const earliest = this.earliestDeadline();
    return earliest !== undefined && earliest <= now;
  }

  /** Heard (a message, or this instance's confirmed isolate) that `name` is isolated by `record`. */
  isolated(name: string, record: BreakerFleetIsolation, now: number): IsolationChange | undefined {
    this.touch(name, [record.id]);
    const before = this.known.get(name);
    this.known.set(name, { record, deadline: now + record.ttlMs });
    return before?.record.id === record.id ? undefined : { name, isolation: record };
  }

  /**
   * Heard (a message, or this instance's confirmed restore) that `name` was restored; `ended`
   * names the restore and the isolation it deleted, when known.
   */
  restored(name: string, ended: readonly string[] = []): IsolationChange | undefined {
    this.touch(name, ended);
    return this.lift(name, 'restored');
  }

  /** A request is sent now: a read, or this instance's isolate or restore. */
  begin(now: number): IsolationTicket {
    const ticket: IsolationTicket = { sequence: this.sequence, sentAt: now };
    this.tickets.add(ticket);
    return ticket;
  }

  /**
   * Redis confirmed this instance's isolate of `name` with `record`, sent with `ticket`. When its
   * own message came first, the mirror already holds it, or what followed it (a restore, another
   * isolate): the answer is older than that and changes nothing.
   */
  confirmIsolated(ticket: IsolationTicket, name: string, record: BreakerFleetIsolation): Confirmation {
    return this.confirm(ticket, name, record.id, () => this.isolated(name, record, ticket.sentAt));
  }

  /** Redis confirmed this instance's restore `restoreId` of `name`, sent with `ticket` (as {@link confirmIsolated}). */
  confirmRestored(ticket: IsolationTicket, name: string, restoreId: string): Confirmation {
    return this.confirm(ticket, name, restoreId, () => this.restored(name, [restoreId]));
  }

  private confirm(ticket: IsolationTicket, name: string, id: string, apply: () => IsolationChange | undefined): Confirmation {
    if (!this.end(ticket)) return { change: undefined, contested: false };
    const touched = this.touched.get(name);
    const since = touched !== undefined && touched.sequence > ticket.sequence;
    const heardItself = touched?.heard.some((entry) => entry.id === id && entry.sequence > ticket.sequence) === true;
    const change = heardItself ? undefined : apply();
    this.prune();
    return { change, contested: since && !heardItself };
  }

  /** This instance's isolate or restore sent with `ticket` failed: it changed nothing here. */
  abandon(ticket: IsolationTicket): void {
    if (this.end(ticket)) this.prune();
  }

  /** Redis answered the read `read` of `names`: `found[i]` is what it holds for `names[i]`. */
  answered(read: IsolationTicket, names: readonly string[], found: ReadonlyArray<ReadIsolation | undefined>): IsolationChange[] {
    if (!this.end(read)) return [];
    const changes: IsolationChange[] = [];
    names.forEach((name, index) => {
      if ((this.touched.get(name)?.sequence ?? -1) > read.sequence) return;
      const stored = found[index];
      if (stored === undefined) {
        const change = this.lift(name, 'expired');
        if (change !== undefined) changes.push(change);
        return;
      }
      const before = this.known.get(name);
      this.known.set(name, { record: stored.record, deadline: read.sentAt + (stored.pttl ?? stored.record.ttlMs) });
      if (before?.record.id !== stored.record.id) changes.push({ name, isolation: stored.record });
    });
    this.prune();
    return changes;
  }

  /** The read `read` failed or timed out at `now`: every belief past its deadline is lifted. */
  failed(read: IsolationTicket, now: number): IsolationChange[] {
    if (!this.end(read)) return [];
    const changes: IsolationChange[] = [];
    for (const [name, { deadline }] of [...this.known]) {
      if (deadline > now) continue;
      const change = this.lift(name, 'unconfirmed');
      if (change !== undefined) changes.push(change);
    }
    this.prune();
    return changes;
  }

  /** Forgets everything (the fleet stopped); reads in flight end with nothing. */
  clear(): void {
    this.known.clear();
    this.touched.clear();
    this.tickets.clear();
  }

  private touch(name: string, ids: readonly string[]): void {
    this.sequence += 1;
    // Only a request in flight ever compares; with none, there is nothing to remember.
    if (this.tickets.size === 0) return;
    const sequence = this.sequence;
    const touched = this.touched.get(name) ?? { sequence, heard: [] };
    touched.sequence = sequence;
    for (const id of ids) touched.heard.push({ sequence, id });
    this.touched.set(name, touched);
  }

  private lift(name: string, cause: RestoreCause): IsolationChange | undefined {
    if (!this.known.delete(name)) return undefined;
    return { name, isolation: undefined, cause };
  }

  private end(ticket: IsolationTicket): boolean {
    return this.tickets.delete(ticket);
  }

  /** Drops the sequences no request in flight can still be compared with. */
  private prune(): void {
    let oldest = Infinity;
    for (const ticket of this.tickets) oldest = Math.min(oldest, ticket.sequence);
    for (const [name, touched] of this.touched) {
      if (touched.sequence <= oldest) this.touched.delete(name);
      else touched.heard = touched.heard.filter((entry) => entry.sequence > oldest);
    }
  }
}
