import { createTelemetry, type TelemetryEvent } from '../../src/index.js';
import { resolveLeaseOptions } from '../../src/cluster/lease-options.js';
import type { LeaseStore } from '../../src/cluster/lease-store.js';
import { sharedReleaseFeed, type FeedEvents, type FeedTransport, type ReleaseFeed } from '../../src/cluster/release-feed.js';
import { createStoreLease } from '../../src/cluster/store-lease.js';
import { ProcessClock, type FakeLeaseStore, type FakeLease, type Link } from './cluster.js';

/**
 * A release-notice transport the spec drives by hand: it records how often it was opened and
 * closed, and while open the spec delivers notices and connection changes through `events`.
 */
export class ManualTransport implements FeedTransport {
  opened = 0;
  closed = 0;
  events: FeedEvents | undefined = undefined;

  open(events: FeedEvents): () => void {
    this.opened += 1;
    this.events = events;
    return () => {
      this.closed += 1;
      this.events = undefined;
      this.listening = false;
    };
  }

  get isOpen(): boolean {
    return this.events !== undefined;
  }

  /** Whether it is subscribed (between `up()` and `down()`): only then do notices reach it. */
  listening = false;

  /** The subscription is confirmed. */
  up(): void {
    this.listening = true;
    this.events?.up();
  }

  /** The connection dropped. */
  down(error: unknown): void {
    this.listening = false;
    this.events?.down(error);
  }

  /** A notice on the channel, heard only while listening. */
  deliver(key: string): void {
    if (this.listening) this.events?.message(key);
  }
}

/** A feed on a {@link ManualTransport} (the real shared feed: routing by key, open while watched). */
export function manualFeed(): { feed: ReleaseFeed; transport: ManualTransport } {
  const transport = new ManualTransport();
  return { feed: sharedReleaseFeed({}, 'released', () => transport), transport };
}

/** The notice key of a lease name on the fake store. */
export const noticeKey = (name: string): string => `notice:${name}`;

/**
 * The pub/sub of the fake store: every "process" has a feed of its own, and a notice published
 * reaches every feed that is open.
 */
export class NoticeBus {
  readonly feeds: Array<{ feed: ReleaseFeed; transport: ManualTransport }> = [];

  /** A new feed on this bus. */
  feed(): { feed: ReleaseFeed; transport: ManualTransport } {
    const created = manualFeed();
    this.feeds.push(created);
    return created;
  }

  publish(key: string): void {
    for (const { transport } of this.feeds) transport.deliver(key);
  }
}

/**
 * `inner` (one name of the fake store), whose releases announce themselves through `publish`
 * after they are applied, as the real stores' release script and statement do: only when a
 * holding ended.
 */
export function announcingStore(inner: LeaseStore, store: FakeLeaseStore, name: string, publish: (key: string) => void): LeaseStore {
  return {
    claim: (owner) => inner.claim(owner),
    release: async (owner, fence) => {
      const before = store.records.get(name);
      const ended = before !== undefined && before.owner === owner && before.fence === fence && before.expiresAt > store.clock.now();
      await inner.release(owner, fence);
      if (ended) publish(noticeKey(name));
    },
  };
}

/**
 * A lease on the fake store that hears release notices through `feed` (as `fakeLease` otherwise);
 * its releases are published on `options.bus`, or on `feed` alone.
 */
export function noticedLease(
  store: FakeLeaseStore,
  feed: { feed: ReleaseFeed; transport: ManualTransport },
  options: { name?: string; ttlMs?: number; owner?: string; link?: Link; clock?: ProcessClock; bus?: NoticeBus } = {},
): FakeLease {
  const clock = options.clock ?? new ProcessClock(store.clock);
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const name = options.name ?? 'lease';
  const resolved = resolveLeaseOptions({ name, ttlMs: options.ttlMs ?? 3000, owner: options.owner, clock, telemetry });
  const inner = store.storeFor(name, resolved.ttlMs, clock, options.link);
  const publish = options.bus === undefined ? (key: string) => feed.transport.events?.message(key) : (key: string) => options.bus!.publish(key);
  const lease = createStoreLease(announcingStore(inner, store, name, publish), resolved, { feed: feed.feed, key: noticeKey(name) });
  return { lease, clock, telemetry, events, named: (eventName) => events.filter((event) => event.name === eventName) };
}
