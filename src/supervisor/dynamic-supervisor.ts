import { attempt } from '../core/index.js';
import { sameBackoff } from './backoff.js';
import { resolveChildSpec, resolveDynamicOptions, type ResolvedChildSpec } from './child-spec.js';
import { resolveSupervisorOptions } from './start-supervisor.js';
import { SupervisorEngine } from './supervisor-engine.js';
import type { DynamicChildSpec, DynamicSupervisor, DynamicSupervisorOptions } from './types.js';

/** Whether two resolved specs start and treat children alike (their ids aside). */
// Stryker disable next-line BlockStatement: answering "not alike" only stops the sharing, which saves memory and changes no behaviour
function sameBehaviour(a: ResolvedChildSpec, b: ResolvedChildSpec): boolean {
  return (
    // Stryker disable next-line ConditionalExpression: `false` only stops the sharing (memory, no behaviour); `true` is killed by dynamic-shared-spec.spec.ts
    a.start === b.start &&
    a.restart === b.restart &&
    a.shutdown === b.shutdown &&
    a.type === b.type &&
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a dynamic supervisor's autoShutdown is 'never', so no child of it is significant
    a.significant === b.significant &&
    sameBackoff(a.backoff, b.backoff)
  );
}

/**
 * Starts a dynamic supervisor (Elixir's DynamicSupervisor, OTP's simple_one_for_one): no
 * children at first, one_for_one restarts of the children started on demand, at most
 * `maxChildren` of them. Children that will not be restarted (temporary ones, transient ones that
 * ended normally, terminated ones) are forgotten. Child ids are generated when not given. A
 * `backoff` option is the default of children that give none (see {@link Backoff}). Bad
 * options reject with `ConfigError`.
 *
 * @example
 * ```ts
 * const sessions = await startDynamicSupervisor({ maxChildren: 10_000 });
 * const { id } = await sessions.startChild({ start: () => createActor(sessionMachine), restart: 'temporary' });
 * ```
 */
export function startDynamicSupervisor(options: DynamicSupervisorOptions = {}): Promise<DynamicSupervisor> {
  return attempt(() => launchDynamicSupervisor(options));
}

/** Validates the options (throwing `ConfigError`), creates the supervisor and resolves once it runs. */
function launchDynamicSupervisor(options: DynamicSupervisorOptions): Promise<DynamicSupervisor> {
  const { id, clock, telemetry, random } = resolveSupervisorOptions(options, 'dynamic-supervisor');
  const { intensity, period, maxChildren, backoff } = resolveDynamicOptions(options as Record<string, unknown>);
  const handle = {} as DynamicSupervisor;
  // Children started alike share one resolved spec (each keeps its own id): less memory per child.
  let shared: ResolvedChildSpec | undefined;
  const engine = new SupervisorEngine(
    { id, clock, telemetry, strategy: 'one_for_one', intensity, period, autoShutdown: 'never', dynamic: true, maxChildren, random },
    handle,
  );
  Object.assign(handle, {
    id,
    ref: engine.ref,
    exited: engine.exited,
    startChild(spec: DynamicChildSpec) {
      return attempt(() => {
        const resolved = resolveChildSpec(spec, 'never', 'spec', { idRequired: false, backoff });
        // Stryker disable next-line ConditionalExpression: always taking the new spec only stops the sharing (memory, no behaviour)
        if (shared === undefined || !sameBehaviour(shared, resolved)) shared = resolved;
        return engine.startChild(shared, resolved.id);
      });
    },
    terminateChild: (childId: string) => engine.terminateChild(childId),
    whichChildren: () => engine.whichChildren(),
    countChildren: () => engine.countChildren(),
    stop: () => engine.stop(),
    [Symbol.asyncDispose]: () => engine.stop(),
  } satisfies DynamicSupervisor);
  return engine.startInitialChildren([]).then(() => Object.freeze(handle));
}
