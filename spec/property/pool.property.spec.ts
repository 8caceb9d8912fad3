import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPool, type Lease, type Pool } from '../../src/pool/index.js';
import { createTelemetry, createTestClock, type TestClock } from '../../src/index.js';
import { advance, checkout, expectedStatus, returnWorker, type PoolModel } from './pool-model.js';

interface Worker {
  id: number;
  exit: (reason?: unknown) => void;
  dead: boolean;
}

interface Real {
  pool: Pool<Worker>;
  clock: TestClock;
  leases: Lease<Worker>[];
  /** Checkouts not yet settled, by model id. */
  pending: Map<number, Promise<Lease<Worker> | string>>;
  nextId: number;
}

const timeoutMs = 100;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Moves checkouts that settled into `leases`, and checks no worker is out twice or dead. */
async function collect(real: Real, served: number[]): Promise<void> {
  await flush();
  for (const id of served) {
    const outcome = await real.pending.get(id)!;
    expect(typeof outcome).not.toBe('string');
    real.leases.push(outcome as Lease<Worker>);
    real.pending.delete(id);
  }
  const workers = real.leases.map((lease) => lease.worker);
  expect(new Set(workers).size).toBe(workers.length);
  expect(workers.some((worker) => worker.dead)).toBe(false);
}

async function check(model: PoolModel, real: Real, served: number[] = []): Promise<void> {
  await collect(real, served);
  expect(real.pool.status()).toEqual(expectedStatus(model));
  expect(real.leases).toHaveLength(model.out);
}

type Command = fc.AsyncCommand<PoolModel, Real>;

class Checkout implements Command {
  constructor(readonly block: boolean) {}
  check = () => true;
  async run(model: PoolModel, real: Real) {
    const id = real.nextId++;
    const settled = real.pool.checkout({ block: this.block, timeoutMs }).catch((error: { code: string }) => error.code);
    const expected = checkout(model, id, this.block, timeoutMs);
    real.pending.set(id, settled);
    if (expected === 'served') return check(model, real, [id]);
    if (expected === 'full') {
      expect(await settled).toBe('ERR_POOL_FULL');
      real.pending.delete(id);
    }
    return check(model, real);
  }
  toString = () => `checkout(${this.block ? 'blocking' : 'non-blocking'})`;
}

class GiveBack implements Command {
  constructor(
    readonly pick: number,
    readonly how: 'release' | 'destroy' | 'exit',
  ) {}
  check = (model: PoolModel) => model.out > 0;
  async run(model: PoolModel, real: Real) {
    const [lease] = real.leases.splice(this.pick % real.leases.length, 1);
    if (this.how === 'release') lease!.release();
    else if (this.how === 'destroy') lease!.destroy('broken');
    else lease!.worker.exit('crashed');
    const served = returnWorker(model);
    return check(model, real, served === undefined ? [] : [served]);
  }
  toString = () => `${this.how}(#${this.pick})`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: PoolModel, real: Real) {
    real.clock.advance(this.ms);
    for (const id of advance(model, this.ms)) {
      expect(await real.pending.get(id)).toBe('ERR_POOL_TIMEOUT');
      real.pending.delete(id);
    }
    return check(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

const commands = [
  fc.boolean().map((block) => new Checkout(block)),
  fc.tuple(fc.nat(), fc.constantFrom('release' as const, 'destroy' as const, 'exit' as const)).map(([pick, how]) => new GiveBack(pick, how)),
  fc.oneof(fc.constant(timeoutMs), fc.integer({ min: 1, max: 150 })).map((ms) => new Advance(ms)),
];

function workerFactory(created: Worker[], schedule?: (worker: Worker) => Promise<Worker>) {
  return {
    create: (context: { exit(reason?: unknown): void }) => {
      const worker: Worker = { id: created.length + 1, exit: (reason) => context.exit(reason), dead: false };
      created.push(worker);
      return schedule ? schedule(worker) : worker;
    },
    destroy: (worker: Worker) => void (worker.dead = true),
  };
}

describe('pool against the poolboy model', () => {
  it('status is full when checked out = size + maxOverflow, overflow when >= size, else ready; idle and overflow follow; waiters and timeouts match', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom('lifo' as const, 'fifo' as const),
        fc.commands(commands, { maxCommands: 50, size: 'max' }),
        async (size, maxOverflow, strategy, script) => {
          const clock = createTestClock();
          const pool = await createPool<Worker>({
            name: 'model',
            size,
            maxOverflow,
            strategy,
            clock,
            telemetry: createTelemetry({ clock }),
            worker: workerFactory([]),
          });
          const model: PoolModel = { size, maxOverflow, out: 0, waiting: [], now: 0 };
          const real: Real = { pool, clock, leases: [], pending: new Map(), nextId: 0 };
          await fc.asyncModelRun(() => ({ model, real }), script);
          await pool.stop();
        },
      ),
      { numRuns: 200 },
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
          const pool = await createPool<Worker>({
            name: 'async',
            size,
            maxOverflow,
            clock,
            telemetry: createTelemetry({ clock }),
            worker: workerFactory([], (worker) =>
              scheduled ? scheduler.schedule(Promise.resolve(worker), `create #${worker.id}`) : Promise.resolve(worker),
            ),
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
                  expect(lease.worker.dead).toBe(false);
                  expect(held.some((other) => other.worker === lease.worker)).toBe(false);
                  held.push(lease);
                }),
              );
            } else if (held.length > 0) {
              const lease = held.shift()!;
              if (step === 'release') lease.release();
              else if (step === 'destroy') lease.destroy('broken');
              else lease.worker.exit('crashed');
            }
            if (scheduler.count() > 0) await scheduler.waitOne();
            await flush();
          }
          await scheduler.waitAll();
          await flush();
          const status = pool.status();
          expect(status.waiting).toBe(checkouts.length - served);
          expect(status.checkedOut).toBe(held.length);
          if (status.waiting > 0) expect(held.length).toBe(size + maxOverflow);
          expect(status).toEqual(expectedStatus({ size, maxOverflow, out: held.length, waiting: new Array(status.waiting), now: 0 }));
          await pool.stop();
          await Promise.allSettled(checkouts);
        },
      ),
      { numRuns: 150 },
    );
  });
});
