import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, InvalidArgumentError, createTelemetry, createTestClock, type TelemetryEvent, type TestClock } from '../../../src/index.js';
import { LeaseNoticeEvents, createPostgresLease, createRedisLease, type ReleaseNotice } from '../../../src/cluster/index.js';
import { resolveLeaseOptions } from '../../../src/cluster/lease-options.js';
import { releaseChannel as postgresChannel, releaseNotice } from '../../../src/cluster/postgres-lease.js';
import { leaseKeys, releaseChannel as redisChannel, releaseScript } from '../../../src/cluster/redis-lease.js';
import { sharedReleaseFeed } from '../../../src/cluster/release-feed.js';
import { createStoreLease, type StoreLease } from '../../../src/cluster/store-lease.js';
import { FakeLeaseStore, advance, flush } from '../../support/cluster.js';
import { manualFeed, noticedLease } from '../../support/release-notices.js';

/** Records every notice a lease's `onReleased` listener gets. */
function heard(lease: StoreLease): { notices: ReleaseNotice[]; stop: () => void } {
  const notices: ReleaseNotice[] = [];
  const stop = lease.onReleased((notice) => notices.push(notice));
  return { notices, stop };
}

function recorder(clock: TestClock) {
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  return { telemetry, events, named: (name: string) => events.filter((event) => event.name === name) };
}

describe('onReleased on a store lease', () => {
  it('listens only while it has listeners: the shared feed opens with the first listener of any lease on it and closes with the last', async () => {
    const store = new FakeLeaseStore(createTestClock());
    const feed = manualFeed();
    const a = noticedLease(store, feed, { owner: 'a' }).lease;
    const b = noticedLease(store, feed, { owner: 'b', name: 'other' }).lease;
    expect(feed.transport.opened).toBe(0);
    const first = a.onReleased(() => undefined);
    const second = a.onReleased(() => undefined);
    const third = b.onReleased(() => undefined);
    expect(feed.transport).toMatchObject({ opened: 1, closed: 0 });
    first();
    first();
    third();
    expect(feed.transport.isOpen).toBe(true);
    second();
    expect(feed.transport).toMatchObject({ opened: 1, closed: 1 });
    // Listening again opens it again.
    const again = b.onReleased(() => undefined);
    expect(feed.transport).toMatchObject({ opened: 2, closed: 1 });
    await b[Symbol.asyncDispose]();
    expect(feed.transport).toMatchObject({ opened: 2, closed: 2 });
    again();
    expect(feed.transport.closed).toBe(2);
  });

  it("tells a release of its own name ('released', whoever released it), and nothing of another name's", async () => {
    const store = new FakeLeaseStore(createTestClock());
    const feed = manualFeed();
    const holder = noticedLease(store, feed, { owner: 'holder', name: 'y' }).lease;
    const standbyY = noticedLease(store, feed, { owner: 'standby', name: 'y' }).lease;
    const standbyX = noticedLease(store, feed, { owner: 'standby', name: 'x' }).lease;
    const y = heard(standbyY);
    const x = heard(standbyX);
    await expect(holder.acquire()).resolves.toBe(true);
    await expect(standbyY.acquire()).resolves.toBe(false);
    await holder.release();
    expect(y.notices).toEqual(['released']);
    expect(x.notices).toEqual([]);
    // A notice of a name no lease here has is dropped.
    feed.transport.events!.message('notice:z');
    expect([...y.notices, ...x.notices]).toEqual(['released']);
    await expect(standbyY.acquire()).resolves.toBe(true);
    expect(standbyY.fence).toBe(2);
  });

  it("tells the feed's start as 'listening' with lease.notices.up, its drop with lease.notices.down (once per change), and a listener joining an open feed that it listens", async () => {
    const clock = createTestClock();
    const store = new FakeLeaseStore(clock);
    const feed = manualFeed();
    const a = noticedLease(store, feed, { owner: 'a' });
    const heardA = heard(a.lease);
    feed.transport.events!.up();
    feed.transport.events!.up();
    expect(heardA.notices).toEqual(['listening']);
    expect(a.named(LeaseNoticeEvents.up).map((event) => event.metadata)).toEqual([{ lease: 'lease', owner: 'a' }]);
    const cut = new Error('connection reset');
    feed.transport.events!.down(cut);
    feed.transport.events!.down(new Error('again'));
    expect(a.named(LeaseNoticeEvents.down).map((event) => event.metadata)).toEqual([{ lease: 'lease', owner: 'a', error: cut }]);
    expect(heardA.notices).toEqual(['listening']);
    feed.transport.events!.up();
    expect(heardA.notices).toEqual(['listening', 'listening']);

    const b = noticedLease(store, feed, { owner: 'b' });
    const heardB = heard(b.lease);
    expect(heardB.notices).toEqual([]);
    await flush();
    expect(heardB.notices).toEqual(['listening']);
    expect(b.named(LeaseNoticeEvents.up)).toHaveLength(1);
  });

  it('a listener that throws does not keep the others from the notice (a process warning names the lease)', async () => {
    const store = new FakeLeaseStore(createTestClock());
    const feed = manualFeed();
    const { lease } = noticedLease(store, feed, { owner: 'a', name: 'loud' });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      lease.onReleased(() => {
        throw new Error('listener failed');
      });
      const quiet = heard(lease);
      feed.transport.events!.message('notice:loud');
      expect(quiet.notices).toEqual(['released']);
      await flush();
      expect(warnings.some((message) => message.includes("onReleased listener of lease 'loud' threw"))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a transport that cannot open is down; a listener that joins and leaves before it learns the state learns nothing', async () => {
    const clock = createTestClock();
    const { telemetry, named } = recorder(clock);
    const broken = sharedReleaseFeed({}, 'released', () => ({
      open: () => {
        throw new Error('cannot connect');
      },
    }));
    const store = new FakeLeaseStore(clock);
    const lease = createStoreLease(store.storeFor('x', 3000), resolveLeaseOptions({ name: 'x', ttlMs: 3000, clock, telemetry }), { feed: broken, key: 'x' });
    const { notices } = heard(lease);
    expect(named(LeaseNoticeEvents.down).map((event) => (event.metadata.error as Error).message)).toEqual(['cannot connect']);
    expect(notices).toEqual([]);

    const feed = manualFeed();
    const a = noticedLease(store, feed, { owner: 'a' }).lease;
    heard(a);
    feed.transport.events!.up();
    const b = noticedLease(store, feed, { owner: 'b' }).lease;
    const passing = heard(b);
    passing.stop();
    await flush();
    expect(passing.notices).toEqual([]);
  });

  it('refuses a listener that is not a function with an InvalidArgumentError', () => {
    const { lease } = noticedLease(new FakeLeaseStore(createTestClock()), manualFeed());
    expect(() => lease.onReleased('x' as never)).toThrow(InvalidArgumentError);
  });

  it('a lease with nothing to listen on takes listeners and never calls them; it still polls', async () => {
    const clock = createTestClock();
    const store = new FakeLeaseStore(clock);
    const lease = createStoreLease(store.storeFor('quiet', 3000), resolveLeaseOptions({ name: 'quiet', ttlMs: 3000, clock }));
    const listener = vi.fn();
    const stop = lease.onReleased(listener);
    await expect(lease.acquire()).resolves.toBe(true);
    await lease.release();
    await advance(clock, 100);
    expect(listener).not.toHaveBeenCalled();
    stop();
  });
});

// ------------------------------------------------------------------ Redis

/** A subscriber connection as ioredis's: subscribe/unsubscribe, events, disconnect. */
class FakeSubscriber extends EventEmitter {
  readonly subscribed: string[] = [];
  readonly unsubscribed: string[] = [];
  disconnected = 0;
  /** The answer the next subscribe() gets. */
  next: () => Promise<unknown> = () => Promise.resolve(1);

  subscribe(channel: string): Promise<unknown> {
    this.subscribed.push(channel);
    return this.next();
  }

  unsubscribe(channel: string): Promise<unknown> {
    this.unsubscribed.push(channel);
    return Promise.resolve(0);
  }

  disconnect(): void {
    this.disconnected += 1;
  }
}

/** A command client that answers the lease scripts (claim: held with fence 7; release: 1), records them, and duplicates into FakeSubscribers. */
function fakeRedis(options: { duplicate?: boolean } = {}) {
  const calls: string[][] = [];
  const duplicates: FakeSubscriber[] = [];
  const redis = {
    calls,
    duplicates,
    evalsha: (sha: string, numKeys: number, ...args: string[]) => {
      calls.push([sha, String(numKeys), ...args]);
      return Promise.resolve(sha === releaseScript.sha1 ? 1 : [1, 7]);
    },
    eval: () => Promise.reject(new Error('not used')),
    ...(options.duplicate === false
      ? {}
      : {
          duplicate: () => {
            const subscriber = new FakeSubscriber();
            duplicates.push(subscriber);
            return subscriber;
          },
        }),
  };
  return redis;
}

describe('Redis release notices', () => {
  const prefix = 'spec';
  const channel = redisChannel(prefix);

  it('the release script gets the channel, under the prefix; the notice is the holder key', async () => {
    const redis = fakeRedis();
    const lease = createRedisLease({ name: 'job', redis, prefix, ttlMs: 3000, owner: 'a' });
    await lease.acquire();
    await lease.release();
    const keys = leaseKeys(prefix, 'job');
    expect(channel).toBe('spec:lease-released');
    expect(redis.calls.at(-1)).toEqual([releaseScript.sha1, '2', keys.holder, keys.fence, 'a', '7', channel]);
    expect(releaseScript.source).toContain("redis.call('PUBLISH', ARGV[3], KEYS[1])");
  });

  it('by default duplicates the client with the first listener, shared by the leases on it and the prefix, and disconnects it with the last', async () => {
    const redis = fakeRedis();
    const a = createRedisLease({ name: 'job', redis, prefix, owner: 'a' });
    const b = createRedisLease({ name: 'other', redis, prefix, owner: 'b' });
    const c = createRedisLease({ name: 'job', redis, prefix: 'elsewhere', owner: 'c' });
    expect(redis.duplicates).toHaveLength(0);
    const stopA = a.onReleased(() => undefined);
    const stopB = b.onReleased(() => undefined);
    expect(redis.duplicates).toHaveLength(1);
    const stopC = c.onReleased(() => undefined);
    expect(redis.duplicates).toHaveLength(2);
    const [shared, own] = redis.duplicates as [FakeSubscriber, FakeSubscriber];
    expect(shared.subscribed).toEqual([channel]);
    expect(own.subscribed).toEqual(['elsewhere:lease-released']);
    stopA();
    expect(shared.disconnected).toBe(0);
    stopB();
    stopC();
    expect([shared.disconnected, own.disconnected]).toEqual([1, 1]);
    expect(shared.listenerCount('message') + shared.listenerCount('ready') + shared.listenerCount('close')).toBe(0);
  });

  it('wakes for a message naming its holder key on its channel, not for another key or channel; a confirmed subscription is listening', async () => {
    const redis = fakeRedis();
    const lease = createRedisLease({ name: 'job', redis, prefix, owner: 'a' });
    const { notices } = heard(lease);
    const subscriber = redis.duplicates[0]!;
    await flush();
    expect(notices).toEqual(['listening']);
    subscriber.emit('message', channel, leaseKeys(prefix, 'other').holder);
    subscriber.emit('message', 'another:channel', leaseKeys(prefix, 'job').holder);
    expect(notices).toEqual(['listening']);
    subscriber.emit('message', channel, leaseKeys(prefix, 'job').holder);
    expect(notices).toEqual(['listening', 'released']);
  });

  it("reports a closed connection as lease.notices.down and, on 'ready', subscribes again and listens (lease.notices.up, 'listening')", async () => {
    const clock = createTestClock();
    const { telemetry, named } = recorder(clock);
    const redis = fakeRedis();
    const lease = createRedisLease({ name: 'job', redis, prefix, owner: 'a', clock, telemetry });
    const { notices } = heard(lease);
    const subscriber = redis.duplicates[0]!;
    await flush();
    const reset = new Error('ECONNRESET');
    subscriber.emit('error', reset);
    subscriber.emit('close');
    expect(named(LeaseNoticeEvents.down).map((event) => event.metadata.error)).toEqual([reset]);
    // A subscription refused while reconnecting is still down; the next 'ready' tries again.
    subscriber.next = () => Promise.reject(new Error('Connection is closed'));
    subscriber.emit('ready');
    await flush();
    expect(named(LeaseNoticeEvents.down)).toHaveLength(1);
    subscriber.next = () => Promise.resolve(1);
    subscriber.emit('ready');
    await flush();
    expect(subscriber.subscribed).toEqual([channel, channel, channel]);
    expect(named(LeaseNoticeEvents.up)).toHaveLength(2);
    expect(notices).toEqual(['listening', 'listening']);
  });

  it('a subscriber passed in is subscribed and unsubscribed, never disconnected, and gets no error listener; false, or a client without duplicate(), listens to nothing', async () => {
    const redis = fakeRedis();
    const subscriber = new FakeSubscriber();
    const lease = createRedisLease({ name: 'job', redis, prefix, owner: 'a', subscriber });
    const stop = lease.onReleased(() => undefined);
    expect(subscriber.subscribed).toEqual([channel]);
    expect(subscriber.listenerCount('error')).toBe(0);
    stop();
    expect(subscriber.unsubscribed).toEqual([channel]);
    expect(subscriber.disconnected).toBe(0);
    expect(redis.duplicates).toHaveLength(0);

    const none = createRedisLease({ name: 'job', redis, prefix, owner: 'b', subscriber: false });
    none.onReleased(() => undefined);
    const bare = fakeRedis({ duplicate: false });
    createRedisLease({ name: 'job', redis: bare, prefix, owner: 'c' }).onReleased(() => undefined);
    expect(redis.duplicates).toHaveLength(0);
  });

  it('a subscribe that throws, or a duplicate that is no subscriber, is down (telemetry), not thrown at the caller', async () => {
    const clock = createTestClock();
    const { telemetry, named } = recorder(clock);
    const subscriber = new FakeSubscriber();
    subscriber.subscribe = () => {
      throw new Error('subscriber mode refused');
    };
    const lease = createRedisLease({ name: 'job', redis: fakeRedis(), prefix, subscriber, clock, telemetry });
    lease.onReleased(() => undefined);
    await flush();
    const odd = { ...fakeRedis(), duplicate: () => ({}) };
    const other = createRedisLease({ name: 'job', redis: odd, prefix, clock, telemetry });
    expect(() => other.onReleased(() => undefined)).not.toThrow();
    expect(named(LeaseNoticeEvents.down).map((event) => String(event.metadata.error))).toEqual([
      'Error: subscriber mode refused',
      expect.stringContaining('redis.duplicate().subscribe'),
    ]);
  });

  it.each([
    ['subscriber', (redis: object) => redis],
    ['subscriber', () => 'redis://elsewhere'],
    ['subscriber.subscribe', () => ({ on: () => undefined, removeListener: () => undefined })],
  ])('refuses a bad %s at once with a ConfigError naming it', (option, subscriber) => {
    const redis = fakeRedis();
    let caught: unknown;
    try {
      createRedisLease({ name: 'job', redis, prefix, subscriber: subscriber(redis) as never });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe(option);
  });
});

// ------------------------------------------------------------------ PostgreSQL

/** A pg.Client as far as LISTEN needs it. */
class FakePgClient extends EventEmitter {
  readonly queries: string[] = [];
  ended = 0;
  constructor(
    readonly options: unknown,
    private readonly connecting: () => Promise<unknown>,
  ) {
    super();
  }

  connect(): Promise<unknown> {
    return this.connecting();
  }

  query(text: string): Promise<unknown> {
    this.queries.push(text);
    return Promise.resolve({ rows: [] });
  }

  end(): Promise<unknown> {
    this.ended += 1;
    return Promise.resolve();
  }
}

/** A pool shaped as pg.Pool (Client, options, query) whose clients are FakePgClients; records statements. */
function fakePool() {
  const made: FakePgClient[] = [];
  const statements: Array<{ text: string; values: unknown[] | undefined }> = [];
  const control = { connecting: (): Promise<unknown> => Promise.resolve() };
  class Client extends FakePgClient {
    constructor(options: unknown) {
      super(options, () => control.connecting());
      made.push(this);
    }
  }
  const pool = {
    Client,
    options: { connectionString: 'postgres://spec', max: 2 },
    query: (text: string, values?: unknown[]) => {
      statements.push({ text, values });
      return Promise.resolve({ rows: text.includes('INSERT') ? [{ held: true, owner: values?.[1], fence: '3' }] : [] });
    },
  };
  return { pool, made, statements, control };
}

describe('PostgreSQL release notices', () => {
  it('the release statement notifies <table>:released with the name, after the update, only for a row it ended', async () => {
    const { pool, statements } = fakePool();
    const lease = createPostgresLease({ name: 'job', pool, table: 'leases', ttlMs: 3000, owner: 'a' });
    await lease.acquire();
    await lease.release();
    const release = statements.at(-1)!;
    expect(release.values).toEqual(['job', 'a', 3, 'leases:released', 'job']);
    expect(release.text).toMatch(/WITH released AS \(\s*UPDATE "leases" .* RETURNING name\s*\)\s*SELECT pg_notify\(\$4, \$5\) FROM released/s);
  });

  it('by default makes a client as the pool makes its own, connects it and LISTENs with the first listener; leases on the pool and table share it; the last listener ends it', async () => {
    const { pool, made } = fakePool();
    const a = createPostgresLease({ name: 'job', pool, table: 'leases', owner: 'a' });
    const b = createPostgresLease({ name: 'other', pool, table: 'leases', owner: 'b' });
    const elsewhere = createPostgresLease({ name: 'job', pool, table: 'schema.leases', owner: 'c' });
    const heardA = heard(a);
    const stopB = b.onReleased(() => undefined);
    const stopElsewhere = elsewhere.onReleased(() => undefined);
    await flush();
    expect(made).toHaveLength(2);
    expect(made[0]!.options).toBe(pool.options);
    expect(made.map((client) => client.queries)).toEqual([['LISTEN "leases:released"'], ['LISTEN "schema.leases:released"']]);
    expect(heardA.notices).toEqual(['listening']);
    heardA.stop();
    stopB();
    stopElsewhere();
    expect(made.map((client) => client.ended)).toEqual([1, 1]);
  });

  it('wakes for a notification on its channel with its payload only', async () => {
    const { pool, made } = fakePool();
    const lease = createPostgresLease({ name: 'job', pool, table: 'leases', owner: 'a' });
    const { notices } = heard(lease);
    await flush();
    const client = made[0]!;
    client.emit('notification', { channel: 'leases:released', payload: 'other' });
    client.emit('notification', { channel: 'elsewhere:released', payload: 'job' });
    client.emit('notification', { channel: 'leases:released' });
    expect(notices).toEqual(['listening']);
    client.emit('notification', { channel: 'leases:released', payload: 'job' });
    expect(notices).toEqual(['listening', 'released']);
  });

  it('a dropped client is down and ended; a new one is made after 100 ms, then 200 ms, on the clock; listening again is up', async () => {
    const clock = createTestClock();
    const { telemetry, named } = recorder(clock);
    const { pool, made, control } = fakePool();
    const lease = createPostgresLease({ name: 'job', pool, table: 'leases', owner: 'a', clock, telemetry });
    const { notices } = heard(lease);
    await flush();
    const terminated = new Error('terminating connection due to administrator command');
    made[0]!.emit('error', terminated);
    made[0]!.emit('end');
    expect(made[0]!.ended).toBe(1);
    expect(named(LeaseNoticeEvents.down).map((event) => event.metadata.error)).toEqual([terminated]);
    control.connecting = () => Promise.reject(new Error('ECONNREFUSED'));
    await advance(clock, 99);
    expect(made).toHaveLength(1);
    await advance(clock, 1);
    expect(made).toHaveLength(2);
    expect(made[1]!.ended).toBe(1);
    control.connecting = () => Promise.resolve();
    await advance(clock, 199);
    expect(made).toHaveLength(2);
    await advance(clock, 1);
    expect(made).toHaveLength(3);
    expect(made[2]!.queries).toEqual(['LISTEN "leases:released"']);
    expect(named(LeaseNoticeEvents.down)).toHaveLength(1);
    expect(named(LeaseNoticeEvents.up)).toHaveLength(2);
    expect(notices).toEqual(['listening', 'listening']);
  });

  it('a listen function that throws is down, and is called again after the wait', async () => {
    const clock = createTestClock();
    const { telemetry, named } = recorder(clock);
    const own = fakePool();
    let calls = 0;
    const listen = () => {
      calls += 1;
      if (calls === 1) throw new Error('no client today');
      return new own.pool.Client({});
    };
    const lease = createPostgresLease({ name: 'job', pool: own.pool, table: 'leases', listen, clock, telemetry });
    const { notices } = heard(lease);
    expect(named(LeaseNoticeEvents.down).map((event) => (event.metadata.error as Error).message)).toEqual(['no client today']);
    await advance(clock, 100);
    expect(calls).toBe(2);
    expect(notices).toEqual(['listening']);
  });

  it('the last listener leaving ends a client still connecting (no LISTEN after), and cancels a pending reconnection', async () => {
    const clock = createTestClock();
    const { pool, made, control } = fakePool();
    let connected: () => void = () => undefined;
    control.connecting = () => new Promise<void>((resolve) => (connected = resolve));
    const lease = createPostgresLease({ name: 'job', pool, table: 'leases', owner: 'a', clock });
    const stop = lease.onReleased(() => undefined);
    stop();
    expect(made[0]!.ended).toBe(1);
    connected();
    await flush();
    expect(made[0]!.queries).toEqual([]);

    control.connecting = () => Promise.resolve();
    const again = lease.onReleased(() => undefined);
    await flush();
    made[1]!.emit('error', new Error('gone'));
    again();
    await advance(clock, 10_000);
    expect(made).toHaveLength(2);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('listen: a function makes the clients (shared by the leases given it); false, or a pool that is not a pg.Pool, listens to nothing; anything else is refused', async () => {
    const { pool, made } = fakePool();
    const own = fakePool();
    const listen = () => new own.pool.Client({ application_name: 'listener' });
    const a = createPostgresLease({ name: 'a', pool, table: 'leases', listen });
    const b = createPostgresLease({ name: 'b', pool, table: 'leases', listen });
    a.onReleased(() => undefined);
    b.onReleased(() => undefined);
    await flush();
    expect(own.made).toHaveLength(1);
    expect(own.made[0]!.options).toEqual({ application_name: 'listener' });
    expect(made).toHaveLength(0);

    createPostgresLease({ name: 'c', pool, table: 'leases', listen: false }).onReleased(() => undefined);
    createPostgresLease({ name: 'd', pool: { query: pool.query }, table: 'leases' }).onReleased(() => undefined);
    expect(made).toHaveLength(0);
    expect(() => createPostgresLease({ name: 'e', pool, listen: 'postgres://x' as never })).toThrow(ConfigError);
  });

  it('a long name is notified as its SHA-256; a channel over 63 bytes becomes a digest', () => {
    expect(releaseNotice('job')).toBe('job');
    const long = 'n'.repeat(201);
    expect(releaseNotice(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(releaseNotice(long)).not.toBe(releaseNotice(`${long}x`));
    expect(postgresChannel('overseer_leases')).toBe('overseer_leases:released');
    const table = `${'s'.repeat(40)}.${'t'.repeat(40)}`;
    expect(Buffer.byteLength(postgresChannel(table))).toBeLessThanOrEqual(63);
    expect(postgresChannel(table)).not.toBe(postgresChannel(`${'s'.repeat(40)}.${'t'.repeat(39)}u`));
  });
});
