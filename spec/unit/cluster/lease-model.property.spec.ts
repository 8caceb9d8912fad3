import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestClock, type TestClock } from '../../../src/index.js';
import { FakeLeaseStore, advance, fakeLease, track, type FakeLease, type Link, type StoreMode } from '../../support/cluster.js';

/**
 * Model-based: several lease objects (distinct owners, each in its own "process" with its own
 * event loop) compete for one name on one fake store, while the clock moves, processes are paused
 * for longer than the TTL, the store fails, goes silent, queues requests and applies them late,
 * loses replies, and answers slowly. Invariants, checked at every moment a lease becomes held and
 * after every command:
 * - at no time do two owners both have `isHeld()` true;
 * - fences never go back, and no fence is ever granted to two owners (they grow on every takeover);
 * - a held lease's fence stays the one it was acquired with;
 * - every acquire() and release() settles once its process runs and the store answers.
 */

const ttlMs = 3000;
const processes = 3;

interface Real {
  /** Stops the standby loops. */
  stopStandbys(): void;
  readonly clock: TestClock;
  readonly store: FakeLeaseStore;
  readonly leases: FakeLease[];
  /** Each process's own network path to the store. */
  readonly links: Link[];
  readonly violations: string[];
  readonly pending: Array<{ settled: boolean }>;
}

interface Model {
  readonly paused: boolean[];
}

/**
 * The invariants as of now: at most one holder; and whoever holds it locally holds it in the
 * store too (same owner, same fence, not expired by the store's clock), which is what makes the
 * first one hold whatever the other processes do.
 */
function checkNow(real: Real): void {
  const now = real.clock.now();
  const held = real.leases.filter((entry) => entry.lease.isHeld());
  if (held.length > 1) real.violations.push(`at ${now}: ${held.map((entry) => entry.lease.owner).join(' and ')} both hold it`);
  for (const entry of real.leases) {
    const fence = entry.lease.fence;
    if (entry.lease.isHeld() !== (fence !== undefined)) real.violations.push(`at ${now}: ${entry.lease.owner} isHeld/fence disagree`);
    if (fence === undefined) continue;
    const kept = real.store.holderOf('lease');
    if (kept?.owner !== entry.lease.owner || kept.fence !== fence) {
      real.violations.push(`at ${now}: ${entry.lease.owner} holds fence ${fence} but the store keeps ${kept ? `${kept.owner}/${kept.fence}` : 'nothing'}`);
    }
  }
}

/**
 * Each process also runs a standby loop, as a singleton child does: every `retryMs` (on its own
 * clock, so not while it is paused) it acquires unless it holds the lease.
 */
function setupReal(retryMs: number): Real {
  const clock = createTestClock();
  const store = new FakeLeaseStore(clock);
  const links: Link[] = Array.from({ length: processes }, () => ({ requestDelayMs: 0, replyDelayMs: 0 }));
  const leases = links.map((link, index) => fakeLease(store, { owner: `p${index}`, ttlMs, link }));
  const violations: string[] = [];
  let standing = true;
  const real: Real = { clock, store, leases, links, violations, pending: [], stopStandbys: () => (standing = false) };
  for (const entry of leases) {
    const retry = (): void => {
      if (!standing) return;
      if (!entry.lease.isHeld()) real.pending.push(track(entry.lease.acquire()));
      entry.clock.setTimeout(retry, retryMs);
    };
    entry.clock.setTimeout(retry, retryMs);
  }
  const ownerOfFence = new Map<number, string>();
  let highestFence = 0;
  for (const entry of leases) {
    const acquiredFence: { value: number | undefined } = { value: undefined };
    entry.telemetry.events$.subscribe((event) => {
      const fence = event.metadata.fence as number;
      if (event.name === 'lease.acquired') {
        acquiredFence.value = fence;
        for (const other of leases) {
          if (other !== entry && other.lease.isHeld()) {
            violations.push(`at ${clock.now()}: ${entry.lease.owner} acquired fence ${fence} while ${other.lease.owner} holds fence ${other.lease.fence}`);
          }
        }
        const previousOwner = ownerOfFence.get(fence);
        if (previousOwner !== undefined && previousOwner !== entry.lease.owner) violations.push(`fence ${fence} granted to ${previousOwner} and ${entry.lease.owner}`);
        if (fence < highestFence) violations.push(`fence went back from ${highestFence} to ${fence}`);
        ownerOfFence.set(fence, entry.lease.owner);
        highestFence = Math.max(highestFence, fence);
      } else if (event.name === 'lease.renewed' && fence !== acquiredFence.value) {
        violations.push(`${entry.lease.owner} renewed fence ${fence} but acquired ${acquiredFence.value}`);
      }
    });
  }
  return real;
}

type LeaseCommand = fc.AsyncCommand<Model, Real>;

class Acquire implements LeaseCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => !model.paused[this.index];
  async run(_model: Model, real: Real) {
    real.pending.push(track(real.leases[this.index]!.lease.acquire()));
  }
  toString = () => `acquire(p${this.index})`;
}

class Release implements LeaseCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => !model.paused[this.index];
  async run(_model: Model, real: Real) {
    real.pending.push(track(real.leases[this.index]!.lease.release()));
  }
  toString = () => `release(p${this.index})`;
}

class Pause implements LeaseCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => !model.paused[this.index];
  async run(model: Model, real: Real) {
    model.paused[this.index] = true;
    real.leases[this.index]!.clock.pause();
  }
  toString = () => `pause(p${this.index})`;
}

class Resume implements LeaseCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => model.paused[this.index] === true;
  async run(model: Model, real: Real) {
    model.paused[this.index] = false;
    real.leases[this.index]!.clock.resume();
    await advance(real.clock, 0);
  }
  toString = () => `resume(p${this.index})`;
}

class Advance implements LeaseCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    await advance(real.clock, this.ms, () => checkNow(real));
  }
  toString = () => `advance(${this.ms})`;
}

class StoreBehaves implements LeaseCommand {
  constructor(readonly mode: StoreMode) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    real.store.setMode(this.mode);
    await advance(real.clock, 0);
  }
  toString = () => `store(${this.mode})`;
}

class Latency implements LeaseCommand {
  constructor(
    readonly index: number,
    readonly requestDelayMs: number,
    readonly replyDelayMs: number,
  ) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    Object.assign(real.links[this.index]!, { requestDelayMs: this.requestDelayMs, replyDelayMs: this.replyDelayMs });
  }
  toString = () => `latency(p${this.index}, request ${this.requestDelayMs} ms, reply ${this.replyDelayMs} ms)`;
}

const index = fc.integer({ min: 0, max: processes - 1 });
const commands = fc.commands(
  [
    index.map((i) => new Acquire(i)),
    index.map((i) => new Acquire(i)),
    index.map((i) => new Release(i)),
    index.map((i) => new Pause(i)),
    index.map((i) => new Pause(i)),
    index.map((i) => new Resume(i)),
    fc.integer({ min: 1, max: 2500 }).map((ms) => new Advance(ms)),
    fc.integer({ min: 1, max: 2500 }).map((ms) => new Advance(ms)),
    fc.constantFrom<StoreMode>('up', 'up', 'failing', 'silent', 'queueing', 'reply-lost').map((mode) => new StoreBehaves(mode)),
    fc
      .tuple(index, fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 900 }))
      .map(([i, request, reply]) => new Latency(i, request, reply)),
    fc
      .tuple(index, fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 900 }))
      .map(([i, request, reply]) => new Latency(i, request, reply)),
  ],
  { maxCommands: 80, size: 'max' },
);

describe('leases on one store (model-based)', () => {
  it('never lets two owners hold at once, and fences grow on every takeover, through pauses, outages and slow answers', async () => {
    await fc.assert(
      fc.asyncProperty(commands, fc.integer({ min: 10, max: 500 }), async (sequence, retryMs) => {
        const real = setupReal(retryMs);
        await fc.asyncModelRun(
          () => ({
            model: { paused: Array.from({ length: processes }, () => false) },
            real,
          }),
          [...sequence].flatMap((command) => [command, checkpoint]),
        );
        // Every wait ends once every process runs and the store answers.
        real.stopStandbys();
        for (const entry of real.leases) entry.clock.resume();
        for (const link of real.links) Object.assign(link, { requestDelayMs: 0, replyDelayMs: 0 });
        real.store.setMode('up');
        await advance(real.clock, 2 * ttlMs);
        checkNow(real);
        expect(real.violations).toEqual([]);
        expect(real.pending.filter((promise) => !promise.settled)).toHaveLength(0);
        // And a lease left alone ends with no timer: nothing held, nothing in flight, after releases.
        await Promise.all(real.leases.map((entry) => entry.lease.release().catch(() => undefined)));
        await advance(real.clock, ttlMs);
        expect(real.clock.pendingTimers()).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

/** After every command: the invariants hold now. */
const checkpoint: LeaseCommand = {
  check: () => true,
  async run(_model: Model, real: Real) {
    checkNow(real);
    expect(real.violations).toEqual([]);
  },
  toString: () => '·',
};
