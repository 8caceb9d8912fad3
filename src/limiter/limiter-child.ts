import { createActor, fromCallback, type AnyActorRef } from 'xstate';
import type { ChildSpec, StartContext } from '../supervisor/index.js';
import { splitChildOptions } from '../supervisor/internal.js';
import { createRateLimiter } from './memory/create-rate-limiter.js';
import { reconfigured, resolveMemoryLimiterOptions, type LimiterReconfiguration, type MemoryLimiterOptions } from './options.js';
import type { MemoryRateLimiter } from './rate-limiter.js';

/** The child spec {@link limiterChild} returns: its id is the limiter's name. */
export type LimiterChildSpec = ChildSpec & {
  /** The limiter's name (`options.name`). */
  id: string;
  /** The limiter, from the child's first start on; the same object across restarts. */
  readonly limiter: MemoryRateLimiter | undefined;
  /** Changes the options live (see `MemoryRateLimiter.reconfigure`), before or after the first start; throws `ConfigError` and changes nothing on a bad patch. */
  reconfigure(patch: LimiterReconfiguration): void;
};

/** The limiter's housekeeping as an actor: it runs until stopped, and stopping it cancels the limiter's timers. */
const limiterLogic = fromCallback<{ type: string }, { limiter: MemoryRateLimiter }>(({ input }) => () => input.limiter.stop());

/**
 * A child spec that runs an embedded rate limiter (and its sweeper) under a supervisor. The
 * limiter is created at the first start with the supervisor's clock and telemetry (unless the
 * options give their own); its actor, when stopped by the supervisor, cancels the limiter's
 * timers. A restart gives the same limiter a new actor and keeps its counts: a crash must not
 * hand every key a fresh quota.
 *
 * @example
 * ```ts
 * const login = limiterChild({ name: 'login', algorithm: 'sliding_window', limit: 5, windowMs: 60_000 });
 * await startSupervisor({ children: [login] });
 * login.limiter!.hitSync(ip);
 * ```
 */
export function limiterChild(options: MemoryLimiterOptions & Omit<ChildSpec, 'id' | 'start'>): LimiterChildSpec {
  const { child, own: given } = splitChildOptions(options);
  let limiterOptions: MemoryLimiterOptions = given;
  let resolved = resolveMemoryLimiterOptions(limiterOptions);
  let limiter: MemoryRateLimiter | undefined;
  return {
    id: limiterOptions.name,
    ...child,
    start: (context: StartContext): AnyActorRef => {
      limiter ??= createRateLimiter({
        ...limiterOptions,
        clock: limiterOptions.clock ?? context.clock,
        telemetry: limiterOptions.telemetry ?? context.telemetry,
      });
      return createActor(limiterLogic, { input: { limiter }, clock: limiterOptions.clock ?? context.clock });
    },
    get limiter(): MemoryRateLimiter | undefined {
      return limiter;
    },
    reconfigure(patch: LimiterReconfiguration): void {
      const changed = reconfigured(resolved, patch);
      if (limiter !== undefined) limiter.reconfigure(patch);
      resolved = changed;
      limiterOptions = { ...limiterOptions, limit: changed.limit, windowMs: changed.windowMs, telemetryKeys: changed.telemetryKeys };
    },
  };
}
