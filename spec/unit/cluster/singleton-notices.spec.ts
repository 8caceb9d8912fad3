import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createTelemetry, createTestClock, startSupervisor, type Supervisor, type TestClock } from '../../../src/index.js';
import { singletonChild } from '../../../src/cluster/index.js';
import { workerMachine } from '../../support/actors.js';
import { FakeLeaseStore, ProcessClock, advance, fakeLease, type Link } from '../../support/cluster.js';
import { NoticeBus, noticeKey, noticedLease } from '../../support/release-notices.js';

// ttlMs 3000: renewals every 1000 ms; standbys poll every 200 ms, so anything that happens at once
// (virtual time 0) happened because of a release notice, not a poll.
const ttlMs = 3000;
const retryMs = 200;

const running: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop().catch(() => undefined)));
});

/**
 * One "process": a supervisor and a lease (own owner, own link, own release feed on the bus)
 * sharing one ProcessClock, with a singleton child whose actor is a worker machine.
 */
async function instance(store: FakeLeaseStore, bus: NoticeBus, owner: string) {
  const clock = new ProcessClock(store.clock);
  const link: Link = { requestDelayMs: 0, replyDelayMs: 0 };
  const feed = bus.feed();
  const { lease } = noticedLease(store, feed, { owner, ttlMs, link, clock, bus });
  const runs: Array<{ fence: number; actor: AnyActorRef; at: number }> = [];
  const machine = workerMachine();
  const spec = singletonChild({
    id: 'singleton',
    lease,
    retryMs,
    start: (context) => {
      const actor = createActor(machine, { clock: context.clock });
      runs.push({ fence: context.fence, actor, at: clock.now() });
      return actor;
    },
  });
  const supervisor = await startSupervisor({ children: [spec] }, { id: owner, clock, telemetry: createTelemetry({ clock }) });
  running.push(supervisor);
  return { clock, link, lease, feed, supervisor, runs };
}

function setup(): { clock: TestClock; store: FakeLeaseStore; bus: NoticeBus } {
  const clock = createTestClock();
  return { clock, store: new FakeLeaseStore(clock), bus: new NoticeBus() };
}

/** The claims `owner` sent that the store applied. */
function claimsBy(store: FakeLeaseStore, owner: string): number {
  return store.applied.filter((entry) => entry.operation === 'claim' && entry.owner === owner).length;
}

/** Two instances: `a` holds and runs, `b` stands by, both listening, every startup claim settled. */
async function holderAndStandby() {
  const world = setup();
  const a = await instance(world.store, world.bus, 'a');
  await advance(world.clock, 0);
  const b = await instance(world.store, world.bus, 'b');
  await advance(world.clock, 0);
  for (const { transport } of world.bus.feeds) transport.up();
  await advance(world.clock, 0);
  expect(a.runs.map((run) => run.fence)).toEqual([1]);
  expect(b.runs).toEqual([]);
  return { ...world, a, b };
}

describe('release notices wake a standby', () => {
  it('a standby takes over at once when the holder stops gracefully, not at its next poll', async () => {
    const { clock, store, a, b } = await holderAndStandby();
    const stoppedAt = clock.now();
    await a.supervisor.stop();
    await advance(clock, 0);
    expect(b.runs.map((run) => ({ fence: run.fence, at: run.at }))).toEqual([{ fence: 2, at: stoppedAt }]);
    expect(store.holderOf('lease')?.owner).toBe('b');
  });

  it('without notices (the feed is down) the standby still takes over, at its next poll', async () => {
    const { clock, a, b, bus } = await holderAndStandby();
    for (const { transport } of bus.feeds) transport.down(new Error('subscriber connection closed'));
    const stoppedAt = clock.now();
    await a.supervisor.stop();
    await advance(clock, 0);
    expect(b.runs).toEqual([]);
    await advance(clock, retryMs);
    expect(b.runs).toHaveLength(1);
    expect(b.runs[0]!.fence).toBe(2);
    expect(b.runs[0]!.at - stoppedAt).toBeGreaterThan(0);
    expect(b.runs[0]!.at - stoppedAt).toBeLessThanOrEqual(retryMs);
  });

  it('a standby that begins to listen tries at once: a release it could not hear is not left to the poll', async () => {
    const { clock, store, bus } = setup();
    const a = await instance(store, bus, 'a');
    await advance(clock, 0);
    const b = await instance(store, bus, 'b');
    await advance(clock, 0);
    // b's feed is not listening yet when a releases: the notice reaches nobody.
    await a.supervisor.stop();
    await advance(clock, 0);
    expect(b.runs).toEqual([]);
    b.feed.transport.up();
    await advance(clock, 0);
    expect(b.runs.map((run) => run.fence)).toEqual([2]);
  });

  it('a burst of notices makes at most two claims (one, and one more for notices during it)', async () => {
    const { clock, store, b, bus } = await holderAndStandby();
    const before = claimsBy(store, 'b');
    for (let index = 0; index < 100; index += 1) bus.publish(noticeKey('lease'));
    await advance(clock, 0);
    const burst = claimsBy(store, 'b') - before;
    expect(burst).toBeGreaterThanOrEqual(1);
    expect(burst).toBeLessThanOrEqual(2);
    expect(b.runs).toEqual([]);
    // And then it polls as before: one claim per retryMs.
    await advance(clock, retryMs * 5);
    expect(claimsBy(store, 'b') - before - burst).toBe(5);
  });

  it('a notice that comes while a claim is in flight has its refusal tried again at once', async () => {
    const { clock, store, a, b, bus } = await holderAndStandby();
    b.link.replyDelayMs = 10;
    // A notice (of nothing yet) sends b's claim now; the store refuses it at once, b hears so at +10.
    const sentAt = clock.now();
    bus.publish(noticeKey('lease'));
    await advance(clock, 5);
    expect(store.applied.at(-1)).toMatchObject({ operation: 'claim', owner: 'b', result: { held: false } });
    // The holder leaves meanwhile: the store answered b's claim before the release.
    await a.supervisor.stop();
    await advance(clock, 5);
    // The refusal arrived at +10 and was tried again at once: granted, heard at +20.
    await advance(clock, 10);
    expect(b.runs.map((run) => ({ fence: run.fence, at: run.at - sentAt }))).toEqual([{ fence: 2, at: 20 }]);
    // Answers without delay again, so that stopping b after the spec needs no clock.
    b.link.replyDelayMs = 0;
  });

  it('notices to a running singleton change nothing (no claim beyond its renewals)', async () => {
    const { clock, store, a, bus } = await holderAndStandby();
    const before = claimsBy(store, 'a');
    for (let index = 0; index < 10; index += 1) bus.publish(noticeKey('lease'));
    await advance(clock, 0);
    expect(claimsBy(store, 'a')).toBe(before);
    expect(a.runs).toHaveLength(1);
  });

  it('a singleton listens from its start to its end: once both are stopped, every feed is closed', async () => {
    const { clock, a, b, bus } = await holderAndStandby();
    expect(bus.feeds.map(({ transport }) => transport.isOpen)).toEqual([true, true]);
    await b.supervisor.stop();
    expect(bus.feeds.map(({ transport }) => transport.isOpen)).toEqual([true, false]);
    await a.supervisor.stop();
    await advance(clock, 0);
    expect(bus.feeds.map(({ transport }) => ({ opened: transport.opened, closed: transport.closed }))).toEqual([
      { opened: 1, closed: 1 },
      { opened: 1, closed: 1 },
    ]);
  });
});

describe('leases without onReleased', () => {
  it('a ClusterLease without onReleased is polled as before; a non-function onReleased is refused', async () => {
    const { clock, store } = setup();
    const { lease } = fakeLease(store, { owner: 'a', ttlMs });
    const plain = {
      name: lease.name,
      owner: lease.owner,
      ttlMs: lease.ttlMs,
      acquire: () => lease.acquire(),
      release: () => lease.release(),
      isHeld: () => lease.isHeld(),
      get fence() {
        return lease.fence;
      },
      onLost: (listener: Parameters<typeof lease.onLost>[0]) => lease.onLost(listener),
    };
    const fences: number[] = [];
    const spec = singletonChild({ id: 's', lease: plain, retryMs, start: ({ fence, clock: own }) => (fences.push(fence), createActor(workerMachine(), { clock: own })) });
    const supervisor = await startSupervisor({ children: [spec] }, { clock: new ProcessClock(clock), telemetry: createTelemetry({ clock }) });
    running.push(supervisor);
    await advance(clock, 0);
    expect(fences).toEqual([1]);

    let caught: unknown;
    try {
      singletonChild({ id: 's', lease: { ...plain, onReleased: 1 } as never, start: () => createActor(createMachine({})) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe('lease.onReleased');
  });
});
