import type { ChildSpec, StartContext } from '../supervisor/index.js';
import { splitChildOptions } from '../supervisor/internal.js';
import { CircuitBreaker, type Breaker } from './breaker.js';
import type { BreakerOptions } from './options.js';
import { resolveBreakerOptions } from './options.js';

/** The child spec {@link breakerChild} returns: its id is the breaker's name. */
export type BreakerChildSpec = ChildSpec & {
  /** The breaker's name (`options.name`). */
  id: string;
  /** The breaker, from the child's first start on; the same object across restarts. */
  readonly breaker: Breaker | undefined;
};

/**
 * A child spec that runs a circuit breaker under a supervisor. The breaker is created at the
 * first start with the supervisor's clock and telemetry (unless the options give their own).
 * When its actor crashes or is stopped, the breaker refuses calls (reporting `'disabled'`) until
 * the supervisor restarts the child: the restart gives the same `Breaker` object a fresh actor in
 * `closed`, with its failure history cleared (its stats carry over).
 *
 * @example
 * ```ts
 * const payments = breakerChild({ name: 'payments', resetMs: 10_000 });
 * await startSupervisor({ children: [payments] });
 * await payments.breaker!.call(() => charge(order));
 * ```
 */
export function breakerChild(options: BreakerOptions & Omit<ChildSpec, 'id' | 'start'>): BreakerChildSpec {
  const { child, own: breakerOptions } = splitChildOptions(options);
  resolveBreakerOptions(breakerOptions);
  let breaker: CircuitBreaker | undefined;
  const spec = {
    id: breakerOptions.name,
    ...child,
    start: (context: StartContext) => {
      if (breaker !== undefined) return breaker.respawn();
      breaker = new CircuitBreaker({
        ...breakerOptions,
        clock: breakerOptions.clock ?? context.clock,
        telemetry: breakerOptions.telemetry ?? context.telemetry,
      });
      return breaker.actor;
    },
    get breaker(): Breaker | undefined {
      return breaker;
    },
  };
  return spec;
}
