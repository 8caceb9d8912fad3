import { describe, expect, it } from 'vitest';
import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { acceptsShutdown, exitReasonOf, isActorRef } from '../../../src/supervisor/shutdown-protocol.js';

const refWithSnapshot = (snapshot: unknown) => ({ getSnapshot: () => snapshot }) as unknown as AnyActorRef;

describe('acceptsShutdown: whether a child takes part in graceful shutdown', () => {
  it('holds for a machine whose current state handles overseer.shutdown, not for one that does not', () => {
    const machine = createMachine({
      initial: 'serving',
      states: { serving: { on: { 'overseer.shutdown': 'done' } }, done: { type: 'final' }, deaf: {} },
    });
    expect(acceptsShutdown(createActor(machine).start())).toBe(true);
    expect(acceptsShutdown(createActor(createMachine({ initial: 'deaf', states: { deaf: {} } })).start())).toBe(false);
  });

  it('is false, without throwing, for an actor with no snapshot or whose snapshot cannot answer', () => {
    expect(acceptsShutdown(refWithSnapshot(undefined))).toBe(false);
    expect(acceptsShutdown(refWithSnapshot({ status: 'active' }))).toBe(false);
    expect(acceptsShutdown(refWithSnapshot({ can: true }))).toBe(false);
  });

  it('is false when can() throws, and only a literal true counts', () => {
    const throwing = refWithSnapshot({
      can: () => {
        throw new Error('cannot tell');
      },
    });
    expect(acceptsShutdown(throwing)).toBe(false);
    expect(acceptsShutdown(refWithSnapshot({ can: () => 'yes' }))).toBe(false);
    expect(acceptsShutdown(refWithSnapshot({ can: () => true }))).toBe(true);
  });
});

describe('exitReasonOf: the reason of an exit the supervisor did not cause', () => {
  it("maps 'done' to 'normal', 'error' to 'error' and anything else to 'shutdown'", () => {
    expect(exitReasonOf('done')).toBe('normal');
    expect(exitReasonOf('error')).toBe('error');
    expect(exitReasonOf('stopped')).toBe('shutdown');
    expect(exitReasonOf('active')).toBe('shutdown');
  });
});

describe('isActorRef: what the supervisor accepts as an actor to start and watch', () => {
  const complete = { subscribe() {}, start() {}, getSnapshot() {}, send() {} };

  it('accepts an XState actor and anything with subscribe, start, getSnapshot and send', () => {
    expect(isActorRef(createActor(createMachine({})))).toBe(true);
    expect(isActorRef(complete)).toBe(true);
  });

  it('refuses null, undefined, primitives and functions', () => {
    for (const value of [null, undefined, 0, 'actor', true, () => complete]) expect(isActorRef(value)).toBe(false);
  });

  it('refuses an object missing any one of the four methods, or carrying a non-function in its place', () => {
    for (const method of ['subscribe', 'start', 'getSnapshot', 'send'] as const) {
      const { [method]: _dropped, ...missing } = complete;
      expect(isActorRef(missing), `without ${method}`).toBe(false);
      expect(isActorRef({ ...complete, [method]: 'not a function' }), `${method} not a function`).toBe(false);
    }
  });
});
