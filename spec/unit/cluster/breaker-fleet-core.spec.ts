import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeIsolation, decodeMessage, encodeIsolation, encodeMessage, restoredMessageHead, type FleetMessage } from '../../../src/cluster/breaker-fleet-messages.js';
import { fleetKeys } from '../../../src/cluster/breaker-fleet-redis.js';
import { IsolationMirror } from '../../../src/cluster/breaker-isolations.js';
import { ClusterView } from '../../../src/cluster/breaker-view.js';

const record = (id: string, ttlMs = 3000) => Object.freeze({ id, by: 'a', reason: undefined, ttlMs });

describe('fleet messages', () => {
  const text = fc.string({ minLength: 1, unit: 'binary' });
  const state = fc.constantFrom('closed' as const, 'open' as const, 'half_open' as const, 'disabled' as const);
  const message: fc.Arbitrary<FleetMessage> = fc.oneof(
    fc.record({ type: fc.constant('isolated' as const), name: text, value: fc.string() }),
    fc.record({ type: fc.constant('restored' as const), name: text, by: text, id: text, value: fc.oneof(fc.string(), fc.constant(false as const)) }),
    fc.record({
      type: fc.constant('heartbeat' as const),
      instance: text,
      ttlMs: fc.integer({ min: 1, max: 1e9 }),
      breakers: fc.array(fc.record({ name: text, state, ageMs: fc.integer({ min: 0, max: 1e9 }), isolated: fc.boolean() })),
    }),
    fc.record({ type: fc.constant('state' as const), instance: text, ttlMs: fc.integer({ min: 1, max: 1e9 }), name: text, state, isolated: fc.boolean() }),
    fc.record({ type: fc.constant('detached' as const), instance: text, name: text }),
    fc.record({ type: fc.constantFrom('hello' as const, 'left' as const), instance: text }),
  );

  it('every message decodes to itself, whatever its names (any Unicode, quotes, braces)', () => {
    fc.assert(
      fc.property(message, (sent) => {
        expect(decodeMessage(encodeMessage(sent))).toEqual(sent);
      }),
    );
  });

  it('decoding never throws: anything that is not a fleet message is undefined', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (junk) => {
      const decoded = decodeMessage(junk);
      if (decoded !== undefined) expect(decodeMessage(encodeMessage(decoded))).toEqual(decoded);
    }));
  });

  it('the restore script’s message (head, deleted record as JSON, brace) decodes with the record it names', () => {
    const value = encodeIsolation(record('x'));
    const decoded = decodeMessage(`${restoredMessageHead('pay"ments}', 'b', 'r1')}${JSON.stringify(value)}}`);
    expect(decoded).toEqual({ type: 'restored', name: 'pay"ments}', by: 'b', id: 'r1', value });
    expect(decodeIsolation(value)).toEqual(record('x'));
    expect(decodeMessage(`${restoredMessageHead('p', 'b', 'r2')}false}`)).toMatchObject({ value: false });
  });

  it('names over 256 characters are keyed by their digest, in the fleet’s one slot', () => {
    const keys = fleetKeys('app');
    expect(keys.isolation('payments')).toBe('app:{breaker-fleet}:isolation:payments');
    expect(keys.isolation('x'.repeat(257))).toMatch(/^app:\{breaker-fleet\}:isolation-digest:[0-9a-f]{64}$/);
    expect(keys.channel).toBe('app:breaker-fleet');
  });
});

describe('the isolation mirror', () => {
  it('a read answer says nothing about a name a message touched after the read was sent', () => {
    const mirror = new IsolationMirror();
    const read = mirror.begin(0);
    expect(mirror.isolated('p', record('x'), 1)).toEqual({ name: 'p', isolation: record('x') });
    expect(mirror.answered(read, ['p', 'q'], [undefined, { record: record('y'), pttl: 500 }])).toEqual([{ name: 'q', isolation: record('y') }]);
    expect(mirror.get('p')).toEqual(record('x'));
    // q's deadline is the read's send time plus the key's PTTL.
    expect(mirror.earliestDeadline()).toBe(500);
  });

  it('a failed read lifts only what is past its deadline (fail-open), nothing else', () => {
    const mirror = new IsolationMirror();
    mirror.isolated('p', record('x', 1000), 0);
    mirror.isolated('q', record('y', 5000), 0);
    expect(mirror.failed(mirror.begin(900), 1000)).toEqual([{ name: 'p', isolation: undefined, cause: 'unconfirmed' }]);
    expect(mirror.names()).toEqual(['q']);
  });

  it('an own isolate answered after its own message changes nothing; one answered first applies', () => {
    const mirror = new IsolationMirror();
    const ticket = mirror.begin(0);
    mirror.isolated('p', record('mine'), 3);
    mirror.restored('p', ['restore-1', 'mine']);
    expect(mirror.confirmIsolated(ticket, 'p', record('mine'))).toEqual({ change: undefined, contested: false });
    expect(mirror.get('p')).toBeUndefined();
    const second = mirror.begin(10);
    mirror.isolated('p', record('theirs'), 11);
    // Their message came, ours has not: on an unbroken subscription theirs is older; a read confirms.
    expect(mirror.confirmIsolated(second, 'p', record('ours'))).toEqual({ change: { name: 'p', isolation: record('ours') }, contested: true });
  });

  it('remembers what it heard only while a request is in flight', () => {
    const mirror = new IsolationMirror();
    for (let index = 0; index < 1000; index += 1) mirror.isolated(`name-${index}`, record(`id-${index}`), index);
    const ticket = mirror.begin(0);
    mirror.restored('name-1', ['r']);
    mirror.abandon(ticket);
    expect((mirror as unknown as { touched: Map<string, unknown> }).touched.size).toBe(0);
  });
});

describe('the cluster view', () => {
  it('keeps an instance for the ttl of its last message, and `since` while the state stays', () => {
    const view = new ClusterView();
    view.heartbeat('a', 3000, [{ name: 'p', state: 'open', ageMs: 100, isolated: false }], 1000);
    view.heartbeat('a', 3000, [{ name: 'p', state: 'open', ageMs: 1100, isolated: false }], 2000);
    expect(view.snapshot(2000)).toEqual([['a', [['p', { state: 'open', isolated: false, since: 900, updatedAt: 2000 }]]]]);
    expect(view.state('a', 3000, 'p', 'open', true, 2500)).toEqual([{ type: 'state', instance: 'a', breaker: 'p', state: 'open', isolated: true }]);
    expect(view.snapshot(2500)[0]![1][0]![1].since).toBe(900);
    expect(view.expire(5499)).toEqual([]);
    expect(view.expire(5500)).toEqual([{ type: 'departed', instance: 'a', cause: 'expired' }]);
    expect(view.earliestExpiry()).toBeUndefined();
  });
});
