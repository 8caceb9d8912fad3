import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { ConfigError, InvalidArgumentError } from '../core/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import { backoffDelay, upLongEnoughToReset } from './backoff.js';
import type { ResolvedChildSpec } from './child-spec.js';
import { SupervisorError } from './errors.js';
import { RestartHistory, exceedsIntensity } from './restart-intensity.js';
import { autoShutdownDue, shouldRestart } from './restart-policy.js';
import { RestartWaits, type QueuedWait } from './restart-waits.js';
import { SerialExecutor } from './serial-executor.js';
import { SHUTDOWN_EVENT, acceptsShutdown, exitReasonOf, isActorRef, killActor, presentedRef } from './shutdown-protocol.js';
import { finishSupervisorActor, startSupervisorActor, type SupervisorOutput } from './supervisor-actor.js';
import type { ChildCounts, ChildInfo, ExitReason, StartContext, Strategy } from './types.js';

/** Everything an engine needs, resolved and validated. */
export interface EngineConfig {
  readonly id: string;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly period: number;
  readonly autoShutdown: 'never' | 'any_significant' | 'all_significant';
  /** Dynamic supervisors forget children that will not be restarted and cap their number. */
  readonly dynamic: boolean;
  readonly maxChildren: number;
  /** The source of the backoff jitter, uniform in [0, 1). */
  readonly random: () => number;
}

/** One child as its supervisor keeps it. */
interface ChildRecord {
  readonly id: string;
  /** Shared by every child started from the same spec (a dynamic supervisor's children often are). */
  readonly spec: ResolvedChildSpec;
  ref: AnyActorRef | undefined;
  /** Set while the supervisor itself stops the child: the exit it sees is the one it asked for. */
  stopping: (() => void) | undefined;
  /**
   * The child is to be restarted (OTP's `{restarting, Pid}`): a restart of it failed and is to be
   * tried again, or it waits for its backoff delay (then `wait` is set).
   */
  restarting: boolean;
  /**
   * The pending restart this child waits for. Each wait is its own object and a due wait starts
   * only the children whose `wait` is still that very object: the identity is the generation
   * number, so a cancelled or superseded wait can never start the child.
   */
  wait: PendingRestart | undefined;
  /** Consecutive restarts under backoff: the next wait is `backoffDelay(restarts)`. */
  restarts: number;
  /** `clock.now()` when the running actor was attached (children with a backoff only). */
  upSince: number;
}

/**
 * One pending restart under backoff: the failed child alone (one_for_one), or its group
 * (one_for_all, rest_for_one), all restarted when it falls due.
 */
interface PendingRestart extends QueuedWait {
  /** The children it restarts, in start order; those that left it since (`wait` changed) are skipped. */
  members: ChildRecord[];
  /** Members still waiting for it; it leaves the queue when none is left. */
  waiting: number;
}

/**
 * Watches one run of one child: the observer given to the child's actor. A small object with
 * prototype methods costs less per child than closures (a dynamic supervisor may hold 100,000).
 * XState drops its observers when the actor ends, so nothing needs to unsubscribe.
 */
class ChildWatch {
  constructor(
    private readonly engine: SupervisorEngine,
    private readonly record: ChildRecord,
    private readonly ref: AnyActorRef,
  ) {}

  error(error: unknown): void {
    this.engine.childExited(this.record, this.ref, 'error', error);
  }

  complete(): void {
    this.engine.childExited(this.record, this.ref, exitReasonOf(this.ref.getSnapshot().status), undefined);
  }
}

/** Why the supervisor is going down, for its telemetry. */
type ShutdownCause = 'stop' | 'intensity' | 'auto_shutdown';

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

/**
 * The OTP supervisor behaviour, shared by static and dynamic supervisors. Every change goes
 * through a serial executor, as every request to an Erlang supervisor goes through its mailbox;
 * children live in an insertion-ordered map, which is their start order.
 *
 * Hot path: a crash of a child whose `start` is synchronous is handled and the child restarted
 * within the crash's own call stack, with O(1) bookkeeping (bench/supervisor.bench.ts guards it).
 * A child with a backoff waits instead: its pending restart goes into a heap by due time under
 * one clock timer for the whole supervisor (O(log n); `supervisor.backoff@10k` guards it).
 */
export class SupervisorEngine {
  readonly ref: AnyActorRef;
  readonly exited: Promise<SupervisorOutput>;
  private resolveExited!: (output: SupervisorOutput) => void;
  private readonly children = new Map<string, ChildRecord>();
  private readonly history = new RestartHistory();
  /** Every pending restart under backoff, under one clock timer; due ones are performed in turn. */
  private readonly waits: RestartWaits<PendingRestart>;
  private readonly executor: SerialExecutor;
  private readonly startContext: StartContext;
  // Stryker disable next-line StringLiteral: no check reads 'starting'; each compares with 'running', 'stopping' or 'exited'
  private phase: 'starting' | 'running' | 'stopping' | 'exited' = 'starting';
  private generatedIds = 0;
  /** Aborted when the supervisor exits; its signal is every start's `StartContext.signal`. */
  private readonly lifetime = new AbortController();
  /**
   * Rejects the caller of the start in flight with `not_running`; set while an asynchronous start
   * is in flight. Requests are serialised, so at most one is.
   */
  private abandonStart: (() => void) | undefined;

  constructor(
    private readonly config: EngineConfig,
    handle: unknown,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.executor = new SerialExecutor((error) => this.reportInternalError(error));
    this.waits = new RestartWaits(config.clock, (wait) => this.executor.run(() => this.performRestart(wait)));
    this.startContext = Object.freeze({
      supervisor: config.id,
      clock: config.clock,
      telemetry: config.telemetry,
      signal: this.lifetime.signal,
    });
    this.ref = startSupervisorActor(config.id, handle, {
      onShutdownRequested: () => {
        this.cancelWaits();
        this.executor.run(() => this.shutdown('shutdown', 'stop'));
      },
      onKilled: () => this.kill(),
    });
  }

  get id(): string {
    return this.config.id;
  }

  // ---------------------------------------------------------------- API

  /**
   * Starts the initial children in order; on a failure stops those started and rejects
   * `start_failed`. Killed meanwhile, it rejects `not_running`.
   */
  startInitialChildren(specs: readonly ResolvedChildSpec[]): Promise<void> {
    return this.executor.call(async () => {
      for (const spec of specs) {
        const record = this.addRecord(spec);
        try {
          await this.launch(record);
        } catch (error) {
          this.children.delete(spec.id);
          const failure = this.failedStart(spec.id, error);
          await this.stopInOrder([...this.children.values()].reverse());
          this.children.clear();
          this.exit('shutdown', 'stop', 'stopped');
          throw failure;
        }
      }
      this.phase = 'running';
    });
  }

  /** OTP `start_child`: adds and starts a child after the others; resolves with its id and actor. */
  startChild(spec: ResolvedChildSpec, requestedId = spec.id): Promise<{ id: string; ref: AnyActorRef }> {
    return this.executor.call(() => {
      this.assertRunning();
      const id = requestedId === '' ? this.generateId() : requestedId;
      const existing = this.children.get(id);
      if (existing) throw new SupervisorError(existing.ref ? 'already_started' : 'already_present', this.id, id);
      if (this.children.size >= this.config.maxChildren) throw new SupervisorError('max_children', this.id, id);
      const record = this.addRecord(spec, id);
      const forget = (error: unknown): never => {
        // Stryker disable next-line ConditionalExpression: requests are serialised, so while this start is pending no other record can take its id
        if (this.children.get(id) === record) this.children.delete(id);
        throw this.failedStart(id, error);
      };
      try {
        const launched = this.launch(record);
        return isPromise<AnyActorRef>(launched) ? launched.then((ref) => ({ id, ref }), forget) : { id, ref: launched };
      } catch (error) {
        return forget(error);
      }
    });
  }

  /** OTP `terminate_child`: stops a child; a temporary (or dynamic) child's spec goes with it. */
  terminateChild(id: string): Promise<void> {
    if (typeof id !== 'string') return rejectChildId('terminateChild', id);
    return this.executor.call(() => {
      this.assertRunning();
      const record = this.children.get(id);
      if (!record) throw new SupervisorError('not_found', this.id, id);
      // A pending restart is cancelled for good: the wait no longer counts this child.
      this.leaveWait(record);
      record.restarting = false;
      const forgetIfTemporary = (): void => {
        if (record.spec.restart === 'temporary' || this.config.dynamic) this.children.delete(id);
      };
      const stopped = this.stopChild(record);
      if (stopped) return stopped.then(forgetIfTemporary);
      forgetIfTemporary();
    });
  }

  /**
   * OTP `restart_child`: starts a child whose spec is kept but which is not running. A child
   * waiting for its backoff delay is started now and leaves its wait (the rest of its group keeps
   * waiting); should the start fail, it keeps waiting. No restart is counted against the
   * intensity, and the backoff count is kept: only staying up `resetAfterMs` resets it.
   */
  restartChild(id: string): Promise<AnyActorRef> {
    if (typeof id !== 'string') return rejectChildId('restartChild', id);
    return this.executor.call(() => {
      this.assertRunning();
      const record = this.stoppedRecord(id, true);
      const failed = (error: unknown): never => {
        throw this.failedStart(id, error);
      };
      try {
        const launched = this.launch(record);
        return isPromise<AnyActorRef>(launched) ? launched.catch(failed) : launched;
      } catch (error) {
        return failed(error);
      }
    });
  }

  /** OTP `delete_child`: forgets the spec of a child that is not running. */
  deleteChild(id: string): Promise<void> {
    if (typeof id !== 'string') return rejectChildId('deleteChild', id);
    return this.executor.call(() => {
      this.assertRunning();
      this.stoppedRecord(id, false);
      this.children.delete(id);
    });
  }

  /**
   * The children in start order; `ref` is undefined for those not running; `restarting` and, for
   * a backoff wait, `nextRestartAt` are present only while a child waits to be restarted.
   */
  whichChildren(): ChildInfo[] {
    const list: ChildInfo[] = [];
    for (const { id, spec, ref, restarting, wait } of this.children.values()) {
      const info: ChildInfo = { id, ref: presentedRef(ref), type: spec.type, restart: spec.restart };
      if (restarting) {
        info.restarting = true;
        if (wait !== undefined) info.nextRestartAt = wait.due;
      }
      list.push(info);
    }
    return list;
  }

  /** OTP `count_children`. */
  countChildren(): ChildCounts {
    const counts: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
    for (const { spec, ref } of this.children.values()) {
      counts.specs += 1;
      if (presentedRef(ref)) counts.active += 1;
      if (spec.type === 'supervisor') counts.supervisors += 1;
      else counts.workers += 1;
    }
    return counts;
  }

  /**
   * Stops every child in reverse start order and exits `'normal'`. Every restart still waiting
   * for its backoff delay is cancelled at once, due or not; a restart already being performed
   * (its start in flight) is waited for like any request in flight, then stopped.
   */
  async stop(): Promise<void> {
    // Stryker disable next-line ConditionalExpression,StringLiteral: after the exit cancelWaits finds nothing and shutdown returns at once; the test saves the work
    if (this.phase !== 'exited') {
      this.cancelWaits();
      this.executor.run(() => this.shutdown('normal', 'stop'));
    }
    await this.exited;
  }

  // ---------------------------------------------------------------- starting children

  private addRecord(spec: ResolvedChildSpec, id = spec.id): ChildRecord {
    const record: ChildRecord = {
      id,
      spec,
      ref: undefined,
      stopping: undefined,
      restarting: false,
      wait: undefined,
      restarts: 0,
      upSince: 0,
    };
    this.children.set(id, record);
    return record;
  }

  /** Calls the child's `start` and begins watching the actor; throws or rejects when it fails. */
  private launch(record: ChildRecord): AnyActorRef | Promise<AnyActorRef> {
    const produced = record.spec.start(this.startContext);
    if (!isPromise<AnyActorRef>(produced)) return this.attach(record, produced);
    // The wait ends with the start's own outcome, or with `not_running` when this supervisor exits
    // first (exit() calls abandonStart); an actor arriving after that is stopped by attach().
    return new Promise<AnyActorRef>((resolve, reject) => {
      // Stryker disable next-line StringLiteral: every caller answers a start that failed after the exit with failedStart's own not_running, or ignores it
      const abandon = (): void => reject(new SupervisorError('not_running', this.id, record.id));
      // Stryker disable next-line BlockStatement: only drops a reference: a stale abandon that exit() calls rejects a settled promise, which does nothing
      const settled = (): void => {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: requests are serialised, so the start in flight is this one or none
        if (this.abandonStart === abandon) this.abandonStart = undefined;
      };
      this.abandonStart = abandon;
      produced.then(
        (ref) => {
          settled();
          try {
            resolve(this.attach(record, ref));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }

  /**
   * Makes `ref` the child's running actor and starts watching it. An actor that has already
   * failed is a failed start (it throws the actor's error); one that has already ended otherwise
   * is attached and its exit handled in turn, as OTP handles the EXIT of a pid that was dead when
   * start returned it. Once the supervisor has exited, nothing it started may run: the actor is
   * stopped at once and the start fails with `not_running`.
   */
  private attach(record: ChildRecord, ref: AnyActorRef): AnyActorRef {
    if (!isActorRef(ref)) throw new ConfigError('start', ref, 'a function that returns (or resolves with) an XState actor');
    if (this.exiting()) {
      killActor(ref);
      // Stryker disable next-line StringLiteral: every caller maps a failed start through failedStart, which answers not_running itself once exiting
      throw new SupervisorError('not_running', this.id, record.id);
    }
    const before = ref.getSnapshot() as { status: string; error?: unknown };
    if (before.status === 'error') throw before.error;
    record.ref = ref;
    record.restarting = false;
    this.leaveWait(record);
    // Stryker disable next-line ConditionalExpression: upSince is read only for a child with a backoff (handleExit); the test saves the clock read
    if (record.spec.backoff !== undefined) record.upSince = this.config.clock.now();
    if (before.status === 'active') {
      ref.subscribe(new ChildWatch(this, record, ref));
      ref.start();
      const snapshot = ref.getSnapshot() as { status: string; error?: unknown };
      if (snapshot.status === 'error') {
        this.detach(record);
        throw snapshot.error;
      }
    } else {
      // Not started again (XState would run a stopped actor anew) nor subscribed to (it would
      // replay the end): the exit is queued as its watch would have queued it.
      const reason = exitReasonOf(before.status);
      this.executor.run(() => this.handleExit(record, ref, reason, undefined));
    }
    // Stryker disable next-line ConditionalExpression: emit does nothing without subscribers; the test saves building the metadata
    if (this.config.telemetry.observed) {
      this.config.telemetry.emit(TelemetryEvents.supervisorChildStarted, undefined, {
        supervisor: this.id,
        child: record.id,
      });
    }
    return ref;
  }

  private detach(record: ChildRecord): void {
    record.ref = undefined;
  }

  // ---------------------------------------------------------------- exits and restarts

  /** Called by a child's {@link ChildWatch} when the actor ends, whoever ended it. */
  childExited(record: ChildRecord, ref: AnyActorRef, reason: ExitReason, error: unknown): void {
    if (record.ref !== ref) return;
    if (record.stopping) {
      record.stopping();
      return;
    }
    // Stryker disable next-line ConditionalExpression: handleExit ignores an exit unless the supervisor runs, which it never does again; the test saves queuing a shutdown's exits
    if (this.exiting()) return;
    this.executor.run(() => this.handleExit(record, ref, reason, error));
  }

  private handleExit(record: ChildRecord, ref: AnyActorRef, reason: ExitReason, error: unknown): void | Promise<void> {
    if (record.ref !== ref) return;
    // Stryker disable next-line ConditionalExpression: every way out (shutdown, kill, failed initial start) detaches each child first, so the ref test above already answers
    if (this.phase !== 'running') return;
    this.detach(record);
    this.emitExited(record.id, reason, error);
    if (shouldRestart(record.spec.restart, reason)) {
      const backoff = record.spec.backoff;
      if (backoff !== undefined && upLongEnoughToReset(this.config.clock.now() - record.upSince, backoff)) record.restarts = 0;
      return this.restart(record);
    }
    if (record.spec.restart === 'temporary' || this.config.dynamic) this.children.delete(record.id);
    if (record.spec.significant && autoShutdownDue(this.config.autoShutdown, this.significantChildAlive())) {
      return this.shutdown('shutdown', 'auto_shutdown');
    }
  }

  /**
   * Restarts a child that must be restarted, with its group by the strategy: at once (counting
   * the restart against the intensity, or giving up), or, when the child has a backoff or its
   * group already waits for one, after a wait.
   */
  private restart(record: ChildRecord): void | Promise<void> {
    if (this.config.strategy === 'one_for_one') {
      // Stryker disable next-line ConditionalExpression: a lone child without backoff sent to wait finds no wait to join and is restarted at once all the same (waitForRestart)
      if (record.spec.backoff !== undefined) return this.restartAfterWait(record, [record]);
      const restarts = this.history.record(this.config.clock.now(), this.config.period);
      if (exceedsIntensity(restarts, this.config.intensity)) return this.shutdown('shutdown', 'intensity');
      return this.startGroup([record], restarts, 0);
    }
    const group = this.config.strategy === 'one_for_all' ? [...this.children.values()] : this.childrenFrom(record);
    if (record.spec.backoff !== undefined || group.some((member) => member.wait !== undefined)) {
      return this.restartAfterWait(record, group);
    }
    const restarts = this.history.record(this.config.clock.now(), this.config.period);
    if (exceedsIntensity(restarts, this.config.intensity)) return this.shutdown('shutdown', 'intensity');
    return this.restartGroup(group, restarts);
  }

  /** Stops the group (all but the failed child, in reverse), drops its temporaries, starts it again. */
  private restartGroup(group: ChildRecord[], restarts: number): void | Promise<void> {
    // stopChild skips a child not running, the failed one among them.
    const toStop = [...group].reverse();
    const restartStopped = (): void | Promise<void> => {
      for (const record of group) {
        if (record.spec.restart === 'temporary') this.children.delete(record.id);
      }
      return this.startGroup(group, restarts, 0);
    };
    const stopped = this.stopInOrder(toStop);
    return stopped ? stopped.then(restartStopped) : restartStopped();
  }

  /** Starts, in order, the members of `group` still held and not running; a failure is retried. */
  private startGroup(group: ChildRecord[], restarts: number, from: number): void | Promise<void> {
    for (let index = from; index < group.length; index += 1) {
      // Killed while the group was being stopped or started: nothing more is started.
      if (this.phase !== 'running') return;
      const record = group[index]!;
      if (record.ref !== undefined || this.children.get(record.id) !== record) continue;
      let launched: AnyActorRef | Promise<AnyActorRef>;
      try {
        launched = this.launch(record);
      } catch (error) {
        return this.retryLater(record, error);
      }
      if (isPromise<AnyActorRef>(launched)) {
        return launched.then(
          () => {
            this.emitRestarted(record, restarts);
            return this.startGroup(group, restarts, index + 1);
          },
          (error: unknown) => this.retryLater(record, error),
        );
      }
      this.emitRestarted(record, restarts);
    }
  }

  /**
   * OTP's `try_again_restart`: a failed restart counts as a restart and is tried again in turn.
   * Under backoff it is tried again after the next delay: a failed start continues the count.
   */
  private retryLater(record: ChildRecord, error: unknown): void | Promise<void> {
    if (this.phase !== 'running') return;
    record.restarting = true;
    // Stryker disable next-line ConditionalExpression: emit does nothing without subscribers; the test saves building the metadata
    if (this.config.telemetry.observed) {
      this.config.telemetry.emit(TelemetryEvents.supervisorChildStartFailed, undefined, {
        supervisor: this.id,
        child: record.id,
        error,
      });
    }
    if (record.spec.backoff !== undefined) return this.restart(record);
    this.executor.run(() => {
      if (this.phase !== 'running' || !record.restarting || this.children.get(record.id) !== record) return;
      return this.restart(record);
    });
  }

  // ---------------------------------------------------------------- restart with backoff

  /**
   * Stops the running members of `group` (all but the failed child, in reverse) at once, drops its
   * temporaries, and makes the rest wait for one restart: a new wait after the failed child's
   * delay, or, when a member already waits, that wait (a failure inside a waiting group joins it
   * instead of scheduling a second restart).
   */
  private restartAfterWait(failed: ChildRecord, group: ChildRecord[]): void | Promise<void> {
    // stopChild skips a child not running, the failed one among them.
    const toStop = [...group].reverse();
    const thenWait = (): void | Promise<void> => {
      // Killed while the group was being stopped: nothing waits any more.
      if (this.phase !== 'running') return;
      for (const record of group) {
        if (record.spec.restart === 'temporary') this.children.delete(record.id);
      }
      const members = group.filter((record) => this.children.get(record.id) === record);
      return this.waitForRestart(failed, members);
    };
    const stopped = this.stopInOrder(toStop);
    return stopped ? stopped.then(thenWait) : thenWait();
  }

  /** Makes the stopped `members` wait: joining a wait one of them is in (the earliest), else anew. */
  private waitForRestart(failed: ChildRecord, members: ChildRecord[]): void | Promise<void> {
    let joined: PendingRestart | undefined;
    for (const member of members) {
      const wait = member.wait;
      if (wait !== undefined && (joined === undefined || wait.due < joined.due)) joined = wait;
    }
    if (joined !== undefined) return this.joinWait(joined, members);
    const backoff = failed.spec.backoff;
    if (backoff === undefined) {
      // A child without backoff came here only to join its group's wait; with none left to join
      // (stop() cancelled the waits while the group was being stopped), it restarts at once as in OTP.
      const restarts = this.history.record(this.config.clock.now(), this.config.period);
      if (exceedsIntensity(restarts, this.config.intensity)) return this.shutdown('shutdown', 'intensity');
      return this.startGroup(members, restarts, 0);
    }
    const attempt = failed.restarts;
    failed.restarts = attempt + 1;
    const delay = backoffDelay(attempt, backoff, this.random);
    // Stryker disable next-line UnaryOperator: RestartWaits.add sets index before anything reads it
    const wait: PendingRestart = { due: this.config.clock.now() + delay, order: 0, index: -1, members, waiting: members.length };
    for (const member of members) {
      member.wait = wait;
      member.restarting = true;
    }
    // The wait ends when it falls due (performRestart), when its last member leaves it (started,
    // terminated or restarted by hand: leaveWait), or when the supervisor stops (cancelWaits).
    this.waits.add(wait);
    const telemetry = this.config.telemetry;
    // Stryker disable next-line ConditionalExpression: emit does nothing without subscribers; the test saves building the metadata
    if (telemetry.observed) {
      telemetry.emit(TelemetryEvents.supervisorChildBackoff, { delay }, { supervisor: this.id, child: failed.id, attempt: attempt + 1 });
    }
  }

  /** Makes `members` wait for `wait`, leaving any other wait; the wait's members stay in start order. */
  private joinWait(wait: PendingRestart, members: ChildRecord[]): void {
    for (const member of members) {
      if (member.wait === wait) continue;
      this.leaveWait(member);
      member.wait = wait;
      member.restarting = true;
      wait.waiting += 1;
    }
    // Stryker disable next-line ArrayDeclaration: performRestart starts only the members whose wait is this one; anything else listed is skipped
    const inOrder: ChildRecord[] = [];
    // Stryker disable next-line ConditionalExpression: performRestart starts only the members whose wait is this one; anything else listed is skipped
    for (const record of this.children.values()) if (record.wait === wait) inOrder.push(record);
    wait.members = inOrder;
  }

  /** The child no longer waits for its pending restart; a wait nobody waits for leaves the queue. */
  private leaveWait(record: ChildRecord): void {
    const wait = record.wait;
    if (wait === undefined) return;
    record.wait = undefined;
    wait.waiting -= 1;
    if (wait.waiting === 0) this.waits.remove(wait);
  }

  /**
   * A wait fell due: counts the restart against the intensity (a restart counts when it is
   * performed) and starts, in order, the members still waiting for it; a failed start is tried
   * again by the usual rules.
   */
  private performRestart(wait: PendingRestart): void | Promise<void> {
    // Stryker disable next-line ConditionalExpression: every way out cancels the waits first (cancelWaits, exit), so no member is left below
    if (this.phase !== 'running') return;
    const members = wait.members.filter((record) => record.wait === wait && this.children.get(record.id) === record);
    // Stryker disable next-line ArrayDeclaration: only lets go of the members; nothing reads them again (none waits for this wait any more)
    wait.members = [];
    wait.waiting = 0;
    if (members.length === 0) return;
    // Until each is started, the members stay `restarting` (alive for all_significant).
    for (const record of members) record.wait = undefined;
    const restarts = this.history.record(this.config.clock.now(), this.config.period);
    if (exceedsIntensity(restarts, this.config.intensity)) return this.shutdown('shutdown', 'intensity');
    return this.startGroup(members, restarts, 0);
  }

  /**
   * Cancels every pending restart under backoff: none falls due afterwards, and a due one still
   * queued in the mailbox finds its members gone. Restarts already under way are not touched.
   */
  private cancelWaits(): void {
    this.waits.clear();
    for (const record of this.children.values()) {
      if (record.wait === undefined) continue;
      record.wait = undefined;
      record.restarting = false;
    }
  }

  /** The jitter source; one that throws counts as 0 (and is reported), never as a lost restart. */
  private readonly random = (): number => {
    try {
      return this.config.random();
    } catch (error) {
      this.reportInternalError(error);
      return 0;
    }
  };

  private childrenFrom(record: ChildRecord): ChildRecord[] {
    const rest: ChildRecord[] = [];
    let found = false;
    for (const candidate of this.children.values()) {
      found ||= candidate === record;
      if (found) rest.push(candidate);
    }
    return rest;
  }

  /** OTP's `do_auto_shutdown` test: a significant child running or being restarted is alive. */
  private significantChildAlive(): boolean {
    for (const { spec, ref, restarting } of this.children.values()) {
      if (spec.significant && (ref !== undefined || restarting)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- stopping children

  /** Stops one child by its `shutdown` rule; returns a promise only when it has to wait. */
  private stopChild(record: ChildRecord): void | Promise<void> {
    const ref = record.ref;
    if (ref === undefined) return;
    const finish = (): void => {
      record.stopping = undefined;
      this.detach(record);
      this.emitExited(record.id, 'shutdown', undefined);
    };
    const shutdown = record.spec.shutdown;
    const status = (ref.getSnapshot() as { status: string }).status;
    if (status !== 'active' || shutdown === 'brutal_kill' || !acceptsShutdown(ref)) {
      record.stopping = () => undefined;
      killActor(ref);
      finish();
      return;
    }
    return new Promise<void>((resolve) => {
      let timer: unknown;
      record.stopping = () => {
        // Stryker disable next-line ConditionalExpression: a Clock ignores an unknown handle (its contract); the test saves the call
        if (timer !== undefined) this.config.clock.clearTimeout(timer);
        finish();
        resolve();
      };
      if (shutdown !== 'infinity') {
        timer = this.config.clock.setTimeout(() => {
          timer = undefined;
          killActor(ref);
          record.stopping?.();
        }, shutdown);
      }
      ref.send(SHUTDOWN_EVENT);
    });
  }

  /** Stops `records` one after another, in the order given. */
  private stopInOrder(records: ChildRecord[], from = 0): void | Promise<void> {
    for (let index = from; index < records.length; index += 1) {
      const stopped = this.stopChild(records[index]!);
      if (stopped) return stopped.then(() => this.stopInOrder(records, index + 1));
    }
  }

  // ---------------------------------------------------------------- the supervisor's own exit

  /** Stops every child in reverse start order, then exits; `output` is the exit its parent sees. */
  private shutdown(output: SupervisorOutput, cause: ShutdownCause): void | Promise<void> {
    if (this.exiting()) return;
    // Stryker disable next-line StringLiteral: shutdown runs in the mailbox: requests wait behind it, handleExit ignores exits unless running, kill() tests 'exited' only
    this.phase = 'stopping';
    this.cancelWaits();
    const stopped = this.stopInOrder([...this.children.values()].reverse());
    const ending = cause === 'stop' ? 'done' : 'stopped';
    if (stopped) return stopped.then(() => this.exit(output, cause, ending));
    this.exit(output, cause, ending);
  }

  /** The actor was stopped outright: every child goes at once, in reverse order. */
  private kill(): void {
    if (this.phase === 'exited') return;
    this.phase = 'stopping';
    this.cancelWaits();
    for (const record of [...this.children.values()].reverse()) {
      const ref = record.ref;
      if (ref === undefined) continue;
      const gracefulStop = record.stopping;
      record.stopping = () => undefined;
      killActor(ref);
      if (gracefulStop) {
        gracefulStop();
      } else {
        record.stopping = undefined;
        this.detach(record);
        this.emitExited(record.id, 'shutdown', undefined);
      }
    }
    this.exit('shutdown', 'stop', 'killed');
  }

  private exit(output: SupervisorOutput, cause: ShutdownCause, ending: 'done' | 'stopped' | 'killed'): void {
    if (this.phase === 'exited') return;
    this.phase = 'exited';
    // The caller of a start in flight is answered now; a start that never settles holds nothing.
    this.abandonStart?.();
    this.abandonStart = undefined;
    this.waits.clear();
    this.lifetime.abort(new SupervisorError('not_running', this.id));
    for (const [id, record] of this.children) {
      // Nothing is restarted after the exit: no child is shown waiting for it.
      record.restarting = false;
      record.wait = undefined;
      if (record.spec.restart === 'temporary') this.children.delete(id);
    }
    this.history.clear();
    this.config.telemetry.emit(TelemetryEvents.supervisorShutdown, undefined, {
      supervisor: this.id,
      reason: cause === 'intensity' ? 'intensity' : 'stop',
      cause,
    });
    this.resolveExited(output);
    // A supervisor that gives up is seen by its parent as stopped, i.e. a 'shutdown' exit; one that
    // was asked to stop ends in a final state.
    if (ending === 'done') finishSupervisorActor(this.ref, output);
    // Stryker disable next-line ConditionalExpression: the other ending, 'killed', comes from the actor's own stop, where stopping it again does nothing
    else if (ending === 'stopped') killActor(this.ref);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * What the caller of a failed start gets: `not_running` once the supervisor is exiting or has
   * exited (whatever the start did), else `start_failed`.
   */
  private failedStart(childId: string, error: unknown): SupervisorError {
    if (this.exiting()) return new SupervisorError('not_running', this.id, childId);
    return new SupervisorError('start_failed', this.id, childId, error);
  }

  /** Whether the supervisor is going down or gone: it starts nothing and handles no exit any more. */
  private exiting(): boolean {
    return this.phase === 'stopping' || this.phase === 'exited';
  }

  private assertRunning(): void {
    if (this.phase !== 'running') throw new SupervisorError('not_running', this.id);
  }

  /**
   * A record that exists and is not running, or the OTP error saying why not; a child waiting for
   * its backoff delay is refused `restarting` unless `mayWait`.
   */
  private stoppedRecord(id: string, mayWait: boolean): ChildRecord {
    const record = this.children.get(id);
    if (!record) throw new SupervisorError('not_found', this.id, id);
    if (record.ref) throw new SupervisorError('running', this.id, id);
    if (record.restarting && !(mayWait && record.wait !== undefined)) throw new SupervisorError('restarting', this.id, id);
    return record;
  }

  private generateId(): string {
    let id: string;
    do id = `${this.id}#${++this.generatedIds}`;
    while (this.children.has(id));
    return id;
  }

  private emitExited(child: string, reason: ExitReason, error: unknown): void {
    const telemetry = this.config.telemetry;
    // Stryker disable next-line ConditionalExpression: emit does nothing without subscribers; the test saves building the metadata
    if (!telemetry.observed) return;
    const metadata: Record<string, unknown> = { supervisor: this.id, child, reason };
    if (error !== undefined) metadata.error = error;
    telemetry.emit(TelemetryEvents.supervisorChildExited, undefined, metadata);
  }

  private emitRestarted(record: ChildRecord, restarts: number): void {
    const telemetry = this.config.telemetry;
    // Stryker disable next-line ConditionalExpression: emit does nothing without subscribers; the test saves building the metadata
    if (!telemetry.observed) return;
    telemetry.emit(TelemetryEvents.supervisorChildRestarted, { restarts }, { supervisor: this.id, child: record.id });
  }

  private reportInternalError(error: unknown): void {
    process.emitWarning(`supervisor '${this.id}' failed internally: ${error instanceof Error ? error.stack : String(error)}`, {
      type: 'OverseerSupervisorWarning',
      code: 'OVERSEER_SUPERVISOR_INTERNAL',
    });
  }
}

/** The answer to a child request whose id is not a string: refused before it is queued. */
function rejectChildId(method: 'terminateChild' | 'restartChild' | 'deleteChild', id: unknown): Promise<never> {
  return Promise.reject(new InvalidArgumentError(`${method}.id`, id, 'a child id (a string)'));
}
