import { systemClock, type Clock } from '../clock/index.js';
import { attempt, ConfigError } from '../core/index.js';
import { callable, clockOption, nonEmptyString, record as objectOption, telemetryOption } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';
import { resolveBackoff } from './backoff.js';
import { resolveChildSpec, resolveSupervisorSpec } from './child-spec.js';
import { killActor } from './shutdown-protocol.js';
import { SupervisorEngine } from './supervisor-engine.js';
import type { ChildSpec, Supervisor, SupervisorOptions, SupervisorSpec } from './types.js';

let supervisorsStarted = 0;

/** Resolves the options every supervisor takes: its id, clock, telemetry and backoff jitter source. */
export function resolveSupervisorOptions(options: SupervisorOptions | undefined, kind: string) {
  const fields = options === undefined ? {} : objectOption('options', options);
  const random = fields.random === undefined ? Math.random : callable<() => number>('random', fields.random);
  const id = fields.id === undefined ? `${kind}-${++supervisorsStarted}` : nonEmptyString('id', fields.id);
  const clock = clockOption<Clock>('clock', fields.clock, systemClock);
  const telemetry = telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry);
  return { id, clock, telemetry, random };
}

/**
 * Starts a static supervisor: validates the spec (a {@link ConfigError} rejects before anything
 * starts), then starts the children in order. Resolves once all are running; if one fails to
 * start, stops those already started and rejects with `SupervisorError('start_failed')` naming it.
 * A child with a `backoff` (its own or the spec's) waits before each restart instead of being
 * restarted at once; see {@link Backoff}.
 *
 * @example
 * ```ts
 * const root = await startSupervisor({
 *   strategy: 'one_for_one', intensity: 3, period: 5000,
 *   children: [
 *     { id: 'ticker', start: () => createActor(tickerMachine) },
 *     { id: 'listener', start: () => createActor(listenerMachine), backoff: { minMs: 500, maxMs: 30_000 } },
 *   ],
 * });
 * ```
 */
export function startSupervisor(spec: SupervisorSpec, options?: SupervisorOptions): Promise<Supervisor> {
  return attempt(() => launchSupervisor(spec, options).started);
}

/**
 * Validates the spec (throwing {@link ConfigError}), creates the supervisor and starts its
 * children; returns its engine at once, with the promise of the started supervisor.
 */
function launchSupervisor(
  spec: SupervisorSpec,
  options: SupervisorOptions | undefined,
): { engine: SupervisorEngine; started: Promise<Supervisor> } {
  const resolved = resolveSupervisorSpec(spec);
  const { id, clock, telemetry, random } = resolveSupervisorOptions(options, 'supervisor');
  const handle = {} as Supervisor;
  const engine = new SupervisorEngine(
    {
      id,
      clock,
      telemetry,
      strategy: resolved.strategy,
      intensity: resolved.intensity,
      period: resolved.period,
      autoShutdown: resolved.autoShutdown,
      dynamic: false,
      maxChildren: Number.MAX_SAFE_INTEGER,
      random,
    },
    handle,
  );
  Object.assign(handle, {
    id,
    strategy: resolved.strategy,
    ref: engine.ref,
    exited: engine.exited,
    whichChildren: () => engine.whichChildren(),
    countChildren: () => engine.countChildren(),
    startChild: (child: ChildSpec) =>
      attempt(() => engine.startChild(resolveChildSpec(child, resolved.autoShutdown, 'spec', { backoff: resolved.backoff }))).then(
        (started) => started.ref,
      ),
    terminateChild: (childId: string) => engine.terminateChild(childId),
    restartChild: (childId: string) => engine.restartChild(childId),
    deleteChild: (childId: string) => engine.deleteChild(childId),
    stop: () => engine.stop(),
    [Symbol.asyncDispose]: () => engine.stop(),
  } satisfies Supervisor);
  return { engine, started: engine.startInitialChildren(resolved.children).then(() => Object.freeze(handle)) };
}

/**
 * A child spec that runs a nested supervisor: `start` starts it with the parent's clock and
 * telemetry, under the id `<parent>/<id>`; the spec is checked here (a {@link ConfigError} is
 * thrown). Should the parent exit while the nested supervisor is still starting, it is killed.
 * Its default `shutdown` is `'infinity'`: the nested supervisor stops its own children, each
 * within its own shutdown time, before it reports back.
 * When it exceeds its restart intensity it exits with `'shutdown'`, which its parent handles
 * like any child exit (a permanent nested supervisor is restarted, counting against the parent's
 * intensity: escalation); with `options.backoff` the parent waits before restarting it, while
 * `spec.backoff` is the nested supervisor's default for its own children.
 *
 * @example
 * ```ts
 * children: [supervisorChild('billing', { strategy: 'one_for_all', children: [...] })]
 * ```
 */
export function supervisorChild(
  id: string,
  spec: SupervisorSpec,
  options: Omit<ChildSpec, 'id' | 'start' | 'type'> = {},
): ChildSpec {
  nonEmptyString('id', id);
  resolveSupervisorSpec(spec);
  const extra = objectOption('options', options);
  for (const key of ['id', 'start', 'type']) {
    if (key in extra) throw new ConfigError(`options.${key}`, extra[key], 'absent (supervisorChild sets it)');
  }
  resolveBackoff('options.backoff', extra.backoff);
  return {
    restart: 'permanent',
    shutdown: 'infinity',
    ...options,
    id,
    type: 'supervisor',
    start: (context) =>
      attempt(() => {
        const { engine, started } = launchSupervisor(spec, {
          id: `${context.supervisor}/${id}`,
          clock: context.clock,
          telemetry: context.telemetry,
        });
        // OTP links a nested supervisor to its parent before it starts its children: should the
        // parent exit while they are still starting, the nested supervisor is killed with them.
        const signal = context.signal as AbortSignal | undefined;
        const killWithParent = (): void => killActor(engine.ref);
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal fires 'abort' at most once and release() removes the listener, so `once` changes nothing seen
        signal?.addEventListener('abort', killWithParent, { once: true });
        if (signal?.aborted) killWithParent();
        const release = (): void => signal?.removeEventListener('abort', killWithParent);
        return started.then(
          (nested) => {
            release();
            return nested.ref;
          },
          (error: unknown) => {
            release();
            throw error;
          },
        );
      }),
  };
}
