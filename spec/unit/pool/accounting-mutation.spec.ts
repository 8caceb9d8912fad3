import { describe, expect, it } from 'vitest';
import { initialPoolState, transition, type PoolState } from '../../../src/pool/pool-accounting.js';

function state(patch: Partial<PoolState>): PoolState {
  return { ...initialPoolState(2, 2, 100), ...patch };
}

describe('pool accounting: checkout when not running', () => {
  it('refuses a blocking or non-blocking checkout with stopped, and gives tryCheckout nothing', () => {
    for (const phase of ['draining', 'stopped'] as const) {
      const s = state({ phase, idle: 1 });
      expect(transition(s, { type: 'checkout', mode: 'block' })).toEqual({ state: s, effects: [{ type: 'refuse', reason: 'stopped' }] });
      expect(transition(s, { type: 'checkout', mode: 'no_block' })).toEqual({ state: s, effects: [{ type: 'refuse', reason: 'stopped' }] });
      expect(transition(s, { type: 'checkout', mode: 'idle_only' })).toEqual({ state: s, effects: [] });
    }
  });
});

describe('pool accounting: withdraw', () => {
  it('with no one waiting changes nothing', () => {
    const s = state({ waiting: 0, checkedOut: 1 });
    const result = transition(s, { type: 'withdraw' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('with a waiter counts one fewer', () => {
    const result = transition(state({ waiting: 2 }), { type: 'withdraw' });
    expect(result.state.waiting).toBe(1);
    expect(result.effects).toEqual([]);
  });
});

describe('pool accounting: checkin', () => {
  it('after the stop changes nothing', () => {
    const s = state({ phase: 'stopped', checkedOut: 1 });
    const result = transition(s, { type: 'checkin' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('while draining dismisses the worker, counts one overflow fewer, and stops with the last lease', () => {
    const last = transition(state({ phase: 'draining', checkedOut: 1, overflow: 1 }), { type: 'checkin' });
    expect(last.state).toMatchObject({ checkedOut: 0, overflow: 0, idle: 0 });
    expect(last.effects).toEqual([{ type: 'dismiss' }, { type: 'drained' }]);
    const more = transition(state({ phase: 'draining', checkedOut: 2, overflow: 0 }), { type: 'checkin' });
    expect(more.state).toMatchObject({ checkedOut: 1, overflow: 0 });
    expect(more.effects).toEqual([{ type: 'dismiss' }]);
  });
  it('while draining with waiters recorded does not serve them', () => {
    const result = transition(state({ phase: 'draining', checkedOut: 2, waiting: 1 }), { type: 'checkin' });
    expect(result.effects).toEqual([{ type: 'dismiss' }]);
    expect(result.state.waiting).toBe(1);
  });
});

describe('pool accounting: a checked-out worker exits', () => {
  it('after the stop changes nothing', () => {
    const s = state({ phase: 'stopped', checkedOut: 1 });
    const result = transition(s, { type: 'worker_exit', where: 'out' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('while draining is not replaced', () => {
    const result = transition(state({ phase: 'draining', checkedOut: 1 }), { type: 'worker_exit', where: 'out' });
    expect(result.state).toMatchObject({ checkedOut: 0, creating: 0 });
    expect(result.effects).toEqual([{ type: 'dismiss' }, { type: 'drained' }]);
  });
});

describe('pool accounting: an idle worker exits', () => {
  it('when not running is dismissed and nothing is counted', () => {
    for (const phase of ['draining', 'stopped'] as const) {
      const s = state({ phase, idle: 1 });
      const result = transition(s, { type: 'worker_exit', where: 'idle' });
      expect(result.state).toBe(s);
      expect(result.effects).toEqual([{ type: 'dismiss' }]);
    }
  });
});

describe('pool accounting: a creation lands', () => {
  it('after the stop is dismissed', () => {
    const result = transition(state({ phase: 'stopped', creating: 1, waiting: 0 }), { type: 'created' });
    expect(result.state).toMatchObject({ creating: 0, idle: 0 });
    expect(result.effects).toEqual([{ type: 'dismiss' }]);
  });
  it('while draining is dismissed, and stops the pool when no lease is out', () => {
    const result = transition(state({ phase: 'draining', creating: 1, overflow: 1 }), { type: 'created' });
    expect(result.state).toMatchObject({ creating: 0, idle: 0, overflow: 0, phase: 'draining' });
    expect(result.effects).toEqual([{ type: 'dismiss' }, { type: 'drained' }]);
  });
  it('while running resets the failures and goes idle', () => {
    const result = transition(state({ creating: 1, failures: 3 }), { type: 'created' });
    expect(result.state).toMatchObject({ creating: 0, idle: 1, failures: 0 });
    expect(result.effects).toEqual([{ type: 'keep_idle' }]);
  });
});

describe('pool accounting: a creation fails', () => {
  it('after the stop does nothing more', () => {
    const result = transition(state({ phase: 'stopped', creating: 1 }), { type: 'creation_failed', error: 'x' });
    expect(result.state).toMatchObject({ creating: 0, retrying: 0, failures: 0 });
    expect(result.effects).toEqual([]);
  });
  it('while draining gives up an overflow place and stops when no lease is out', () => {
    const result = transition(state({ phase: 'draining', creating: 1, overflow: 1 }), { type: 'creation_failed', error: 'x' });
    expect(result.state).toMatchObject({ creating: 0, overflow: 0, retrying: 0, failures: 0, phase: 'draining' });
    expect(result.effects).toEqual([{ type: 'drained' }]);
  });
  it('while draining with a base place and leases out waits for them', () => {
    const result = transition(state({ phase: 'draining', creating: 1, overflow: 0, checkedOut: 1 }), { type: 'creation_failed', error: 'x' });
    expect(result.state).toMatchObject({ creating: 0, overflow: 0, retrying: 0 });
    expect(result.effects).toEqual([]);
  });
  it('while running with no waiter schedules exactly the retry', () => {
    const result = transition(state({ creating: 1 }), { type: 'creation_failed', error: 'x' });
    expect(result.state).toMatchObject({ creating: 0, retrying: 1, failures: 1 });
    expect(result.effects).toEqual([{ type: 'schedule_retry', ceilingMs: 100 }]);
  });
});

describe('pool accounting: a retry comes due', () => {
  it('creates one when running with a retry pending', () => {
    const result = transition(state({ retrying: 1 }), { type: 'retry_due' });
    expect(result.state).toMatchObject({ retrying: 0, creating: 1 });
    expect(result.effects).toEqual([{ type: 'create', count: 1 }]);
  });
  it('does nothing with no retry pending', () => {
    const s = state({ retrying: 0 });
    const result = transition(s, { type: 'retry_due' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('does nothing when not running, even with a retry recorded', () => {
    for (const phase of ['draining', 'stopped'] as const) {
      const s = state({ phase, retrying: 1 });
      const result = transition(s, { type: 'retry_due' });
      expect(result.state).toBe(s);
      expect(result.effects).toEqual([]);
    }
  });
});

describe('pool accounting: start', () => {
  it('creates the base workers', () => {
    const result = transition(state({}), { type: 'start' });
    expect(result.state.creating).toBe(2);
    expect(result.effects).toEqual([{ type: 'create', count: 2 }]);
  });
  it('with size 0 does nothing', () => {
    const s = initialPoolState(0, 3, 100);
    const result = transition(s, { type: 'start' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('when not running does nothing', () => {
    for (const phase of ['draining', 'stopped'] as const) {
      const s = state({ phase });
      const result = transition(s, { type: 'start' });
      expect(result.state).toBe(s);
      expect(result.effects).toEqual([]);
    }
  });
});

describe('pool accounting: reconfigure', () => {
  const reconfigure = (size: number, maxOverflow = 2) => ({ type: 'reconfigure' as const, size, maxOverflow, retryBackoffMs: 100 });

  it('with the same size and nothing waiting has no effect', () => {
    const result = transition(state({ idle: 2 }), reconfigure(2));
    expect(result.effects).toEqual([]);
    expect(result.state).toMatchObject({ size: 2, idle: 2, overflow: 0, retrying: 0, creating: 0 });
  });
  it('growing by what overflow covers promotes overflow workers and creates nothing', () => {
    const result = transition(state({ overflow: 2, checkedOut: 4 }), reconfigure(4));
    expect(result.effects).toEqual([]);
    expect(result.state).toMatchObject({ size: 4, overflow: 0, creating: 0 });
  });
  it('growing beyond overflow creates the rest', () => {
    const result = transition(state({ overflow: 1, checkedOut: 3 }), reconfigure(5));
    expect(result.effects).toEqual([{ type: 'create', count: 2 }]);
    expect(result.state).toMatchObject({ size: 5, overflow: 0, creating: 2 });
  });
  it('shrinking dismisses idle workers only, when they cover it', () => {
    const result = transition(state({ size: 4, idle: 3, retrying: 1 }), reconfigure(2));
    expect(result.effects).toEqual([{ type: 'dismiss_idle', count: 2 }]);
    expect(result.state).toMatchObject({ size: 2, idle: 1, retrying: 1, overflow: 0 });
  });
  it('shrinking drops pending retries after idle workers, then counts the rest as overflow', () => {
    const result = transition(state({ size: 5, idle: 1, retrying: 2, checkedOut: 2 }), reconfigure(1));
    expect(result.effects).toEqual([
      { type: 'dismiss_idle', count: 1 },
      { type: 'cancel_retries', count: 2 },
    ]);
    expect(result.state).toMatchObject({ size: 1, idle: 0, retrying: 0, overflow: 1 });
  });
  it('shrinking with retries only cancels them and dismisses nothing', () => {
    const result = transition(state({ size: 3, idle: 0, retrying: 3 }), reconfigure(1));
    expect(result.effects).toEqual([{ type: 'cancel_retries', count: 2 }]);
    expect(result.state).toMatchObject({ retrying: 1, overflow: 0 });
  });
  it('shrinking with neither idle workers nor retries has no effect but counts overflow', () => {
    const result = transition(state({ size: 3, checkedOut: 3 }), reconfigure(1, 5));
    expect(result.effects).toEqual([]);
    expect(result.state).toMatchObject({ overflow: 2, idle: 0, retrying: 0 });
  });
  it('more overflow room covers queued waiters, limited by the room', () => {
    const result = transition(state({ size: 1, maxOverflow: 1, overflow: 1, checkedOut: 2, waiting: 5 }), reconfigure(1, 3));
    expect(result.effects).toEqual([{ type: 'create', count: 2 }]);
    expect(result.state).toMatchObject({ overflow: 3, creating: 2 });
  });
  it('no room left covers no waiter', () => {
    const result = transition(state({ size: 1, maxOverflow: 1, overflow: 1, checkedOut: 2, waiting: 5 }), reconfigure(1, 1));
    expect(result.effects).toEqual([]);
    expect(result.state).toMatchObject({ overflow: 1, creating: 0 });
  });
  it('when not running only records the limits', () => {
    const result = transition(state({ phase: 'draining', idle: 0, checkedOut: 1 }), reconfigure(5, 5));
    expect(result.effects).toEqual([]);
    expect(result.state).toMatchObject({ size: 5, maxOverflow: 5, creating: 0 });
  });
});

describe('pool accounting: drain and stop', () => {
  it('drain with leases out refuses waiters, dismisses idle workers, drops retries, and waits', () => {
    const result = transition(state({ idle: 1, checkedOut: 1, waiting: 2, retrying: 1 }), { type: 'drain' });
    expect(result.effects).toEqual([
      { type: 'refuse_waiters' },
      { type: 'dismiss_idle', count: 1 },
      { type: 'cancel_retries', count: Number.POSITIVE_INFINITY },
    ]);
    expect(result.state).toMatchObject({ phase: 'draining', idle: 0, waiting: 0, retrying: 0, checkedOut: 1 });
  });
  it('drain with no lease out is drained at once', () => {
    const result = transition(state({ idle: 2 }), { type: 'drain' });
    expect(result.effects.at(-1)).toEqual({ type: 'drained' });
  });
  it('drain when not running does nothing', () => {
    for (const phase of ['draining', 'stopped'] as const) {
      const s = state({ phase });
      const result = transition(s, { type: 'drain' });
      expect(result.state).toBe(s);
      expect(result.effects).toEqual([]);
    }
  });
  it('stop twice does nothing the second time', () => {
    const s = state({ phase: 'stopped' });
    const result = transition(s, { type: 'stop' });
    expect(result.state).toBe(s);
    expect(result.effects).toEqual([]);
  });
  it('stop from draining retires everything', () => {
    const result = transition(state({ phase: 'draining', checkedOut: 1 }), { type: 'stop' });
    expect(result.state).toMatchObject({ phase: 'stopped', checkedOut: 0 });
    expect(result.effects).toEqual([{ type: 'refuse_waiters' }, { type: 'cancel_retries', count: Number.POSITIVE_INFINITY }, { type: 'retire_all' }]);
  });
});
