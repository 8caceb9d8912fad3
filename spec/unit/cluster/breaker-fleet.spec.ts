import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { breakerChild } from '../../../src/breaker/index.js';
import { createBreaker, createTestClock, isBreakerOpenError, isConfigError, startSupervisor } from '../../../src/index.js';
import { isInvalidArgumentError } from '../../../src/core/index.js';
import {
  BreakerFleetUnavailableError,
  createBreakerFleet,
  isBreakerFleetUnavailableError,
  type BreakerFleetChange,
  type BreakerFleetOptions,
} from '../../../src/cluster/index.js';
import { decodeMessage } from '../../../src/cluster/breaker-fleet-messages.js';
import { FakePubSubRedis, fakeInstance, settle, tryCall, type FakeInstance } from '../../support/cluster-breakers.js';
import { advance } from '../../support/cluster.js';

// Every instance reaches the fake Redis over a link of 2 ms each way, and hears the channel 5 ms
// after a publish. heartbeatMs 1000 (an instance leaves the view 3000 ms after it was last
// heard), isolationTtlMs 3000 (refreshed every 1000 ms), timeoutMs 200.
const link = { requestDelayMs: 2, replyDelayMs: 2 };
const deliveryDelayMs = 5;

async function cluster(names: string[] = ['a', 'b', 'c'], options: Parameters<typeof fakeInstance>[1] = {}) {
  const clock = createTestClock();
  const server = new FakePubSubRedis(clock);
  const instances = names.map((instance) => fakeInstance(server, { instance, link, deliveryDelayMs, ...options }));
  // Subscribed, said hello, heard each other.
  await advance(clock, 50);
  return { clock, server, instances };
}

/** When the last run of `script` ran on the server. */
function lastRun(server: FakePubSubRedis, script: string): number {
  const run = server.ran.filter((entry) => entry.script === script).at(-1);
  if (run === undefined) throw new Error(`${script} never ran`);
  return run.at;
}

async function advanceTo(clock: ReturnType<typeof createTestClock>, at: number): Promise<void> {
  await advance(clock, Math.max(0, at - clock.now()));
}

function changesOf(instance: FakeInstance): BreakerFleetChange[] {
  const changes: BreakerFleetChange[] = [];
  instance.fleet.onChange((change) => changes.push(change));
  return changes;
}

describe('isolation across instances', () => {
  it("an isolation made on one instance makes every instance's breaker of that name refuse within one pub/sub delivery", async () => {
    const { clock, server, instances } = await cluster();
    const [a, b, c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    const breakers = [a.breaker('payments'), b.breaker('payments'), c.breaker('payments')];
    const other = b.breaker('search');
    await advance(clock, 20);

    const { value: isolation } = await settle(clock, a.fleet.isolate('payments', { reason: 'provider incident' }));
    expect(isolation).toMatchObject({ by: 'a', reason: 'provider incident', ttlMs: 3000 });
    // The isolating instance refuses as soon as isolate() resolves.
    expect(breakers[0]!.state()).toBe('disabled');
    const published = lastRun(server, 'isolate');
    await advanceTo(clock, published + deliveryDelayMs - 1);
    expect((await tryCall(breakers[1]!)).outcome).toBe('ran');
    await advanceTo(clock, published + deliveryDelayMs);
    for (const breaker of breakers) {
      const result = await tryCall(breaker);
      expect(result.outcome).toBe('refused');
      const error = (result as { error: any }).error;
      expect(isBreakerOpenError(error)).toBe(true);
      expect(error).toMatchObject({ breaker: 'payments', state: 'disabled', retryAfterMs: Infinity, isolation: { by: 'a', reason: 'provider incident', id: isolation!.id } });
      expect(error.message).toContain("isolated across instances by 'a' (provider incident)");
      expect(breaker.state()).toBe('disabled');
    }
    // Another name is not touched.
    expect((await tryCall(other)).outcome).toBe('ran');
    expect(b.fleet.isolated()).toEqual({ payments: isolation });
    expect(b.named('breaker.fleet.isolated')[0]!.metadata).toMatchObject({ fleet: 'overseer', instance: 'b', breaker: 'payments', by: 'a', reason: 'provider incident' });
  });

  it('restore makes every breaker admit again within one delivery, and says whether there was an isolation', async () => {
    const { clock, server, instances } = await cluster();
    const breakers = instances.map((instance) => instance.breaker('payments'));
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(breakers.map((breaker) => breaker.state())).toEqual(['disabled', 'disabled', 'disabled']);

    // Any instance may restore, whoever isolated.
    const { value: existed } = await settle(clock, instances[2]!.fleet.restore('payments'));
    expect(existed).toBe(true);
    expect(breakers[2]!.state()).toBe('closed');
    const published = lastRun(server, 'restore');
    await advanceTo(clock, published + deliveryDelayMs - 1);
    expect(breakers[1]!.state()).toBe('disabled');
    await advanceTo(clock, published + deliveryDelayMs);
    for (const breaker of breakers) expect((await tryCall(breaker)).outcome).toBe('ran');
    expect(instances[1]!.fleet.isolated()).toEqual({});
    expect(instances[1]!.named('breaker.fleet.restored')[0]!.metadata).toMatchObject({ breaker: 'payments', why: 'restored' });
    expect(server.keys()).toEqual([]);
    // Nothing left to restore.
    expect((await settle(clock, instances[0]!.fleet.restore('payments'))).value).toBe(false);
    // The isolating instance no longer refreshes it: nothing comes back.
    await advance(clock, 10_000);
    expect(server.keys()).toEqual([]);
    expect(breakers.map((breaker) => breaker.state())).toEqual(['closed', 'closed', 'closed']);
  });

  it('isolating an isolated name replaces its isolation everywhere; the earlier isolating instance stops refreshing it', async () => {
    const { clock, server, instances } = await cluster();
    const [a, b, c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    const breaker = c.breaker('payments');
    await settle(clock, a.fleet.isolate('payments', { reason: 'first' }));
    const { value: second } = await settle(clock, b.fleet.isolate('payments', { reason: 'second', ttlMs: 30_000 }));
    await advance(clock, 20);
    const refusal = (await tryCall(breaker)) as { error: any };
    expect(refusal.error.isolation).toEqual(second);
    // a finds at its next refresh (ttlMs / 3 = 1000 ms on) that Redis holds b's record, and leaves it
    // alone; b refreshes its own every 10 s.
    await advance(clock, 9000);
    expect(server.ran.filter((run) => run.script === 'refresh')).toHaveLength(1);
    expect(server.get('overseer:{breaker-fleet}:isolation:payments')).toContain(second!.id);
    expect(server.pttl('overseer:{breaker-fleet}:isolation:payments')).toBeLessThan(30_000 - 8000);
    await advance(clock, 2000);
    expect(server.ran.filter((run) => run.script === 'refresh')).toHaveLength(2);
    expect(server.pttl('overseer:{breaker-fleet}:isolation:payments')).toBeGreaterThan(30_000 - 2000);
  });

  it('counting stays local: failures that open one instance’s breaker open no other, and only states cross', async () => {
    const { clock, server, instances } = await cluster();
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const local = a.breaker('payments', { failures: 2 });
    const remote = b.breaker('payments', { failures: 2 });
    await advance(clock, 20);
    for (let failure = 0; failure < 3; failure += 1) await local.call(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(local.state()).toBe('open');
    await advance(clock, 100);
    expect(remote.state()).toBe('closed');
    expect(remote.stats().failures).toBe(0);
    // b sees a's breaker open in its view, and that is all that crossed.
    expect(b.fleet.view().a!.payments).toMatchObject({ state: 'open', isolated: false });
    expect(server.keys()).toEqual([]);
    for (const { message } of server.published) {
      const decoded = decodeMessage(message);
      expect(decoded).toBeDefined();
      expect(message).not.toMatch(/fail|success|count|window|reject/i);
    }
  });
});

describe('instances that did not hear the message', () => {
  it('a fleet that starts after the isolation learns it from the key: its breaker refuses once the key is read', async () => {
    const { clock, server, instances } = await cluster(['a']);
    // a reads isolations too, so the server has the read script loaded (no NOSCRIPT round trip below).
    instances[0]!.breaker('payments');
    await settle(clock, instances[0]!.fleet.isolate('payments', { reason: 'late joiner' }));
    await advance(clock, 500);
    const late = fakeInstance(server, { instance: 'late', link, deliveryDelayMs });
    await advance(clock, 50);
    const attachedAt = clock.now();
    const breaker = late.breaker('payments');
    // The read goes out at once: 2 ms there, 2 ms back.
    await advanceTo(clock, attachedAt + 3);
    expect(breaker.state()).toBe('closed');
    await advanceTo(clock, attachedAt + 4);
    expect(breaker.state()).toBe('disabled');
    expect(((await tryCall(breaker)) as { error: any }).error.isolation).toMatchObject({ by: 'a', reason: 'late joiner' });
  });

  it('a breaker attached after this instance heard the isolation refuses from the moment it is attached', async () => {
    const { clock, instances } = await cluster();
    await settle(clock, instances[0]!.fleet.isolate('search'));
    await advance(clock, 20);
    expect(Object.keys(instances[1]!.fleet.isolated())).toEqual(['search']);
    const breaker = instances[1]!.breaker('search');
    expect(breaker.state()).toBe('disabled');
    expect((await tryCall(breaker)).outcome).toBe('refused');
  });

  it('an isolate published while the subscription was down is caught from its key when the subscriber reconnects', async () => {
    const { clock, instances } = await cluster();
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = b.breaker('payments');
    await advance(clock, 20);
    b.subscriber.disconnect();
    expect(b.fleet.status().subscribed).toBe(false);
    await settle(clock, a.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('closed');
    const back = clock.now();
    b.subscriber.reconnect();
    // Subscribes again (at once in the fake), then reads: 4 ms.
    await advanceTo(clock, back + 4);
    expect(breaker.state()).toBe('disabled');
    expect(b.fleet.status()).toEqual({ redis: 'available', subscribed: true });
    expect(b.subscriber.isSubscribed).toBe(true);
  });

  it('…and within one heartbeat when the subscription stays down', async () => {
    const { clock, instances } = await cluster();
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = b.breaker('payments');
    await advance(clock, 20);
    b.subscriber.disconnect();
    const { tookMs } = await settle(clock, a.fleet.isolate('payments'));
    const isolatedAt = clock.now() - tookMs;
    let refusedAt: number | undefined;
    await advance(clock, 1100, () => {
      if (refusedAt === undefined && breaker.state() === 'disabled') refusedAt = clock.now();
    });
    expect(refusedAt).toBeDefined();
    expect(refusedAt! - isolatedAt).toBeLessThanOrEqual(1000 + 4);
    expect(b.named('breaker.fleet.unavailable').some((event) => event.metadata.operation === 'subscribe')).toBe(true);
  });
});

describe('answers and messages that cross', () => {
  /** a fast; b's replies take 100 ms (its reads answer long after the channel has spoken). */
  async function crossing() {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const a = fakeInstance(server, { instance: 'a', link, deliveryDelayMs });
    const b = fakeInstance(server, { instance: 'b', link: { requestDelayMs: 1, replyDelayMs: 100 }, deliveryDelayMs });
    a.breaker('warm-up');
    await advance(clock, 300);
    return { clock, server, a, b };
  }

  it('a read answered after an isolate message does not undo it, though it was read before the isolate ran', async () => {
    const { clock, server, a, b } = await crossing();
    const breaker = b.breaker('payments');
    // Attaching sent a read; it runs in 1 ms and is answered 100 ms later.
    const isolated = settle(clock, a.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(server.ran.find((run) => run.script === 'read' && run.keys.some((key) => key.endsWith(':payments')))!.at).toBeLessThan(lastRun(server, 'isolate'));
    expect(breaker.state()).toBe('disabled');
    await isolated;
    await advance(clock, 150);
    expect(breaker.state()).toBe('disabled');
  });

  it('a read answered after a restore message does not bring the isolation back', async () => {
    const { clock, server, a, b } = await crossing();
    await settle(clock, a.fleet.isolate('payments'));
    const breaker = b.breaker('payments');
    await advance(clock, 20);
    expect(breaker.state()).toBe('disabled');
    // b's heartbeat read (b reads `payments` alone; a reads `warm-up` too) goes out at its next
    // beat; a restores right after it ran.
    const readsOfB = () => server.ran.filter((run) => run.script === 'read' && run.keys.length === 1).length;
    const before = readsOfB();
    while (readsOfB() === before) await advance(clock, 1);
    await settle(clock, a.fleet.restore('payments'));
    await advance(clock, 10);
    expect(breaker.state()).toBe('closed');
    await advance(clock, 150);
    expect(breaker.state()).toBe('closed');
  });
});

describe('this instance’s own answers that come after the channel spoke', () => {
  /** a's replies take 100 ms: its own isolate's message, and what others do next, reach it first. */
  async function slowAnswers() {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const a = fakeInstance(server, { instance: 'a', link: { requestDelayMs: 1, replyDelayMs: 100 }, deliveryDelayMs });
    const b = fakeInstance(server, { instance: 'b', link, deliveryDelayMs });
    const breaker = a.breaker('payments');
    b.breaker('payments');
    await advance(clock, 300);
    // The server has every script loaded from here on (no NOSCRIPT round trip in the specs).
    await settle(clock, b.fleet.isolate('warm-up'));
    await settle(clock, b.fleet.restore('warm-up'));
    return { clock, a, b, breaker };
  }

  it('an isolate answered after its own message and a restore that followed leaves the breaker restored', async () => {
    const { clock, a, b, breaker } = await slowAnswers();
    const isolating = a.fleet.isolate('payments');
    await advance(clock, 10);
    expect(breaker.state()).toBe('disabled');
    await settle(clock, b.fleet.restore('payments'));
    await advance(clock, 10);
    expect(breaker.state()).toBe('closed');
    const { value } = await settle(clock, isolating);
    expect(value).toBeDefined();
    // The answer is older than the restore a has heard: it must not isolate again, not even for a round trip.
    expect(breaker.state()).toBe('closed');
    expect(a.fleet.isolated()).toEqual({});
  });

  it('a restore answered after its own message and an isolate that followed leaves the new isolation', async () => {
    const { clock, a, b, breaker } = await slowAnswers();
    await settle(clock, b.fleet.isolate('payments'));
    await advance(clock, 10);
    const restoring = a.fleet.restore('payments');
    await advance(clock, 10);
    expect(breaker.state()).toBe('closed');
    const { value: second } = await settle(clock, b.fleet.isolate('payments', { reason: 'again' }));
    await advance(clock, 10);
    expect(breaker.state()).toBe('disabled');
    await settle(clock, restoring);
    expect(breaker.state()).toBe('disabled');
    expect(a.fleet.isolated().payments).toEqual(second);
  });
});

describe('the isolation’s time to live', () => {
  it('the isolating instance refreshes the key while it runs: the isolation outlives its ttlMs', async () => {
    const { clock, server, instances } = await cluster();
    const breaker = instances[1]!.breaker('payments');
    await settle(clock, instances[0]!.fleet.isolate('payments', { ttlMs: 3000 }));
    await advance(clock, 20);
    let admitted = false;
    await advance(clock, 12_000, () => {
      if (breaker.state() !== 'disabled') admitted = true;
    });
    expect(admitted).toBe(false);
    const key = 'overseer:{breaker-fleet}:isolation:payments';
    expect(server.get(key)).toBeDefined();
    // Refreshed every ttlMs / 3: never less than two thirds of it left.
    expect(server.pttl(key)).toBeGreaterThanOrEqual(2000 - 10);
    expect(server.ran.filter((run) => run.script === 'refresh').length).toBeGreaterThanOrEqual(11);
  });

  it('an isolation expires ttlMs after its instance dies: every other instance then admits, reporting it expired', async () => {
    const { clock, server, instances } = await cluster();
    const [a, b, c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    const breakers = [b.breaker('payments'), c.breaker('payments')];
    await settle(clock, a.fleet.isolate('payments', { ttlMs: 3000 }));
    await advance(clock, 2500);
    // a dies: nothing more from it, nothing more reaches it.
    a.client.link.mode = 'silent';
    a.subscriber.disconnect();
    const lastRefresh = lastRun(server, 'refresh');
    const expiry = lastRefresh + 3000;
    await advanceTo(clock, expiry - 1);
    expect(breakers.map((breaker) => breaker.state())).toEqual(['disabled', 'disabled']);
    let admittedAt: number | undefined;
    await advance(clock, 2000, () => {
      if (admittedAt === undefined && breakers.every((breaker) => breaker.state() === 'closed')) admittedAt = clock.now();
    });
    // Each learns it when its belief's deadline (the key's expiry at the latest) makes it read: a round trip later.
    expect(admittedAt).toBeDefined();
    expect(admittedAt! - expiry).toBeLessThanOrEqual(4);
    expect(b.named('breaker.fleet.restored').at(-1)!.metadata).toMatchObject({ breaker: 'payments', why: 'expired' });
    expect(server.keys()).toEqual([]);
  });

  it('an isolation Redis cannot confirm is lifted when it would have expired unrefreshed, and comes back when Redis confirms it', async () => {
    const { clock, instances } = await cluster();
    const [a, , c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    const breaker = c.breaker('payments');
    await settle(clock, a.fleet.isolate('payments', { ttlMs: 3000 }));
    await advance(clock, 20);
    const changes = changesOf(c);
    // c alone loses Redis: its commands are refused, its subscription drops.
    c.client.link.mode = 'down';
    c.subscriber.disconnect();
    const cutAt = clock.now();
    let liftedAt: number | undefined;
    await advance(clock, 4000, () => {
      if (liftedAt === undefined && breaker.state() === 'closed') liftedAt = clock.now();
    });
    // Believed for as long as Redis would keep it unrefreshed (3000 ms from its last confirmation, before the cut), then lifted.
    expect(liftedAt).toBeDefined();
    expect(liftedAt! - cutAt).toBeLessThanOrEqual(3000 + 2);
    expect(liftedAt! - cutAt).toBeGreaterThan(1500);
    expect(changes).toContainEqual({ type: 'restored', breaker: 'payments', cause: 'unconfirmed' });
    expect(c.fleet.status().redis).toBe('unavailable');
    // Calls were never told about Redis.
    expect((await tryCall(breaker)).outcome).toBe('ran');
    c.client.link.mode = 'up';
    c.subscriber.reconnect();
    await advance(clock, 10);
    expect(breaker.state()).toBe('disabled');
    expect(changes).toContainEqual({ type: 'redis', available: true });
  });
});

describe('a local disable() and enable() stay the breaker’s own', () => {
  it('a supervised breaker stays isolated when its actor dies and is restarted, and is restored as a fresh closed breaker', async () => {
    const { clock, server, instances } = await cluster(['a', 'b']);
    const spec = breakerChild({ name: 'payments', tolerance: { failures: 0, windowMs: 1000 } });
    const supervisor = await startSupervisor({ children: [spec] }, { clock, telemetry: instances[1]!.telemetry });
    const breaker = spec.breaker!;
    instances[1]!.fleet.attach(breaker);
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('disabled');
    const first = breaker.actor;
    first.stop();
    await advance(clock, 5);
    expect(breaker.actor).not.toBe(first);
    expect(breaker.state()).toBe('disabled');
    expect(((await tryCall(breaker)) as { error: any }).error.isolation).toMatchObject({ by: 'a' });
    await settle(clock, instances[0]!.fleet.restore('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('closed');
    await supervisor.stop();
    expect(server.keys()).toEqual([]);
  });

  it('enable() does not lift an isolation, and a breaker disabled by hand stays disabled when restored', async () => {
    const { clock, instances } = await cluster();
    const breaker = instances[1]!.breaker('payments');
    breaker.disable();
    await settle(clock, instances[0]!.fleet.isolate('payments', { reason: 'incident' }));
    await advance(clock, 20);
    // Isolated over the hand disable: the refusal says so.
    expect(((await tryCall(breaker)) as { error: any }).error.isolation).toMatchObject({ reason: 'incident' });
    expect(instances[1]!.fleet.view().b!.payments).toMatchObject({ state: 'disabled', isolated: true });
    breaker.enable();
    expect(breaker.state()).toBe('disabled');
    expect((await tryCall(breaker)).outcome).toBe('refused');
    breaker.disable();
    await settle(clock, instances[0]!.fleet.restore('payments'));
    await advance(clock, 20);
    // Restored: the hand disable is still there, and its refusal has no isolation.
    expect(breaker.state()).toBe('disabled');
    const refusal = (await tryCall(breaker)) as { error: any };
    expect(refusal.error).toMatchObject({ state: 'disabled', isolation: undefined });
    breaker.enable();
    expect((await tryCall(breaker)).outcome).toBe('ran');
  });

  it('enable() while isolated readies the breaker underneath: restored, it is closed; reset() while isolated is ignored', async () => {
    const { clock, instances } = await cluster();
    const breaker = instances[1]!.breaker('payments', { failures: 0, resetMs: 60_000 });
    await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(breaker.state()).toBe('open');
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 20);
    breaker.reset();
    expect(breaker.state()).toBe('disabled');
    await settle(clock, instances[0]!.fleet.restore('payments'));
    await advance(clock, 20);
    // Its own state, open, shows again (the reset while isolated changed nothing).
    expect(breaker.state()).toBe('open');
    expect(((await tryCall(breaker)) as { error: any }).error).toMatchObject({ state: 'open', isolation: undefined });
  });

  it('an open breaker whose reset time passes while isolated is half-open when restored', async () => {
    const { clock, instances } = await cluster();
    const breaker = instances[1]!.breaker('payments', { failures: 0, resetMs: 1000 });
    await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 2000);
    expect(breaker.state()).toBe('disabled');
    await settle(clock, instances[0]!.fleet.restore('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('half_open');
    expect((await tryCall(breaker)).outcome).toBe('ran');
    expect(breaker.state()).toBe('closed');
  });
});

describe('when Redis is unreachable', () => {
  it('from the start: breakers work locally, every failure is reported in telemetry, nothing reaches callers, isolate rejects', async () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    server.down();
    const a = fakeInstance(server, { instance: 'a', link, deliveryDelayMs });
    const breaker = a.breaker('payments', { failures: 1 });
    await advance(clock, 3000);
    expect((await tryCall(breaker)).outcome).toBe('ran');
    for (let failure = 0; failure < 2; failure += 1) await breaker.call(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(breaker.state()).toBe('open');
    expect(((await tryCall(breaker)) as { error: any }).error).toMatchObject({ state: 'open', isolation: undefined });
    const unavailable = a.named('breaker.fleet.unavailable');
    expect(new Set(unavailable.map((event) => event.metadata.operation))).toEqual(new Set(['publish', 'read', 'subscribe']));
    // Commands are refused; the subscription waits for a connection until the fleet's timeout.
    for (const event of unavailable) {
      expect(event.metadata).toMatchObject({ fleet: 'overseer', instance: 'a', reason: event.metadata.operation === 'subscribe' ? 'timeout' : 'error' });
    }
    expect(a.fleet.status()).toEqual({ redis: 'unavailable', subscribed: false });
    const { error } = await settle(clock, a.fleet.isolate('payments'));
    expect(isBreakerFleetUnavailableError(error)).toBe(true);
    expect(error).toBeInstanceOf(BreakerFleetUnavailableError);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_FLEET_UNAVAILABLE', operation: 'isolate', breaker: 'payments', reason: 'error' });
    // The failed isolate changed nothing here.
    expect(a.fleet.isolated()).toEqual({});
    expect(breaker.state()).toBe('open');

    // Redis comes up: the fleet subscribes, and everything works.
    server.up();
    await advance(clock, 20);
    expect(a.fleet.status()).toEqual({ redis: 'available', subscribed: true });
    expect(a.named('breaker.fleet.available')).toHaveLength(1);
    await settle(clock, a.fleet.isolate('payments'));
    expect(breaker.state()).toBe('disabled');
  });

  it('a long outage queues one SUBSCRIBE, not one per heartbeat, and the one queued subscribes the fleet when Redis is back', async () => {
    const { clock, server, instances } = await cluster(['a', 'b']);
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = a.breaker('payments');
    await advance(clock, 20);
    const before = a.subscriber.subscribeCalls;
    server.down();
    // Twenty heartbeats: a client holds a SUBSCRIBE sent while offline (ioredis queues it) until it reconnects.
    await advance(clock, 20_000);
    expect(a.subscriber.subscribeCalls - before).toBe(1);
    // The fleet's own 'ready' listener and the one queued SUBSCRIBE.
    expect(a.subscriber.listenerCount('ready')).toBe(2);
    expect(a.fleet.status()).toEqual({ redis: 'unavailable', subscribed: false });

    server.up();
    // The queued SUBSCRIBE is answered (late, the fleet had given up on it): the fleet counts as
    // subscribed, says hello and re-reads at once, not at the next heartbeat.
    await advance(clock, 20);
    expect(a.fleet.status()).toEqual({ redis: 'available', subscribed: true });
    expect(a.subscriber.listenerCount('ready')).toBe(1);
    await settle(clock, b.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('disabled');
  });

  it('a Redis that does not answer: isolate and restore reject with a timeout within timeoutMs', async () => {
    const { clock, server, instances } = await cluster(['a']);
    server.down('silent');
    const { error, tookMs } = await settle(clock, instances[0]!.fleet.isolate('payments'));
    expect(error).toMatchObject({ reason: 'timeout', operation: 'isolate' });
    expect(tookMs).toBe(200);
    const restored = await settle(clock, instances[0]!.fleet.restore('payments'));
    expect(restored.error).toMatchObject({ reason: 'timeout', operation: 'restore' });
    expect(instances[0]!.named('breaker.fleet.unavailable').some((event) => event.metadata.reason === 'timeout')).toBe(true);
  });

  it('an isolate that timed out is not sent again by the NOSCRIPT fallback after its caller was told it failed', async () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    // Replies take longer than the fleet's timeout; the server has no script loaded yet.
    const slow = fakeInstance(server, { instance: 'slow', link: { requestDelayMs: 0, replyDelayMs: 250 }, deliveryDelayMs });
    const { error } = await settle(clock, slow.fleet.isolate('payments'));
    expect(error).toMatchObject({ reason: 'timeout' });
    await advance(clock, 1000);
    expect(server.ran.filter((run) => run.script === 'isolate')).toEqual([]);
    expect(server.keys()).toEqual([]);
    expect(slow.fleet.isolated()).toEqual({});
  });

  it('Redis restarted: each fleet subscribes again and re-reads; an isolation Redis lost is lifted, and new ones reach everyone', async () => {
    const { clock, server, instances } = await cluster();
    const breakers = instances.map((instance) => instance.breaker('payments'));
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 20);
    const noscripts = server.noscripts;
    server.down();
    await advance(clock, 300);
    // Not yet past their deadlines: still isolated while Redis is away.
    expect(breakers.map((breaker) => breaker.state())).toEqual(['disabled', 'disabled', 'disabled']);
    server.restart();
    await advance(clock, 20);
    // The isolation was in Redis only, and Redis lost it.
    expect(breakers.map((breaker) => breaker.state())).toEqual(['closed', 'closed', 'closed']);
    expect(instances[1]!.named('breaker.fleet.restored').at(-1)!.metadata.why).toBe('expired');
    expect(instances.every((instance) => instance.fleet.status().subscribed && instance.subscriber.isSubscribed)).toBe(true);
    // The scripts were loaded again.
    expect(server.noscripts).toBeGreaterThan(noscripts);

    await settle(clock, instances[1]!.fleet.isolate('payments'));
    const published = lastRun(server, 'isolate');
    await advanceTo(clock, published + deliveryDelayMs);
    expect(breakers.map((breaker) => breaker.state())).toEqual(['disabled', 'disabled', 'disabled']);
    // The earlier isolating instance found its record gone and does not bring it back.
    await advance(clock, 5000);
    expect(server.get('overseer:{breaker-fleet}:isolation:payments')).toContain('"by":"b"');
  });
});

describe('the cluster view', () => {
  it('shows every instance’s breakers with state, since and updatedAt; a transition reaches the others within one delivery', async () => {
    const { clock, server, instances } = await cluster();
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const payments = a.breaker('payments', { failures: 0 });
    b.breaker('search');
    await advance(clock, 20);
    expect(Object.keys(b.fleet.view()).sort()).toEqual(['a', 'b', 'c']);
    expect(b.fleet.view().a).toEqual({ payments: expect.objectContaining({ state: 'closed', isolated: false }) });
    expect(b.fleet.view().b).toEqual({ search: { state: 'closed', isolated: false, since: expect.any(Number), updatedAt: clock.now() } });
    const changes = changesOf(b);
    await payments.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(payments.state()).toBe('open');
    const openedAt = clock.now();
    // Published through a's command link (2 ms), heard 5 ms later.
    await advanceTo(clock, openedAt + 2 + deliveryDelayMs - 1);
    expect(b.fleet.view().a!.payments!.state).toBe('closed');
    await advanceTo(clock, openedAt + 2 + deliveryDelayMs);
    expect(b.fleet.view().a!.payments).toEqual({ state: 'open', isolated: false, since: openedAt + 7, updatedAt: openedAt + 7 });
    expect(changes).toContainEqual({ type: 'state', instance: 'a', breaker: 'payments', state: 'open', isolated: false });
    // Heartbeats keep it fresh without moving `since`.
    await advance(clock, 2500);
    expect(b.fleet.view().a!.payments!.since).toBe(openedAt + 7);
    expect(b.fleet.view().a!.payments!.updatedAt).toBeGreaterThan(openedAt + 1000);
    expect(server.keys()).toEqual([]);
  });

  it('an instance that dies leaves the others’ view three heartbeats after it was last heard; one that stops, at once', async () => {
    const { clock, instances } = await cluster();
    const [a, b, c] = instances as [FakeInstance, FakeInstance, FakeInstance];
    a.breaker('payments');
    c.breaker('payments');
    await advance(clock, 20);
    const changes = changesOf(b);
    a.client.link.mode = 'silent';
    a.subscriber.disconnect();
    const lastHeard = b.fleet.view().a!.payments!.updatedAt;
    await advanceTo(clock, lastHeard + 3000 - 1);
    expect(Object.keys(b.fleet.view()).sort()).toEqual(['a', 'b', 'c']);
    await advanceTo(clock, lastHeard + 3000);
    expect(Object.keys(b.fleet.view()).sort()).toEqual(['b', 'c']);
    expect(changes).toContainEqual({ type: 'departed', instance: 'a', cause: 'expired' });
    await settle(clock, c.fleet.stop());
    await advance(clock, 10);
    expect(Object.keys(b.fleet.view())).toEqual(['b']);
    expect(changes).toContainEqual({ type: 'departed', instance: 'c', cause: 'left' });
  });

  it('a fleet that starts later sees the others within a round trip and a delivery, not a heartbeat', async () => {
    const { clock, server, instances } = await cluster(['a', 'b']);
    instances[0]!.breaker('payments');
    instances[1]!.breaker('search');
    await advance(clock, 200);
    const late = fakeInstance(server, { instance: 'late', link, deliveryDelayMs });
    await advance(clock, 30);
    expect(late.fleet.view()).toEqual({
      late: {},
      a: { payments: expect.objectContaining({ state: 'closed' }) },
      b: { search: expect.objectContaining({ state: 'closed' }) },
    });
  });

  it('a detached breaker leaves the view and gets its own state back', async () => {
    const { clock, instances } = await cluster();
    const breaker = instances[0]!.breaker('payments');
    await settle(clock, instances[0]!.fleet.isolate('payments'));
    await advance(clock, 20);
    instances[0]!.fleet.detach(breaker);
    expect(breaker.state()).toBe('closed');
    await advance(clock, 20);
    expect(instances[1]!.fleet.view().a).toEqual({});
    // Still isolated in Redis, and known as such.
    expect(Object.keys(instances[0]!.fleet.isolated())).toEqual(['payments']);
  });
});

describe('fleets apart', () => {
  it('two fleets with different prefixes on one Redis never meet', async () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const east = fakeInstance(server, { instance: 'east-1', prefix: 'east', link, deliveryDelayMs });
    const west = fakeInstance(server, { instance: 'west-1', prefix: 'west', link, deliveryDelayMs });
    const eastBreaker = east.breaker('payments');
    const westBreaker = west.breaker('payments');
    await advance(clock, 50);
    await settle(clock, east.fleet.isolate('payments'));
    await advance(clock, 5000);
    expect(eastBreaker.state()).toBe('disabled');
    expect(westBreaker.state()).toBe('closed');
    expect(Object.keys(east.fleet.view())).toEqual(['east-1']);
    expect(Object.keys(west.fleet.view())).toEqual(['west-1']);
    expect(server.keys()).toEqual(['east:{breaker-fleet}:isolation:payments']);
    expect(new Set(server.published.map((entry) => entry.channel))).toEqual(new Set(['east:breaker-fleet', 'west:breaker-fleet']));
  });
});

describe('stopping', () => {
  it('stop detaches every breaker (isolations lifted here, kept in Redis), refuses what comes after, and is idempotent', async () => {
    const { clock, server, instances } = await cluster();
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = a.breaker('payments');
    await settle(clock, a.fleet.isolate('payments'));
    await advance(clock, 20);
    const stopping = a.fleet.stop();
    expect(a.fleet.stop()).toBe(stopping);
    await settle(clock, stopping);
    expect(breaker.state()).toBe('closed');
    expect(server.keys()).toEqual(['overseer:{breaker-fleet}:isolation:payments']);
    expect(a.subscriber.isSubscribed).toBe(false);
    const isolate = await settle(clock, a.fleet.isolate('payments'));
    expect(isolate.error).toMatchObject({ reason: 'stopped', operation: 'isolate' });
    expect((await settle(clock, a.fleet.restore('payments'))).error).toMatchObject({ reason: 'stopped' });
    expect(() => a.fleet.attach(createBreaker({ name: 'later', clock }))).toThrow(BreakerFleetUnavailableError);
    // No timer of a's is left.
    const sent = a.client.sent;
    await advance(clock, 10_000);
    expect(a.client.sent).toBe(sent);
    // The others see the isolation expire ttlMs after a stopped refreshing it.
    expect(b.fleet.isolated()).toEqual({});
  });

  it('stop ends within timeoutMs when Redis does not answer, and await using stops', async () => {
    const { clock, server, instances } = await cluster(['a']);
    server.down('silent');
    const { tookMs } = await settle(clock, instances[0]!.fleet.stop());
    expect(tookMs).toBeLessThanOrEqual(200);
    const fleet = createBreakerFleet({ redis: server.client(), subscriber: server.subscriber(), clock });
    const disposed = (async () => {
      await using held = fleet;
      return held;
    })();
    await settle(clock, disposed);
    expect((await settle(clock, fleet.isolate('x'))).error).toMatchObject({ reason: 'stopped' });
  });
});

describe('bad input', () => {
  it('createBreakerFleet throws ConfigError naming the option', () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const redis = server.client();
    const subscriber = server.subscriber();
    const cases: Array<[unknown, string]> = [
      [undefined, 'options'],
      [{}, 'redis'],
      [{ redis: { evalsha: () => Promise.resolve() } }, 'redis.eval'],
      [{ redis }, 'subscriber'],
      [{ redis, subscriber: redis }, 'subscriber'],
      [{ redis, subscriber: {} }, 'subscriber.subscribe'],
      [{ redis, subscriber, prefix: 'a{b}' }, 'prefix'],
      [{ redis, subscriber, prefix: '' }, 'prefix'],
      [{ redis, subscriber, instance: '\uD800' }, 'instance'],
      [{ redis, subscriber, heartbeatMs: 5 }, 'heartbeatMs'],
      [{ redis, subscriber, isolationTtlMs: 29 }, 'isolationTtlMs'],
      [{ redis, subscriber, timeoutMs: 0 }, 'timeoutMs'],
      [{ redis, subscriber, clock: {} }, 'clock'],
      [{ redis, subscriber, telemetry: 1 }, 'telemetry'],
    ];
    for (const [options, option] of cases) {
      let caught: unknown;
      try {
        createBreakerFleet(options as never);
      } catch (error) {
        caught = error;
      }
      expect(isConfigError(caught), option).toBe(true);
      expect((caught as { option: string }).option).toBe(option);
    }
  });

  it('takes ioredis clients as they are (types)', () => {
    const typed = (redis: Redis): BreakerFleetOptions => ({ redis, subscriber: redis.duplicate() });
    expect(typeof typed).toBe('function');
  });

  it('a redis with duplicate() gives the subscriber, which the fleet owns and disconnects on stop', async () => {
    const clock = createTestClock();
    const server = new FakePubSubRedis(clock);
    const made = server.subscriber();
    const redis = Object.assign(server.client(), { duplicate: () => made });
    const fleet = createBreakerFleet({ redis, clock });
    expect(made.listenerCount('error')).toBe(1);
    await advance(clock, 10);
    expect(made.isSubscribed).toBe(true);
    // An error event on it is reported, not thrown.
    made.emit('error', new Error('ECONNRESET'));
    await settle(clock, fleet.stop());
    expect(made.isSubscribed).toBe(false);
  });

  it('attach refuses what is not a breaker, a second breaker of an attached name, and a breaker of another fleet', async () => {
    const { clock, instances } = await cluster(['a', 'b']);
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = a.breaker('payments');
    expect(a.fleet.attach(breaker)).toEqual(expect.any(Function));
    const errors: unknown[] = [];
    for (const attempt of [
      () => a.fleet.attach({ name: 'fake', state: () => 'closed' } as never),
      () => a.fleet.attach(createBreaker({ name: 'payments', clock })),
      () => b.fleet.attach(breaker),
    ]) {
      try {
        attempt();
      } catch (error) {
        errors.push(error);
      }
    }
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(isInvalidArgumentError(error)).toBe(true);
    // Detached from a, it may join b.
    a.fleet.detach(breaker);
    expect(() => b.fleet.attach(breaker)).not.toThrow();
    a.fleet.detach(breaker);
    expect(Object.keys(b.fleet.view().b!)).toEqual(['payments']);
  });

  it('isolate and restore reject bad names and options, never throwing synchronously', async () => {
    const { clock, server, instances } = await cluster(['a']);
    const fleet = instances[0]!.fleet;
    const attempts: Array<[() => Promise<unknown>, string, 'argument' | 'option']> = [
      [() => fleet.isolate('' as never), 'isolate.name', 'argument'],
      [() => fleet.isolate(42 as never), 'isolate.name', 'argument'],
      [() => fleet.restore(undefined as never), 'restore.name', 'argument'],
      [() => fleet.isolate('x', { ttlMs: 10 }), 'isolate.ttlMs', 'option'],
      [() => fleet.isolate('x', { reason: 7 as never }), 'isolate.reason', 'option'],
      [() => fleet.isolate('x', { tll: 5 } as never), 'isolate.tll', 'option'],
      [() => fleet.isolate('x', 'fast' as never), 'isolate.options', 'option'],
    ];
    for (const [attempt, name, kind] of attempts) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = attempt())).not.toThrow();
      const { error } = await settle(clock, promise!);
      if (kind === 'argument') expect((error as { argument: string }).argument).toBe(name);
      else expect((error as { option: string }).option).toBe(name);
    }
    expect(server.keys()).toEqual([]);
    expect(() => fleet.onChange(5 as never)).toThrow(/onChange.listener/);
  });

  it('messages that are not the fleet’s are ignored; a listener that throws stops neither the others nor the fleet', async () => {
    const { clock, server, instances } = await cluster(['a', 'b']);
    const [a, b] = instances as [FakeInstance, FakeInstance];
    const breaker = b.breaker('payments');
    b.fleet.onChange(() => {
      throw new Error('listener bug');
    });
    const heard: BreakerFleetChange[] = [];
    b.fleet.onChange((change) => heard.push(change));
    for (const junk of ['not json', '[]', '{"type":"isolated","name":"payments","value":"{}"}', '{"type":"heartbeat","instance":"x","ttlMs":1,"breakers":[["p","weird",0,false]]}']) {
      b.subscriber.emit('message', 'overseer:breaker-fleet', junk);
    }
    b.subscriber.emit('message', 'another:channel', '{"type":"left","instance":"a"}');
    expect(breaker.state()).toBe('closed');
    expect(Object.keys(b.fleet.view()).sort()).toEqual(['a', 'b']);
    // A record in Redis this version cannot read isolates nothing.
    server.set('overseer:{breaker-fleet}:isolation:payments', 'garbage', 5000);
    await advance(clock, 1100);
    expect(breaker.state()).toBe('closed');
    await settle(clock, a.fleet.isolate('payments'));
    await advance(clock, 20);
    expect(breaker.state()).toBe('disabled');
    expect(heard).toContainEqual(expect.objectContaining({ type: 'isolated', breaker: 'payments' }));
  });
});
