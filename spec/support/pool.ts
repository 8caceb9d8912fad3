import { createPool, type PoolOptions, type WorkerContext } from '../../src/pool/index.js';
import { createTelemetry, createTestClock, type TelemetryEvent } from '../../src/index.js';

/** A worker of the test factory: an id and the means to make it die. */
export interface TestWorker {
  id: number;
  die(reason?: unknown): void;
  destroyed: boolean;
}

/** A factory whose workers are numbered objects; it can be made to fail or to be async. */
export class TestFactory {
  created = 0;
  destroyed: TestWorker[] = [];
  failNext = 0;
  async = false;

  create = (context: WorkerContext): TestWorker | Promise<TestWorker> => {
    if (this.failNext > 0) {
      this.failNext -= 1;
      const error = new Error('factory failed');
      if (this.async) return Promise.reject(error);
      throw error;
    }
    this.created += 1;
    const worker: TestWorker = { id: this.created, die: (reason) => context.exit(reason), destroyed: false };
    return this.async ? Promise.resolve(worker) : worker;
  };

  destroy = (worker: TestWorker): void => {
    worker.destroyed = true;
    this.destroyed.push(worker);
  };
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
