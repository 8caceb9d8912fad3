import { createActor, type AnyActorRef } from 'xstate';
import { ConfigError } from '../core/index.js';
import { boolean, callable, finiteNumber, integer, nonEmptyString, oneOf, record } from '../core/validate.js';
import type { ChildSpec, Shutdown, StartContext } from '../supervisor/index.js';
import { splitChildOptions } from '../supervisor/internal.js';
import type { ClusterLease } from './cluster-lease.js';
import { presentRef } from './presented-ref.js';
import { killActor } from '../supervisor/internal.js';
import { singletonMachine, type SingletonContext, type SingletonStartContext } from './singleton-machine.js';

/** Options of {@link singletonChild}: its own, and the child-spec fields (`restart`, `shutdown`, ...). */
export type SingletonChildOptions = {
  /** The child's id among its supervisor's children. Required. */
  id: string;
  /** The lease that decides which process runs the singleton. Required. */
  lease: ClusterLease;
  /** Creates the singleton's actor for a holding, given its fence (and the supervisor's start context). */
  start: (context: SingletonStartContext) => AnyActorRef | Promise<AnyActorRef>;
  /**
   * How often a standby tries to acquire the lease, in ms (more than 0). Default the lease's `ttlMs / 3`
   * (5000 when it does not say). A lease with `onReleased` (the store leases) also wakes a standby
   * at once when its holder releases; this poll goes on as the fallback.
   */
  retryMs?: number;
} & Omit<ChildSpec, 'id' | 'start'>;

const leaseMethods = ['acquire', 'release', 'isHeld', 'onLost'] as const;

function resolveLease(value: unknown): ClusterLease {
  const lease = record('lease', value) as unknown as ClusterLease;
  for (const method of leaseMethods) {
    if (typeof lease[method] !== 'function') throw new ConfigError(`lease.${method}`, lease[method], 'a function (a ClusterLease)');
  }
  if (lease.onReleased !== undefined && typeof lease.onReleased !== 'function') {
    throw new ConfigError('lease.onReleased', lease.onReleased, 'a function (a ClusterLease), or absent');
  }
  return lease;
}

/** The child's `shutdown` as the longest graceful stop of its actor, in ms. */
function stopWithin(shutdown: unknown, type: 'worker' | 'supervisor'): number {
  if (shutdown === undefined) return type === 'supervisor' ? Infinity : 5000;
  if (shutdown === 'infinity') return Infinity;
  if (shutdown === 'brutal_kill') return 0;
  return integer('shutdown', shutdown, 0, 0);
}

/**
 * A child spec, for any supervisor, that runs an actor in at most one process at a time: the
 * one holding `lease`. The supervisor sees one child whose actor stands by, tries to acquire the
 * lease every `retryMs` (and at once when the lease hears, through `onReleased`, that its holder
 * released it), and once it holds it calls `start({ fence })` and runs the actor that returns.
 * The actor is stopped (through the shutdown protocol, bounded by the child's
 * `shutdown` and by what is left of the holding) before the lease can expire anywhere: when a
 * renewal fails, when the lease is taken, or when its local deadline passes (a blocked event
 * loop); the child then stands by again, which is not an exit (no restart, nothing counted
 * against the intensity). A standby that takes over starts the actor with the new, larger fence.
 *
 * Stopping the child (supervisor `stop()`, `terminateChild`) stops the actor and releases the
 * lease, so a standby elsewhere takes over at once rather than after the TTL. The actor ending by
 * itself ends the child the same way it would end a plain child (`'normal'` or `'error'`), and
 * the lease is released. `whichChildren()` shows the actor `start` returned while it runs, and
 * `ref: undefined` while the child stands by (with a supervisor that reads
 * `presentedRefKey`; see `presented-ref.ts`).
 *
 * @example
 * ```ts
 * const lease = createPostgresLease({ name: 'invoice-numbering', pool });
 * await startSupervisor({
 *   children: [singletonChild({ id: 'numbering', lease, start: ({ fence }) => createActor(numberer, { input: { fence } }) })],
 * });
 * ```
 */
export function singletonChild(options: SingletonChildOptions): ChildSpec {
  const fields = record('options', options);
  const id = nonEmptyString('id', fields.id);
  const lease = resolveLease(fields.lease);
  const start = callable<SingletonChildOptions['start']>('start', fields.start);
  const defaultRetryMs = typeof lease.ttlMs === 'number' && lease.ttlMs > 0 ? lease.ttlMs / 3 : 5000;
  const retryMs = finiteNumber('retryMs', fields.retryMs, defaultRetryMs, 0);
  if (retryMs <= 0) throw new ConfigError('retryMs', fields.retryMs, 'a finite number > 0');
  oneOf('restart', fields.restart, ['permanent', 'transient', 'temporary'] as const, 'permanent');
  const type = oneOf('type', fields.type, ['worker', 'supervisor'] as const, 'worker');
  boolean('significant', fields.significant, false);
  const stopWithinMs = stopWithin(fields.shutdown as Shutdown | undefined, type);
  const { child } = splitChildOptions(options);
  return {
    id,
    ...child,
    start: (context: StartContext): AnyActorRef => startSingleton({ lease, start, retryMs, stopWithinMs }, context),
  };
}

/**
 * Creates the singleton's actor (the supervisor starts it), presenting the running actor to the
 * supervisor; when it ends, however it ends, the lease listener goes, the running actor is stopped
 * and the lease released (XState does not stop a failed machine's children).
 */
function startSingleton(
  options: { lease: ClusterLease; start: SingletonChildOptions['start']; retryMs: number; stopWithinMs: number },
  startContext: StartContext,
): AnyActorRef {
  const { lease } = options;
  let unsubscribe: (() => void) | undefined;
  const actor = createActor(singletonMachine, {
    clock: startContext.clock,
    input: {
      ...options,
      startContext,
      watchLease: (self) => {
        const lost = lease.onLost((reason, loss) => self.send({ type: 'lease.lost', reason, graceMs: loss?.graceMs }));
        const released = lease.onReleased?.((notice) => self.send({ type: 'lease.released', notice }));
        unsubscribe = () => {
          lost();
          released?.();
        };
      },
    },
  });
  const contextOf = (): SingletonContext => (actor.getSnapshot() as { context: SingletonContext }).context;
  presentRef(actor as unknown as AnyActorRef, () => (actor.getSnapshot().status === 'active' ? contextOf().actor : undefined));
  const ended = (): void => {
    unsubscribe?.();
    unsubscribe = undefined;
    const { actor: running, run } = contextOf();
    run?.abort(new Error('the singleton ended'));
    if (running !== undefined) killActor(running);
    lease.release().catch(() => undefined);
  };
  actor.subscribe({ complete: ended, error: ended });
  return actor as unknown as AnyActorRef;
}
