import { describe, expect, it } from 'vitest';
import { BreakerOpenError, isBreakerOpenError } from '../../../src/breaker/index.js';
import { fail, outcome, quietBreaker, succeed, testBreaker } from '../../support/breaker.js';

async function opened(options = {}) {
  const setup = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, ...options });
  while (setup.breaker.state() === 'closed') await outcome(setup.breaker.call(fail));
  expect(setup.breaker.state()).toBe('open');
  return setup;
}

describe('open', () => {
  it('refuses calls without invoking the function, with retryAfterMs until the probe', async () => {
    const { breaker, clock } = await opened();
    clock.advance(30);
    let invoked = false;
    const error = await breaker.call(() => (invoked = true)).catch((caught: unknown) => caught);
    expect(invoked).toBe(false);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(isBreakerOpenError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_OPEN', breaker: 'test', retryAfterMs: 70, state: 'open' });
  });

  it('becomes half_open exactly resetMs after opening', async () => {
    const { breaker, clock } = await opened();
    clock.advance(99);
    expect(breaker.state()).toBe('open');
    clock.advance(1);
    expect(breaker.state()).toBe('half_open');
  });

  it('keeps exactly one reset timer: a failure while open neither extends nor restarts it', async () => {
    const { breaker, clock } = await opened();
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(50);
    breaker.melt();
    await outcome(breaker.call(fail));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(50);
    expect(breaker.state()).toBe('half_open');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('never lets a timer from before a reset fire into the new state', async () => {
    const { breaker, clock } = await opened();
    clock.advance(50);
    breaker.reset();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
    clock.advance(40);
    expect(breaker.state()).toBe('open');
    clock.advance(60);
    expect(breaker.state()).toBe('half_open');
  });

  it('never lets a timer from before disable/enable fire into the new state', async () => {
    const { breaker, clock } = await opened();
    breaker.disable();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(500);
    expect(breaker.state()).toBe('disabled');
    breaker.enable();
    expect(breaker.state()).toBe('closed');
    clock.advance(500);
    expect(breaker.state()).toBe('closed');
  });
});

describe('half_open', () => {
  it('admits at most halfOpenProbes calls at once and refuses the rest', async () => {
    const { breaker, clock } = await opened({ halfOpenProbes: 2 });
    clock.advance(100);
    const releases: Array<() => void> = [];
    const probe = () => new Promise<string>((resolve) => releases.push(() => resolve('ok')));
    const first = breaker.call(probe);
    const second = breaker.call(probe);
    const third = await breaker.call(probe).catch((caught: unknown) => caught);
    expect(third).toMatchObject({ code: 'ERR_BREAKER_OPEN', state: 'half_open', retryAfterMs: 0 });
    expect(releases).toHaveLength(2);
    releases[0]!();
    await first;
    expect(breaker.state()).toBe('half_open');
    releases[1]!();
    await second;
    expect(breaker.state()).toBe('closed');
  });

  it('counts a straggler probe from an earlier spell against halfOpenProbes until it settles', async () => {
    const { breaker, clock } = await opened({ resetMs: 10, halfOpenProbes: 1, callTimeoutMs: 100 });
    clock.advance(10);
    const straggler = breaker.call(() => new Promise(() => undefined)).catch((error: { code: string }) => error.code);
    breaker.melt();
    expect(breaker.state()).toBe('open');
    clock.advance(10);
    expect(breaker.state()).toBe('half_open');
    let invoked = false;
    const refused = await breaker.call(() => (invoked = true)).catch((error: { code: string; state: string }) => `${error.code}/${error.state}`);
    expect(refused).toBe('ERR_BREAKER_OPEN/half_open');
    expect(invoked).toBe(false);
    clock.advance(90);
    expect(await straggler).toBe('ERR_BREAKER_TIMEOUT');
    expect(breaker.state()).toBe('half_open');
    expect(await breaker.call(succeed)).toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('closes after halfOpenProbes successful probes in a row', async () => {
    const { breaker, clock } = await opened({ halfOpenProbes: 3 });
    clock.advance(100);
    await breaker.call(succeed);
    await breaker.call(succeed);
    expect(breaker.state()).toBe('half_open');
    await breaker.call(succeed);
    expect(breaker.state()).toBe('closed');
  });

  it('reopens for another resetMs on any probe failure', async () => {
    const { breaker, clock } = await opened({ halfOpenProbes: 2 });
    clock.advance(100);
    await breaker.call(succeed);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('open');
    expect(breaker.stats().opened).toBe(2);
    clock.advance(99);
    expect(breaker.state()).toBe('open');
    clock.advance(1);
    expect(breaker.state()).toBe('half_open');
  });

  it('starts each half-open spell with no probe successes', async () => {
    const { breaker, clock } = await opened({ halfOpenProbes: 2 });
    clock.advance(100);
    await breaker.call(succeed);
    breaker.melt();
    clock.advance(100);
    await breaker.call(succeed);
    expect(breaker.state()).toBe('half_open');
  });

  it('closes with a clean failure history', async () => {
    const { breaker, clock } = await opened({ tolerance: { failures: 1, windowMs: 10_000 } });
    await outcome(breaker.call(fail));
    clock.advance(100);
    await breaker.call(succeed);
    expect(breaker.state()).toBe('closed');
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });
});

describe('disabled', () => {
  it('refuses every call until enable(), and reset() does not leave it', async () => {
    const { breaker } = testBreaker();
    breaker.disable();
    let invoked = false;
    const error = await breaker.call(() => (invoked = true)).catch((caught: unknown) => caught);
    expect(invoked).toBe(false);
    expect(error).toMatchObject({ code: 'ERR_BREAKER_OPEN', state: 'disabled', retryAfterMs: Number.POSITIVE_INFINITY });
    breaker.reset();
    expect(breaker.state()).toBe('disabled');
    breaker.enable();
    expect(await breaker.call(succeed)).toBe('ok');
  });

  it('enable() clears the failure history', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 1, windowMs: 10_000 } });
    await outcome(breaker.call(fail));
    breaker.disable();
    breaker.enable();
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });
});

describe('reset', () => {
  it('closes an open breaker, clears its history and cancels its timer', async () => {
    const { breaker, clock } = await opened({ tolerance: { failures: 1, windowMs: 10_000 } });
    breaker.reset();
    expect(breaker.state()).toBe('closed');
    expect(clock.pendingTimers()).toBe(0);
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });

  it('clears the history of a closed breaker', async () => {
    const { breaker } = testBreaker({ tolerance: { failures: 1, windowMs: 10_000 } });
    await outcome(breaker.call(fail));
    breaker.reset();
    await outcome(breaker.call(fail));
    expect(breaker.state()).toBe('closed');
  });
});

describe('refusals are cheap', () => {
  it('share one error per spell whose retryAfterMs is exact whenever read', async () => {
    const { breaker, clock } = await opened();
    clock.advance(30);
    const first = (await breaker.call(succeed).catch((caught: unknown) => caught)) as BreakerOpenError;
    const second = (await breaker.call(succeed).catch((caught: unknown) => caught)) as BreakerOpenError;
    expect(second).toBe(first);
    expect(first.retryAfterMs).toBe(70);
    clock.advance(20);
    expect(first.retryAfterMs).toBe(50);
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({ code: 'ERR_BREAKER_OPEN', retryAfterMs: 50, state: 'open' });
    expect(breaker.stats().rejected).toBe(2);
    clock.advance(50);
    await breaker.call(() => Promise.reject(new Error('still down'))).catch(() => undefined);
    const nextSpell = (await breaker.call(succeed).catch((caught: unknown) => caught)) as BreakerOpenError;
    expect(nextSpell).not.toBe(first);
    expect(nextSpell.retryAfterMs).toBe(100);
  });

  it('carry no stack trace beyond the message', async () => {
    const { breaker } = await opened();
    const error = (await breaker.call(succeed).catch((caught: unknown) => caught)) as Error;
    expect(error.stack?.split('\n')).toHaveLength(1);
  });
});

describe('refusal messages', () => {
  it('name the breaker and the state that refused the call', async () => {
    const { breaker, clock } = await opened({ halfOpenProbes: 1 });
    const message = async () => ((await breaker.call(succeed).catch((caught: unknown) => caught)) as Error).message;
    expect(await message()).toBe("breaker 'test' is open: call refused");
    clock.advance(100);
    const probe = breaker.call(() => new Promise(() => undefined));
    expect(await message()).toBe("breaker 'test' is half-open: call refused (retry after 0 ms)");
    breaker.disable();
    expect(await message()).toBe("breaker 'test' is disabled: call refused");
    void probe;
  });

  it('a refusal built with a fixed retryAfterMs says when to retry', () => {
    expect(new BreakerOpenError('payments', 1500.2, 'open').message).toBe("breaker 'payments' is open: call refused (retry after 1501 ms)");
  });
});

describe('melt', () => {
  it('every melt() counts in stats().failures, whatever the state', () => {
    const { breaker, clock } = quietBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    breaker.melt();
    expect(breaker.state()).toBe('open');
    expect(breaker.stats()).toMatchObject({ failures: 1, opened: 1 });
    breaker.melt();
    breaker.melt();
    expect(breaker.state()).toBe('open');
    expect(breaker.stats()).toMatchObject({ failures: 3, opened: 1 });
    clock.advance(100);
    breaker.melt();
    expect(breaker.state()).toBe('open');
    expect(breaker.stats()).toMatchObject({ failures: 4, opened: 2 });
    breaker.disable();
    breaker.melt();
    expect(breaker.state()).toBe('disabled');
    expect(breaker.stats()).toMatchObject({ failures: 5, opened: 2 });
  });

  it('a melt while open neither extends nor restarts the reset timer', () => {
    const { breaker, clock } = quietBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100 });
    breaker.melt();
    clock.advance(60);
    breaker.melt();
    clock.advance(40);
    expect(breaker.state()).toBe('half_open');
  });
});
