import { afterEach, describe, expect, it } from 'vitest';
import { createObserver } from '../../../src/observer.js';
import { createTelemetry, createTestClock } from '../../../src/index.js';
import { FakeLeaseStore, fakeLease, ProcessClock } from '../../support/cluster.js';
import { openStream, request } from './fake-http.js';
import { advance, crowdedSupervisor, flush, startWorld, type World } from './world.js';

/** Drives the observer's snapshot (`GET /observer/snapshot` and the stream's first message) over a small system on a test clock. */
let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('the snapshot shows every observed tree and component as read through their public API', () => {
  it('a static tree: each supervisor once, nested ones after their parent, children in start order with type, restart and status', async () => {
    world = await startWorld();
    const snapshot = (await request(world.observer, 'GET', '/observer/snapshot')).json();
    expect(snapshot.supervisors.map((view: any) => [view.id, view.parent, view.kind, view.status])).toEqual([
      ['root', undefined, 'static', 'running'],
      ['root/billing', 'root', 'static', 'running'],
    ]);
    const [root, billing] = snapshot.supervisors;
    expect(root.children).toEqual([
      { id: 'api', type: 'worker', restart: 'permanent', status: 'running', restarts: { total: 0, recent: 0 } },
      { id: 'mailer', type: 'worker', restart: 'permanent', status: 'running', restarts: { total: 0, recent: 0 } },
      { id: 'billing', type: 'supervisor', restart: 'permanent', status: 'running', restarts: { total: 0, recent: 0 }, supervisor: 'root/billing' },
    ]);
    expect(root.counts).toEqual({ total: 3, running: 3, backoff: 0, restarting: 0, stopped: 0 });
    expect(root.page).toEqual({ index: 0, size: 50, pages: 1, matching: 3 });
    expect(billing.children.map((child: any) => child.id)).toEqual(['ledger']);
    expect(snapshot).toMatchObject({ seq: 0, actions: false, pageSize: 50, historyMs: 60_000, events: [] });
  });

  it('a static supervisor shows its strategy when its handle carries one, none otherwise', async () => {
    world = await startWorld();
    expect(world.observer.snapshot().supervisors[0]!.strategy).toBe((world.root as { strategy?: string }).strategy);
    const told = { ...world.root, id: 'told', strategy: 'rest_for_one' } as typeof world.root;
    const odd = { ...world.root, id: 'odd', strategy: 'one_for_none' } as unknown as typeof world.root;
    const observer = createObserver({ supervisors: [told, odd], clock: world.clock, telemetry: world.telemetry });
    const views = observer.snapshot().supervisors.filter((view) => view.parent === undefined);
    expect(views.map((view) => [view.id, view.strategy])).toEqual([
      ['told', 'rest_for_one'],
      ['odd', undefined],
    ]);
  });

  it('a child in backoff shows the time left to its restart, counted from nextRestartAt on the clock', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    world.harness.crash('mailer');
    await advance(world.clock, 300);
    const snapshot = world.observer.snapshot();
    const mailer = snapshot.supervisors[0]!.children.find((child) => child.id === 'mailer')!;
    expect(mailer).toMatchObject({ status: 'backoff', restartInMs: 700, lastExit: { reason: 'error', error: 'worker crashed' } });
    expect(mailer.lastExit!.exitedAgoMs).toBe(300);
    expect(snapshot.supervisors[0]!.counts).toMatchObject({ running: 2, backoff: 1 });
    stream.hangUp();
  });

  it('a terminated child is stopped; a supervisor that has exited is shown stopped', async () => {
    world = await startWorld();
    await world.root.terminateChild('api');
    expect(world.observer.snapshot().supervisors[0]!.children[0]).toMatchObject({ id: 'api', status: 'stopped' });
    await world.root.stop();
    await flush();
    expect(world.observer.snapshot().supervisors[0]).toMatchObject({ id: 'root', status: 'stopped' });
  });

  it('an open breaker shows its state, counters and the time until it lets a probe through', async () => {
    world = await startWorld();
    await world.breaker.call(() => Promise.reject(new Error('card network down'))).catch(() => undefined);
    world.clock.advance(1_200);
    const [breaker] = world.observer.snapshot().breakers;
    expect(breaker).toEqual({ name: 'payments', state: 'open', probeInMs: 3_800, stats: { successes: 0, failures: 1, rejected: 0, opened: 1 } });
  });

  it('pools show their status, thread pools theirs, leases whether this instance holds them and the fence', async () => {
    world = await startWorld();
    const lease = await world.pool.checkout();
    const store = new FakeLeaseStore(world.clock);
    const holder = fakeLease(store, { name: 'nightly-billing', owner: 'instance-a', clock: new ProcessClock(world.clock) });
    const standby = fakeLease(store, { name: 'nightly-billing', owner: 'instance-b', clock: new ProcessClock(world.clock) });
    await holder.lease.acquire();
    await standby.lease.acquire();
    const threads = { name: 'cpu', status: () => ({ phase: 'running' as const, threads: 2, idle: 1, running: 1, queued: 3, completed: 40, crashed: 1 }) };
    const observer = createObserver({ pools: [world.pool], threadPools: [threads], leases: [holder.lease, standby.lease], telemetry: world.telemetry, clock: world.clock });
    const snapshot = observer.snapshot();
    expect(snapshot.pools).toEqual([{ name: 'db', available: true, status: { state: 'ready', idle: 1, overflow: 0, checkedOut: 1, waiting: 0 } }]);
    expect(snapshot.threadPools).toEqual([{ name: 'cpu', available: true, status: threads.status() }]);
    expect(snapshot.leases).toEqual([
      { name: 'nightly-billing', owner: 'instance-a', held: true, fence: 1 },
      { name: 'nightly-billing', owner: 'instance-b', held: false },
    ]);
    lease.release();
    await holder.lease.release();
    await observer.stop();
  });

  it('a pool whose status() throws (a supervised pool between runs) is shown unavailable, not fatal', async () => {
    const clock = createTestClock();
    const broken = {
      name: 'restarting',
      status: () => {
        throw new Error('not running');
      },
    };
    const observer = createObserver({ pools: [broken], clock, telemetry: createTelemetry({ clock }) });
    expect(observer.snapshot().pools).toEqual([{ name: 'restarting', available: false }]);
  });

  it('limiters show hits, denials and the peak count within the window, from limiter.hit while a client is connected', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    for (let hit = 0; hit < 5; hit += 1) world.limiter.hitSync('alice');
    world.clock.advance(250);
    const [limiter] = world.observer.snapshot().limiters;
    expect(limiter).toEqual({ name: 'api-clients', keys: 1, hits: 5, denied: 3, peakCount: 2, deniedTotal: 3, lastDeniedAgoMs: 250, windowMs: 60_000 });
    world.clock.advance(61_000);
    expect(world.observer.snapshot().limiters[0]).toMatchObject({ hits: 0, denied: 0, deniedTotal: 3 });
    stream.hangUp();
  });
});

describe('a dynamic supervisor with 10,000 children is aggregated and paged, never listed whole', () => {
  it('the snapshot carries counts over all 10,000 and one page of children; /children serves any page, filtered by status', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const crowd = await crowdedSupervisor(clock, telemetry, 10_000);
    await crowd.terminateChild('worker-17');
    const observer = createObserver({ supervisors: [crowd], clock, telemetry, pageSize: 40 });
    const snapshot = (await request(observer, 'GET', '/observer/snapshot')).json();
    const [view] = snapshot.supervisors;
    expect(view).toMatchObject({ id: 'crowd', kind: 'dynamic', strategy: 'one_for_one', counts: { total: 9_999, running: 9_999, stopped: 0 } });
    expect(view.children).toHaveLength(40);
    expect(view.page).toEqual({ index: 0, size: 40, pages: 250, matching: 9_999 });
    const body = (await request(observer, 'GET', '/observer/children?supervisor=crowd&page=249')).json();
    expect(body.supervisors[0].page).toMatchObject({ index: 249, pages: 250 });
    expect(body.supervisors[0].children.map((child: any) => child.id)).toEqual(Array.from({ length: 39 }, (_, index) => `worker-${9_961 + index}`));
    const past = (await request(observer, 'GET', '/observer/children?supervisor=crowd&page=100000')).json();
    expect(past.supervisors[0].page.index).toBe(249);
    await crowd.stop();
  });

  it('a status filter pages only the children with that status', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const crowd = await crowdedSupervisor(clock, telemetry, 300);
    const observer = createObserver({ supervisors: [crowd], clock, telemetry, pageSize: 10 });
    const body = (await request(observer, 'GET', '/observer/children?supervisor=crowd&status=stopped')).json();
    expect(body.supervisors[0]).toMatchObject({ page: { index: 0, pages: 1, matching: 0, status: 'stopped' }, children: [] });
    const running = (await request(observer, 'GET', '/observer/children?supervisor=crowd&status=running&page=2')).json();
    expect(running.supervisors[0].children.map((child: any) => child.id)).toEqual(Array.from({ length: 10 }, (_, index) => `worker-${20 + index}`));
    await crowd.stop();
  });

  it('/children answers 400 naming a bad page or status, 404 for a supervisor no tree has', async () => {
    world = await startWorld();
    for (const [query, parameter] of [
      ['supervisor=root&page=-1', 'page'],
      ['supervisor=root&page=1.5', 'page'],
      ['supervisor=root&page=9999999999', 'page'],
      ['supervisor=root&status=crashed', 'status'],
      ['page=1', 'supervisor'],
    ] as const) {
      const answer = await request(world.observer, 'GET', `/observer/children?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json()).toMatchObject({ error: 'ERR_BAD_REQUEST', parameter });
    }
    const missing = await request(world.observer, 'GET', '/observer/children?supervisor=nobody');
    expect(missing.status).toBe(404);
    const nested = await request(world.observer, 'GET', '/observer/children?supervisor=root%2Fbilling');
    expect(nested.json().supervisors[0]).toMatchObject({ id: 'root/billing', parent: 'root' });
  });
});
