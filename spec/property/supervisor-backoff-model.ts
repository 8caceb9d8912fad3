import type { Restart, Strategy } from '../../src/index.js';

/**
 * A pure model of OTP's supervisor rules with restart backoff, for the property spec that drives
 * the real supervisor on a test clock. Starts are synchronous and each either runs or throws (a
 * spec primes the failures), so every request is handled at once; time is a number, and the model
 * predicts the clock time of every start.
 *
 * The rules it states:
 * - a child with a backoff waits `min(maxMs, minMs·2ⁿ) × (1 + u·randomFactor)` before its n-th
 *   consecutive restart; staying up `resetAfterMs` makes n 0 again; a start that throws goes on
 *   to n + 1; a hand restart keeps n;
 * - its group (by the strategy) is stopped at once and restarted with it; a failure whose group
 *   already waits joins that wait (the earliest, if several) instead of waiting anew;
 * - a restart counts against the intensity when it is performed (at its due time);
 * - terminateChild cancels a child's wait for good, restartChild starts it now, stop() cancels
 *   every wait; nothing starts after terminate (until started by hand) or after the exit.
 */

export interface ModelBackoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly randomFactor: number;
  readonly resetAfterMs: number;
}

export interface BackoffChild {
  readonly id: string;
  readonly restart: Restart;
  readonly backoff: ModelBackoff | undefined;
  running: boolean;
  /** Waiting for a restart (its backoff wait, or an immediate retry in flight). */
  restarting: boolean;
  wait: Wait | undefined;
  /** n of the next backoff wait. */
  restarts: number;
  upSince: number;
  /** Starts that will throw next. */
  failures: number;
}

interface Wait {
  readonly due: number;
  readonly order: number;
  members: BackoffChild[];
  queued: boolean;
}

/** What a request answered: resolved, or rejected with a SupervisorError code. */
export type Answer = 'ok' | 'running' | 'restarting' | 'not_found' | 'start_failed' | 'not_running';

export class BackoffModel {
  children: BackoffChild[] = [];
  now = 0;
  exited: 'normal' | 'shutdown' | undefined;
  /** `child@time` of every start, in order. */
  readonly starts: string[] = [];
  private restartTimes: number[] = [];
  private waits: Wait[] = [];
  private added = 0;
  /** Immediate retries of failed restarts, handled after the request that posted them. */
  private readonly retries: BackoffChild[] = [];

  constructor(
    readonly strategy: Strategy,
    readonly intensity: number,
    readonly period: number,
    /** The pinned jitter draw u. */
    readonly u: number,
    /** The supervisor spec's backoff, the default of children that give none. */
    readonly defaultBackoff: ModelBackoff | undefined,
  ) {}

  addInitial(id: string, restart: Restart, backoff: ModelBackoff | undefined): void {
    this.children.push(this.newChild(id, restart, backoff));
    this.starts.push(`${id}@${this.now}`);
  }

  /** The live waits: queued, with a member still waiting. */
  liveWaits(): { due: number; members: string[] }[] {
    return this.waits
      .filter((wait) => wait.queued && wait.members.some((member) => member.wait === wait))
      .map((wait) => ({ due: wait.due, members: wait.members.filter((member) => member.wait === wait).map((member) => member.id) }));
  }

  // ------------------------------------------------------------ what the spec does

  childExits(child: BackoffChild, reason: 'normal' | 'error'): void {
    if (this.exited || !child.running) return;
    this.handle(() => {
      child.running = false;
      const restarts = child.restart === 'permanent' || (child.restart === 'transient' && reason === 'error');
      if (!restarts) {
        if (child.restart === 'temporary') this.remove(child);
        return;
      }
      if (child.backoff && this.now - child.upSince >= child.backoff.resetAfterMs) child.restarts = 0;
      this.restart(child);
    });
  }

  /** Moves time on, performing every wait that falls due, each at its due time, in due order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      if (this.exited) break;
      let next: Wait | undefined;
      for (const wait of this.waits) {
        if (!wait.queued || wait.due > target || !wait.members.some((member) => member.wait === wait)) continue;
        if (next === undefined || wait.due < next.due || (wait.due === next.due && wait.order < next.order)) next = wait;
      }
      if (next === undefined) break;
      this.now = next.due;
      next.queued = false;
      const due = next;
      this.handle(() => this.perform(due));
    }
    this.now = target;
  }

  terminate(id: string): Answer {
    if (this.exited) return 'not_running';
    const child = this.find(id);
    if (!child) return 'not_found';
    this.leaveWait(child);
    child.restarting = false;
    child.running = false;
    if (child.restart === 'temporary') this.remove(child);
    return 'ok';
  }

  restartByHand(id: string): Answer {
    if (this.exited) return 'not_running';
    const child = this.find(id);
    if (!child) return 'not_found';
    if (child.running) return 'running';
    if (child.restarting && !child.wait) return 'restarting';
    let answer: Answer = 'ok';
    this.handle(() => {
      if (!this.launch(child)) answer = 'start_failed';
    });
    return answer;
  }

  deleteChild(id: string): Answer {
    if (this.exited) return 'not_running';
    const child = this.find(id);
    if (!child) return 'not_found';
    if (child.running) return 'running';
    if (child.restarting) return 'restarting';
    this.remove(child);
    return 'ok';
  }

  startChild(id: string, restart: Restart, backoff: ModelBackoff | undefined): Answer {
    if (this.exited) return 'not_running';
    const child = this.newChild(id, restart, backoff);
    child.running = false;
    this.children.push(child);
    this.handle(() => this.launch(child));
    return 'ok';
  }

  primeFailures(child: BackoffChild, times: number): void {
    child.failures = times;
  }

  stop(): void {
    if (this.exited) return;
    this.cancelWaits();
    this.exit('normal');
  }

  // ------------------------------------------------------------ the rules

  /** Handles one request, then the immediate retries it posted, in turn (the mailbox). */
  private handle(step: () => void): void {
    step();
    while (this.retries.length > 0) {
      const child = this.retries.shift()!;
      if (!this.exited && child.restarting && this.holds(child)) this.restart(child);
    }
  }

  private restart(child: BackoffChild): void {
    const group =
      this.strategy === 'one_for_one'
        ? [child]
        : this.strategy === 'one_for_all'
          ? [...this.children]
          : this.children.slice(this.children.indexOf(child));
    if (child.backoff || (this.strategy !== 'one_for_one' && group.some((member) => member.wait))) {
      return this.restartAfterWait(child, group);
    }
    if (!this.addRestart()) return;
    this.stopGroup(child, group);
    this.startGroup(group.filter((member) => this.holds(member)));
  }

  private restartAfterWait(failed: BackoffChild, group: BackoffChild[]): void {
    this.stopGroup(failed, group);
    const members = group.filter((member) => this.holds(member));
    let joined: Wait | undefined;
    for (const member of members) if (member.wait && (!joined || member.wait.due < joined.due)) joined = member.wait;
    if (joined) {
      for (const member of members) {
        if (member.wait === joined) continue;
        this.leaveWait(member);
        member.wait = joined;
        member.restarting = true;
      }
      joined.members = this.children.filter((each) => each.wait === joined);
      return;
    }
    const backoff = failed.backoff!;
    const delay = Math.min(backoff.maxMs, backoff.minMs * 2 ** failed.restarts) * (1 + this.u * backoff.randomFactor);
    failed.restarts += 1;
    const wait: Wait = { due: this.now + delay, order: this.added++, members, queued: true };
    this.waits.push(wait);
    for (const member of members) {
      member.wait = wait;
      member.restarting = true;
    }
  }

  /** Stops the running members but the failed one, drops the group's temporaries. */
  private stopGroup(failed: BackoffChild, group: BackoffChild[]): void {
    for (const member of group) if (member !== failed) member.running = false;
    this.children = this.children.filter((each) => !(group.includes(each) && each.restart === 'temporary'));
  }

  private perform(wait: Wait): void {
    if (this.exited) return;
    const members = wait.members.filter((member) => member.wait === wait && this.holds(member));
    wait.members = [];
    if (members.length === 0) return;
    for (const member of members) member.wait = undefined;
    if (!this.addRestart()) return;
    this.startGroup(members);
  }

  private startGroup(group: BackoffChild[]): void {
    for (const member of group) {
      if (this.exited) return;
      if (member.running || !this.holds(member)) continue;
      if (!this.launch(member)) {
        member.restarting = true;
        if (member.backoff) this.restart(member);
        else this.retries.push(member);
        return;
      }
    }
  }

  /** Calls the child's start: it throws if a failure is primed, else the child runs. */
  private launch(child: BackoffChild): boolean {
    if (child.failures > 0) {
      child.failures -= 1;
      return false;
    }
    child.running = true;
    child.restarting = false;
    this.leaveWait(child);
    child.upSince = this.now;
    this.starts.push(`${child.id}@${this.now}`);
    return true;
  }

  /** OTP's add_restart over a plain list; gives up (exits shutdown) when the intensity is exceeded. */
  private addRestart(): boolean {
    this.restartTimes = this.restartTimes.filter((time) => this.now - time <= this.period);
    this.restartTimes.push(this.now);
    if (this.restartTimes.length <= this.intensity) return true;
    this.cancelWaits();
    this.exit('shutdown');
    return false;
  }

  private exit(output: 'normal' | 'shutdown'): void {
    this.exited = output;
    for (const child of this.children) {
      child.running = false;
      child.restarting = false;
    }
    this.children = this.children.filter((child) => child.restart !== 'temporary');
    this.retries.length = 0;
  }

  private cancelWaits(): void {
    for (const wait of this.waits) wait.queued = false;
    for (const child of this.children) {
      if (!child.wait) continue;
      child.wait = undefined;
      child.restarting = false;
    }
  }

  private leaveWait(child: BackoffChild): void {
    child.wait = undefined;
  }

  private newChild(id: string, restart: Restart, backoff: ModelBackoff | undefined): BackoffChild {
    return { id, restart, backoff, running: true, restarting: false, wait: undefined, restarts: 0, upSince: this.now, failures: 0 };
  }

  private holds(child: BackoffChild): boolean {
    return this.children.includes(child);
  }

  private find(id: string): BackoffChild | undefined {
    return this.children.find((child) => child.id === id);
  }

  private remove(child: BackoffChild): void {
    this.children = this.children.filter((each) => each !== child);
  }
}
