import type { AnyActorRef } from 'xstate';
import type { Clock } from '../clock/index.js';
import { describeValue } from '../core/index.js';
import { TelemetryEvents, type Telemetry } from '../telemetry/index.js';
import type { ResolvedChildSpec } from './child-spec.js';
import { SupervisorError } from './errors.js';
import { RestartHistory, exceedsIntensity } from './restart-intensity.js';
import { autoShutdownDue, shouldRestart } from './restart-policy.js';
import { SerialExecutor } from './serial-executor.js';
import { SHUTDOWN_EVENT, acceptsShutdown, exitReasonOf, isActorRef, killActor } from './shutdown-protocol.js';
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
}

/** One child as its supervisor keeps it. */
interface ChildRecord {
  readonly id: string;
  /** Shared by every child started from the same spec (a dynamic supervisor's children often are). */
  readonly spec: ResolvedChildSpec;
  ref: AnyActorRef | undefined;
  /** Set while the supervisor itself stops the child: the exit it sees is the one it asked for. */
  stopping: (() => void) | undefined;
  /** A restart of this child failed and is to be tried again (OTP's `{restarting, Pid}`). */
  restarting: boolean;
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
 */
export class SupervisorEngine {
  readonly ref: AnyActorRef;
  readonly exited: Promise<SupervisorOutput>;
  private resolveExited!: (output: SupervisorOutput) => void;
  private readonly children = new Map<string, ChildRecord>();
  private readonly history = new RestartHistory();
  private readonly executor: SerialExecutor;
  private readonly startContext: StartContext;
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
    this.startContext = Object.freeze({
      supervisor: config.id,
      clock: config.clock,
      telemetry: config.telemetry,
      signal: this.lifetime.signal,
    });
    this.ref = startSupervisorActor(config.id, handle, {
      onShutdownRequested: () => this.executor.run(() => this.shutdown('shutdown', 'stop')),
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
    return this.executor.call(() => {
      this.assertRunning();
      const record = this.children.get(id);
      if (!record) throw new SupervisorError('not_found', this.id, id);
      record.restarting = false;
      const forgetIfTemporary = (): void => {
        if (record.spec.restart === 'temporary' || this.config.dynamic) this.children.delete(id);
      };
      const stopped = this.stopChild(record);
      if (stopped) return stopped.then(forgetIfTemporary);
      forgetIfTemporary();
    });
  }

  /** OTP `restart_child`: starts a child whose spec is kept but which is not running. */
  restartChild(id: string): Promise<AnyActorRef> {
    return this.executor.call(() => {
      this.assertRunning();
      const record = this.stoppedRecord(id);
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
    return this.executor.call(() => {
      this.assertRunning();
      this.stoppedRecord(id);
      this.children.delete(id);
    });
  }

  /** The children in start order; `ref` is undefined for those not running. */
  whichChildren(): ChildInfo[] {
    const list: ChildInfo[] = [];
    for (const { id, spec, ref } of this.children.values()) {
      list.push({ id, ref, type: spec.type, restart: spec.restart });
    }
    return list;
  }

  /** OTP `count_children`. */
  countChildren(): ChildCounts {
    const counts: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
    for (const { spec, ref } of this.children.values()) {
      counts.specs += 1;
      if (ref) counts.active += 1;
      if (spec.type === 'supervisor') counts.supervisors += 1;
      else counts.workers += 1;
    }
    return counts;
  }

  /** Stops every child in reverse start order and exits `'normal'`. */
  async stop(): Promise<void> {
    if (this.phase !== 'exited') this.executor.run(() => this.shutdown('normal', 'stop'));
    await this.exited;
  }

  // ---------------------------------------------------------------- starting children

  private addRecord(spec: ResolvedChildSpec, id = spec.id): ChildRecord {
    const record: ChildRecord = { id, spec, ref: undefined, stopping: undefined, restarting: false };
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
      const abandon = (): void => reject(new SupervisorError('not_running', this.id, record.id));
      const settled = (): void => {
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
    if (!isActorRef(ref)) throw new TypeError(`start() must return an XState actor, got ${describeValue(ref)}`);
    if (this.phase === 'stopping' || this.phase === 'exited') {
      killActor(ref);
      throw new SupervisorError('not_running', this.id, record.id);
    }
    const before = ref.getSnapshot() as { status: string; error?: unknown };
    if (before.status === 'error') throw before.error;
    record.ref = ref;
    record.restarting = false;
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
    if (this.phase === 'stopping' || this.phase === 'exited') return;
    this.executor.run(() => this.handleExit(record, ref, reason, error));
  }

  private handleExit(record: ChildRecord, ref: AnyActorRef, reason: ExitReason, error: unknown): void | Promise<void> {
    if (record.ref !== ref || this.phase !== 'running') return;
    this.detach(record);
    this.emitExited(record.id, reason, error);
    if (shouldRestart(record.spec.restart, reason)) return this.restart(record);
    if (record.spec.restart === 'temporary' || this.config.dynamic) this.children.delete(record.id);
    if (record.spec.significant && autoShutdownDue(this.config.autoShutdown, this.significantChildAlive())) {
      return this.shutdown('shutdown', 'auto_shutdown');
    }
  }

  /** Counts the restart against the intensity, then restarts by the strategy or gives up. */
  private restart(record: ChildRecord): void | Promise<void> {
    const restarts = this.history.record(this.config.clock.now(), this.config.period);
    if (exceedsIntensity(restarts, this.config.intensity)) return this.shutdown('shutdown', 'intensity');
    switch (this.config.strategy) {
      case 'one_for_one':
        return this.startGroup([record], restarts, 0);
      case 'one_for_all':
        return this.restartGroup(record, [...this.children.values()], restarts);
      case 'rest_for_one':
        return this.restartGroup(record, this.childrenFrom(record), restarts);
    }
  }

  /** Stops the group (all but the failed child, in reverse), drops its temporaries, starts it again. */
  private restartGroup(failed: ChildRecord, group: ChildRecord[], restarts: number): void | Promise<void> {
    const toStop = group.filter((record) => record !== failed && record.ref !== undefined).reverse();
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
          (error: unknown) => {
            if (this.phase === 'running') this.retryLater(record, error);
          },
        );
      }
      this.emitRestarted(record, restarts);
    }
  }

  /** OTP's `try_again_restart`: a failed restart counts as a restart and is tried again in turn. */
  private retryLater(record: ChildRecord, error: unknown): void {
    record.restarting = true;
    if (this.config.telemetry.observed) {
      this.config.telemetry.emit(TelemetryEvents.supervisorChildStartFailed, undefined, {
        supervisor: this.id,
        child: record.id,
        error,
      });
    }
    this.executor.run(() => {
      if (this.phase !== 'running' || !record.restarting || this.children.get(record.id) !== record) return;
      return this.restart(record);
    });
  }

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
    if (this.phase === 'stopping' || this.phase === 'exited') return;
    this.phase = 'stopping';
    const stopped = this.stopInOrder([...this.children.values()].reverse());
    const ending = cause === 'stop' ? 'done' : 'stopped';
    if (stopped) return stopped.then(() => this.exit(output, cause, ending));
    this.exit(output, cause, ending);
  }

  /** The actor was stopped outright: every child goes at once, in reverse order. */
  private kill(): void {
    if (this.phase === 'exited') return;
    this.phase = 'stopping';
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
    this.lifetime.abort(new SupervisorError('not_running', this.id));
    for (const [id, record] of this.children) if (record.spec.restart === 'temporary') this.children.delete(id);
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
    else if (ending === 'stopped') killActor(this.ref);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * What the caller of a failed start gets: `not_running` once the supervisor is exiting or has
   * exited (whatever the start did), else `start_failed`.
   */
  private failedStart(childId: string, error: unknown): SupervisorError {
    if (this.phase === 'stopping' || this.phase === 'exited') return new SupervisorError('not_running', this.id, childId);
    return new SupervisorError('start_failed', this.id, childId, error);
  }

  private assertRunning(): void {
    if (this.phase !== 'running') throw new SupervisorError('not_running', this.id);
  }

  /** A record that exists and is not running, or the OTP error saying why not. */
  private stoppedRecord(id: string): ChildRecord {
    const record = this.children.get(id);
    if (!record) throw new SupervisorError('not_found', this.id, id);
    if (record.ref) throw new SupervisorError('running', this.id, id);
    if (record.restarting) throw new SupervisorError('restarting', this.id, id);
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
    if (!telemetry.observed) return;
    const metadata: Record<string, unknown> = { supervisor: this.id, child, reason };
    if (error !== undefined) metadata.error = error;
    telemetry.emit(TelemetryEvents.supervisorChildExited, undefined, metadata);
  }

  private emitRestarted(record: ChildRecord, restarts: number): void {
    const telemetry = this.config.telemetry;
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
