import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, startSupervisor, supervisorChild, TelemetryEvents } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';
import { createObserver } from '../../../src/observer.js';
import { LINGER_MS } from '../../../src/observer/live-feed.js';
import { openStream } from './fake-http.js';
import { advance, flush, startWorld, type World } from './world.js';

/**
 * Drives `GET /observer/events` against fake responses on a test clock: what is sent, when, and
 * what the observer holds (telemetry subscription, timers) with and without clients.
 */
let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('an event stream starts with a snapshot', () => {
  it('answers text/event-stream, a retry hint, then a snapshot message with an id', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-store');
    expect(stream.body.startsWith('retry: 2000\nid: 0\nevent: snapshot\ndata: {')).toBe(true);
    const [first] = stream.messages();
    expect(first!.data.supervisors.map((view: any) => view.id)).toEqual(['root', 'root/billing']);
    stream.hangUp();
  });

  it('a client reconnecting with Last-Event-ID gets a fresh snapshot of the world now, not a replay', async () => {
    world = await startWorld();
    const first = openStream(world.observer);
    world.harness.crash('api');
    await advance(world.clock, 200);
    const lastId = first.messages().at(-1)!.id;
    expect(lastId).toBeGreaterThan(0);
    first.hangUp();
    const again = openStream(world.observer, { headers: { 'last-event-id': String(lastId) } });
    const [message] = again.messages();
    expect(message!.event).toBe('snapshot');
    expect(message!.id).toBe(lastId);
    expect(message!.data.resumedFrom).toBe(String(lastId));
    expect(message!.data.supervisors[0].children[0]).toMatchObject({ id: 'api', status: 'running', restarts: { total: 1 } });
    again.hangUp();
  });
});

describe('deltas follow the telemetry, coalesced', () => {
  it('a crash shows as a delta: the supervisor read again, with the restart counted and the exit reason and message', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    world.harness.crash('api');
    await advance(world.clock, 0);
    const delta = stream.messages().find((message) => message.event === 'delta')!;
    expect(delta.id).toBe(1);
    const root = delta.data.supervisors.find((view: any) => view.id === 'root');
    expect(root.children[0]).toMatchObject({ id: 'api', status: 'running', restarts: { total: 1, recent: 1 }, lastExit: { reason: 'error', error: 'worker crashed' } });
    expect(delta.data.events.map((event: any) => [event.kind, event.text])).toEqual([
      ['exit', 'api exited: worker crashed'],
      ['restart', 'api restarted by root (1 in the intensity window)'],
    ]);
    stream.hangUp();
  });

  it('1000 events in 100 ms make at most 2 messages in those 100 ms and at most 10 in the second, the last one current', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    const started = world.clock.now();
    const sentAt: number[] = [];
    const count = (): number => stream.messages().length;
    let seen = count();
    for (let event = 0; event < 1_000; event += 1) {
      world.telemetry.emit(TelemetryEvents.limiterHit, { count: event, cost: 1 }, { limiter: 'api-clients', allowed: event % 2 === 0 });
      world.clock.advance(0.1);
      if (count() > seen) {
        sentAt.push(world.clock.now() - started);
        seen = count();
      }
    }
    expect(world.clock.now() - started).toBeCloseTo(100, 5);
    expect(sentAt.length).toBeLessThanOrEqual(2);
    for (let step = 0; step < 9; step += 1) {
      world.clock.advance(100);
      if (count() > seen) {
        sentAt.push(world.clock.now() - started);
        seen = count();
      }
    }
    expect(sentAt.length).toBeLessThanOrEqual(10);
    for (let index = 1; index < sentAt.length; index += 1) expect(sentAt[index]! - sentAt[index - 1]!).toBeGreaterThanOrEqual(100);
    const limiters = stream.messages().flatMap((message) => message.data.limiters ?? []);
    expect(limiters.at(-1)).toMatchObject({ name: 'api-clients', hits: 1_000, denied: 500, peakCount: 999 });
    stream.hangUp();
  });

  it('maxUpdatesPerSecond: 2 spaces messages 500 ms apart', async () => {
    world = await startWorld({ maxUpdatesPerSecond: 2 });
    const stream = openStream(world.observer);
    world.harness.crash('api');
    await advance(world.clock, 0);
    expect(stream.messages()).toHaveLength(2);
    world.harness.crash('api');
    await advance(world.clock, 499);
    expect(stream.messages()).toHaveLength(2);
    await advance(world.clock, 1);
    expect(stream.messages()).toHaveLength(3);
    expect(stream.messages()[2]!.data.supervisors[0].children[0].restarts.total).toBe(2);
    stream.hangUp();
  });

  it('a nested supervisor restarted as a new one is sent with its tree; one terminated is listed as removed', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    world.harness.crash('ledger');
    await advance(world.clock, 0);
    const restarted = stream.messages().at(-1)!.data;
    expect(restarted.supervisors.map((view: any) => view.id)).toEqual(['root/billing']);
    expect(restarted.supervisors[0].children[0]).toMatchObject({ id: 'ledger', restarts: { total: 1 } });
    await world.root.terminateChild('billing');
    await advance(world.clock, 100);
    const removed = stream.messages().at(-1)!.data;
    expect(removed.removedSupervisors).toEqual(['root/billing']);
    expect(removed.supervisors.find((view: any) => view.id === 'root').children[2]).toMatchObject({ id: 'billing', status: 'stopped' });
    expect(removed.supervisors.find((view: any) => view.id === 'root').children[2].supervisor).toBeUndefined();
    await world.root.restartChild('billing');
    await advance(world.clock, 100);
    const back = stream.messages().at(-1)!.data;
    expect(back.supervisors.map((view: any) => view.id)).toEqual(['root', 'root/billing']);
    stream.hangUp();
  });

  it('a group restart that replaces a nested supervisor sends each supervisor once, the nested one as its new run', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const harness = new ChildHarness();
    const group = await startSupervisor(
      { strategy: 'one_for_all', intensity: 10, children: [harness.child('api'), supervisorChild('billing', { children: [harness.child('ledger')] })] },
      { id: 'group', clock, telemetry },
    );
    const observer = createObserver({ supervisors: [group], clock, telemetry });
    const stream = openStream(observer);
    const ledgerBefore = harness.actor('ledger');
    harness.crash('api');
    await advance(clock, 0);
    const delta = stream.messages().at(-1)!.data;
    expect(delta.supervisors.map((view: any) => view.id)).toEqual(['group', 'group/billing']);
    expect(delta.removedSupervisors).toBeUndefined();
    expect(harness.actor('ledger')).not.toBe(ledgerBefore);
    expect(delta.supervisors[1]).toMatchObject({ status: 'running', children: [{ id: 'ledger', status: 'running' }] });
    stream.hangUp();
    await observer.stop();
    await group.stop();
  });

  it('a breaker opening is sent with its countdown; its counters, which change without events, are sampled every sampleMs', async () => {
    world = await startWorld({ sampleMs: 500 });
    const stream = openStream(world.observer);
    await world.breaker.call(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await advance(world.clock, 0);
    expect(stream.messages().at(-1)!.data.breakers).toEqual([{ name: 'payments', state: 'open', probeInMs: 5_000, stats: { successes: 0, failures: 1, rejected: 0, opened: 1 } }]);
    await world.breaker.call(() => 1).catch(() => undefined);
    await advance(world.clock, 500);
    expect(stream.messages().at(-1)!.data.breakers).toEqual([{ name: 'payments', state: 'open', probeInMs: 4_500, stats: { successes: 0, failures: 1, rejected: 1, opened: 1 } }]);
    const before = stream.messages().length;
    await advance(world.clock, 500);
    // Only the countdown moved: nothing is sent (the page counts down by itself).
    expect(stream.messages()).toHaveLength(before);
    stream.hangUp();
  });
});

describe('heartbeats keep an idle stream alive', () => {
  it('a heartbeat comment every heartbeatMs, with or without changes', async () => {
    world = await startWorld({ heartbeatMs: 2_000 });
    const stream = openStream(world.observer);
    await advance(world.clock, 1_999);
    expect(stream.comments()).toEqual([]);
    await advance(world.clock, 1);
    expect(stream.comments()).toEqual(['heartbeat']);
    await advance(world.clock, 4_000);
    expect(stream.comments()).toEqual(['heartbeat', 'heartbeat', 'heartbeat']);
    stream.hangUp();
  });
});

describe('an idle observer holds nothing', () => {
  it('no telemetry subscription and no timer before a client; both while one is connected; once it leaves only the linger, then nothing', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const observer = createObserver({ telemetry, clock });
    expect(telemetry.observed).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    const stream = openStream(observer);
    expect(telemetry.observed).toBe(true);
    expect(clock.pendingTimers()).toBe(2);
    telemetry.emit(TelemetryEvents.breakerState, undefined, { breaker: 'b', from: 'closed', to: 'open' });
    expect(clock.pendingTimers()).toBe(3);
    stream.hangUp();
    expect(observer.clients).toBe(0);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(LINGER_MS - 1);
    expect(telemetry.observed).toBe(true);
    clock.advance(1);
    expect(telemetry.observed).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('with two clients, the subscription lasts until the linger after the second leaves', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const observer = createObserver({ telemetry, clock });
    const one = openStream(observer);
    const two = openStream(observer);
    one.hangUp();
    clock.advance(LINGER_MS);
    expect(telemetry.observed).toBe(true);
    two.hangUp();
    clock.advance(LINGER_MS);
    expect(telemetry.observed).toBe(false);
  });

  it('a restart while the only client reconnects is in the history its new snapshot brings', async () => {
    world = await startWorld();
    const first = openStream(world.observer);
    first.hangUp();
    world.harness.crash('api');
    await advance(world.clock, 2_000);
    const again = openStream(world.observer, { headers: { 'last-event-id': '0' } });
    const snapshot = again.messages()[0]!.data;
    expect(snapshot.supervisors[0].children[0]).toMatchObject({ id: 'api', restarts: { total: 1 }, lastExit: { reason: 'error', error: 'worker crashed', exitedAgoMs: 2_000 } });
    expect(snapshot.events.map((event: any) => event.kind)).toEqual(['exit', 'restart']);
    again.hangUp();
  });
});

describe('a slow client is dropped, never buffered without bound', () => {
  it('a client whose unsent output passes maxBufferedBytes is destroyed; its subscription and timers are released; others carry on', async () => {
    world = await startWorld({ maxBufferedBytes: 4_096 });
    const slow = openStream(world.observer);
    slow.reading = false;
    const fast = openStream(world.observer);
    for (let crash = 0; crash < 40 && !slow.destroyed; crash += 1) {
      world.harness.crash('api');
      await advance(world.clock, 100);
    }
    expect(slow.destroyed).toBe(true);
    expect(slow.writableLength).toBeGreaterThan(4_096);
    expect(slow.writableLength).toBeLessThan(4_096 + 4_096);
    const written = slow.chunks.length;
    world.harness.crash('api');
    await advance(world.clock, 100);
    expect(slow.chunks.length).toBe(written);
    expect(fast.destroyed).toBe(false);
    expect(fast.messages().at(-1)!.data.supervisors[0].children[0].restarts.total).toBeGreaterThan(1);
    expect(world.observer.clients).toBe(1);
    fast.hangUp();
    world.clock.advance(LINGER_MS);
    expect(world.telemetry.observed).toBe(false);
    expect(world.clock.pendingTimers()).toBe(0);
  });

  it('a lone slow client dropped leaves no subscription behind', async () => {
    world = await startWorld({ maxBufferedBytes: 1_024 });
    const slow = openStream(world.observer);
    slow.reading = false;
    for (let crash = 0; crash < 20 && !slow.destroyed; crash += 1) {
      world.harness.crash('api');
      await advance(world.clock, 100);
    }
    expect(slow.destroyed).toBe(true);
    expect(world.observer.clients).toBe(0);
    world.clock.advance(LINGER_MS);
    expect(world.telemetry.observed).toBe(false);
    expect(world.clock.pendingTimers()).toBe(0);
  });
});

describe('limits and stopping', () => {
  it('more than maxClients streams: the next is answered 503 without a stream', async () => {
    world = await startWorld({ maxClients: 2 });
    const streams = [openStream(world.observer), openStream(world.observer)];
    const third = openStream(world.observer);
    expect(third.status).toBe(503);
    expect(third.ended).toBe(true);
    expect(JSON.parse(third.body)).toMatchObject({ error: 'ERR_OBSERVER_BUSY' });
    for (const stream of streams) stream.hangUp();
    expect(openStream(world.observer).status).toBe(200);
  });

  it('stop() ends every stream gracefully, unsubscribes, clears its timers, and answers 503 afterwards', async () => {
    world = await startWorld();
    const stream = openStream(world.observer);
    world.harness.crash('api');
    await world.observer.stop();
    expect(stream.ended).toBe(true);
    expect(stream.destroyed).toBe(false);
    expect(world.telemetry.observed).toBe(false);
    await flush();
    expect(world.clock.pendingTimers()).toBe(0);
    const later = openStream(world.observer);
    expect(later.status).toBe(503);
    await world.observer.stop();
  });
});
