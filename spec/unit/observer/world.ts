import {
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  type Breaker,
  type DynamicSupervisor,
  type MemoryRateLimiter,
  type Pool,
  type Supervisor,
  type Telemetry,
  type TestClock,
} from '../../../src/index.js';
import { createObserver, type Observer, type ObserverOptions } from '../../../src/observer.js';
import { ChildHarness } from '../../support/actors.js';
import { flush } from '../../support/supervision.js';

/**
 * A small running system on a test clock, as the observer specs watch it: a static root (`api`,
 * `mailer` with a 1 s backoff, and a nested `billing` supervisor with `ledger`), a breaker, a
 * pool, a limiter, all reporting to one telemetry that nothing else subscribes to.
 */
export interface World {
  clock: TestClock;
  telemetry: Telemetry;
  harness: ChildHarness;
  root: Supervisor;
  breaker: Breaker;
  pool: Pool<{ id: number }>;
  limiter: MemoryRateLimiter;
  observer: Observer;
  stop(): Promise<void>;
}

export async function startWorld(options: Partial<ObserverOptions> = {}): Promise<World> {
  const clock = createTestClock(1_000);
  const telemetry = createTelemetry({ clock });
  const harness = new ChildHarness();
  const root = await startSupervisor(
    {
      strategy: 'one_for_one',
      intensity: 1_000,
      period: 1_000,
      children: [
        harness.child('api'),
        harness.child('mailer', { backoff: { minMs: 1_000, maxMs: 1_000, randomFactor: 0 } }),
        supervisorChild('billing', { strategy: 'one_for_all', intensity: 1_000, children: [harness.child('ledger')] }),
      ],
    },
    { id: 'root', clock, telemetry },
  );
  const breaker = createBreaker({ name: 'payments', tolerance: { failures: 0, windowMs: 10_000 }, resetMs: 5_000, clock, telemetry });
  let made = 0;
  const pool = await createPool({ name: 'db', size: 2, maxOverflow: 1, worker: { create: () => ({ id: ++made }) }, clock, telemetry });
  const limiter = createRateLimiter({ name: 'api-clients', limit: 2, windowMs: 1_000, clock, telemetry });
  const observer = createObserver({ supervisors: [root], breakers: [breaker], pools: [pool], limiters: [limiter], telemetry, clock, ...options });
  return {
    clock,
    telemetry,
    harness,
    root,
    breaker,
    pool,
    limiter,
    observer,
    async stop() {
      await observer.stop();
      await root.stop();
      await pool.stop();
      limiter.stop();
    },
  };
}

/** A dynamic supervisor holding `count` running temporary children, on `clock`. */
export async function crowdedSupervisor(clock: TestClock, telemetry: Telemetry, count: number): Promise<DynamicSupervisor> {
  const harness = new ChildHarness();
  const dynamic = await startDynamicSupervisor({ id: 'crowd', clock, telemetry });
  // Started together: the supervisor still starts them one by one, in this order.
  await Promise.all(
    Array.from({ length: count }, (_, index) => {
      const spec = harness.child(`worker-${index}`, { restart: 'temporary' });
      return dynamic.startChild({ id: spec.id, start: spec.start, restart: 'temporary' });
    }),
  );
  return dynamic;
}

/** Advances the test clock by `ms`, letting the supervisors' promise work run before and after. */
export async function advance(clock: TestClock, ms: number): Promise<void> {
  await flush();
  clock.advance(ms);
  await flush();
}

export { flush };
