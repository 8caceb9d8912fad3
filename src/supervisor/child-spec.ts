import { ConfigError } from '../core/index.js';
import { boolean, callable, integer, nonEmptyString, oneOf, record } from '../core/validate.js';
import type { ChildSpec, Restart, Shutdown, StartContext, Strategy } from './types.js';
import type { AnyActorRef } from 'xstate';
import { resolveBackoff, type ResolvedBackoff } from './backoff.js';

/** A child spec with every default applied, frozen. */
export interface ResolvedChildSpec {
  readonly id: string;
  readonly start: (context: StartContext) => AnyActorRef | Promise<AnyActorRef>;
  readonly restart: Restart;
  readonly shutdown: Shutdown;
  readonly type: 'worker' | 'supervisor';
  readonly significant: boolean;
  /** Its own `backoff`, else its supervisor's; `undefined`: restarted at once. */
  readonly backoff: ResolvedBackoff | undefined;
}

/** A supervisor spec with every default applied, frozen. */
export interface ResolvedSupervisorSpec {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly period: number;
  readonly autoShutdown: 'never' | 'any_significant' | 'all_significant';
  /** The default backoff of its children. */
  readonly backoff: ResolvedBackoff | undefined;
  readonly children: readonly ResolvedChildSpec[];
}

const strategies: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
const restarts: readonly Restart[] = ['permanent', 'transient', 'temporary'];
const autoShutdowns = ['never', 'any_significant', 'all_significant'] as const;

function resolveShutdown(option: string, value: unknown, type: 'worker' | 'supervisor'): Shutdown {
  if (value === undefined) return type === 'supervisor' ? 'infinity' : 5000;
  if (value === 'brutal_kill' || value === 'infinity') return value;
  return integer(option, value, 0, 0);
}

/**
 * Validates one child spec against the supervisor's `autoShutdown`, applying defaults (the
 * supervisor's `backoff` among them).
 */
export function resolveChildSpec(
  spec: unknown,
  autoShutdown: ResolvedSupervisorSpec['autoShutdown'],
  path = 'child',
  options: { idRequired?: boolean; backoff?: ResolvedBackoff | undefined } = {},
): ResolvedChildSpec {
  const fields = record(path, spec);
  const id = options.idRequired === false && fields.id === undefined ? '' : nonEmptyString(`${path}.id`, fields.id);
  const start = callable<ResolvedChildSpec['start']>(`${path}.start`, fields.start);
  const restart = oneOf(`${path}.restart`, fields.restart, restarts, 'permanent');
  const type = oneOf(`${path}.type`, fields.type, ['worker', 'supervisor'] as const, 'worker');
  const shutdown = resolveShutdown(`${path}.shutdown`, fields.shutdown, type);
  const significant = boolean(`${path}.significant`, fields.significant, false);
  if (significant && restart === 'permanent') {
    throw new ConfigError(`${path}.significant`, significant, 'false for a permanent child (only transient or temporary children can be significant)');
  }
  if (significant && autoShutdown === 'never') {
    throw new ConfigError(`${path}.significant`, significant, "false under autoShutdown 'never'");
  }
  const backoff = resolveBackoff(`${path}.backoff`, fields.backoff) ?? options.backoff;
  return Object.freeze({ id, start, restart, shutdown, type, significant, backoff });
}

/** Validates a whole supervisor spec, applying defaults; throws {@link ConfigError} on the first fault. */
export function resolveSupervisorSpec(spec: unknown): ResolvedSupervisorSpec {
  const fields = record('spec', spec);
  const strategy = oneOf('strategy', fields.strategy, strategies, 'one_for_one');
  const intensity = integer('intensity', fields.intensity, 1, 0);
  const period = integer('period', fields.period, 5000, 1);
  const autoShutdown = oneOf('autoShutdown', fields.autoShutdown, autoShutdowns, 'never');
  const backoff = resolveBackoff('backoff', fields.backoff);
  if (!Array.isArray(fields.children)) throw new ConfigError('children', fields.children, 'an array of child specs');
  const seen = new Set<string>();
  const children = fields.children.map((child: unknown, index: number) => {
    const resolved = resolveChildSpec(child, autoShutdown, `children[${index}]`, { backoff });
    if (seen.has(resolved.id)) throw new ConfigError(`children[${index}].id`, resolved.id, 'an id no other child has');
    seen.add(resolved.id);
    return resolved;
  });
  return Object.freeze({ strategy, intensity, period, autoShutdown, backoff, children: Object.freeze(children) });
}

/** Validates the restart options of a dynamic supervisor. */
export function resolveDynamicOptions(options: Record<string, unknown>): {
  intensity: number;
  period: number;
  maxChildren: number;
  backoff: ResolvedBackoff | undefined;
} {
  return {
    intensity: integer('intensity', options.intensity, 1, 0),
    period: integer('period', options.period, 5000, 1),
    maxChildren: integer('maxChildren', options.maxChildren, Number.MAX_SAFE_INTEGER, 0),
    backoff: resolveBackoff('backoff', options.backoff),
  };
}

/** The fields of a child spec that say how a component runs as a child (not what it is). */
export type ChildRunFields = Pick<ChildSpec, 'restart' | 'shutdown' | 'type' | 'significant' | 'backoff'>;

/**
 * Splits the options of a `...Child(options)` constructor into the child-spec fields given
 * (`restart`, `shutdown`, `type`, `significant`, `backoff`; absent ones left out) and the
 * component's own options.
 */
export function splitChildOptions<T extends ChildRunFields>(options: T): { child: ChildRunFields; own: Omit<T, keyof ChildRunFields> } {
  const { restart, shutdown, type, significant, backoff, ...own } = options;
  const child: ChildRunFields = {};
  if (restart !== undefined) child.restart = restart;
  if (shutdown !== undefined) child.shutdown = shutdown;
  if (type !== undefined) child.type = type;
  if (significant !== undefined) child.significant = significant;
  if (backoff !== undefined) child.backoff = backoff;
  return { child, own };
}
