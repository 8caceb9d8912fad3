import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool, type Lease, type Pool, type WorkerContext } from '../../src/pool/index.js';
import { createTelemetry, createTestClock, SHUTDOWN_EVENT, type TestClock } from '../../src/index.js';
import { PoolboyModel, type CreationMode, type Outcome } from './pool-model.js';

/**
 * The pool against poolboy's model (pool-model.ts), driven through every interleaving fast-check
 * finds of: blocking and non-blocking checkouts with timeouts and abort signals (live or already
 * aborted), releases, destroys and deaths of checked-out and idle workers, creations that succeed,
 * fail, exit before returning, return synchronously, throw, settle late or never, time passing
 * (timeouts, retries with jitter), live changes of size and maxOverflow, a graceful drain and a
 * stop, and leases coming back after it.
 */

interface Worker {
  id: number;
  die(reason?: unknown): void;
  destroyed: boolean;
}

interface OpenCreation {
  settle(how: 'succeed' | 'fail' | 'exit_first'): void;
}

/** A factory whose mode the commands switch: hold creations open, return at once, or throw. */
class ScriptedFactory {
  mode: CreationMode = 'sync';
  readonly workers: Worker[] = [];
  readonly open: OpenCreation[] = [];

  create = (context: WorkerContext): Worker | Promise<Worker> => {
    if (this.mode === 'sync') return this.newWorker(context);
    if (this.mode === 'throw') throw new Error('factory failed');
    return new Promise<Worker>((resolve, reject) => {
      const creation: OpenCreation = {
        settle: (how) => {
          this.open.splice(this.open.indexOf(creation), 1);
          if (how === 'fail') return reject(new Error('factory failed'));
          if (how === 'exit_first') context.exit('exited while connecting');
          resolve(this.newWorker(context));
        },
      };
      this.open.push(creation);
    });
  };

  destroy = (worker: Worker): void => {
    expect(worker.destroyed, `worker #${worker.id} destroyed twice`).toBe(false);
    worker.destroyed = true;
  };

  private newWorker(context: WorkerContext): Worker {
    const worker: Worker = { id: this.workers.length + 1, die: (reason) => context.exit(reason), destroyed: false };
    this.workers.push(worker);
    return worker;
  }
}

interface Real {
  pool: Pool<Worker>;
  clock: TestClock;
  factory: ScriptedFactory;
  /** Leases the spec holds. */
  leases: Lease<Worker>[];
  /** Leases revoked by a stop, still in the spec's hands. */
  revoked: Lease<Worker>[];
  /** Checkouts not settled yet, by id; `outcome` is set when one settles. */
  pending: Map<number, { outcome?: Outcome; lease?: Lease<Worker> }>;
  controllers: Map<number, AbortController>;
  nextId: number;
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function outcomeOf(error: unknown): Outcome {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_POOL_') ? (code as Outcome) : 'failed';
}

/** After each step: what settled is what the model settled, the counters are the model's, and the invariants hold. */
async function check(model: PoolboyModel, real: Real): Promise<void> {
  await flush();
  const expected = new Map(model.takeSettled());
  const actual = new Map<number, Outcome>();
  for (const [id, entry] of real.pending) {
    if (entry.outcome === undefined) continue;
    actual.set(id, entry.outcome);
    real.pending.delete(id);
    real.controllers.delete(id);
    if (entry.lease) {
      const worker = entry.lease.worker;
      expect(worker.destroyed, `worker #${worker.id} handed out dead`).toBe(false);
      expect(real.leases.some((lease) => lease.worker === worker), `worker #${worker.id} out twice`).toBe(false);
      real.leases.push(entry.lease);
    }
  }
  expect(actual).toEqual(expected);
  if (model.phase === 'stopped') real.revoked.push(...real.leases.splice(0));

  const status = real.pool.status();
  expect(status).toEqual(model.status());
  expect(real.leases).toHaveLength(model.out);
  expect(real.factory.open).toHaveLength(model.creations);
  expect([...real.pending.keys()]).toEqual(model.pending);
  // No waiter waits while a worker is idle or overflow room is left.
  if (status.waiting > 0) {
    expect(status.idle).toBe(0);
    expect(status.overflow).toBeGreaterThanOrEqual(model.maxOverflow);
  }
  // Every pending checkout is queued in poolboy's sense or has a creation on its way.
  expect(real.pending.size).toBeLessThanOrEqual(status.waiting + real.factory.open.length);
  // No worker leaks: every live worker is held by the spec or idle in the pool.
  const alive = real.factory.workers.filter((worker) => !worker.destroyed).length;
  expect(alive).toBe(real.leases.length + status.idle);
  // Every wait has its timer, and nothing else is armed.
  expect(real.clock.pendingTimers()).toBe(model.pendingTimers);
}

type Command = fc.AsyncCommand<PoolboyModel, Real>;

const timeouts = [0, 50, 100, Number.POSITIVE_INFINITY] as const;

class Checkout implements Command {
  constructor(
    readonly block: boolean,
    readonly timeoutMs: (typeof timeouts)[number],
    readonly signal: 'none' | 'live' | 'aborted',
  ) {}
  check = () => true;
  async run(model: PoolboyModel, real: Real) {
    const id = real.nextId++;
    const controller = new AbortController();
    if (this.signal === 'aborted') controller.abort();
    const entry: { outcome?: Outcome; lease?: Lease<Worker> } = {};
    real.pending.set(id, entry);
    if (this.signal === 'live') real.controllers.set(id, controller);
    real.pool
      .checkout({ block: this.block, timeoutMs: this.timeoutMs, ...(this.signal === 'none' ? {} : { signal: controller.signal }) })
      .then(
        (lease) => {
          entry.lease = lease;
          entry.outcome = 'served';
        },
        (error: unknown) => void (entry.outcome = outcomeOf(error)),
      );
    model.checkout(id, this.block, this.timeoutMs, this.signal === 'aborted');
    return check(model, real);
  }
  toString = () => `checkout(${this.block ? 'block' : 'no-block'}, ${this.timeoutMs}ms${this.signal === 'none' ? '' : `, ${this.signal} signal`})`;
}

class Abort implements Command {
  constructor(readonly pick: number) {}
  check = (model: PoolboyModel) => model.pending.length > 0;
  async run(model: PoolboyModel, real: Real) {
    const ids = [...real.controllers.keys()];
    if (ids.length === 0) return;
    const id = ids[this.pick % ids.length]!;
    real.controllers.get(id)!.abort(new Error('client went away'));
    model.abort(id);
    return check(model, real);
  }
  toString = () => `abort(#${this.pick})`;
}

class GiveBack implements Command {
  constructor(
    readonly pick: number,
    readonly how: 'release' | 'destroy' | 'exit',
  ) {}
  check = () => true;
  async run(model: PoolboyModel, real: Real) {
    const from = real.leases.length > 0 ? real.leases : real.revoked;
    if (from.length === 0) return;
    const [lease] = from.splice(this.pick % from.length, 1);
    if (this.how === 'release') lease!.release();
    else if (this.how === 'destroy') lease!.destroy('broken');
    else lease!.worker.die('crashed');
    if (from === real.leases) {
      if (this.how === 'release') model.checkin();
      else model.checkedOutWorkerDied();
    }
    return check(model, real);
  }
  toString = () => `${this.how}(#${this.pick})`;
}

class IdleWorkerDies implements Command {
  constructor(readonly pick: number) {}
  check = (model: PoolboyModel) => model.idle > 0;
  async run(model: PoolboyModel, real: Real) {
    const leased = new Set(real.leases.map((lease) => lease.worker));
    const idle = real.factory.workers.filter((worker) => !worker.destroyed && !leased.has(worker));
    idle[this.pick % idle.length]!.die('idle connection closed');
    model.idleWorkerDied();
    return check(model, real);
  }
  toString = () => `idle worker dies(#${this.pick})`;
}

class SettleCreation implements Command {
  constructor(
    readonly pick: number,
    readonly how: 'succeed' | 'fail' | 'exit_first',
  ) {}
  check = (model: PoolboyModel) => model.creations > 0;
  async run(model: PoolboyModel, real: Real) {
    real.factory.open[this.pick % real.factory.open.length]!.settle(this.how);
    await flush();
    if (this.how === 'succeed') model.creationSucceeded();
    else model.creationFailed();
    return check(model, real);
  }
  toString = () => `creation ${this.how}(#${this.pick})`;
}

class FactoryMode implements Command {
  constructor(readonly mode: CreationMode) {}
  check = () => true;
  async run(model: PoolboyModel, real: Real) {
    real.factory.mode = this.mode;
    model.mode = this.mode;
  }
  toString = () => `factory ${this.mode}`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: PoolboyModel, real: Real) {
    real.clock.advance(this.ms);
    model.advance(this.ms);
    return check(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

class Reconfigure implements Command {
  constructor(
    readonly size: number,
    readonly maxOverflow: number,
  ) {}
  check = () => true;
  async run(model: PoolboyModel, real: Real) {
    real.pool.reconfigure({ size: this.size, maxOverflow: this.maxOverflow });
    model.reconfigure(this.size, this.maxOverflow);
    return check(model, real);
  }
  toString = () => `reconfigure(size ${this.size}, maxOverflow ${this.maxOverflow})`;
}

class Drain implements Command {
  check = (model: PoolboyModel) => model.phase === 'running';
  async run(model: PoolboyModel, real: Real) {
    real.pool.actor.send(SHUTDOWN_EVENT);
    model.drain();
    return check(model, real);
  }
  toString = () => 'drain';
}

class Stop implements Command {
  check = (model: PoolboyModel) => model.phase !== 'stopped';
  async run(model: PoolboyModel, real: Real) {
    const stopping = real.pool.stop();
    model.stop();
    await check(model, real);
    await stopping;
  }
  toString = () => 'stop';
}

/** Weighted so that runs reach a full pool, waiting checkouts and creations in flight before a drain or a stop. */
const commands = [
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.boolean(), fc.constantFrom(...timeouts), fc.constantFrom('none' as const, 'live' as const, 'aborted' as const))
        .map(([block, timeoutMs, signal]): Command => new Checkout(block, timeoutMs, signal)),
    },
    { weight: 2, arbitrary: fc.nat().map((pick): Command => new Abort(pick)) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.nat(), fc.constantFrom('release' as const, 'release' as const, 'destroy' as const, 'exit' as const))
        .map(([pick, how]): Command => new GiveBack(pick, how)),
    },
    { weight: 1, arbitrary: fc.nat().map((pick): Command => new IdleWorkerDies(pick)) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.nat(), fc.constantFrom('succeed' as const, 'succeed' as const, 'fail' as const, 'exit_first' as const))
        .map(([pick, how]): Command => new SettleCreation(pick, how)),
    },
    { weight: 2, arbitrary: fc.constantFrom('held' as const, 'held' as const, 'sync' as const, 'throw' as const).map((mode): Command => new FactoryMode(mode)) },
    { weight: 3, arbitrary: fc.oneof(fc.constantFrom(0, 50, 100), fc.integer({ min: 1, max: 400 })).map((ms): Command => new Advance(ms)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([size, maxOverflow]): Command => new Reconfigure(size, maxOverflow)),
    },
    { weight: 1, arbitrary: fc.constant<Command>(new Drain()) },
    { weight: 1, arbitrary: fc.constant<Command>(new Stop()) },
  ),
];

/** A random source cycling through `draws`, so the pool and the model see the same jitter. */
function cycling(draws: readonly number[]): () => number {
  let next = 0;
  return () => draws[next++ % draws.length]!;
}

describe('pool against the poolboy model', () => {
  it('counters equal the model’s at every step and after stop; no waiter waits while a worker is idle or overflow room is left; every checkout settles by its timeout, abort or the stop; no worker leaks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom('lifo' as const, 'fifo' as const),
        fc.constantFrom('sync' as const, 'throw' as const),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.commands(commands, { maxCommands: 60, size: 'max' }),
        async (size, maxOverflow, strategy, startMode, draws, script) => {
          const clock = createTestClock();
          const factory = new ScriptedFactory();
          factory.mode = startMode;
          const retryBackoffMs = 40;
          const pool = await createPool<Worker>({
            name: 'model',
            size,
            maxOverflow,
            strategy,
            retryBackoffMs,
            random: cycling(draws),
            clock,
            telemetry: createTelemetry({ clock }),
            worker: factory,
          });
          const model = new PoolboyModel(size, maxOverflow, retryBackoffMs, cycling(draws));
          model.mode = startMode;
          model.start();
          const real: Real = { pool, clock, factory, leases: [], revoked: [], pending: new Map(), controllers: new Map(), nextId: 0 };
          await check(model, real);
          await fc.asyncModelRun(() => ({ model, real }), script);
          // The end of every run: a stop settles every checkout still waiting and cancels every timer;
          // creations still open may land after it and are destroyed.
          await real.pool.stop();
          model.stop();
          await check(model, real);
          expect(clock.pendingTimers()).toBe(0);
          while (factory.open.length > 0) {
            factory.open[0]!.settle('succeed');
            model.creationSucceeded();
          }
          await check(model, real);
          expect(factory.workers.every((worker) => worker.destroyed)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with creations finishing in any order: no worker is ever out twice or dead, no one waits while a worker is free, and the pool settles to the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(fc.constantFrom('checkout' as const, 'release' as const, 'destroy' as const, 'exit' as const), {
          minLength: 1,
          maxLength: 40,
        }),
        async (scheduler, size, maxOverflow, steps) => {
          const clock = createTestClock();
          let scheduled = false;
          let made = 0;
          const pool = await createPool<Worker>({
            name: 'async',
            size,
            maxOverflow,
            clock,
            telemetry: createTelemetry({ clock }),
            worker: {
              create: (context) => {
                const worker: Worker = { id: (made += 1), die: (reason) => context.exit(reason), destroyed: false };
                return scheduled ? scheduler.schedule(Promise.resolve(worker), `create #${worker.id}`) : worker;
              },
              destroy: (worker) => void (worker.destroyed = true),
            },
          });
          scheduled = true;
          const held: Lease<Worker>[] = [];
          const checkouts: Array<Promise<void>> = [];
          let served = 0;
          for (const step of steps) {
            if (step === 'checkout') {
              checkouts.push(
                pool.checkout({ timeoutMs: 1_000_000 }).then((lease) => {
                  served += 1;
                  expect(lease.worker.destroyed).toBe(false);
                  expect(held.some((other) => other.worker === lease.worker)).toBe(false);
                  held.push(lease);
                }),
              );
            } else if (held.length > 0) {
              const lease = held.shift()!;
              if (step === 'release') lease.release();
              else if (step === 'destroy') lease.destroy('broken');
              else lease.worker.die('crashed');
            }
            if (scheduler.count() > 0) await scheduler.waitOne();
            await flush();
          }
          await scheduler.waitAll();
          await flush();
          const status = pool.status();
          expect(status.waiting).toBe(checkouts.length - served);
          expect(status.checkedOut).toBe(held.length);
          if (status.waiting > 0) expect(held.length).toBeGreaterThanOrEqual(size + maxOverflow);
          if (status.waiting > 0) expect(status).toMatchObject({ state: 'full', idle: 0, overflow: maxOverflow });
          else expect(status.idle + held.length).toBeGreaterThanOrEqual(size);
          await pool.stop();
          await Promise.allSettled(checkouts);
        },
      ),
      { numRuns: 150 },
    );
  });
});
