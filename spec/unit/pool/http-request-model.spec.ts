import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPool, HttpTimeoutError, type HttpPool, type HttpResponse } from '../../../src/pool/index.js';
import { createTestClock, createTelemetry, type TestClock } from '../../../src/index.js';
import { startHttpServer, within, type TestHttpServer } from '../../support/http-servers.js';

/**
 * Model-based spec of `request()`'s deadline and abort on a test clock, against a real
 * `node:http` server on 127.0.0.1 (an ephemeral port, one for the whole spec; a pool per run).
 * Requests go to a path that answers at once (`ok`), one that never answers (`never`) or one whose
 * body never ends (`endless`); between them the clock moves, callers abort, and a transaction
 * leaves a large body unread. The model knows each request's deadline (call time + timeoutMs on
 * the clock) and checks after every command:
 *
 * - a request past its deadline has settled, and one that timed out did so exactly at its deadline
 *   (`elapsedMs === timeoutMs`), never before;
 * - an aborted request rejected with its signal's reason at once;
 * - a request still in flight holds exactly one worker: `checkedOut` equals the requests in flight;
 * - an `ok` request is answered (real time, bounded), whatever was left unread before it.
 *
 * At the end every deadline passes: nothing is checked out, no timer is left on the clock, the
 * server sees at most one connection per idle worker, and stopping the pool closes them all.
 */

type Kind = 'ok' | 'never' | 'endless';

interface ModelRequest {
  readonly id: number;
  readonly kind: Kind;
  readonly calledAt: number;
  readonly timeoutMs: number;
  aborted: boolean;
  answered: boolean;
}

class Model {
  now = 0;
  readonly requests: ModelRequest[] = [];

  deadline(request: ModelRequest): number {
    return request.calledAt + request.timeoutMs;
  }

  /** Requests that may still be in flight: not aborted, before their deadline, not known answered. */
  open(): ModelRequest[] {
    return this.requests.filter((request) => !request.aborted && !request.answered && this.now < this.deadline(request));
  }
}

interface Outcome {
  /** Clock time when its callback ran (after the advance that settled it, if one did). */
  at: number;
  value?: HttpResponse;
  error?: unknown;
}

interface Real {
  pool: HttpPool;
  clock: TestClock;
  outcomes: Map<number, Outcome>;
  controllers: Map<number, AbortController>;
  reasons: Map<number, Error>;
}

type Command = fc.AsyncCommand<Model, Real>;

const size = 2;
const maxOverflow = 6;
/** Never more requests in flight than workers, so that none waits for one. */
const maxInFlight = size + maxOverflow - 1;

/** Lets promise callbacks and socket events run; no time passes on the test clock. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function verify(model: Model, real: Real): void {
  let inFlight = 0;
  for (const request of model.requests) {
    const outcome = real.outcomes.get(request.id);
    const deadline = model.deadline(request);
    const label = `request ${request.id} (${request.kind}, called at ${request.calledAt}, timeout ${request.timeoutMs}, now ${model.now})`;
    if (outcome === undefined) {
      expect(request.aborted, `${label} was aborted and has not settled`).toBe(false);
      expect(model.now < deadline, `${label} is past its deadline and has not settled`).toBe(true);
      inFlight += 1;
    } else if (outcome.value !== undefined) {
      expect(request.kind, `${label} was answered`).toBe('ok');
      expect(outcome.value.text()).toBe(`ok /ok${request.id}`);
      expect(outcome.at).toBeLessThan(deadline);
    } else if (outcome.error instanceof HttpTimeoutError) {
      // It fired during an advance: its elapsedMs is read on the clock at that moment.
      expect(model.now, `${label} timed out before its deadline`).toBeGreaterThanOrEqual(deadline);
      expect(outcome.error).toMatchObject({ phase: 'request', timeoutMs: request.timeoutMs, elapsedMs: request.timeoutMs });
    } else {
      expect(request.aborted, `${label} rejected with ${String(outcome.error)}`).toBe(true);
      expect(outcome.error).toBe(real.reasons.get(request.id));
    }
  }
  expect(real.pool.status()).toMatchObject({ checkedOut: inFlight, waiting: 0 });
}

class Send implements Command {
  constructor(
    readonly kind: Kind,
    readonly timeoutMs: number,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.open().length < maxInFlight;
  }

  async run(model: Model, real: Real): Promise<void> {
    const id = model.requests.length;
    const controller = new AbortController();
    real.controllers.set(id, controller);
    const path = this.kind === 'ok' ? `/ok${id}` : `/${this.kind}`;
    real.pool.request({ path, timeoutMs: this.timeoutMs, signal: controller.signal }).then(
      (value) => real.outcomes.set(id, { at: real.clock.now(), value }),
      (error: unknown) => real.outcomes.set(id, { at: real.clock.now(), error }),
    );
    model.requests.push({ id, kind: this.kind, calledAt: model.now, timeoutMs: this.timeoutMs, aborted: false, answered: false });
    await turn();
    verify(model, real);
  }

  toString(): string {
    return `Send(${this.kind}, ${this.timeoutMs})`;
  }
}

class Advance implements Command {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(model: Model, real: Real): Promise<void> {
    real.clock.advance(this.ms);
    model.now += this.ms;
    await turn();
    verify(model, real);
  }

  toString(): string {
    return `Advance(${this.ms})`;
  }
}

class Abort implements Command {
  constructor(readonly pick: number) {}

  check(model: Readonly<Model>): boolean {
    return model.requests.length > 0;
  }

  async run(model: Model, real: Real): Promise<void> {
    const request = model.requests[this.pick % model.requests.length]!;
    if (!real.outcomes.has(request.id)) {
      const reason = new Error(`caller ${request.id} left`);
      real.reasons.set(request.id, reason);
      request.aborted = true;
      real.controllers.get(request.id)!.abort(reason);
    }
    await turn();
    verify(model, real);
  }

  toString(): string {
    return `Abort(#${this.pick})`;
  }
}

/** A transaction reads a large response's headers and releases its client with the body unread. */
class LeaveBodyUnread implements Command {
  check(model: Readonly<Model>): boolean {
    return model.open().length < maxInFlight;
  }

  async run(model: Model, real: Real): Promise<void> {
    const status = real.pool.transaction(async (client) => (await client.request({ path: '/large', method: 'GET' })).statusCode, { timeoutMs: 0 });
    expect(await within(status, 2000, 'the transaction')).toBe(200);
    await turn();
    verify(model, real);
  }

  toString(): string {
    return 'LeaveBodyUnread';
  }
}

/** Waits (real time, bounded) for every `ok` request in flight to be answered. */
class AwaitAnswers implements Command {
  check(model: Readonly<Model>): boolean {
    return model.open().some((request) => request.kind === 'ok');
  }

  async run(model: Model, real: Real): Promise<void> {
    for (const request of model.open().filter((each) => each.kind === 'ok')) {
      await expect.poll(() => real.outcomes.has(request.id), { timeout: 2000, message: `ok request ${request.id} answered` }).toBe(true);
      request.answered = true;
    }
    verify(model, real);
  }

  toString(): string {
    return 'AwaitAnswers';
  }
}

const commands = [
  fc.tuple(fc.constantFrom<Kind>('ok', 'ok', 'never', 'endless'), fc.integer({ min: 1, max: 400 })).map(([kind, timeoutMs]): Command => new Send(kind, timeoutMs)),
  fc.integer({ min: 1, max: 300 }).map((ms): Command => new Advance(ms)),
  fc.nat().map((pick): Command => new Abort(pick)),
  fc.constant<Command>(new LeaveBodyUnread()),
  fc.constant<Command>(new AwaitAnswers()),
];

let target: TestHttpServer;

beforeAll(async () => {
  target = await startHttpServer();
});

afterAll(async () => {
  await target.close();
});

describe('request() against its model', () => {
  it('every request settles by its answer, its abort or exactly at its deadline on the clock; a request in flight holds one worker; an unread body never delays a later request; nothing is left behind', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 16 }), async (script) => {
        const clock = createTestClock();
        const pool = await createHttpPool({ name: 'model', origin: target.origin, size, maxOverflow, requestTimeoutMs: 1000, clock, telemetry: createTelemetry({ clock }) });
        const real: Real = { pool, clock, outcomes: new Map(), controllers: new Map(), reasons: new Map() };
        const model = new Model();
        try {
          await fc.asyncModelRun(() => ({ model, real }), script);
          // Every deadline passes: everything settles and nothing is held.
          clock.advance(1000);
          model.now += 1000;
          await turn();
          verify(model, real);
          expect(pool.status()).toMatchObject({ checkedOut: 0, waiting: 0 });
          expect(clock.pendingTimers()).toBe(0);
          await expect.poll(() => target.open.size <= pool.status().idle).toBe(true);
        } finally {
          await pool.stop();
        }
        await expect.poll(() => target.open.size).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});
