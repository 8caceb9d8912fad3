import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { createBreaker, createTelemetry, type Breaker, type TestClock, type TelemetryEvent, type Telemetry } from '../../src/index.js';
import { createBreakerFleet, type BreakerFleet, type BreakerFleetOptions, type BreakerFleetRedis, type BreakerFleetSubscriber } from '../../src/cluster/index.js';
import { isolateScript, publishScript, readScript, refreshScript, restoreScript } from '../../src/cluster/breaker-fleet-redis.js';

/**
 * A fake Redis for breaker fleets, on a test clock: keys with `PX` expiry (the server's clock is
 * the test clock), pub/sub channels, and the fleet's five scripts, run by SHA-1 (`NOSCRIPT` until
 * loaded by EVAL, as a real server after a restart) with the semantics of their Lua source (the
 * scenario specs run the Lua itself on a real server). Every client reaches it over a link whose
 * delays and outages the spec controls; each connection keeps the order of what it carries.
 */

/** How a server or one connection behaves: `up`; `down` (refuses at once, as a closed port); `silent` (never answers). */
export type FakeMode = 'up' | 'down' | 'silent';

/** One connection's network: delays and its own outage. */
export interface FakeLink {
  requestDelayMs: number;
  replyDelayMs: number;
  mode: FakeMode;
}

interface StoredKey {
  value: string;
  expiresAt: number | undefined;
}

type ScriptRun = (keys: string[], args: string[]) => unknown;

export class FakePubSubRedis {
  mode: FakeMode = 'up';
  private readonly data = new Map<string, StoredKey>();
  private readonly loaded = new Set<string>();
  private readonly subscribers = new Set<FakeSubscriber>();
  /** Every script run, in order, with its keys and arguments. */
  readonly ran: Array<{ at: number; script: string; keys: string[]; args: string[] }> = [];
  /** Every message published, in order. */
  readonly published: Array<{ at: number; channel: string; message: string }> = [];
  /** EVALSHA calls answered NOSCRIPT. */
  noscripts = 0;
  /** When each value that Redis no longer holds stopped being held (deleted, overwritten, expired, lost in a restart). */
  private readonly goneAt = new Map<string, number>();
  private readonly scripts: Map<string, { name: string; run: ScriptRun }>;

  constructor(readonly clock: TestClock) {
    this.scripts = new Map<string, { name: string; run: ScriptRun }>([
      [isolateScript.sha1, { name: 'isolate', run: (keys, args) => this.isolate(keys, args) }],
      [refreshScript.sha1, { name: 'refresh', run: (keys, args) => this.refresh(keys, args) }],
      [restoreScript.sha1, { name: 'restore', run: (keys, args) => this.restore(keys, args) }],
      [readScript.sha1, { name: 'read', run: (keys) => this.read(keys) }],
      [publishScript.sha1, { name: 'publish', run: (_keys, args) => this.publish(args[0]!, args[1]!) }],
    ]);
  }

  /** A command connection (evalsha, eval), with its link. */
  client(link: Partial<FakeLink> = {}): FakeCommandClient {
    return new FakeCommandClient(this, { requestDelayMs: 0, replyDelayMs: 0, mode: 'up', ...link });
  }

  /** A subscriber connection, delivering each message `deliveryDelayMs` after it is published. */
  subscriber(options: { deliveryDelayMs?: number; subscribeDelayMs?: number } = {}): FakeSubscriber {
    const subscriber = new FakeSubscriber(this, options.deliveryDelayMs ?? 0, options.subscribeDelayMs ?? 0);
    this.subscribers.add(subscriber);
    // A connection to a server that is down is not up until the server is.
    if (this.mode !== 'up') subscriber.disconnect('server');
    return subscriber;
  }

  /** The value of a live key. */
  get(key: string): string | undefined {
    return this.live(key)?.value;
  }

  /** Milliseconds left of a live key (-1 without expiry, -2 when absent), as PTTL. */
  pttl(key: string): number {
    const stored = this.live(key);
    if (stored === undefined) return -2;
    return stored.expiresAt === undefined ? -1 : stored.expiresAt - this.clock.now();
  }

  /**
   * Whether `value` is held under some key now, or else when it stopped being held (`undefined`
   * when it never was).
   */
  heldUntil(value: string): 'now' | number | undefined {
    for (const key of this.data.keys()) if (this.live(key)?.value === value) return 'now';
    return this.goneAt.get(value);
  }

  /** Every live key. */
  keys(): string[] {
    return [...this.data.keys()].filter((key) => this.live(key) !== undefined);
  }

  /** Sets a key by hand (another program writing). */
  set(key: string, value: string, ttlMs?: number): void {
    this.remove(key);
    this.data.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.clock.now() + ttlMs });
  }

  /** Stops the server: every connection closes (subscribers emit 'close' and lose their subscriptions), commands are refused. */
  down(mode: 'down' | 'silent' = 'down'): void {
    this.mode = mode;
    for (const subscriber of this.subscribers) subscriber.disconnect('server');
  }

  /** Starts it again with nothing kept (no persistence): no keys, no scripts; subscribers reconnect ('ready'). */
  restart(): void {
    for (const key of [...this.data.keys()]) this.remove(key);
    this.loaded.clear();
    this.mode = 'up';
    for (const subscriber of this.subscribers) subscriber.reconnect('server');
  }

  /** Brings a stopped server back with its data (a network outage rather than a restart). */
  up(): void {
    this.mode = 'up';
    for (const subscriber of this.subscribers) subscriber.reconnect('server');
  }

  // ---------------------------------------------------------------- what the server does

  /** Runs EVALSHA now; throws as Redis replies with an error. */
  evalsha(sha1: string, keys: string[], args: string[]): unknown {
    const known = this.scripts.get(sha1);
    if (known === undefined || !this.loaded.has(sha1)) {
      this.noscripts += 1;
      throw new Error('NOSCRIPT No matching script. Please use EVAL.');
    }
    this.ran.push({ at: this.clock.now(), script: known.name, keys, args });
    return known.run(keys, args);
  }

  /** Runs EVAL now (and loads the script). */
  eval(source: string, keys: string[], args: string[]): unknown {
    const sha1 = createHash('sha1').update(source).digest('hex');
    if (!this.scripts.has(sha1)) throw new Error('ERR unknown script in the fake');
    this.loaded.add(sha1);
    return this.evalsha(sha1, keys, args);
  }

  private live(key: string): StoredKey | undefined {
    const stored = this.data.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt <= this.clock.now()) {
      this.data.delete(key);
      this.goneAt.set(stored.value, stored.expiresAt);
      return undefined;
    }
    return stored;
  }

  private remove(key: string): void {
    const stored = this.live(key);
    this.data.delete(key);
    if (stored !== undefined) this.goneAt.set(stored.value, this.clock.now());
  }

  private isolate([key]: string[], [value, ttl, channel, message]: string[]): number {
    this.remove(key!);
    this.data.set(key!, { value: value!, expiresAt: this.clock.now() + Number(ttl) });
    this.publish(channel!, message!);
    return 1;
  }

  private refresh([key]: string[], [value, ttl]: string[]): number {
    const stored = this.live(key!);
    if (stored === undefined || stored.value !== value) return 0;
    stored.expiresAt = this.clock.now() + Number(ttl);
    return 1;
  }

  private restore([key]: string[], [channel, head]: string[]): string | null {
    const stored = this.live(key!);
    this.remove(key!);
    this.publish(channel!, `${head!}${JSON.stringify(stored?.value ?? false)}}`);
    return stored?.value ?? null;
  }

  private read(keys: string[]): Array<string | number | null> {
    return keys.flatMap((key) => {
      const stored = this.live(key);
      return stored === undefined ? [null, -2] : [stored.value, this.pttl(key)];
    });
  }

  private publish(channel: string, message: string): number {
    this.published.push({ at: this.clock.now(), channel, message });
    let receivers = 0;
    for (const subscriber of this.subscribers) if (subscriber.deliver(channel, message)) receivers += 1;
    return receivers;
  }
}

/** A command connection to a {@link FakePubSubRedis}. */
export class FakeCommandClient implements BreakerFleetRedis {
  /** When the last request reaches the server: later ones never overtake it (one TCP connection). */
  private lastArrival = -Infinity;
  private lastReply = -Infinity;
  /** Commands sent. */
  sent = 0;

  constructor(
    readonly server: FakePubSubRedis,
    readonly link: FakeLink,
  ) {}

  evalsha(sha1: string, numKeys: number, ...args: string[]): Promise<unknown> {
    return this.request((server) => server.evalsha(sha1, args.slice(0, numKeys), args.slice(numKeys)));
  }

  eval(source: string, numKeys: number, ...args: string[]): Promise<unknown> {
    return this.request((server) => server.eval(source, args.slice(0, numKeys), args.slice(numKeys)));
  }

  private request(run: (server: FakePubSubRedis) => unknown): Promise<unknown> {
    this.sent += 1;
    const clock = this.server.clock;
    return new Promise((resolve, reject) => {
      const mode = this.link.mode !== 'up' ? this.link.mode : this.server.mode;
      if (mode === 'silent') return;
      if (mode === 'down') {
        clock.setTimeout(() => reject(new Error('connect ECONNREFUSED (fake)')), this.link.requestDelayMs);
        return;
      }
      const arrival = Math.max(clock.now() + this.link.requestDelayMs, this.lastArrival);
      this.lastArrival = arrival;
      clock.setTimeout(() => {
        // The server or the link may have gone away while the request travelled.
        const now = this.link.mode !== 'up' ? this.link.mode : this.server.mode;
        if (now === 'silent') return;
        if (now === 'down') {
          reject(new Error('connection closed (fake)'));
          return;
        }
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, value: run(this.server) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        const replyAt = Math.max(clock.now() + this.link.replyDelayMs, this.lastReply);
        this.lastReply = replyAt;
        clock.setTimeout(() => {
          if (this.link.mode === 'silent') return;
          if (outcome.ok) resolve(outcome.value);
          else reject(outcome.error);
        }, replyAt - clock.now());
      }, arrival - clock.now());
    });
  }
}

/**
 * A subscriber connection to a {@link FakePubSubRedis}, speaking ioredis's events: `'message'`
 * (channel, message), `'ready'` on each (re)connection, `'close'` when the connection drops
 * (and with it every subscription: this fake does not resubscribe by itself).
 */
export class FakeSubscriber extends EventEmitter implements BreakerFleetSubscriber {
  private readonly channels = new Set<string>();
  private connected = true;
  /** Why it is disconnected: its own link, the server, or both. */
  private readonly downFor = new Set<'link' | 'server'>();
  private lastDelivery = -Infinity;
  /** Counts the connections: what was on its way over one that dropped is lost, even once another is up. */
  private connection = 0;
  /** Messages delivered. */
  delivered = 0;
  subscribeCalls = 0;

  constructor(
    private readonly server: FakePubSubRedis,
    public deliveryDelayMs: number,
    private readonly subscribeDelayMs: number,
  ) {
    super();
  }

  /** When everything published so far will have been delivered to it (messages keep their order). */
  get deliveredAllBy(): number {
    return this.lastDelivery;
  }

  get isSubscribed(): boolean {
    return this.connected && this.channels.size > 0;
  }

  subscribe(channel: string): Promise<unknown> {
    this.subscribeCalls += 1;
    const clock = this.server.clock;
    return new Promise((resolve, reject) => {
      if (!this.connected) {
        // ioredis would queue it until the connection is back; the fleet's timeout decides first.
        this.once('ready', () => this.subscribe(channel).then(resolve, reject));
        return;
      }
      clock.setTimeout(() => {
        if (!this.connected) {
          this.once('ready', () => this.subscribe(channel).then(resolve, reject));
          return;
        }
        this.channels.add(channel);
        resolve(this.channels.size);
      }, this.subscribeDelayMs);
    });
  }

  unsubscribe(channel: string): Promise<unknown> {
    this.channels.delete(channel);
    return Promise.resolve(this.channels.size);
  }

  /** Drops the connection (its own link, or the server going away): 'close', and every subscription is lost. */
  disconnect(why: 'link' | 'server' = 'link'): void {
    this.downFor.add(why);
    if (!this.connected) return;
    this.connected = false;
    this.connection += 1;
    this.channels.clear();
    this.emit('close');
  }

  /** Ends one reason to be down; once none is left, the connection is back: 'ready'. */
  reconnect(why: 'link' | 'server' = 'link'): void {
    this.downFor.delete(why);
    if (this.connected || this.downFor.size > 0) return;
    this.connected = true;
    this.emit('ready');
  }

  /** Called by the server on a publish: schedules the delivery when subscribed now. */
  deliver(channel: string, message: string): boolean {
    if (!this.connected || !this.channels.has(channel)) return false;
    const clock = this.server.clock;
    const at = Math.max(clock.now() + this.deliveryDelayMs, this.lastDelivery);
    this.lastDelivery = at;
    const connection = this.connection;
    clock.setTimeout(() => {
      // A connection that dropped meanwhile loses what was on its way (a new one starts empty).
      if (this.connection !== connection || !this.channels.has(channel)) return;
      this.delivered += 1;
      this.emit('message', channel, message);
    }, at - clock.now());
    return true;
  }
}

/** One "instance": a fleet on its own connections to the fake server, with its telemetry recorded. */
export interface FakeInstance {
  readonly fleet: BreakerFleet;
  readonly client: FakeCommandClient;
  readonly subscriber: FakeSubscriber;
  readonly telemetry: Telemetry;
  readonly events: TelemetryEvent[];
  named(name: string): TelemetryEvent[];
  /** A breaker on the shared clock, attached to this fleet. */
  breaker(name: string, options?: { failures?: number; resetMs?: number }): Breaker;
}

export function fakeInstance(
  server: FakePubSubRedis,
  options: Partial<Omit<BreakerFleetOptions, 'redis' | 'subscriber' | 'clock' | 'telemetry'>> & {
    link?: Partial<FakeLink>;
    deliveryDelayMs?: number;
    subscribeDelayMs?: number;
  } = {},
): FakeInstance {
  const { link, deliveryDelayMs, subscribeDelayMs, ...fleetOptions } = options;
  const client = server.client(link);
  const subscriber = server.subscriber({ deliveryDelayMs: deliveryDelayMs ?? 0, subscribeDelayMs: subscribeDelayMs ?? 0 });
  const telemetry = createTelemetry({ clock: server.clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const fleet = createBreakerFleet({ heartbeatMs: 1000, isolationTtlMs: 3000, timeoutMs: 200, ...fleetOptions, redis: client, subscriber, clock: server.clock, telemetry });
  return {
    fleet,
    client,
    subscriber,
    telemetry,
    events,
    named: (name) => events.filter((event) => event.name === name),
    breaker(name, breakerOptions = {}) {
      const breaker = createBreaker({
        name,
        tolerance: { failures: breakerOptions.failures ?? 2, windowMs: 10_000 },
        resetMs: breakerOptions.resetMs ?? 5000,
        clock: server.clock,
        telemetry,
      });
      fleet.attach(breaker);
      return breaker;
    },
  };
}

/** How a call through `breaker` ends right now: `'ran'`, or the refusal's state and isolation. */
export async function tryCall(breaker: Breaker): Promise<{ outcome: 'ran' } | { outcome: 'refused'; error: any }> {
  try {
    await breaker.call(() => 'ok');
    return { outcome: 'ran' };
  } catch (error) {
    return { outcome: 'refused', error };
  }
}

/**
 * Advances the test clock, timer by timer, until `promise` settles (at most `withinMs`), and
 * returns how it settled with the virtual time it took. Never sleeps.
 */
export async function settle<T>(clock: TestClock, promise: Promise<T>, withinMs = 60_000): Promise<{ value?: T; error?: unknown; tookMs: number }> {
  const started = clock.now();
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  await flushAll();
  while (!state.settled) {
    const due = clock.nextDue();
    if (due === undefined || due - started > withinMs) throw new Error(`the promise did not settle within ${withinMs} ms of virtual time`);
    clock.advance(Math.max(0, due - clock.now()));
    await flushAll();
  }
  const { settled: _settled, ...outcome } = state;
  return { ...outcome, tookMs: clock.now() - started };
}

/** Lets every pending promise callback run (a few turns of the event loop); not a sleep. */
export async function flushAll(): Promise<void> {
  for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
