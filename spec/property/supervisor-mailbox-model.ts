import type { Restart, Strategy } from '../../src/index.js';
import type { StartOutcome } from '../support/supervision.js';

/**
 * A pure model of an OTP supervisor as a process with a mailbox, for the property spec that
 * drives the real supervisor through asynchronous starts, graceful stops, kills and stop().
 *
 * Requests, child exits and retries are messages handled one at a time, in arrival order. A
 * message whose handling must wait (for a deferred start to settle, or for a graceful child to
 * finish draining) holds the mailbox until it does; the waiting step keeps its continuation. A
 * kill is not a message: it ends the supervisor at once, wherever it is. Children are records,
 * time is a number; the model knows nothing of actors or promises.
 *
 * Restart with backoff: a child with a backoff does not restart at once; its group is stopped and
 * waits until `now + min(maxMs, minMs·2ⁿ) × (1 + u·randomFactor)`; when that time comes, a 'due'
 * message is posted (so it waits its turn behind a start in flight) and the restart is performed
 * then, counting against the intensity. `stop()` and a kill cancel every wait at once. The model
 * does not order drains against due times, so runs with backoff use no draining children.
 */

type ExitReason = 'normal' | 'shutdown' | 'error';

/** A child's backoff with its defaults applied. */
export interface MailboxBackoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly randomFactor: number;
  readonly resetAfterMs: number;
}

/** A pending restart under backoff: its members start together when it falls due. */
interface MailboxWait {
  readonly due: number;
  readonly order: number;
  members: MailboxChild[];
  /** Still in the supervisor's queue (not fallen due, not cancelled). */
  queued: boolean;
}

/** One child as the model keeps it. */
export interface MailboxChild {
  readonly id: string;
  readonly restart: Restart;
  readonly significant: boolean;
  /** Its starts stay pending until the spec settles them. */
  readonly deferred: boolean;
  /** It takes part in graceful shutdown and needs this long to finish; else it is stopped at once. */
  readonly drainMs: number | undefined;
  /** The supervisor holds an actor for it (`whichChildren` shows a ref). */
  attached: boolean;
  /** That actor is serving: it can crash or finish, and drains when asked to stop. */
  alive: boolean;
  /** It has been asked to stop and is draining. */
  draining: boolean;
  /** A restart of it failed and is to be tried again (OTP's `{restarting, _}`). */
  restarting: boolean;
  /** Which of its actors is attached: counts attaches. */
  instance: number;
  /** Outcomes of its next synchronous starts. */
  primed: StartOutcome[];
  /** Its own backoff, else the supervisor's; none: restarted at once. */
  readonly backoff?: MailboxBackoff | undefined;
  /** The pending restart it waits for. */
  wait?: MailboxWait | undefined;
  /** n of its next backoff wait. */
  restarts?: number;
  /** When its running actor was attached. */
  upSince?: number;
}

/** What a caller of the supervisor's API is owed so far. */
export type CallState = { status: 'pending' } | { status: 'resolved' } | { status: 'rejected'; code: string };

/** A start in flight (or abandoned by an exit), in the order starts were made. */
interface PendingStart {
  readonly child: string;
  live: boolean;
}

type Message =
  | { kind: 'exit'; child: MailboxChild; instance: number; reason: ExitReason }
  | { kind: 'retry'; child: MailboxChild }
  | { kind: 'startChild'; child: MailboxChild; call: number }
  | { kind: 'restartChild'; id: string; call: number }
  | { kind: 'terminateChild'; id: string; call: number }
  | { kind: 'deleteChild'; id: string; call: number }
  | { kind: 'due'; wait: MailboxWait }
  | { kind: 'stop' };

/** What the message being handled waits for, how it goes on, and what a kill does to it. */
type Wait =
  | { kind: 'start'; child: MailboxChild; pending: PendingStart; then: (started: boolean) => void; onKill: () => void }
  | { kind: 'drain'; child: MailboxChild; until: number; then: () => void; onKill: () => void };

export interface MailboxModelOptions {
  strategy: Strategy;
  intensity: number;
  period: number;
  autoShutdown: 'never' | 'any_significant' | 'all_significant';
  /** The pinned jitter draw of the supervisor's `random`. Default 0. */
  u?: number;
}

export class MailboxModel {
  children: MailboxChild[] = [];
  /** Every start call ever made, per child id. */
  readonly starts = new Map<string, number>();
  /** Every start call ever made, as `child@time`, in order. */
  readonly startLog: string[] = [];
  phase: 'running' | 'stopping' | 'exited' = 'running';
  exitedWith: 'normal' | 'shutdown' | undefined;
  now = 0;
  readonly calls: CallState[] = [];
  readonly pendingStarts: PendingStart[] = [];
  private restartTimes: number[] = [];
  private readonly mailbox: Message[] = [];
  private waiting: Wait | undefined;
  /** A message (or the continuation of one) is being handled: what it posts waits its turn. */
  private handling = false;
  private waits: MailboxWait[] = [];
  private waitsAdded = 0;

  constructor(readonly options: MailboxModelOptions) {}

  /** Adds an initial child, started synchronously and running. */
  addInitial(child: Omit<MailboxChild, 'attached' | 'alive' | 'draining' | 'restarting' | 'instance' | 'primed'>): void {
    this.children.push({ ...child, attached: true, alive: true, draining: false, restarting: false, instance: 1, primed: [] });
    this.starts.set(child.id, 1);
    this.startLog.push(`${child.id}@${this.now}`);
  }

  get exited(): boolean {
    return this.phase === 'exited';
  }

  /** Children whose actor can be made to crash or finish now. */
  serving(): MailboxChild[] {
    return this.children.filter((child) => child.attached && child.alive && !child.draining);
  }

  // ------------------------------------------------------------ what the spec does

  /** The child's actor fails (`'error'`) or reaches its final state (`'normal'`). */
  childEnds(child: MailboxChild, reason: 'error' | 'normal'): void {
    child.alive = false;
    // A supervisor that is stopping ignores its children's own exits; it is stopping them anyway.
    if (this.phase !== 'running') return;
    this.post({ kind: 'exit', child, instance: child.instance, reason });
  }

  startChild(child: Omit<MailboxChild, 'attached' | 'alive' | 'draining' | 'restarting' | 'instance' | 'primed'>): number {
    const call = this.newCall();
    this.post({
      kind: 'startChild',
      child: { ...child, attached: false, alive: false, draining: false, restarting: false, instance: 0, primed: [] },
      call,
    });
    return call;
  }

  restartChild(id: string): number {
    const call = this.newCall();
    this.post({ kind: 'restartChild', id, call });
    return call;
  }

  terminateChild(id: string): number {
    const call = this.newCall();
    this.post({ kind: 'terminateChild', id, call });
    return call;
  }

  deleteChild(id: string): number {
    const call = this.newCall();
    this.post({ kind: 'deleteChild', id, call });
    return call;
  }

  /** `stop()`: a message like any other; the caller is answered when the supervisor has exited. */
  stop(): void {
    if (this.phase === 'exited') return;
    // Every waiting restart is cancelled at the call, due or not; the stop itself waits its turn.
    this.cancelWaits();
    this.post({ kind: 'stop' });
  }

  /** The parent stops the supervisor's actor outright: everything ends now, nothing waits. */
  kill(): void {
    if (this.phase === 'exited') return;
    this.cancelWaits();
    for (const child of this.children) this.detach(child);
    const waiting = this.waiting;
    this.waiting = undefined;
    this.exit('shutdown');
    waiting?.onKill();
    // What was still in the mailbox is handled by a supervisor that is gone.
    for (const message of this.mailbox.splice(0)) {
      if ('call' in message) this.reject(message.call, 'not_running');
    }
  }

  /** The `index`-th start still pending settles with `outcome`. */
  settle(index: number, outcome: StartOutcome): void {
    const [pending] = this.pendingStarts.splice(index, 1);
    if (!pending?.live) return;
    const waiting = this.waiting;
    if (waiting?.kind !== 'start' || waiting.pending !== pending) throw new Error('model: a live start that nobody waits for');
    this.waiting = undefined;
    this.continueWith(() => this.attach(waiting.child, outcome, waiting.then));
  }

  advance(ms: number): void {
    const target = this.now + ms;
    // Each wait falls due at its own time, in due order; its restart is a message like any other.
    for (;;) {
      let next: MailboxWait | undefined;
      for (const wait of this.waits) {
        if (!wait.queued || wait.due > target || !wait.members.some((member) => member.wait === wait)) continue;
        if (next === undefined || wait.due < next.due || (wait.due === next.due && wait.order < next.order)) next = wait;
      }
      if (next === undefined) break;
      this.now = next.due;
      next.queued = false;
      this.post({ kind: 'due', wait: next });
    }
    this.now = target;
    const waiting = this.waiting;
    if (waiting?.kind === 'drain' && waiting.until <= this.now) {
      this.waiting = undefined;
      this.continueWith(waiting.then);
    }
  }

  /** The next synchronous start of `child` ends with `outcome`. */
  prime(child: MailboxChild, outcome: StartOutcome): void {
    child.primed.push(outcome);
  }

  // ------------------------------------------------------------ the mailbox

  private post(message: Message): void {
    this.mailbox.push(message);
    this.handleMessages();
  }

  private handleMessages(): void {
    if (this.handling) return;
    while (this.waiting === undefined && this.mailbox.length > 0) {
      const message = this.mailbox.shift()!;
      this.continueWith(() => this.handle(message));
    }
  }

  /** Runs one step of handling a message; what it posts is handled after it. */
  private continueWith(step: () => void): void {
    this.handling = true;
    try {
      step();
    } finally {
      this.handling = false;
    }
    this.handleMessages();
  }

  private handle(message: Message): void {
    if (message.kind === 'exit') return this.handleExit(message.child, message.instance, message.reason);
    if (message.kind === 'retry') {
      const { child } = message;
      if (this.phase === 'running' && child.restarting && this.holds(child)) this.restart(child);
      return;
    }
    if (message.kind === 'stop') return this.shutdown('normal');
    if (message.kind === 'due') return this.perform(message.wait);
    if (this.phase !== 'running') return this.reject(message.call, 'not_running');
    switch (message.kind) {
      case 'startChild': {
        const { child, call } = message;
        this.children.push(child);
        this.start(
          child,
          (started) => {
            if (started) return this.resolve(call);
            this.remove(child);
            this.reject(call, 'start_failed');
          },
          () => {
            this.remove(child);
            this.reject(call, 'not_running');
          },
        );
        return;
      }
      case 'restartChild': {
        const child = this.find(message.id);
        // A child waiting for its backoff is started now; one whose restart is being retried is refused.
        const refusal = !child
          ? 'not_found'
          : child.attached
            ? 'running'
            : child.restarting && !child.wait
              ? 'restarting'
              : undefined;
        if (refusal || !child) return this.reject(message.call, refusal ?? 'not_found');
        this.start(
          child,
          (started) => (started ? this.resolve(message.call) : this.reject(message.call, 'start_failed')),
          () => this.reject(message.call, 'not_running'),
        );
        return;
      }
      case 'terminateChild': {
        const child = this.find(message.id);
        if (!child) return this.reject(message.call, 'not_found');
        child.wait = undefined;
        child.restarting = false;
        const done = (): void => {
          if (child.restart === 'temporary') this.remove(child);
          this.resolve(message.call);
        };
        // Killed during a graceful stop, the child is stopped all the same: the caller is answered.
        this.stopChild(child, done, () => this.resolve(message.call));
        return;
      }
      case 'deleteChild': {
        const child = this.find(message.id);
        const refusal = !child ? 'not_found' : child.attached ? 'running' : child.restarting ? 'restarting' : undefined;
        if (refusal || !child) return this.reject(message.call, refusal ?? 'not_found');
        this.remove(child);
        return this.resolve(message.call);
      }
    }
  }

  // ------------------------------------------------------------ OTP's rules

  private handleExit(child: MailboxChild, instance: number, reason: ExitReason): void {
    if (this.phase !== 'running' || !child.attached || child.instance !== instance) return;
    this.detach(child);
    if (child.restart === 'permanent' || (child.restart === 'transient' && reason === 'error')) {
      if (child.backoff && this.now - (child.upSince ?? 0) >= child.backoff.resetAfterMs) child.restarts = 0;
      return this.restart(child);
    }
    if (child.restart === 'temporary') this.remove(child);
    if (child.significant && this.autoShutdownDue()) this.shutdown('shutdown');
  }

  private autoShutdownDue(): boolean {
    if (this.options.autoShutdown === 'any_significant') return true;
    if (this.options.autoShutdown === 'never') return false;
    return !this.children.some((child) => child.significant && (child.attached || child.restarting));
  }

  /**
   * OTP's add_restart over a plain list, then the strategy's group is stopped and started again;
   * with a backoff (the child's, or a wait its group is in), the group waits instead.
   */
  private restart(child: MailboxChild): void {
    const index = this.children.indexOf(child);
    const group =
      this.options.strategy === 'one_for_one'
        ? [child]
        : this.options.strategy === 'one_for_all'
          ? [...this.children]
          : this.children.slice(index);
    if (child.backoff || (this.options.strategy !== 'one_for_one' && group.some((member) => member.wait))) {
      return this.restartAfterWait(child, group);
    }
    if (!this.addRestart()) return;
    const toStop = group.filter((member) => member !== child && member.attached).reverse();
    this.stopInOrder(toStop, () => {
      for (const member of group) if (member.restart === 'temporary') this.remove(member);
      this.startGroup(group, 0);
    });
  }

  /** Counts a restart now; gives up (shutdown) when the intensity is exceeded. */
  private addRestart(): boolean {
    this.restartTimes = this.restartTimes.filter((time) => this.now - time <= this.options.period);
    this.restartTimes.push(this.now);
    if (this.restartTimes.length <= this.options.intensity) return true;
    this.shutdown('shutdown');
    return false;
  }

  /** Stops the group's running members but the failed one, drops its temporaries, then waits. */
  private restartAfterWait(failed: MailboxChild, group: MailboxChild[]): void {
    const toStop = group.filter((member) => member !== failed && member.attached).reverse();
    this.stopInOrder(toStop, () => {
      if (this.phase !== 'running') return;
      for (const member of group) if (member.restart === 'temporary') this.remove(member);
      this.waitForRestart(
        failed,
        group.filter((member) => this.holds(member)),
      );
    });
  }

  /** Joins a wait a member is in (the earliest), or waits the failed child's next delay. */
  private waitForRestart(failed: MailboxChild, members: MailboxChild[]): void {
    let joined: MailboxWait | undefined;
    for (const member of members) if (member.wait && (!joined || member.wait.due < joined.due)) joined = member.wait;
    if (joined) {
      for (const member of members) {
        if (member.wait === joined) continue;
        member.wait = joined;
        member.restarting = true;
      }
      joined.members = this.children.filter((child) => child.wait === joined);
      return;
    }
    const backoff = failed.backoff;
    if (!backoff) {
      if (this.addRestart()) this.startGroup(members, 0);
      return;
    }
    const attempt = failed.restarts ?? 0;
    failed.restarts = attempt + 1;
    const delay = Math.min(backoff.maxMs, backoff.minMs * 2 ** attempt) * (1 + (this.options.u ?? 0) * backoff.randomFactor);
    const wait: MailboxWait = { due: this.now + delay, order: this.waitsAdded++, members, queued: true };
    this.waits.push(wait);
    for (const member of members) {
      member.wait = wait;
      member.restarting = true;
    }
  }

  /** A wait fell due and its message came up: the restart counts now, its members start. */
  private perform(wait: MailboxWait): void {
    if (this.phase !== 'running') return;
    const members = wait.members.filter((member) => member.wait === wait && this.holds(member));
    wait.members = [];
    if (members.length === 0) return;
    for (const member of members) member.wait = undefined;
    if (this.addRestart()) this.startGroup(members, 0);
  }

  private cancelWaits(): void {
    for (const wait of this.waits) wait.queued = false;
    for (const child of this.children) {
      if (!child.wait) continue;
      child.wait = undefined;
      child.restarting = false;
    }
  }

  /** Starts, in order, the members still held and not attached; a failed start is retried later. */
  private startGroup(group: MailboxChild[], from: number): void {
    for (let index = from; index < group.length; index += 1) {
      if (this.phase !== 'running') return;
      const member = group[index]!;
      if (member.attached || !this.holds(member)) continue;
      this.start(member, (started) => {
        if (started) return this.startGroup(group, index + 1);
        if (this.phase !== 'running') return;
        member.restarting = true;
        // Under backoff a failed start waits the next delay; else it is retried in turn.
        if (member.backoff) return this.restart(member);
        this.post({ kind: 'retry', child: member });
      });
      return;
    }
  }

  private shutdown(output: 'normal' | 'shutdown'): void {
    if (this.phase !== 'running') return;
    this.phase = 'stopping';
    this.cancelWaits();
    this.stopInOrder([...this.children].reverse(), () => this.exit(output));
  }

  private exit(output: 'normal' | 'shutdown'): void {
    this.phase = 'exited';
    this.exitedWith = output;
    for (const wait of this.waits) wait.queued = false;
    for (const child of this.children) {
      child.restarting = false;
      child.wait = undefined;
    }
    this.children = this.children.filter((child) => child.restart !== 'temporary');
    for (const pending of this.pendingStarts) pending.live = false;
  }

  // ------------------------------------------------------------ starting and stopping one child

  /**
   * Calls the child's start; `then(started)` runs now, or when a deferred start settles; `onKill`
   * if the supervisor is killed first.
   */
  private start(child: MailboxChild, then: (started: boolean) => void, onKill = (): void => undefined): void {
    this.starts.set(child.id, (this.starts.get(child.id) ?? 0) + 1);
    this.startLog.push(`${child.id}@${this.now}`);
    if (child.deferred) {
      const pending: PendingStart = { child: child.id, live: true };
      this.pendingStarts.push(pending);
      this.waiting = { kind: 'start', child, pending, then, onKill };
      return;
    }
    this.attach(child, child.primed.shift() ?? 'running', then);
  }

  /**
   * What the supervisor makes of a start's outcome: a failed actor or a rejection is a failed
   * start; an actor that has already ended is attached and its exit queued (OTP: the EXIT of a
   * dead pid); a running one is attached.
   */
  private attach(child: MailboxChild, outcome: StartOutcome, then: (started: boolean) => void): void {
    if (outcome === 'error' || outcome === 'reject') return then(false);
    child.attached = true;
    child.restarting = false;
    child.wait = undefined;
    child.upSince = this.now;
    child.instance += 1;
    child.alive = outcome === 'running';
    if (outcome !== 'running') {
      this.mailbox.push({ kind: 'exit', child, instance: child.instance, reason: outcome === 'done' ? 'normal' : 'shutdown' });
    }
    then(true);
  }

  /** Whether stopping the child means asking it and waiting for it to drain. */
  private drains(child: MailboxChild): boolean {
    return child.attached && child.alive && child.drainMs !== undefined;
  }

  /** Stops the child: at once, or after it has drained; `onKill` if the supervisor is killed first. */
  private stopChild(child: MailboxChild, then: () => void, onKill = (): void => undefined): void {
    if (!this.drains(child)) {
      this.detach(child);
      return then();
    }
    child.draining = true;
    const drained = (): void => {
      this.detach(child);
      then();
    };
    this.waiting = { kind: 'drain', child, until: this.now + child.drainMs!, then: drained, onKill };
  }

  /** Stops `children` one after another, in the order given, then goes on with `then`. */
  private stopInOrder(children: MailboxChild[], then: () => void, from = 0): void {
    for (let index = from; index < children.length; index += 1) {
      const child = children[index]!;
      if (this.drains(child)) return this.stopChild(child, () => this.stopInOrder(children, then, index + 1));
      this.detach(child);
    }
    then();
  }

  // ------------------------------------------------------------ helpers

  private detach(child: MailboxChild): void {
    child.attached = false;
    child.alive = false;
    child.draining = false;
  }

  private holds(child: MailboxChild): boolean {
    return this.children.includes(child);
  }

  private find(id: string): MailboxChild | undefined {
    return this.children.find((child) => child.id === id);
  }

  private remove(child: MailboxChild): void {
    this.children = this.children.filter((each) => each !== child);
  }

  private newCall(): number {
    this.calls.push({ status: 'pending' });
    return this.calls.length - 1;
  }

  private resolve(call: number): void {
    this.calls[call] = { status: 'resolved' };
  }

  private reject(call: number, code: string): void {
    this.calls[call] = { status: 'rejected', code };
  }
}
