import { readFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Observable, Subject, Subscriber, filter, map, type Observer, type Operator, type Subscription } from 'rxjs';
import { assign, createActor, createMachine, fromCallback, fromPromise, type ActorLogic, type EventObject, type Snapshot } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestClock } from '../../src/index.js';

// The upgrade contract: what overseer relies on from XState, RxJS and piscina that their public
// API does not promise (or promises only in passing), each driven on the library itself, not
// through overseer, and naming the overseer file that depends on it. A minor release that changes
// one of these fails here, in CI, instead of in production. The installed majors are pinned too:
// a new major is a deliberate upgrade that starts by reading this file.

// ---------------------------------------------------------------- installed majors

/** The `version` of an installed package, read from its own package.json. */
function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

const ownManifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<
  'dependencies' | 'peerDependencies' | 'devDependencies' | 'optionalDependencies',
  Record<string, string> | undefined
>;

/** Every range the package declares for `name` (dependencies, peers, dev and optional). */
function declaredRanges(name: string): string[] {
  return (['dependencies', 'peerDependencies', 'devDependencies', 'optionalDependencies'] as const)
    .map((field) => ownManifest[field]?.[name])
    .filter((range): range is string => range !== undefined);
}

describe('the installed majors are the ones this contract was written against', () => {
  for (const [name, major] of [
    ['xstate', 5],
    ['rxjs', 7],
    ['piscina', 5],
    ['undici', 7],
  ] as const) {
    it(`${name} ${major}.x is installed, and every range package.json declares for it is ${major}.x`, () => {
      expect(Number(installedVersion(name).split('.')[0])).toBe(major);
      const ranges = declaredRanges(name);
      expect(ranges.length).toBeGreaterThan(0);
      for (const range of ranges) expect(range, `${name}@${range}`).toMatch(new RegExp(`^[\\^~]?${major}\\.`));
    });
  }
});

// ---------------------------------------------------------------- XState 5

type RecordedSnapshot = Snapshot<undefined> & { stoppedBy?: string };

/** Custom actor logic that records every event its `transition` gets, as component-actor.ts's does. */
function recordingLogic(seen: string[]): ActorLogic<RecordedSnapshot, EventObject, undefined> {
  return {
    transition(snapshot, event) {
      seen.push(event.type);
      if (event.type === 'xstate.stop') return { ...snapshot, status: 'stopped', output: undefined, error: undefined, stoppedBy: event.type } as RecordedSnapshot;
      return snapshot;
    },
    getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}

const toggle = createMachine({
  id: 'toggle',
  initial: 'off',
  context: { entries: 0 },
  states: {
    off: { entry: assign({ entries: ({ context }) => context.entries + 1 }), on: { FLIP: 'on', END: 'ended' } },
    on: { on: { FLIP: 'off' } },
    ended: { type: 'final' },
  },
  output: () => 'finished',
});

describe('XState 5: what overseer relies on', () => {
  it('stop() sends xstate.stop to custom actor logic’s transition, synchronously, and getSnapshot() is then what it returned (src/supervisor/component-actor.ts)', () => {
    const seen: string[] = [];
    const actor = createActor(recordingLogic(seen));
    actor.start();
    actor.send({ type: 'overseer.shutdown' });
    actor.stop();
    expect(seen).toEqual(['overseer.shutdown', 'xstate.stop']);
    expect(actor.getSnapshot()).toMatchObject({ status: 'stopped', stoppedBy: 'xstate.stop' });
    // Nothing reaches the logic after the stop.
    actor.send({ type: 'late' });
    expect(seen).toEqual(['overseer.shutdown', 'xstate.stop']);
  });

  it('snapshot status is active, then done (with output), error (with the error) or stopped; getSnapshot() keeps the end (src/supervisor/shutdown-protocol.ts exitReasonOf, supervisor-engine.ts attach)', async () => {
    const finishing = createActor(toggle).start();
    expect(finishing.getSnapshot().status).toBe('active');
    finishing.send({ type: 'END' });
    expect(finishing.getSnapshot()).toMatchObject({ status: 'done', output: 'finished' });

    const failure = new Error('entry failed');
    const failing = createActor(
      createMachine({
        initial: 'a',
        states: {
          a: {
            on: {
              GO: {
                actions: () => {
                  throw failure;
                },
              },
            },
          },
        },
      }),
    );
    failing.subscribe({ error: () => undefined });
    failing.start();
    failing.send({ type: 'GO' });
    expect(failing.getSnapshot()).toMatchObject({ status: 'error', error: failure });

    const rejected = createActor(fromPromise(() => Promise.reject(failure)));
    rejected.subscribe({ error: () => undefined });
    rejected.start();
    await expect.poll(() => rejected.getSnapshot().status).toBe('error');
    expect(rejected.getSnapshot().error).toBe(failure);

    const stopped = createActor(toggle).start();
    stopped.stop();
    expect(stopped.getSnapshot().status).toBe('stopped');
    expect(stopped.getSnapshot().status).toBe('stopped');
  });

  it('observers: complete on stop (the status already stopped) and on a final state, error on failure; a late subscriber gets the end replayed (supervisor-engine.ts ChildWatch, attach)', () => {
    const statusAtComplete: string[] = [];
    const stopped = createActor(toggle).start();
    stopped.subscribe({ complete: () => statusAtComplete.push(stopped.getSnapshot().status) });
    stopped.stop();
    const done = createActor(toggle).start();
    done.subscribe({ complete: () => statusAtComplete.push(done.getSnapshot().status) });
    done.send({ type: 'END' });
    expect(statusAtComplete).toEqual(['stopped', 'done']);

    const errors: unknown[] = [];
    const failure = new Error('transition failed');
    const failing = createActor({
      transition: () => {
        throw failure;
      },
      getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
      getPersistedSnapshot: (snapshot: unknown) => snapshot,
    } as unknown as ActorLogic<Snapshot<undefined>, EventObject>);
    failing.subscribe({ error: (error) => errors.push(error) });
    failing.start();
    failing.send({ type: 'anything' });
    expect(errors).toEqual([failure]);

    // An actor that has already ended replays its end to whoever subscribes: attach() therefore
    // never subscribes to one (it would see the exit twice).
    const replayed: string[] = [];
    done.subscribe({ complete: () => replayed.push('complete') });
    failing.subscribe({ error: () => replayed.push('error') });
    expect(replayed).toEqual(['complete', 'error']);
  });

  it('start() on a stopped actor restarts it silently: no error, the status stays stopped, events run again (supervisor-engine.ts attach never starts an actor that is not active)', () => {
    const actor = createActor(toggle).start();
    actor.send({ type: 'FLIP' });
    actor.stop();
    expect(actor.getSnapshot()).toMatchObject({ status: 'stopped', value: 'on', context: { entries: 1 } });
    expect(() => actor.start()).not.toThrow();
    actor.send({ type: 'FLIP' });
    // The stopped actor ran an event (and an entry action) again while still reporting 'stopped'.
    expect(actor.getSnapshot()).toMatchObject({ status: 'stopped', value: 'off', context: { entries: 2 } });
    actor.stop();
  });

  it('createActor(logic, { clock }) schedules `after` delays on that clock and clears them on stop (breaker.ts, breaker-machine.ts, supervisor children started with the StartContext clock)', () => {
    const clock = createTestClock();
    const delayed = createMachine({ initial: 'waiting', states: { waiting: { after: { 500: 'next' } }, next: {} } });
    const actor = createActor(delayed, { clock }).start();
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(500);
    clock.advance(499);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('next');

    const cancelled = createActor(delayed, { clock }).start();
    expect(clock.pendingTimers()).toBe(1);
    cancelled.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a fromCallback actor’s cleanup runs synchronously on stop() (src/limiter/limiter-child.ts stops its limiter there)', () => {
    const cleanups: string[] = [];
    const actor = createActor(fromCallback(() => () => cleanups.push('cleanup'))).start();
    expect(cleanups).toEqual([]);
    actor.stop();
    expect(cleanups).toEqual(['cleanup']);
  });
});

// ---------------------------------------------------------------- RxJS 7

describe('RxJS 7: what overseer relies on', () => {
  /** Records how RxJS builds and subscribes a chain on a subclass of Observable, as GuardedObservable is. */
  class Tracing<T> extends Observable<T> {
    static lifted = 0;
    static subscribedWith: unknown[] = [];

    override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
      Tracing.subscribedWith.push(observerOrNext);
      return super.subscribe(observerOrNext as Partial<Observer<T>>);
    }

    override lift<R>(operator?: Operator<T, R>): Observable<R> {
      Tracing.lifted += 1;
      const lifted = new Tracing<R>();
      lifted.source = this;
      lifted.operator = operator;
      return lifted;
    }
  }

  it('pipe() builds each operator step with lift() on the source, and operators subscribe to their source with a Subscriber (src/telemetry/guarded-observable.ts)', () => {
    Tracing.lifted = 0;
    Tracing.subscribedWith = [];
    const source = new Subject<number>();
    const traced = new Tracing<number>((subscriber) => source.subscribe(subscriber));
    const piped = traced.pipe(
      filter((value) => value > 1),
      map((value) => value * 10),
    );
    expect(Tracing.lifted).toBe(2);
    expect(piped).toBeInstanceOf(Tracing);
    const seen: number[] = [];
    piped.subscribe((value) => seen.push(value));
    source.next(1);
    source.next(2);
    expect(seen).toEqual([20]);
    // The outer subscribe gets the user's function; the steps inside get RxJS's own Subscribers.
    expect(typeof Tracing.subscribedWith[0]).toBe('function');
    expect(Tracing.subscribedWith.slice(1).length).toBe(2);
    for (const inner of Tracing.subscribedWith.slice(1)) expect(inner).toBeInstanceOf(Subscriber);
  });

  it('Subject.observed is true exactly while someone is subscribed (src/telemetry/telemetry.ts: emit builds nothing otherwise)', () => {
    const subject = new Subject<number>();
    expect(subject.observed).toBe(false);
    const subscription = subject.subscribe(() => undefined);
    expect(subject.observed).toBe(true);
    subscription.unsubscribe();
    expect(subject.observed).toBe(false);
  });
});

// ---------------------------------------------------------------- piscina 5

const probeModule = new URL('./fixtures/piscina-probe.mjs', import.meta.url).href;
const brokenModule = new URL('./fixtures/piscina-broken.mjs', import.meta.url).href;

type ProbeTask =
  | { kind: 'echo'; value: unknown }
  | { kind: 'argv' }
  | { kind: 'loaded' }
  | { kind: 'throw'; message: string }
  | { kind: 'exit'; code: number }
  | { kind: 'crash'; message: string };

/** What a probe's load balancer was called with, and what it answers next. */
interface Balancing {
  calls: Array<{ workers: number[] }>;
  choose: 'none' | 'first';
}

/** Raw piscina as src/pool/thread-pool.ts configures it: minThreads 0, no idle timeout, its own load balancer. */
function probePiscina(options: { filename?: string; argv?: string[]; maxThreads?: number } = {}) {
  const balancing: Balancing = { calls: [], choose: 'none' };
  const created: number[] = [];
  const poolErrors: unknown[] = [];
  const piscina = new Piscina<unknown, unknown>({
    filename: options.filename ?? probeModule,
    minThreads: 0,
    maxThreads: options.maxThreads ?? 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    ...(options.argv === undefined ? {} : { argv: options.argv }),
    loadBalancer: (_task, workers) => {
      balancing.calls.push({ workers: workers.map((worker) => worker.id) });
      return balancing.choose === 'first' ? (workers[0] ?? null) : null;
    },
  });
  piscina.on('workerCreate', (thread: { id: number }) => created.push(thread.id));
  piscina.on('error', (error: unknown) => poolErrors.push(error));
  pools.push(piscina);
  return { piscina, balancing, created, poolErrors };
}

/** How the pool starts a thread (thread-pool.ts startThread): a task nobody can run, withdrawn at once. */
function startOneThread(piscina: Piscina<unknown, unknown>): Promise<unknown> {
  const withdraw = new AbortController();
  const withdrawn = piscina.run(() => undefined, { signal: withdraw.signal }).catch((error: unknown) => error);
  withdraw.abort();
  return withdrawn;
}

/** A piscina whose one thread is up (workerCreate seen), with its Worker. */
async function readyPiscina(options: { argv?: string[] } = {}) {
  const probe = probePiscina(options);
  await startOneThread(probe.piscina);
  await expect.poll(() => probe.created.length, { timeout: 10_000 }).toBe(1);
  const worker = probe.piscina.threads[0] as Worker;
  return { ...probe, worker };
}

/** A few turns of the event loop: what piscina would do by itself has had its chance. */
async function someTurns(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

const pools: Array<Piscina<unknown, unknown>> = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((piscina) => piscina.destroy()));
});

describe('piscina 5: what src/pool/thread-pool.ts (and thread-entry.mjs) rely on', () => {
  it('with minThreads 0 no thread starts by itself; a task the load balancer places nowhere (null) is queued and a thread is started at once, listed by `threads` before run() returns', async () => {
    const { piscina, balancing, created } = probePiscina();
    await someTurns();
    expect(piscina.threads).toHaveLength(0);
    const withdraw = new AbortController();
    const pending = piscina.run({ kind: 'echo', value: 1 }, { signal: withdraw.signal }).catch((error: unknown) => error);
    // Called synchronously inside run(), with no ready thread yet.
    expect(balancing.calls).toEqual([{ workers: [] }]);
    expect(piscina.threads).toHaveLength(1);
    // A queued task whose signal aborts leaves piscina's queue synchronously: the thread, once
    // ready, is never offered it (the balancer is not asked again), even by a balancer that would
    // place it.
    withdraw.abort();
    balancing.choose = 'first';
    expect(await pending).toMatchObject({ name: 'AbortError' });
    await expect.poll(() => created.length, { timeout: 10_000 }).toBe(1);
    await someTurns();
    expect(balancing.calls).toEqual([{ workers: [] }]);
    expect(piscina.completed).toBe(0);
  });

  it('workerCreate comes once the module has loaded, top-level await included, and only once (thread-pool.ts counts a thread started only then)', async () => {
    const { piscina, balancing, created } = await readyPiscina();
    expect(created).toEqual([(piscina.threads[0] as Worker).threadId]);
    balancing.choose = 'first';
    // The module ran once and to its end before the thread took a task.
    expect(await piscina.run({ kind: 'loaded' })).toEqual({ loads: 1, loaded: true });
    expect(created).toHaveLength(1);
  });

  it('the load balancer is called synchronously inside run() with the ready threads, whose `id` is the one workerCreate gave; the worker it returns gets the task at once', async () => {
    const { piscina, balancing, created } = await readyPiscina();
    balancing.choose = 'first';
    balancing.calls = [];
    const answer = piscina.run({ kind: 'echo', value: 'placed' });
    expect(balancing.calls).toEqual([{ workers: created }]);
    expect(piscina.queueSize).toBe(0);
    expect(await answer).toBe('placed');
  });

  it('`completed` counts, inside run(), a task piscina could not post (a function: structured clone refuses it); its thread lives on', async () => {
    const { piscina, balancing } = await readyPiscina();
    balancing.choose = 'first';
    const before = piscina.completed;
    const unsendable = piscina.run((() => 'never') as unknown as ProbeTask);
    expect(piscina.completed).toBe(before + 1);
    await expect(unsendable).rejects.toMatchObject({ name: 'DataCloneError' });
    expect(piscina.threads).toHaveLength(1);
    expect(await piscina.run({ kind: 'echo', value: 2 })).toBe(2);
  });

  it('a thread whose module throws while loading dies without workerCreate; piscina reports it as an `error` event, its thread’s own listeners see the error, and no thread replaces it', async () => {
    const { piscina, created, poolErrors } = probePiscina({ filename: brokenModule });
    void startOneThread(piscina);
    const worker = piscina.threads[0] as Worker;
    const threadErrors: unknown[] = [];
    let exited = false;
    worker.on('error', (error) => threadErrors.push(error));
    worker.on('exit', () => (exited = true));
    await expect.poll(() => exited, { timeout: 10_000 }).toBe(true);
    await someTurns();
    expect(created).toEqual([]);
    expect(threadErrors).toHaveLength(1);
    expect(threadErrors[0]).toMatchObject({ message: 'this worker module cannot load' });
    expect(poolErrors).toEqual(threadErrors);
    expect(piscina.threads).toHaveLength(0);
  });

  for (const [death, task] of [
    ['process.exit in the task', { kind: 'exit', code: 3 }],
    ['an uncaught exception outside the task', { kind: 'crash', message: 'uncaught in the thread' }],
  ] as const) {
    it(`a thread that dies (${death}): piscina's listeners run before ours, so ours find it dropped and its task not yet rejected; no thread replaces it`, async () => {
      const { piscina, balancing, worker } = await readyPiscina();
      balancing.choose = 'first';
      let taskSettled = false;
      const outcome = piscina.run(task).then(
        () => {
          taskSettled = true;
          return undefined;
        },
        (error: unknown) => {
          taskSettled = true;
          return error;
        },
      );
      const seenByOurs: Array<{ event: string; listed: boolean; taskSettled: boolean }> = [];
      const ours = (event: string) => () => seenByOurs.push({ event, listed: piscina.threads.includes(worker), taskSettled });
      worker.on('error', ours('error'));
      worker.on('exit', ours('exit'));
      await expect.poll(() => seenByOurs.some(({ event }) => event === 'exit'), { timeout: 10_000 }).toBe(true);
      const first = seenByOurs[0]!;
      expect(first).toEqual({ event: task.kind === 'exit' ? 'exit' : 'error', listed: false, taskSettled: false });
      const rejection = await outcome;
      expect(rejection).toBeInstanceOf(Error);
      if (task.kind === 'crash') expect(rejection).toMatchObject({ message: task.message });
      await someTurns();
      expect(piscina.threads).toHaveLength(0);
    });
  }

  it('argv reaches the thread’s process.argv (thread-entry.mjs finds the worker module there)', async () => {
    const { piscina, balancing } = await readyPiscina({ argv: ['--overseer-upgrade-probe=1'] });
    balancing.choose = 'first';
    expect(await piscina.run({ kind: 'argv' })).toEqual(expect.arrayContaining(['--overseer-upgrade-probe=1']));
  });

  it('what the handler throws comes back as the task’s rejection, and the thread lives on (thread-entry.mjs rethrows the task’s own error)', async () => {
    const { piscina, balancing } = await readyPiscina();
    balancing.choose = 'first';
    await expect(piscina.run({ kind: 'throw', message: 'the task failed' })).rejects.toMatchObject({ message: 'the task failed' });
    expect(piscina.threads).toHaveLength(1);
  });

  it('destroy() ends every thread and resolves once they have exited', async () => {
    const { piscina, worker } = await readyPiscina();
    let exited = false;
    worker.on('exit', () => (exited = true));
    await piscina.destroy();
    expect(exited).toBe(true);
    expect(piscina.threads).toHaveLength(0);
  });
});
