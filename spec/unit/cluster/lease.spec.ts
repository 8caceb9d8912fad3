import { describe, expect, it } from 'vitest';
import { createTestClock } from '../../../src/index.js';
import { isOverseerError } from '../../../src/core/index.js';
import { LeaseUnavailableError, isLeaseUnavailableError, type LeaseLoss } from '../../../src/cluster/index.js';
import { FakeLeaseStore, advance, fakeLease, flush, track } from '../../support/cluster.js';
import { resolveLeaseOptions } from '../../../src/cluster/lease-options.js';
import { createStoreLease } from '../../../src/cluster/store-lease.js';

// ttlMs 3000 throughout: renewals every 1000 ms, operations answered within 1000 ms, a margin of
// 300 ms, so a holding granted by a claim sent at t is held locally until t + 2700.
const ttlMs = 3000;

function setup() {
  const clock = createTestClock();
  const store = new FakeLeaseStore(clock);
  return { clock, store };
}

function lossesOf(lease: { onLost(listener: (reason: string, loss: LeaseLoss) => void): () => void }): LeaseLoss[] {
  const losses: LeaseLoss[] = [];
  lease.onLost((_reason, loss) => losses.push(loss));
  return losses;
}

describe('acquiring', () => {
  it('takes a free lease with fence 1 and reports lease.acquired', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(a.lease.isHeld()).toBe(true);
    expect(a.lease.fence).toBe(1);
    expect(a.named('lease.acquired')).toHaveLength(1);
    expect(a.named('lease.acquired')[0]!.metadata).toMatchObject({ lease: 'lease', owner: 'a', fence: 1 });
    expect(a.named('lease.acquired')[0]!.measurements).toHaveProperty('duration');
  });

  it('answers false while another owner holds it, naming nothing held here', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const b = fakeLease(store, { owner: 'b', ttlMs });
    await a.lease.acquire();
    await expect(b.lease.acquire()).resolves.toBe(false);
    expect(b.lease.isHeld()).toBe(false);
    expect(b.lease.fence).toBeUndefined();
  });

  it('answers true again at once while held, without asking the store', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await a.lease.acquire();
    const sent = store.sent;
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(store.sent).toBe(sent);
  });

  it('coalesces concurrent acquires into one claim', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const results = await Promise.all([a.lease.acquire(), a.lease.acquire(), a.lease.acquire()]);
    expect(results).toEqual([true, true, true]);
    expect(store.sent).toBe(1);
  });

  it('a second object of the same owner acquires it too, with the same fence (owners compared by string)', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'x', ttlMs });
    const twin = fakeLease(store, { owner: 'x', ttlMs });
    await a.lease.acquire();
    await advance(clock, 500);
    await expect(twin.lease.acquire()).resolves.toBe(true);
    expect(twin.lease.fence).toBe(a.lease.fence);
    await advance(clock, 5000);
    expect([a.lease.fence, twin.lease.fence]).toEqual([1, 1]);
  });

  it('rejects LeaseUnavailableError (timeout) within ttlMs when the store never answers', async () => {
    const { store, clock } = setup();
    store.setMode('silent');
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const acquiring = track(a.lease.acquire());
    await advance(clock, ttlMs / 3 - 1);
    expect(acquiring.settled).toBe(false);
    await advance(clock, 1);
    expect(acquiring.settled).toBe(true);
    expect(acquiring.error).toBeInstanceOf(LeaseUnavailableError);
    expect(isLeaseUnavailableError(acquiring.error)).toBe(true);
    expect(isOverseerError(acquiring.error)).toBe(true);
    expect(acquiring.error).toMatchObject({ code: 'ERR_LEASE_UNAVAILABLE', reason: 'timeout', lease: 'lease' });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects LeaseUnavailableError (error) with the store failure as cause', async () => {
    const { store } = setup();
    store.setMode('failing');
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const error = await a.lease.acquire().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_LEASE_UNAVAILABLE', reason: 'error' });
    expect((error as Error).cause).toMatchObject({ message: 'store failing' });
  });

  it('an adapter that throws instead of rejecting is an unavailable store, reported by rejecting', async () => {
    const clock = createTestClock();
    const throwing = {
      claim: (): never => {
        throw new Error('adapter bug');
      },
      release: (): never => {
        throw new Error('adapter bug');
      },
    };
    const lease = createStoreLease(throwing, resolveLeaseOptions({ name: 'x', ttlMs, clock }));
    await expect(lease.acquire()).rejects.toMatchObject({ code: 'ERR_LEASE_UNAVAILABLE', reason: 'error' });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('does not believe an answer that arrives after the time given to it', async () => {
    const { store, clock } = setup();
    store.replyDelayMs = ttlMs / 3 + 100;
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const acquiring = track(a.lease.acquire());
    await advance(clock, ttlMs / 3 + 100);
    expect(acquiring.error).toMatchObject({ reason: 'timeout' });
    // The store granted it, but this object never believed it: nothing held, nothing renewed.
    expect(store.holderOf('lease')?.owner).toBe('a');
    expect(a.lease.isHeld()).toBe(false);
    expect(a.named('lease.acquired')).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a late acquire of the same owner picks up what the store still keeps, with its fence', async () => {
    const { store, clock } = setup();
    store.setMode('reply-lost');
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const acquiring = track(a.lease.acquire());
    await advance(clock, ttlMs / 3);
    expect(acquiring.error).toMatchObject({ reason: 'timeout' });
    store.setMode('up');
    await advance(clock, 100);
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(a.lease.fence).toBe(1);
  });
});

describe('renewing', () => {
  it('renews every ttlMs / 3 while held, keeping the fence, and reports lease.renewed with its duration', async () => {
    const { store, clock } = setup();
    store.replyDelayMs = 40;
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const acquiring = track(a.lease.acquire());
    await advance(clock, 40);
    expect(acquiring.value).toBe(true);
    const claimsAt = () => store.applied.filter((entry) => entry.operation === 'claim').map((entry) => entry.at);
    await advance(clock, 10 * ttlMs);
    expect(claimsAt()).toEqual(Array.from({ length: 31 }, (_, index) => index * 1000));
    expect(a.lease.isHeld()).toBe(true);
    expect(a.lease.fence).toBe(1);
    const renewed = a.named('lease.renewed');
    expect(renewed).toHaveLength(30);
    expect(renewed.every((event) => event.measurements.duration === 40 && event.metadata.fence === 1)).toBe(true);
  });

  it('measures the local deadline from the moment the claim was sent, not from its answer', async () => {
    const { store, clock } = setup();
    store.replyDelayMs = 600;
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    const acquiring = track(a.lease.acquire());
    await advance(clock, 600);
    expect(acquiring.value).toBe(true);
    a.clock.pause();
    // Sent at 0: the store keeps it until 3000; held here until 2700 (not 600 + 2700).
    await advance(clock, 2099);
    expect(a.lease.isHeld()).toBe(true);
    await advance(clock, 1);
    expect(a.lease.isHeld()).toBe(false);
    expect(losses.map((loss) => loss.reason)).toEqual(['expired']);
    expect(store.holderOf('lease')?.owner).toBe('a');
  });

  it('keeps one timer while held', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await a.lease.acquire();
    for (let step = 0; step < 12; step += 1) {
      expect(clock.pendingTimers()).toBe(1);
      await advance(clock, 250);
    }
  });
});

describe('losing', () => {
  it("a renewal the store rejects loses it 'unavailable', with what is left of the holding as grace", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    store.setMode('failing');
    await advance(clock, 1000);
    expect(losses).toEqual([{ reason: 'unavailable', fence: 1, graceMs: 1700 }]);
    expect(a.lease.isHeld()).toBe(false);
    expect(a.lease.fence).toBeUndefined();
    expect(a.named('lease.lost')[0]!.metadata).toMatchObject({ reason: 'unavailable', fence: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it("a renewal the store does not answer loses it 'unavailable' at ttlMs / 3 after it was sent, before the local deadline", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    store.setMode('silent');
    await advance(clock, 1999);
    expect(a.lease.isHeld()).toBe(true);
    await advance(clock, 1);
    expect(losses).toEqual([{ reason: 'unavailable', fence: 1, graceMs: 700 }]);
  });

  it("a renewal answered by another owner loses it 'taken'", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    // What a failover that lost writes looks like: the store names someone else.
    store.records.set('lease', { owner: 'b', fence: 7, expiresAt: clock.now() + ttlMs });
    await advance(clock, 1000);
    expect(losses).toEqual([{ reason: 'taken', fence: 1, graceMs: 0 }]);
  });

  it("a renewal answered with another fence (the store lost this holding) loses it 'expired'", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    store.records.get('lease')!.expiresAt = clock.now();
    await advance(clock, 1000);
    expect(losses).toEqual([{ reason: 'expired', fence: 1, graceMs: 0 }]);
    // The store now keeps a new holding of this owner: acquire() picks it up, with its larger fence.
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(a.lease.fence).toBe(2);
  });

  it("a process whose event loop was blocked past the deadline learns it from isHeld() first, 'expired', once", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    a.clock.pause();
    await advance(clock, 2699);
    expect(a.lease.isHeld()).toBe(true);
    await advance(clock, 1);
    const sent = store.sent;
    expect(a.lease.isHeld()).toBe(false);
    expect(losses).toEqual([{ reason: 'expired', fence: 1, graceMs: 0 }]);
    a.clock.resume();
    await flush();
    expect(losses).toHaveLength(1);
    // The late renewal timer sent nothing: the holding was over before it ran.
    expect(store.sent).toBe(sent);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("when the renewal timer fires late past the deadline, the lease is lost 'expired' before anything is sent", async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    a.clock.pause();
    await advance(clock, 5000);
    const sent = store.sent;
    a.clock.resume();
    await flush();
    expect(losses.map((loss) => loss.reason)).toEqual(['expired']);
    expect(store.sent).toBe(sent);
  });

  it('onLost fires once per loss, not for release(); unsubscribe stops it; a throwing listener does not stop the others', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const calls: string[] = [];
    a.lease.onLost(() => {
      throw new Error('listener failed');
    });
    a.lease.onLost((reason) => calls.push(reason));
    const off = a.lease.onLost((reason) => calls.push(`removed:${reason}`));
    off();
    await a.lease.acquire();
    store.setMode('failing');
    await advance(clock, 5000);
    store.setMode('up');
    await a.lease.acquire();
    await a.lease.release();
    await advance(clock, 5000);
    expect(calls).toEqual(['unavailable']);
    expect(() => a.lease.onLost('nope' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', argument: 'onLost.listener' }));
  });
});

describe('releasing', () => {
  it('gives it up at once: isHeld false, the store expires it, another owner takes it with fence + 1; no onLost', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const b = fakeLease(store, { owner: 'b', ttlMs });
    const losses = lossesOf(a.lease);
    await a.lease.acquire();
    const releasing = a.lease.release();
    expect(a.lease.isHeld()).toBe(false);
    await releasing;
    await expect(b.lease.acquire()).resolves.toBe(true);
    expect(b.lease.fence).toBe(2);
    expect(losses).toEqual([]);
    expect(a.named('lease.released')[0]!.metadata).toMatchObject({ fence: 1, confirmed: true });
  });

  it('resolves at once when nothing was ever held', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await a.lease.release();
    expect(store.sent).toBe(0);
  });

  it('called while an acquire is in flight: that acquire resolves false and the release follows its claim', async () => {
    const { store, clock } = setup();
    store.replyDelayMs = 100;
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const acquiring = track(a.lease.acquire());
    const releasing = track(a.lease.release());
    await advance(clock, 300);
    expect(acquiring.value).toBe(false);
    expect(releasing.settled && releasing.error === undefined).toBe(true);
    expect(store.applied.map((entry) => entry.operation)).toEqual(['claim', 'release']);
    expect(store.holderOf('lease')).toBeUndefined();
    expect(a.lease.isHeld()).toBe(false);
  });

  it('called during a renewal: the release is sent after the renewal is answered, never before', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await a.lease.acquire();
    store.requestDelayMs = 50;
    store.replyDelayMs = 50;
    await advance(clock, 1010);
    const releasing = track(a.lease.release());
    await advance(clock, 500);
    expect(releasing.settled).toBe(true);
    expect(store.applied.map((entry) => `${entry.operation}@${entry.at}`)).toEqual(['claim@0', 'claim@1050', 'release@1150']);
    expect(store.holderOf('lease')).toBeUndefined();
  });

  it('an unconfirmed release rejects, and the next acquire confirms it before claiming (a larger fence follows)', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    await a.lease.acquire();
    store.setMode('failing');
    await expect(a.lease.release()).rejects.toMatchObject({ code: 'ERR_LEASE_UNAVAILABLE', reason: 'error' });
    expect(a.named('lease.released')[0]!.metadata).toMatchObject({ confirmed: false });
    store.setMode('up');
    await advance(clock, 10);
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(store.applied.map((entry) => entry.operation)).toEqual(['claim', 'release', 'claim']);
    expect(a.lease.fence).toBe(2);
  });

  it('after a loss, release() ends what the store may still keep, so a standby need not wait for the TTL', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const b = fakeLease(store, { owner: 'b', ttlMs });
    await a.lease.acquire();
    store.setMode('reply-lost');
    await advance(clock, 2000);
    expect(a.lease.isHeld()).toBe(false);
    store.setMode('up');
    await a.lease.release();
    await expect(b.lease.acquire()).resolves.toBe(true);
    expect(b.lease.fence).toBe(2);
  });

  it('await using releases it', async () => {
    const { store } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    {
      await using held = a.lease;
      await held.acquire();
    }
    expect(store.holderOf('lease')).toBeUndefined();
  });
});

describe('fences', () => {
  it('grow on every takeover: after expiry, after release, after a same-owner re-take of an expired holding', async () => {
    const { store, clock } = setup();
    const a = fakeLease(store, { owner: 'a', ttlMs });
    const b = fakeLease(store, { owner: 'b', ttlMs });
    await a.lease.acquire();
    expect(a.lease.fence).toBe(1);
    a.clock.pause();
    await advance(clock, ttlMs);
    await expect(b.lease.acquire()).resolves.toBe(true);
    expect(b.lease.fence).toBe(2);
    await b.lease.release();
    a.clock.resume();
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(a.lease.fence).toBe(3);
    store.setMode('failing');
    await advance(clock, ttlMs);
    store.setMode('up');
    await advance(clock, ttlMs);
    await expect(a.lease.acquire()).resolves.toBe(true);
    expect(a.lease.fence).toBe(4);
  });
});
