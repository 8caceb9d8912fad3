import { assign, cancel, enqueueActions, fromCallback, fromPromise, setup, type AnyActorRef } from 'xstate';
import { SHUTDOWN_EVENT, type ShutdownEvent, type StartContext } from '../supervisor/index.js';
import { acceptsShutdown, isActorRef, killActor } from '../supervisor/internal.js';
import type { ClusterLease, LeaseLossReason } from './cluster-lease.js';
import type { ReleaseNotice } from './release-feed.js';

/** What a singleton's `start` is given: the supervisor's start context, the fence, and a signal for this run. */
export interface SingletonStartContext extends StartContext {
  /** The fence of the holding this run works under: hand it to every write the work makes. */
  readonly fence: number;
  /**
   * Aborted when this run ends: the lease was lost, the child is being stopped, or the supervisor
   * exited. Work started by the actor can watch it to stop writing at once.
   */
  readonly signal: AbortSignal;
}

/** What the singleton machine is started with. */
export interface SingletonMachineInput {
  /** The lease that decides where the singleton runs. */
  readonly lease: ClusterLease;
  /** Starts the singleton's actor with this holding's fence (the child spec's `start`). */
  readonly start: (context: SingletonStartContext) => AnyActorRef | Promise<AnyActorRef>;
  /** How long a standby waits between two tries to acquire. */
  readonly retryMs: number;
  /**
   * The longest a graceful stop of the running actor may take (the child's `shutdown`: ms,
   * `Infinity` for `'infinity'`, 0 for `'brutal_kill'`); a lost lease may allow less.
   */
  readonly stopWithinMs: number;
  /** The supervisor's start context of this child (its signal ends the run when the supervisor exits). */
  readonly startContext: StartContext;
  /**
   * Subscribes the machine to the lease's losses, and to its release notices when it has them,
   * when it starts (the shell unsubscribes when it ends).
   */
  readonly watchLease: (self: AnyActorRef) => void;
}

/** The singleton machine's context. */
export interface SingletonContext extends SingletonMachineInput {
  /** The actor `start` returned, while it runs (state `active`); `undefined` otherwise. */
  actor: AnyActorRef | undefined;
  /** This run's fence and abort controller (states `starting` and `active`). */
  fence: number | undefined;
  /** Aborted when this run ends (its signal is the one `start` gets). */
  run: AbortController | undefined;
  /** The clock time by which the running actor must have ended (state `active.stopping`). */
  stopBy: number;
  /** Whether the supervisor asked the singleton to stop: it releases and ends instead of standing by. */
  shutdownRequested: boolean;
  /** Whether the running actor was sent `overseer.shutdown` already. */
  askedToStop: boolean;
  /** Whether a release notice came while a claim was in flight (state `acquiring`): a refusal is then tried again at once. */
  releaseNoticed: boolean;
}

/** The events the singleton machine handles. */
export type SingletonEvent =
  | ShutdownEvent
  | { type: 'lease.lost'; reason: LeaseLossReason; graceMs: number | undefined }
  /** The lease heard that its holder released it (or began to listen): a standby tries at once. */
  | { type: 'lease.released'; notice: ReleaseNotice }
  | { type: 'actor.ended'; actor: AnyActorRef; status: 'done' | 'error' | 'stopped'; error?: unknown; output?: unknown }
  | { type: 'stop.deadline' };

type ActorStatus = 'active' | 'done' | 'error' | 'stopped';

function statusOf(actor: AnyActorRef): { status: ActorStatus; error?: unknown; output?: unknown } {
  return actor.getSnapshot() as { status: ActorStatus; error?: unknown; output?: unknown };
}

/** How long a loss leaves to stop the actor: its grace (none for a lease that does not say, unless unavailable), within the child's bound. */
function stopWithinAfterLoss(context: SingletonContext, event: { reason: LeaseLossReason; graceMs: number | undefined }): number {
  const grace = event.graceMs ?? (event.reason === 'unavailable' ? context.stopWithinMs : 0);
  return Math.min(context.stopWithinMs, Math.max(0, grace));
}

/**
 * A singleton child as an XState machine: the supervisor sees this one actor, which runs the
 * singleton's actor only while the lease is held.
 *
 * - `acquiring` → `starting` when `acquire()` resolves true; → `standby` when it resolves false or
 *   rejects. `standby` → `acquiring` after `retryMs`, or at once on a release notice
 *   (`lease.released`). A notice that comes while a claim is in flight (which the store may have
 *   answered before the release) has a refusal tried again at once, once: a burst of notices
 *   makes at most two claims, and the `retryMs` poll goes on whether notices come or not.
 * - `starting` calls `start({ fence })`; the actor it returns runs (`active`) if the lease is still
 *   held, else it is stopped at once and the singleton stands by. A start that throws or rejects
 *   fails the singleton (an `'error'` exit, which its supervisor counts).
 * - `active.running` → `active.stopping` on a lost lease or on `overseer.shutdown`: the actor is
 *   sent `overseer.shutdown` when it takes part in graceful shutdown, and stopped outright when
 *   the bound passes (the child's `shutdown`, or less: what is left of a lost holding), or at once
 *   when nothing is left. When it has ended: `standby` after a loss, `releasing` after a shutdown.
 * - The actor ending by itself while running ends the singleton the same way: a final state is a
 *   `'normal'` exit (so is being stopped by someone else), an error an `'error'` exit.
 * - `releasing` releases the lease, then the singleton reaches its final state.
 *
 * A lost lease is never an exit: the supervisor sees no restart, and the intensity is untouched.
 */
export const singletonMachine = setup({
  types: {
    context: {} as SingletonContext,
    input: {} as SingletonMachineInput,
    events: {} as SingletonEvent,
  },
  actors: {
    acquire: fromPromise<boolean, ClusterLease>(({ input }) => input.acquire()),
    release: fromPromise<void, ClusterLease>(({ input }) => input.release()),
    start: fromPromise<AnyActorRef, { start: SingletonMachineInput['start']; context: SingletonStartContext }>(async ({ input, signal }) => {
      const actor = await input.start(input.context);
      if (!isActorRef(actor)) throw new TypeError(`a singleton's start() must return an XState actor, got ${String(actor)}`);
      // The singleton was stopped while the start was in flight: nothing it returned may run.
      if (signal.aborted) killActor(actor);
      return actor;
    }),
    /** Starts the running actor and reports its end; leaving `active` stops it if it still runs. */
    watchActor: fromCallback<SingletonEvent, AnyActorRef>(({ input: actor, sendBack }) => {
      const ended = (error?: unknown): void => {
        const snapshot = statusOf(actor);
        const status = error !== undefined || snapshot.status === 'error' ? 'error' : snapshot.status === 'done' ? 'done' : 'stopped';
        sendBack({ type: 'actor.ended', actor, status, error: error ?? snapshot.error, output: snapshot.output });
      };
      if (statusOf(actor).status !== 'active') {
        ended();
        return () => undefined;
      }
      const subscription = actor.subscribe({ error: (error: unknown) => ended(error ?? new Error('actor failed')), complete: () => ended() });
      actor.start();
      return () => {
        subscription.unsubscribe();
        if (statusOf(actor).status === 'active') killActor(actor);
      };
    }),
  },
  guards: {
    granted: ({ context, event }) => (event as unknown as { output: unknown }).output === true && context.lease.isHeld(),
    shutdownRequested: ({ context }) => context.shutdownRequested,
    releaseNoticed: ({ context }) => context.releaseNoticed,
    leaseHeld: ({ context }) => context.lease.isHeld() && context.lease.fence === context.fence,
    staleEnd: ({ context, event }) => (event as { actor?: AnyActorRef }).actor !== context.actor,
    actorFailed: ({ event }) => (event as { status?: string }).status === 'error',
  },
  actions: {
    watchLease: ({ context, self }) => context.watchLease(self as AnyActorRef),
    noteShutdown: assign({ shutdownRequested: true }),
    forgetRelease: assign({ releaseNoticed: false }),
    noteRelease: assign({ releaseNoticed: true }),
    beginRun: assign({
      fence: ({ context }) => context.lease.fence,
      run: () => new AbortController(),
    }),
    endRun: assign(({ context }) => {
      context.run?.abort(new Error('the singleton run ended'));
      return { actor: undefined, fence: undefined, run: undefined, stopBy: Infinity, askedToStop: false };
    }),
    discardStarted: ({ event }) => {
      const actor = (event as unknown as { output?: AnyActorRef }).output;
      if (actor !== undefined) killActor(actor);
    },
    fail: ({ event }) => {
      const error = (event as { error?: unknown }).error;
      throw error ?? new Error('the singleton failed');
    },
    stopForLoss: assign({
      stopBy: ({ context, event }) => {
        const within = stopWithinAfterLoss(context, event as Extract<SingletonEvent, { type: 'lease.lost' }>);
        return Math.min(context.stopBy, context.startContext.clock.now() + within);
      },
    }),
    stopForShutdown: assign({
      shutdownRequested: true,
      stopBy: ({ context }) => Math.min(context.stopBy, context.startContext.clock.now() + context.stopWithinMs),
    }),
    /** Asks the actor to stop (once), or stops it now when no time is left or it cannot be asked; arms the bound. */
    askToStop: enqueueActions(({ context, enqueue }) => {
      const actor = context.actor;
      if (actor === undefined) return;
      const left = context.stopBy - context.startContext.clock.now();
      // Asked once already, it is draining (and may no longer take the event): only the bound changes.
      if (left <= 0 || (!context.askedToStop && !acceptsShutdown(actor))) {
        enqueue(() => killActor(actor));
        return;
      }
      if (!context.askedToStop) {
        enqueue.assign({ askedToStop: true });
        enqueue(() => actor.send(SHUTDOWN_EVENT));
      }
      if (Number.isFinite(left)) enqueue.raise({ type: 'stop.deadline' }, { id: 'stop-deadline', delay: left });
    }),
    killRunning: ({ context }) => {
      if (context.actor !== undefined) killActor(context.actor);
    },
  },
  delays: {
    retry: ({ context }) => context.retryMs,
  },
}).createMachine({
  id: 'singleton',
  context: ({ input }) => ({
    ...input,
    actor: undefined,
    fence: undefined,
    run: undefined,
    stopBy: Infinity,
    shutdownRequested: false,
    askedToStop: false,
    releaseNoticed: false,
  }),
  entry: 'watchLease',
  initial: 'acquiring',
  // Every state takes part in graceful shutdown; those below say how.
  on: { 'overseer.shutdown': { actions: 'noteShutdown' } },
  states: {
    standby: {
      after: { retry: 'acquiring' },
      on: {
        'overseer.shutdown': { target: 'releasing', actions: 'noteShutdown' },
        'lease.released': 'acquiring',
      },
    },
    acquiring: {
      // Notices before this claim are answered by it; only those during it can be missed by it.
      entry: 'forgetRelease',
      invoke: {
        src: 'acquire',
        input: ({ context }) => context.lease,
        onDone: [{ guard: 'granted', target: 'starting' }, { guard: 'releaseNoticed', target: 'acquiring', reenter: true }, { target: 'standby' }],
        onError: 'standby',
      },
      on: {
        'overseer.shutdown': { target: 'releasing', actions: 'noteShutdown' },
        'lease.released': { actions: 'noteRelease' },
      },
    },
    starting: {
      entry: 'beginRun',
      invoke: {
        src: 'start',
        input: ({ context }) => ({
          start: context.start,
          context: {
            ...context.startContext,
            fence: context.fence!,
            signal: AbortSignal.any([context.run!.signal, context.startContext.signal]),
          },
        }),
        onDone: [
          { guard: 'shutdownRequested', target: 'releasing', actions: ['discardStarted', 'endRun'] },
          { guard: 'leaseHeld', target: 'active', actions: assign({ actor: ({ event }) => event.output }) },
          { target: 'standby', actions: ['discardStarted', 'endRun'] },
        ],
        onError: { actions: ['endRun', 'fail'] },
      },
    },
    active: {
      invoke: { src: 'watchActor', input: ({ context }) => context.actor! },
      exit: 'endRun',
      initial: 'running',
      states: {
        running: {
          on: {
            'lease.lost': { target: 'stopping', actions: 'stopForLoss' },
            'overseer.shutdown': { target: 'stopping', actions: 'stopForShutdown' },
            // Ending by itself: a final state (or being stopped by someone else) is a normal exit.
            'actor.ended': [{ guard: 'staleEnd' }, { guard: 'actorFailed', actions: 'fail' }, { target: '#singleton.done' }],
          },
        },
        stopping: {
          entry: 'askToStop',
          exit: cancel('stop-deadline'),
          on: {
            // A tighter bound re-enters: the deadline is armed again for what is left.
            'lease.lost': { target: 'stopping', reenter: true, actions: 'stopForLoss' },
            'overseer.shutdown': { target: 'stopping', reenter: true, actions: 'stopForShutdown' },
            'stop.deadline': { actions: 'killRunning' },
            'actor.ended': [
              { guard: 'staleEnd' },
              { guard: 'shutdownRequested', target: '#singleton.releasing' },
              { target: '#singleton.standby' },
            ],
          },
        },
      },
    },
    releasing: {
      invoke: { src: 'release', input: ({ context }) => context.lease, onDone: 'done', onError: 'done' },
    },
    done: { type: 'final' },
  },
});
