import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createTelemetry,
  createTestClock,
  startSupervisor,
  type ChildSpec,
  type Supervisor,
  type TelemetryEvent,
  type TestClock,
} from '../../../src/index.js';
import { singletonChild, type ClusterLease, type SingletonStartContext } from '../../../src/cluster/index.js';
import { presentedRef } from '../../../src/supervisor/internal.js';
import { workerMachine } from '../../support/actors.js';
import { FakeLeaseStore, ProcessClock, advance, fakeLease, type Link } from '../../support/cluster.js';

// ttlMs 3000: renewals every 1000 ms, a renewal given up after 1000 ms, held locally until 2700 ms
// after the last claim was sent; standbys retry every 200 ms.
const ttlMs = 3000;
const retryMs = 200;

/** Everything a spec started, stopped after it whatever happened. */
const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop().catch(() => undefined)));
});

/**
 * One "process": a supervisor and a lease object (own owner, own link to the store) sharing one
 * {@link ProcessClock}, with a singleton child whose actor is a worker machine.
 */
async function instance(
  store: FakeLeaseStore,
  owner: string,
  options: { drainMs?: number | 'never'; shutdown?: ChildSpec['shutdown']; restart?: ChildSpec['restart']; intensity?: number } = {},
) {
  const clock = new ProcessClock(store.clock);
  const link: Link = { requestDelayMs: 0, replyDelayMs: 0 };
  const { lease } = fakeLease(store, { owner, ttlMs, link, clock });
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const runs: Array<{ fence: number; actor: AnyActorRef; context: SingletonStartContext }> = [];
  const machine = workerMachine(options.drainMs === undefined ? {} : { drainMs: options.drainMs });
  const spec = singletonChild({
    id: 'singleton',
    lease,
    retryMs,
    ...(options.shutdown === undefined ? {} : { shutdown: options.shutdown }),
    ...(options.restart === undefined ? {} : { restart: options.restart }),
    start: (context) => {
      const actor = createActor(machine, { clock: context.clock });
      runs.push({ fence: context.fence, actor, context });
      return actor;
    },
  });
  const supervisor = await startSupervisor({ children: [spec], intensity: options.intensity ?? 1 }, { id: owner, clock, telemetry });
  running.push(supervisor);
  return {
    clock,
    link,
    lease,
    supervisor,
    runs,
    events,
    /** The actor the supervisor shows for the singleton (read through `presentedRef`, whatever the supervisor does). */
    shown: () => presentedRef(supervisor.whichChildren()[0]?.ref),
    current: () => runs.at(-1)?.actor,
    named: (name: string) => events.filter((event) => event.name === name),
  };
}

function status(actor: AnyActorRef | undefined): string | undefined {
  return (actor?.getSnapshot() as { status: string } | undefined)?.status;
}

function setup(): { clock: TestClock; store: FakeLeaseStore } {
  const clock = createTestClock();
  return { clock, store: new FakeLeaseStore(clock) };
}

describe('options', () => {
  const { lease } = fakeLease(new FakeLeaseStore(createTestClock()), { ttlMs });
  const start = () => createActor(createMachine({}));

  it.each([
    ['id', { id: '', lease, start }],
    ['lease', { id: 's', lease: undefined, start }],
    ['lease.onLost', { id: 's', lease: { ...lease, acquire: lease.acquire, release: lease.release, isHeld: lease.isHeld, onLost: 1 }, start }],
    ['start', { id: 's', lease, start: 'start' }],
    ['retryMs', { id: 's', lease, start, retryMs: 0 }],
    ['retryMs', { id: 's', lease, start, retryMs: Number.NaN }],
    ['shutdown', { id: 's', lease, start, shutdown: -1 }],
    ['restart', { id: 's', lease, start, restart: 'sometimes' }],
    ['type', { id: 's', lease, start, type: 'daemon' }],
    ['significant', { id: 's', lease, start, significant: 'yes' }],
  ])('refuses a bad %s at once with a ConfigError naming it', (option, options) => {
    let caught: unknown;
    try {
      singletonChild(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe(option);
  });

  it('returns a child spec with the child fields given', () => {
    const spec = singletonChild({ id: 's', lease, start, restart: 'transient', shutdown: 100 });
    expect(spec).toMatchObject({ id: 's', restart: 'transient', shutdown: 100 });
    expect(typeof spec.start).toBe('function');
  });
});

describe('one instance', () => {
  it('runs the actor with the fence once it holds the lease; the start context has the supervisor, clock and a live signal', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    expect(a.runs).toHaveLength(1);
    const [run] = a.runs;
    expect(run!.fence).toBe(1);
    expect(run!.context).toMatchObject({ supervisor: 'a', clock: a.clock });
    expect(run!.context.signal.aborted).toBe(false);
    expect(status(run!.actor)).toBe('active');
    expect(a.shown()).toBe(run!.actor);
    expect(a.lease.isHeld()).toBe(true);
    await advance(clock, 10 * ttlMs);
    expect(a.runs).toHaveLength(1);
    expect(status(run!.actor)).toBe('active');
  });

  it('a stopped singleton stops its actor through the shutdown protocol, then releases the lease', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 50 });
    await advance(clock, 0);
    const actor = a.current()!;
    const stopping = a.supervisor.stop();
    await advance(clock, 49);
    expect(status(actor)).toBe('active');
    expect(store.holderOf('lease')?.owner).toBe('a');
    await advance(clock, 1);
    await stopping;
    expect((actor.getSnapshot() as { value: string }).value).toBe('finished');
    expect(store.holderOf('lease')).toBeUndefined();
    expect(a.runs[0]!.context.signal.aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an actor that ignores the shutdown request is stopped when the child shutdown passes', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 'never', shutdown: 400 });
    await advance(clock, 0);
    const actor = a.current()!;
    const stopping = a.supervisor.stop();
    await advance(clock, 399);
    expect(status(actor)).toBe('active');
    await advance(clock, 1);
    await stopping;
    expect(status(actor)).toBe('stopped');
    expect(store.holderOf('lease')).toBeUndefined();
  });

  it('an actor that crashes is an error exit of the child: restarted (counted), after the lease went and came back with a larger fence', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { intensity: 3 });
    await advance(clock, 0);
    a.current()!.send({ type: 'CRASH' });
    await advance(clock, 0);
    expect(a.named('supervisor.child.exited').map((event) => event.metadata.reason)).toEqual(['error']);
    expect(a.named('supervisor.child.restarted')).toHaveLength(1);
    expect(a.runs.map((run) => run.fence)).toEqual([1, 2]);
    expect(status(a.current())).toBe('active');
  });

  it("an actor that finishes is a normal exit: a transient singleton is not restarted, and the lease is released", async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { restart: 'transient' });
    await advance(clock, 0);
    a.current()!.send({ type: 'FINISH' });
    await advance(clock, 0);
    expect(a.named('supervisor.child.exited').map((event) => event.metadata.reason)).toEqual(['normal']);
    expect(a.runs).toHaveLength(1);
    expect(store.holderOf('lease')).toBeUndefined();
    expect(a.supervisor.whichChildren()[0]!.ref).toBeUndefined();
  });

  it('a start that rejects is an error exit of the child, and the lease is released', async () => {
    const { clock, store } = setup();
    const { lease } = fakeLease(store, { owner: 'a', ttlMs });
    const telemetry = createTelemetry({ clock });
    const exits: unknown[] = [];
    telemetry.select('supervisor.child.exited').subscribe((event) => exits.push(event.metadata.reason));
    const spec = singletonChild({ id: 's', lease, retryMs, restart: 'temporary', start: () => Promise.reject(new Error('no start')) });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    running.push(supervisor);
    await advance(clock, 0);
    expect(exits).toEqual(['error']);
    expect(store.holderOf('lease')).toBeUndefined();
    expect(lease.isHeld()).toBe(false);
  });

  it.each([
    ['an actor that has already finished', 'normal', () => createActor(createMachine({ initial: 'end', states: { end: { type: 'final' } } })).start()],
    ['an actor that has already failed', 'error', () => {
      const failing = createActor(workerMachine()).start();
      failing.subscribe({ error: () => undefined });
      failing.send({ type: 'CRASH' });
      return failing;
    }],
    ['something that is not an actor', 'error', () => ({ not: 'an actor' }) as unknown as AnyActorRef],
  ])('a start that returns %s ends the child (%s), releasing the lease', async (_what, reason, make) => {
    const { clock, store } = setup();
    const { lease } = fakeLease(store, { owner: 'a', ttlMs });
    const telemetry = createTelemetry({ clock });
    const exits: unknown[] = [];
    telemetry.select('supervisor.child.exited').subscribe((event) => exits.push(event.metadata.reason));
    const spec = singletonChild({ id: 's', lease, retryMs, restart: 'temporary', start: make });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry });
    running.push(supervisor);
    await advance(clock, 0);
    expect(exits).toEqual([reason]);
    expect(store.holderOf('lease')).toBeUndefined();
  });

  it('an actor returned by a start that settles after the child was stopped is stopped at once', async () => {
    const { clock, store } = setup();
    const { lease } = fakeLease(store, { owner: 'a', ttlMs });
    let finishStart: (actor: AnyActorRef) => void = () => undefined;
    const spec = singletonChild({ id: 's', lease, retryMs, start: () => new Promise<AnyActorRef>((resolve) => (finishStart = resolve)) });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry: createTelemetry({ clock }) });
    await advance(clock, 0);
    const stopped = supervisor.stop();
    await advance(clock, 0);
    const late = createActor(workerMachine(), { clock });
    late.start();
    finishStart(late);
    await advance(clock, 0);
    await stopped;
    expect(status(late)).toBe('stopped');
    expect(store.holderOf('lease')).toBeUndefined();
  });

  it('a supervisor killed outright (ref.stop()) kills the actor and releases the lease', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 'never' });
    await advance(clock, 0);
    a.supervisor.ref.stop();
    await advance(clock, 0);
    expect(status(a.current())).toBe('stopped');
    expect(store.holderOf('lease')).toBeUndefined();
  });
});

describe('two instances', () => {
  it('one runs, the other stands by (no start, ref undefined) and retries every retryMs', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await advance(clock, 0);
    const claimsBy = (owner: string) => store.applied.filter((entry) => entry.operation === 'claim' && entry.owner === owner).length;
    const before = claimsBy('b');
    await advance(clock, 10 * retryMs);
    expect(claimsBy('b') - before).toBe(10);
    expect(a.runs).toHaveLength(1);
    expect(b.runs).toHaveLength(0);
    expect(b.shown()).toBeUndefined();
    expect(b.supervisor.countChildren().specs).toBe(1);
  });

  it('stopping the holder gracefully lets the standby take over at its next retry, with fence + 1, well under the TTL', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await advance(clock, 0);
    const stoppedAt = clock.now();
    await a.supervisor.stop();
    await advance(clock, retryMs);
    expect(b.runs.map((run) => run.fence)).toEqual([2]);
    expect(clock.now() - stoppedAt).toBeLessThanOrEqual(retryMs);
    expect(status(b.current())).toBe('active');
  });

  it('terminateChild on the holder releases the lease too', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await a.supervisor.terminateChild('singleton');
    await advance(clock, retryMs);
    expect(b.runs.map((run) => run.fence)).toEqual([2]);
  });

  it("a holder whose renewal fails stops its actor before the store can expire the lease, stands by without an exit, and the standby takes over with fence + 1", async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 'never' });
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await advance(clock, 0);
    // a's connection goes down: its renewal at 1000 fails at once; the store keeps a's holding until 3000.
    a.link.mode = 'failing';
    await advance(clock, 1000);
    const actor = a.runs[0]!.actor;
    // Asked to stop at 1000; an actor that does not finish is stopped at the local deadline (2700).
    expect(status(actor)).toBe('active');
    await advance(clock, 1699);
    expect(status(actor)).toBe('active');
    await advance(clock, 1);
    expect(status(actor)).toBe('stopped');
    expect(store.holderOf('lease')?.owner).toBe('a');
    expect(a.shown()).toBeUndefined();
    expect(a.named('supervisor.child.exited')).toHaveLength(0);
    expect(a.named('supervisor.child.restarted')).toHaveLength(0);
    // The store lets a's holding go at 3000; b, retrying, takes over with the next fence.
    await advance(clock, 300 + retryMs);
    expect(b.runs.map((run) => run.fence)).toEqual([2]);
    expect(status(b.current())).toBe('active');
    // a keeps standing by and does not run again while b holds it.
    a.link.mode = undefined;
    await advance(clock, 5 * ttlMs);
    expect(a.runs).toHaveLength(1);
    expect(a.supervisor.whichChildren()).toHaveLength(1);
  });

  it('a holder whose actor drains in time after a failed renewal ends it gracefully (shutdown protocol), then stands by', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 300 });
    await advance(clock, 0);
    a.link.mode = 'failing';
    await advance(clock, 1000);
    await advance(clock, 300);
    const actor = a.runs[0]!.actor;
    expect((actor.getSnapshot() as { value: string; status: string }).status).toBe('done');
    expect(a.shown()).toBeUndefined();
  });

  it('a holder whose event loop was blocked past the TTL stops its actor at once when it runs again, before anything else of it', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 'never' });
    await advance(clock, 0);
    const b = await instance(store, 'b');
    a.clock.pause();
    await advance(clock, ttlMs + retryMs);
    expect(b.runs.map((run) => run.fence)).toEqual([2]);
    expect(status(a.runs[0]!.actor)).toBe('active');
    a.clock.resume();
    await advance(clock, 0);
    expect(status(a.runs[0]!.actor)).toBe('stopped');
    expect(a.runs[0]!.context.signal.aborted).toBe(true);
    expect(a.lease.isHeld()).toBe(false);
    expect(a.named('supervisor.child.exited')).toHaveLength(0);
    // The blocked one now stands by behind the new holder.
    await advance(clock, 3 * ttlMs);
    expect(a.runs).toHaveLength(1);
    expect(b.runs).toHaveLength(1);
  });

  it('a standby stopped while it waits releases nothing it does not hold and ends at once', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await advance(clock, 50);
    await b.supervisor.stop();
    expect(store.holderOf('lease')?.owner).toBe('a');
    expect(a.lease.isHeld()).toBe(true);
  });
});

describe('interleavings', () => {
  it('a stop requested while the actor is being stopped for a lost lease ends the child within the loss bound, releasing', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a', { drainMs: 'never' });
    await advance(clock, 0);
    a.link.mode = 'failing';
    await advance(clock, 1000);
    let stoppedAt: number | undefined;
    a.supervisor.stop().then(() => (stoppedAt = clock.now()));
    a.link.mode = undefined;
    await advance(clock, 1700);
    expect(status(a.runs[0]!.actor)).toBe('stopped');
    expect(stoppedAt).toBe(2700);
    expect(store.holderOf('lease')).toBeUndefined();
  });

  it('a lease lost while the start is in flight: what the start returns is stopped at once, and the singleton stands by and starts again later', async () => {
    const { clock, store } = setup();
    const link: Link = { requestDelayMs: 0, replyDelayMs: 0 };
    const pausable = fakeLease(store, { owner: 'a', ttlMs, link });
    const started: AnyActorRef[] = [];
    const fences: number[] = [];
    let finishFirst: (() => void) | undefined;
    const spec = singletonChild({
      id: 's',
      lease: pausable.lease,
      retryMs,
      start: ({ fence }) => {
        fences.push(fence);
        const actor = createActor(workerMachine(), { clock });
        started.push(actor);
        if (started.length > 1) return actor;
        // The first start hands back an actor it already started, late.
        return new Promise<AnyActorRef>((resolve) => (finishFirst = () => resolve(actor.start())));
      },
    });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry: createTelemetry({ clock }) });
    running.push(supervisor);
    await advance(clock, 0);
    link.mode = 'failing';
    await advance(clock, 1000);
    expect(pausable.lease.isHeld()).toBe(false);
    finishFirst!();
    await advance(clock, 0);
    expect(status(started[0])).toBe('stopped');
    link.mode = undefined;
    await advance(clock, retryMs);
    expect(started).toHaveLength(2);
    expect(status(started[1])).toBe('active');
    expect(fences).toEqual([1, 1]);
  });
});

describe('whichChildren shows what a singleton child runs', () => {
  it('shows a standing-by singleton with ref undefined and a running one with the actor its start returned', async () => {
    const { clock, store } = setup();
    const a = await instance(store, 'a');
    await advance(clock, 0);
    const b = await instance(store, 'b');
    await advance(clock, 0);
    expect(a.supervisor.whichChildren()[0]!.ref).toBe(a.current());
    expect(b.supervisor.whichChildren()[0]!.ref).toBeUndefined();
    expect(b.supervisor.countChildren()).toMatchObject({ specs: 1, active: 0 });
    await a.supervisor.stop();
    await advance(clock, retryMs);
    expect(b.supervisor.whichChildren()[0]!.ref).toBe(b.current());
    expect(b.supervisor.countChildren()).toMatchObject({ specs: 1, active: 1 });
  });
});

// The lease interface is what the singleton relies on; a lease written by hand works too.
describe('with any ClusterLease', () => {
  it('runs against a hand-written lease that reports no grace (a loss stops the actor at once)', async () => {
    const clock = createTestClock();
    let held = false;
    let lost: Parameters<ClusterLease['onLost']>[0] | undefined;
    const lease: ClusterLease = {
      name: 'manual',
      owner: 'me',
      acquire: async () => (held = true),
      release: async () => {
        held = false;
      },
      isHeld: () => held,
      get fence() {
        return held ? 7 : undefined;
      },
      onLost: (listener) => {
        lost = listener;
        return () => (lost = undefined);
      },
    };
    const actors: AnyActorRef[] = [];
    const spec = singletonChild({
      id: 's',
      lease,
      retryMs: 100,
      start: ({ fence, clock: startClock }) => {
        expect(fence).toBe(7);
        const actor = createActor(workerMachine({ drainMs: 'never' }), { clock: startClock });
        actors.push(actor);
        return actor;
      },
    });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry: createTelemetry({ clock }) });
    await advance(clock, 0);
    expect(actors).toHaveLength(1);
    held = false;
    // A lease written to the contract's listener type: the reason alone.
    (lost as unknown as (reason: string) => void)('taken');
    await advance(clock, 0);
    expect(status(actors[0])).toBe('stopped');
    await advance(clock, 100);
    expect(actors).toHaveLength(2);
    const stopped = supervisor.stop();
    await advance(clock, 5000);
    await stopped;
    expect(status(actors[1])).toBe('stopped');
    expect(held).toBe(false);
    expect(lost).toBeUndefined();
  });
});
