import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestClock, type Breaker, type TestClock } from '../../../src/index.js';
import { breakerFleetHooksOf } from '../../../src/breaker/internal.js';
import { decodeIsolation, decodeMessage, encodeIsolation } from '../../../src/cluster/breaker-fleet-messages.js';
import { FakePubSubRedis, fakeInstance, settle, type FakeInstance, type FakeMode } from '../../support/cluster-breakers.js';
import { advance } from '../../support/cluster.js';

/**
 * Model-based: three instances (fleets on their own connections to one fake Redis) with breakers
 * `p` and `q` (the third has only `p`) isolate and restore while the clock moves, connections and
 * subscriptions drop, links slow down (requests, replies and deliveries up to 300 ms, so answers and
 * messages cross), Redis goes down, goes silent or restarts empty, breakers trip, are disabled
 * and enabled by hand, are detached and attached again, and instances stop. Invariants:
 * - a breaker refuses as isolated exactly when its fleet believes the name isolated, with that
 *   isolation; otherwise it is `disabled` exactly when disabled by hand (a stopped fleet's breakers
 *   are never isolated);
 * - a fleet never believes an isolation it has heard end on its channel (restored, or replaced
 *   by a later isolate): no answer that crossed the message brings it back;
 * - an isolate (restore) Redis confirmed reaches every subscribed instance within one delivery;
 * - a fleet never believes an isolation Redis let go of for longer than the isolation's TTL (or a
 *   heartbeat, when longer) plus an operation's timeout and a delivery: it is lifted, fail-open;
 * - counting stays local: Redis only ever holds isolation records, and the channel carries only
 *   well-formed fleet messages;
 * - once every connection is back and a heartbeat has passed, every fleet believes exactly what
 *   Redis holds for its breakers, and every view shows every running instance's breakers as they are.
 */

const names = ['p', 'q'] as const;
type Name = (typeof names)[number];
const instances = 3;
const heartbeatMs = 1000;
/** Once healed, a round trip and a delivery take at most this long. */
const settleMs = 20;
const timeoutMs = 200;
/** The longest a request, a reply or a delivery takes in these runs. */
const maxDelayMs = 300;

interface Real {
  readonly clock: TestClock;
  readonly server: FakePubSubRedis;
  readonly fleets: FakeInstance[];
  /** breakers[i][name], when instance i has one of that name. */
  readonly breakers: Array<Partial<Record<Name, Breaker>>>;
  readonly violations: string[];
  /**
   * dead[i]: the isolation ids instance i has heard end, on its channel: restored (the message
   * names the record it deleted), or replaced by a later isolate of the same name.
   */
  readonly dead: Array<Set<string>>;
  /**
   * onHearing[i]: for each isolate message instance i received (by isolation id), whether its
   * fleet believed that isolation right after handling it (the fleet's listener runs first).
   */
  readonly onHearing: Array<Map<string, boolean>>;
}

interface Model {
  readonly stopped: boolean[];
  /** handDisabled[i][name]: disabled by hand (and not enabled since). */
  readonly handDisabled: Array<Record<Name, boolean>>;
}

function violation(real: Real, text: string): void {
  real.violations.push(`at ${real.clock.now()}: ${text}`);
}

/** The invariants that hold at every moment. */
function checkNow(real: Real, model: Model): void {
  const now = real.clock.now();
  real.fleets.forEach((instance, i) => {
    const believed = model.stopped[i] ? {} : instance.fleet.isolated();
    for (const name of names) {
      const breaker = real.breakers[i]![name];
      if (breaker === undefined) continue;
      const hooks = breakerFleetHooksOf(breaker)!;
      const isolation = hooks.isolation() as { id?: string } | undefined;
      const belief = believed[name];
      if (belief !== undefined && real.dead[i]!.has(belief.id)) violation(real, `${instance.fleet.instance} believes ${name} isolated by ${belief.id}, which it heard end`);
      if (isolation?.id !== belief?.id) violation(real, `${instance.fleet.instance}/${name} is isolated by ${isolation?.id} but its fleet believes ${belief?.id}`);
      const disabled = breaker.state() === 'disabled';
      const expected = belief !== undefined || model.handDisabled[i]![name];
      if (disabled !== expected) violation(real, `${instance.fleet.instance}/${name} reports ${breaker.state()} (isolated: ${belief !== undefined}, disabled by hand: ${model.handDisabled[i]![name]})`);
    }
    for (const [name, belief] of Object.entries(believed)) {
      const held = real.server.heldUntil(encodeIsolation(belief));
      if (held === undefined) {
        violation(real, `${instance.fleet.instance} believes ${name} isolated by ${belief.id}, which Redis never held`);
      } else if (held !== 'now' && now - held > Math.max(belief.ttlMs, heartbeatMs) + timeoutMs + maxDelayMs + 10) {
        violation(real, `${instance.fleet.instance} still believes ${name} isolated by ${belief.id}, which Redis let go of at ${held}`);
      }
    }
  });
  for (const key of real.server.keys()) {
    if (!/^overseer:\{breaker-fleet\}:isolation:[pq]$/.test(key)) violation(real, `Redis holds ${key}`);
  }
}

function setupReal(): Real {
  const clock = createTestClock();
  const server = new FakePubSubRedis(clock);
  const fleets = Array.from({ length: instances }, (_, i) =>
    fakeInstance(server, { instance: `i${i}`, link: { requestDelayMs: 2, replyDelayMs: 1 }, deliveryDelayMs: 5, heartbeatMs, timeoutMs, isolationTtlMs: 3000 }),
  );
  const breakers = fleets.map((instance, i) => {
    const own: Partial<Record<Name, Breaker>> = { p: instance.breaker('p', { failures: 0, resetMs: 700 }) };
    if (i < 2) own.q = instance.breaker('q', { failures: 0, resetMs: 700 });
    return own;
  });
  const onHearing = fleets.map(() => new Map<string, boolean>());
  const dead = fleets.map((instance, i) => {
    const ended = new Set<string>();
    const lastHeard = new Map<string, string>();
    instance.subscriber.on('message', (_channel: string, text: string) => {
      const message = decodeMessage(text);
      if (message?.type === 'isolated') {
        const id = decodeIsolation(message.value)!.id;
        onHearing[i]!.set(id, instance.fleet.isolated()[message.name]?.id === id);
        const previous = lastHeard.get(message.name);
        if (previous !== undefined && previous !== id) ended.add(previous);
        lastHeard.set(message.name, id);
      } else if (message?.type === 'restored' && message.value !== false) {
        ended.add(decodeIsolation(message.value)!.id);
        lastHeard.delete(message.name);
      }
    });
    return ended;
  });
  return { clock, server, fleets, breakers, violations: [], dead, onHearing };
}

type FleetCommand = fc.AsyncCommand<Model, Real>;

/** Moves the clock, checking the invariants at every timer. */
async function run(real: Real, model: Model, ms: number): Promise<void> {
  await advance(real.clock, ms, () => checkNow(real, model));
}

/** Which fleets hear the channel now. */
function listening(real: Real, model: Model): number[] {
  return real.fleets.map((_, i) => i).filter((i) => !model.stopped[i] && real.fleets[i]!.subscriber.isSubscribed);
}

/**
 * Where Redis ran the isolate or restore of `name` that `matches` in its order of runs, and
 * whether another isolate or restore of that name ran after it (an abandoned one arriving late,
 * say): then the later one is what every instance must follow.
 */
function runOf(real: Real, name: Name, matches: (run: FakePubSubRedis['ran'][number]) => boolean): { at: number; superseded: boolean } {
  const key = `overseer:{breaker-fleet}:isolation:${name}`;
  const runs = real.server.ran.filter((run) => (run.script === 'isolate' || run.script === 'restore') && run.keys[0] === key);
  let index = runs.length - 1;
  while (index >= 0 && !matches(runs[index]!)) index -= 1;
  return { at: runs[index]!.at, superseded: index < runs.length - 1 };
}

/**
 * The time by which every listening fleet has heard what Redis published at `at`: its delay, or
 * later when messages published before are still on their way to it (they keep their order).
 */
function deliveredBy(real: Real, at: number): number {
  return Math.max(...real.fleets.map((instance) => Math.max(at + instance.subscriber.deliveryDelayMs, instance.subscriber.deliveredAllBy)));
}

class Isolate implements FleetCommand {
  constructor(
    readonly index: number,
    readonly name: Name,
    readonly ttlMs: number,
  ) {}
  check = (model: Readonly<Model>) => !model.stopped[this.index];
  async run(model: Model, real: Real) {
    const hearing = listening(real, model);
    const { value, error } = await settle(real.clock, real.fleets[this.index]!.fleet.isolate(this.name, { ttlMs: this.ttlMs, reason: 'model' }));
    if (error !== undefined) return;
    const ran = runOf(real, this.name, (entry) => entry.script === 'isolate' && entry.args[0] === encodeIsolation(value!));
    await run(real, model, Math.max(0, deliveredBy(real, ran.at) - real.clock.now()));
    if (runOf(real, this.name, (entry) => entry.script === 'isolate' && entry.args[0] === encodeIsolation(value!)).superseded) return;
    // Every instance that was listening heard it within one delivery of Redis running it, and
    // isolated on hearing it. Judged at that moment, not at the end of the wait: the wait lasts
    // until everything published so far is in, and by then a short TTL that an instance cut off
    // from Redis could not confirm may rightly have been lifted (the invariant on beliefs Redis
    // let go of, and the one on beliefs past their TTL, judge that).
    for (const i of hearing) {
      if (!real.fleets[i]!.subscriber.isSubscribed) continue;
      const believed = real.onHearing[i]!.get(value!.id);
      if (believed !== true) {
        violation(real, `i${i} ${believed === undefined ? 'did not hear' : 'did not isolate on hearing'} ${this.name} within one delivery of i${this.index}'s isolate`);
      }
    }
  }
  toString = () => `isolate(i${this.index}, ${this.name}, ttl ${this.ttlMs})`;
}

class Restore implements FleetCommand {
  constructor(
    readonly index: number,
    readonly name: Name,
  ) {}
  check = (model: Readonly<Model>) => !model.stopped[this.index];
  async run(model: Model, real: Real) {
    const hearing = listening(real, model);
    const { error } = await settle(real.clock, real.fleets[this.index]!.fleet.restore(this.name));
    if (error !== undefined) return;
    const ours = (entry: FakePubSubRedis['ran'][number]) => entry.script === 'restore' && entry.args[1]!.includes(`"by":"i${this.index}"`);
    const ran = runOf(real, this.name, ours);
    await run(real, model, Math.max(0, deliveredBy(real, ran.at) - real.clock.now()));
    if (runOf(real, this.name, ours).superseded) return;
    for (const i of hearing) {
      if (real.fleets[i]!.subscriber.isSubscribed && real.fleets[i]!.fleet.isolated()[this.name] !== undefined) {
        violation(real, `i${i} still isolates ${this.name} one delivery after i${this.index}'s restore`);
      }
    }
  }
  toString = () => `restore(i${this.index}, ${this.name})`;
}

/** Two instances act on one name at the same moment: answers and messages cross. */
class Race implements FleetCommand {
  constructor(
    readonly first: number,
    readonly second: number,
    readonly name: Name,
    readonly actions: readonly ['isolate' | 'restore', 'isolate' | 'restore'],
  ) {}
  check = (model: Readonly<Model>) => !model.stopped[this.first] && !model.stopped[this.second];
  async run(model: Model, real: Real) {
    const started = [this.first, this.second].map((i, k) => {
      const fleet = real.fleets[i]!.fleet;
      return this.actions[k] === 'isolate' ? fleet.isolate(this.name, { ttlMs: 3000 }) : fleet.restore(this.name);
    });
    await settle(real.clock, Promise.allSettled(started));
    await run(real, model, 0);
  }
  toString = () => `race(i${this.first} ${this.actions[0]}, i${this.second} ${this.actions[1]}, ${this.name})`;
}

class Advance implements FleetCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await run(real, model, this.ms);
  }
  toString = () => `advance(${this.ms})`;
}

class Link implements FleetCommand {
  constructor(
    readonly index: number,
    readonly mode: FakeMode,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    real.fleets[this.index]!.client.link.mode = this.mode;
    await run(real, model, 0);
  }
  toString = () => `link(i${this.index}, ${this.mode})`;
}

class Latency implements FleetCommand {
  constructor(
    readonly index: number,
    readonly requestDelayMs: number,
    readonly replyDelayMs: number,
    readonly deliveryDelayMs: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const instance = real.fleets[this.index]!;
    Object.assign(instance.client.link, { requestDelayMs: this.requestDelayMs, replyDelayMs: this.replyDelayMs });
    instance.subscriber.deliveryDelayMs = this.deliveryDelayMs;
    await run(real, model, 0);
  }
  toString = () => `latency(i${this.index}, request ${this.requestDelayMs}, reply ${this.replyDelayMs}, delivery ${this.deliveryDelayMs})`;
}

class Subscription implements FleetCommand {
  constructor(
    readonly index: number,
    readonly up: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const subscriber = real.fleets[this.index]!.subscriber;
    if (this.up) subscriber.reconnect();
    else subscriber.disconnect();
    await run(real, model, 0);
  }
  toString = () => `subscriber(i${this.index}, ${this.up ? 'up' : 'down'})`;
}

class Server implements FleetCommand {
  constructor(readonly action: 'down' | 'silent' | 'up' | 'restart') {}
  check = () => true;
  async run(model: Model, real: Real) {
    if (this.action === 'up') real.server.up();
    else if (this.action === 'restart') real.server.restart();
    else real.server.down(this.action);
    await run(real, model, 0);
  }
  toString = () => `server(${this.action})`;
}

class ByHand implements FleetCommand {
  constructor(
    readonly index: number,
    readonly name: Name,
    readonly action: 'disable' | 'enable' | 'melt' | 'reset',
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const breaker = real.breakers[this.index]![this.name];
    if (breaker === undefined) return;
    breaker[this.action]();
    if (this.action === 'disable') model.handDisabled[this.index]![this.name] = true;
    if (this.action === 'enable') model.handDisabled[this.index]![this.name] = false;
    await run(real, model, 0);
  }
  toString = () => `${this.action}(i${this.index}, ${this.name})`;
}

class Reattach implements FleetCommand {
  constructor(
    readonly index: number,
    readonly name: Name,
  ) {}
  check = (model: Readonly<Model>) => !model.stopped[this.index];
  async run(model: Model, real: Real) {
    const breaker = real.breakers[this.index]![this.name];
    if (breaker === undefined) return;
    const fleet = real.fleets[this.index]!.fleet;
    fleet.detach(breaker);
    if (breakerFleetHooksOf(breaker)!.isolation() !== undefined) violation(real, `a detached breaker is still isolated`);
    fleet.attach(breaker);
    await run(real, model, 0);
  }
  toString = () => `reattach(i${this.index}, ${this.name})`;
}

class Stop implements FleetCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => !model.stopped[this.index] && model.stopped.filter(Boolean).length === 0;
  async run(model: Model, real: Real) {
    model.stopped[this.index] = true;
    await settle(real.clock, real.fleets[this.index]!.fleet.stop());
  }
  toString = () => `stop(i${this.index})`;
}

/** After every command: the invariants hold now. */
const checkpoint: FleetCommand = {
  check: () => true,
  async run(model: Model, real: Real) {
    checkNow(real, model);
    expect(real.violations).toEqual([]);
  },
  toString: () => '·',
};

/** Everything back up; three heartbeats later every fleet agrees with Redis and every view with the breakers. */
async function healAndConverge(real: Real, model: Model): Promise<void> {
  real.server.up();
  for (const instance of real.fleets) {
    // Round trips within the fleet's timeout again.
    Object.assign(instance.client.link, { mode: 'up', requestDelayMs: 2, replyDelayMs: 1 });
    instance.subscriber.deliveryDelayMs = 5;
    instance.subscriber.reconnect();
  }
  // A heartbeat for beliefs and states; three for a stopped instance whose `left` was missed to leave
  // the views, counted from its last message's arrival (up to maxDelayMs after it was sent).
  await run(real, model, 3 * heartbeatMs + maxDelayMs + 50);
  // What changed within the last round trip and delivery may still be on its way: not judged.
  const now = real.clock.now();
  const recent = (at: number): boolean => at > now - settleMs;
  const moved = (i: number, name: Name): boolean =>
    real.fleets[i]!.named('breaker.state').some((event) => event.metadata.breaker === name && recent(event.time));
  const changedInRedis = (name: Name): boolean => {
    const key = `overseer:{breaker-fleet}:isolation:${name}`;
    const value = real.server.get(key);
    const ended = real.fleets.flatMap((instance) => Object.values(instance.fleet.isolated())).map((belief) => real.server.heldUntil(encodeIsolation(belief)));
    return (
      real.server.ran.some((entry) => (entry.script === 'isolate' || entry.script === 'restore') && entry.keys[0] === key && recent(entry.at)) ||
      ended.some((held) => typeof held === 'number' && recent(held)) ||
      (value !== undefined && real.server.pttl(key) < settleMs)
    );
  };
  real.fleets.forEach((instance, i) => {
    if (model.stopped[i]) return;
    for (const name of names) {
      if (real.breakers[i]![name] === undefined || changedInRedis(name)) continue;
      const inRedis = real.server.get(`overseer:{breaker-fleet}:isolation:${name}`);
      const believed = instance.fleet.isolated()[name];
      if ((believed === undefined ? undefined : encodeIsolation(believed)) !== inRedis) {
        violation(real, `after healing, i${i} believes ${believed?.id} for ${name}, Redis holds ${inRedis}`);
      }
    }
    const view = instance.fleet.view();
    real.fleets.forEach((other, j) => {
      if (model.stopped[j]) {
        if (view[other.fleet.instance] !== undefined) violation(real, `i${i}'s view still shows the stopped i${j}`);
        return;
      }
      for (const name of names) {
        const breaker = real.breakers[j]![name];
        const entry = view[other.fleet.instance]?.[name];
        if (breaker === undefined || moved(j, name)) continue;
        const isolated = breakerFleetHooksOf(breaker)!.isolation() !== undefined;
        if (entry?.state !== breaker.state() || entry.isolated !== isolated) {
          violation(real, `i${i}'s view shows i${j}/${name} as ${JSON.stringify(entry)}, it is ${breaker.state()} (isolated: ${isolated})`);
        }
      }
    });
  });
  for (const { message } of real.server.published) if (decodeMessage(message) === undefined) violation(real, `an unreadable message: ${message}`);
}

const index = fc.integer({ min: 0, max: instances - 1 });
const name = fc.constantFrom<Name>(...names);
const commands = fc.commands(
  [
    fc.tuple(index, name, fc.constantFrom(300, 3000)).map(([i, n, ttl]) => new Isolate(i, n, ttl)),
    fc.tuple(index, name, fc.constantFrom(300, 3000)).map(([i, n, ttl]) => new Isolate(i, n, ttl)),
    fc.tuple(index, name).map(([i, n]) => new Restore(i, n)),
    fc
      .tuple(index, index, name, fc.constantFrom('isolate', 'restore'), fc.constantFrom('isolate', 'restore'))
      .map(([i, j, n, first, second]) => new Race(i, j, n, [first as 'isolate', second as 'isolate'])),
    fc.integer({ min: 1, max: 4000 }).map((ms) => new Advance(ms)),
    fc.integer({ min: 1, max: 400 }).map((ms) => new Advance(ms)),
    fc.tuple(index, fc.constantFrom<FakeMode>('up', 'up', 'down', 'silent')).map(([i, mode]) => new Link(i, mode)),
    fc.tuple(index, fc.boolean()).map(([i, up]) => new Subscription(i, up)),
    fc
      .tuple(index, fc.integer({ min: 0, max: maxDelayMs }), fc.integer({ min: 0, max: maxDelayMs }), fc.integer({ min: 0, max: maxDelayMs }))
      .map(([i, request, reply, delivery]) => new Latency(i, request, reply, delivery)),
    fc.constantFrom('down', 'silent', 'up', 'up', 'restart').map((action) => new Server(action as 'down')),
    fc.tuple(index, name, fc.constantFrom('disable', 'enable', 'melt', 'melt', 'reset')).map(([i, n, action]) => new ByHand(i, n, action as 'melt')),
    fc.tuple(index, name).map(([i, n]) => new Reattach(i, n)),
    index.map((i) => new Stop(i)),
  ],
  { maxCommands: 60, size: 'max' },
);

describe('breaker fleets on one Redis (model-based)', () => {
  it('breakers refuse exactly while isolated, isolations reach every listener in one delivery and end when Redis lets go, and fleets converge on Redis once healed', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        const real = setupReal();
        const model: Model = {
          stopped: Array.from({ length: instances }, () => false),
          handDisabled: Array.from({ length: instances }, () => ({ p: false, q: false })),
        };
        await run(real, model, 50);
        await fc.asyncModelRun(() => ({ model, real }), [...sequence].flatMap((command) => [command, checkpoint]));
        await healAndConverge(real, model);
        expect(real.violations).toEqual([]);
        for (const instance of real.fleets) await settle(real.clock, instance.fleet.stop());
        // Stopped fleets leave their breakers alone.
        for (const own of real.breakers) for (const breaker of Object.values(own)) expect(breakerFleetHooksOf(breaker)!.isolation()).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  }, 300_000);
});
