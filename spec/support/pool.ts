import { createPool, type PoolOptions, type WorkerContext } from '../../src/pool/index.js';
import { createTelemetry, createTestClock, type TelemetryEvent } from '../../src/index.js';

/** A worker of the test factory: an id and the means to make it die. */
export interface TestWorker {
  id: number;
  die(reason?: unknown): void;
  destroyed: boolean;
}

/** A creation the spec holds open: it settles only when the spec says so (or never). */
export interface HeldCreation {
  /** The factory returns a new worker. */
  succeed(): void;
  /** The factory rejects with `error`. */
  fail(error?: unknown): void;
  /** The worker reports its death through its context before the factory returns. */
  exitFirst(reason?: unknown): void;
  settled: boolean;
}

/** A factory whose workers are numbered objects; it can be made to fail, to be async, or to hold creations open. */
export class TestFactory {
  created = 0;
  destroyed: TestWorker[] = [];
  failNext = 0;
  async = false;
  /** While true, each creation waits in `held` until the spec settles it. */
  hold = false;
  held: HeldCreation[] = [];
  /** Every creation started, settled or not. */
  calls = 0;

  create = (context: WorkerContext): TestWorker | Promise<TestWorker> => {
    this.calls += 1;
    if (this.hold) return this.holdOpen(context);
    if (this.failNext > 0) {
      this.failNext -= 1;
      const error = new Error('factory failed');
      if (this.async) return Promise.reject(error);
      throw error;
    }
    const worker = this.newWorker(context);
    return this.async ? Promise.resolve(worker) : worker;
  };

  destroy = (worker: TestWorker): void => {
    worker.destroyed = true;
    this.destroyed.push(worker);
  };

  /** Creations held open and not settled yet. */
  get open(): HeldCreation[] {
    return this.held.filter((creation) => !creation.settled);
  }

  private newWorker(context: WorkerContext): TestWorker {
    this.created += 1;
    return { id: this.created, die: (reason) => context.exit(reason), destroyed: false };
  }

  private holdOpen(context: WorkerContext): Promise<TestWorker> {
    let resolve!: (worker: TestWorker) => void;
    let reject!: (error: unknown) => void;
    const worker = new Promise<TestWorker>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const creation: HeldCreation = {
      settled: false,
      succeed: () => {
        creation.settled = true;
        resolve(this.newWorker(context));
      },
      fail: (error = new Error('factory failed')) => {
        creation.settled = true;
        reject(error);
      },
      exitFirst: (reason = 'exited while connecting') => {
        context.exit(reason);
        creation.succeed();
      },
    };
    this.held.push(creation);
    return worker;
  }
}

/** A pool of test workers on a test clock, with its telemetry recorded. */
export async function testPool(options: Partial<PoolOptions<TestWorker>> = {}, factory = new TestFactory()) {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const pool = await createPool<TestWorker>({
    name: 'test',
    worker: { create: factory.create, destroy: factory.destroy },
    clock,
    telemetry,
    ...options,
  });
  return { pool, factory, clock, telemetry, events };
}

/** Whether a promise has settled yet (after letting microtasks run). */
export async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/** What a checkout came to: its lease, or its error's code. */
export function outcomeOf<T>(checkout: Promise<T>): Promise<T | string> {
  return checkout.catch((error: { code?: string; message?: string }) => error.code ?? error.message ?? String(error));
}
