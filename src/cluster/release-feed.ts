import type { Clock } from '../clock/index.js';

/**
 * Release notices: how a standby hears, at once, that the holder of a lease released it. A
 * release publishes a notice on the store's pub/sub (Redis `PUBLISH` from the release script,
 * PostgreSQL `pg_notify` in the release statement); a lease with `onReleased` listeners listens
 * on a connection of its own, shared by every lease of the process on the same connection source
 * and channel, opened with the first listener and closed with the last.
 *
 * A notice is only a hint that a claim may succeed now. What a lease holds is decided by its
 * claims alone, so a notice lost, late, repeated or forged changes when a standby tries, never
 * what it holds; a standby keeps polling every `retryMs` whatever the feed does.
 */

/** Why `onReleased` listeners are called. */
export type ReleaseNotice =
  /** The store announced a release of this lease's name (by any owner). */
  | 'released'
  /** The lease listens now (the first time, or again after its connection dropped): a release may have gone unheard. */
  | 'listening';

/** One lease's interest in a feed. */
export interface ReleaseWatcher {
  /** The notice that names this lease's releases (a Redis holder key, a PostgreSQL payload). */
  readonly key: string;
  /** A release of this lease's name was announced. */
  released(): void;
  /** The feed listens now; a release may have gone unheard until then. */
  up(): void;
  /** The feed stopped listening (its connection dropped, or it could not subscribe); it tries again by itself. */
  down(error: unknown): void;
}

/** What a transport tells the feed it serves. */
export interface FeedEvents {
  /** A notice arrived on the feed's channel. */
  message(payload: string): void;
  /** Subscribed (the first time, or again after a drop). */
  up(): void;
  /** The subscription was lost, or could not be made. */
  down(error: unknown): void;
}

/**
 * A connection listening on one channel, as long as it is open: the backend's part of a feed.
 * It subscribes again by itself after a drop, reporting `down` and `up`.
 */
export interface FeedTransport {
  /** Opens the connection and subscribes; returns the function that unsubscribes and closes it. */
  open(events: FeedEvents, clock: Clock): () => void;
}

/** Where leases watch for release notices of one channel on one connection source. */
export interface ReleaseFeed {
  /** Starts telling `watcher` of releases and of the feed's state; returns the function that stops. */
  watch(watcher: ReleaseWatcher, clock: Clock): () => void;
}

/**
 * The feed of one channel on one connection source, open while it has watchers: it routes each
 * notice to the watchers of that key (notices for other names are dropped), and tells every
 * watcher when it starts or stops listening, once per change.
 */
class SharedFeed {
  private readonly watchers = new Map<string, Set<ReleaseWatcher>>();
  private size = 0;
  private state: 'opening' | 'up' | 'down' = 'opening';
  private lastError: unknown = undefined;
  private closeTransport: (() => void) | undefined = undefined;
  private closed = false;

  constructor(
    private readonly transport: FeedTransport,
    private readonly onEmpty: () => void,
  ) {}

  add(watcher: ReleaseWatcher, clock: Clock): () => void {
    let set = this.watchers.get(watcher.key);
    if (set === undefined) this.watchers.set(watcher.key, (set = new Set()));
    set.add(watcher);
    this.size += 1;
    if (this.size === 1 && this.closeTransport === undefined) {
      try {
        this.closeTransport = this.transport.open(
          { message: (payload) => this.message(payload), up: () => this.up(), down: (error) => this.down(error) },
          clock,
        );
      } catch (error) {
        this.down(error);
      }
    } else if (this.state !== 'opening') {
      // A watcher joining an open feed learns its state as the others did, after its own call.
      const state = this.state;
      queueMicrotask(() => {
        if (!set.has(watcher)) return;
        if (state === 'up') watcher.up();
        else watcher.down(this.lastError);
      });
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(watcher.key);
      this.size -= 1;
      if (this.size === 0) this.close();
    };
  }

  private close(): void {
    this.closed = true;
    const close = this.closeTransport;
    this.closeTransport = undefined;
    this.onEmpty();
    close?.();
  }

  private message(payload: string): void {
    if (this.closed) return;
    const set = this.watchers.get(payload);
    if (set === undefined) return;
    for (const watcher of [...set]) watcher.released();
  }

  private up(): void {
    if (this.closed || this.state === 'up') return;
    this.state = 'up';
    this.lastError = undefined;
    for (const watcher of this.all()) watcher.up();
  }

  private down(error: unknown): void {
    if (this.closed || this.state === 'down') return;
    this.state = 'down';
    this.lastError = error;
    for (const watcher of this.all()) watcher.down(error);
  }

  private all(): ReleaseWatcher[] {
    return [...this.watchers.values()].flatMap((set) => [...set]);
  }
}

/** The open feeds: per connection source (a client, a subscriber, a pool, a factory), per channel. */
const openFeeds = new WeakMap<object, Map<string, SharedFeed>>();

/**
 * The release feed of `channel` on `source`: every lease given the same source and channel shares
 * one connection, made by `transport()` when the first of them starts watching and closed when
 * the last stops.
 */
export function sharedReleaseFeed(source: object, channel: string, transport: () => FeedTransport): ReleaseFeed {
  return {
    watch(watcher, clock) {
      let feeds = openFeeds.get(source);
      if (feeds === undefined) openFeeds.set(source, (feeds = new Map()));
      let feed = feeds.get(channel);
      if (feed === undefined) {
        const created = new SharedFeed(transport(), () => {
          if (feeds!.get(channel) === created) feeds!.delete(channel);
        });
        feeds.set(channel, (feed = created));
      }
      return feed.add(watcher, clock);
    },
  };
}
