import { describe, expect, it } from 'vitest';
import type { Breaker, BreakerOptions } from '../../../src/breaker/index.js';
import { describeOutcome, fail, quietBreaker, settledSoon, succeed, testBreaker } from '../../support/breaker.js';

// Every user callback a breaker invokes (the function, what it returns, `isFailure`, `neutral`)
// may throw or misbehave: the call still settles, the outcome is counted, and the breaker keeps
// working. A closed call takes one of three paths, so each rule is checked on all of them.

type Make = (options: Partial<BreakerOptions>) => { breaker: Breaker };

const closedPaths: Array<[string, Make]> = [
  ['closed, no telemetry subscriber', (options) => quietBreaker(options)],
  ['closed, a telemetry subscriber', (options) => testBreaker(options)],
  ['closed, a call timeout', (options) => quietBreaker({ callTimeoutMs: 1000, ...options })],
];

/** Calls through the breaker; a synchronous throw (never allowed) becomes a rejection saying so. */
function callSafely(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(new Error(`threw synchronously: ${describeOutcome(error)}`));
  }
}

/** A half-open breaker (one probe slot) whose telemetry is recorded. */
function halfOpen(options: Partial<BreakerOptions> = {}) {
  const setup = testBreaker({ tolerance: { failures: 0, windowMs: 1000 }, resetMs: 100, halfOpenProbes: 1, ...options });
  setup.breaker.melt();
  setup.clock.advance(100);
  expect(setup.breaker.state()).toBe('half_open');
  return setup;
}

const upstream = (): Error => new Error('upstream failed');
const rejecting = (): Promise<never> => Promise.reject(upstream());
const throwing = (): never => {
  throw upstream();
};
const functions: Array<[string, () => unknown]> = [
  ['rejects', rejecting],
  ['throws synchronously', throwing],
];

describe('a function that fails', () => {
  for (const [path, make] of closedPaths) {
    for (const [how, fn] of functions) {
      it(`fails the call with its own error and counts a failure (${path}, the function ${how})`, async () => {
        const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 } });
        expect(await settledSoon(callSafely(() => breaker.call(fn)))).toBe('upstream failed');
        expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
        expect(breaker.state()).toBe('open');
      });

      it(`passes an error isFailure does not count through and counts a success (${path}, the function ${how})`, async () => {
        const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 }, isFailure: () => false });
        expect(await settledSoon(callSafely(() => breaker.call(fn)))).toBe('upstream failed');
        expect(breaker.stats()).toMatchObject({ successes: 1, failures: 0 });
        expect(breaker.state()).toBe('closed');
      });
    }
  }
});

describe('an isFailure that throws', () => {
  const isFailure = (): boolean => {
    throw new Error('classifier broke');
  };

  for (const [path, make] of closedPaths) {
    for (const [how, fn] of functions) {
      it(`settles the call with what isFailure threw and counts a failure (${path}, the function ${how})`, async () => {
        const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 }, isFailure });
        expect(await settledSoon(callSafely(() => breaker.call(fn)))).toBe('classifier broke');
        expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
        expect(breaker.state()).toBe('open');
      });
    }
  }

  it('is not asked about a call that already timed out: the late error changes nothing', async () => {
    let asked = 0;
    const { breaker, clock } = quietBreaker({
      tolerance: { failures: 5, windowMs: 1000 },
      callTimeoutMs: 10,
      isFailure: () => {
        asked += 1;
        throw new Error('classifier broke');
      },
    });
    let failLate!: (error: Error) => void;
    const call = breaker.call(() => new Promise((_resolve, reject) => (failLate = reject)));
    clock.advance(10);
    expect(await settledSoon(call)).toBe('ERR_BREAKER_TIMEOUT');
    failLate(new Error('late'));
    await settledSoon(Promise.resolve());
    expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
    expect(asked).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('frees the probe slot of a half-open breaker, which reopens and keeps working', async () => {
    const { breaker, clock, events } = halfOpen({ isFailure });
    expect(await settledSoon(callSafely(() => breaker.call(rejecting)))).toBe('classifier broke');
    expect(breaker.state()).toBe('open');
    expect(breaker.stats()).toMatchObject({ failures: 2, opened: 2 });
    expect(events.filter((event) => event.name === 'breaker.call').map((event) => event.metadata.outcome)).toEqual(['failure']);
    clock.advance(100);
    expect(breaker.state()).toBe('half_open');
    expect(await settledSoon(breaker.call(succeed))).toBe('ok');
    expect(breaker.state()).toBe('closed');
  });
});

describe('a neutral classifier that throws', () => {
  const neutral = (): boolean => {
    throw new Error('neutral broke');
  };

  for (const [path, make] of closedPaths) {
    it(`settles the call with what neutral threw and counts a failure (${path})`, async () => {
      const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 } });
      expect(await settledSoon(callSafely(() => breaker.call(rejecting, { neutral })))).toBe('neutral broke');
      expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
      expect(breaker.state()).toBe('open');
    });
  }

  it('frees the probe slot of a half-open breaker, which reopens', async () => {
    const { breaker } = halfOpen();
    expect(await settledSoon(callSafely(() => breaker.call(rejecting, { neutral })))).toBe('neutral broke');
    expect(breaker.state()).toBe('open');
  });
});

describe('a result whose then is broken', () => {
  const brokenThen = (): Promise<never> =>
    ({
      then() {
        throw new Error('then threw');
      },
    }) as unknown as Promise<never>;
  const brokenThenGetter = (): Promise<never> =>
    ({
      get then(): never {
        throw new Error('then getter threw');
      },
    }) as unknown as Promise<never>;
  const results: Array<[string, () => Promise<never>, string]> = [
    ['a then that throws', brokenThen, 'then threw'],
    ['a then getter that throws', brokenThenGetter, 'then getter threw'],
  ];

  for (const [what, fn, message] of results) {
    for (const [path, make] of closedPaths) {
      it(`is a failure that settles the call, never a synchronous throw (${what}; ${path})`, async () => {
        const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 } });
        expect(await settledSoon(callSafely(() => breaker.call(fn)))).toBe(message);
        expect(breaker.stats()).toMatchObject({ successes: 0, failures: 1 });
        expect(breaker.state()).toBe('open');
      });
    }

    it(`frees the probe slot and reopens a half-open breaker (${what})`, async () => {
      const { breaker, clock } = halfOpen();
      expect(await settledSoon(callSafely(() => breaker.call(fn)))).toBe(message);
      expect(breaker.state()).toBe('open');
      clock.advance(100);
      expect(await settledSoon(breaker.call(succeed))).toBe('ok');
      expect(breaker.state()).toBe('closed');
    });
  }
});

describe('call options that are not what they claim', () => {
  const bad: Array<[string, unknown]> = [
    ['options.neutral', { neutral: 'yes' }],
    ['options.signal', { signal: {} }],
    ['options.signal', { signal: 'abort' }],
    ['options', 'fast'],
    ['options', null],
  ];
  for (const [argument, options] of bad) {
    for (const [path, make] of closedPaths) {
      it(`reject the call with a BreakerArgumentError naming ${argument}, run nothing and count nothing (${JSON.stringify(options)}; ${path})`, async () => {
        const { breaker } = make({ tolerance: { failures: 0, windowMs: 1000 } });
        let invoked = false;
        const call = callSafely(() =>
          breaker.call(() => {
            invoked = true;
            return fail();
          }, options as never),
        );
        const error = await call.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TypeError);
        expect(error).toMatchObject({ code: 'ERR_BREAKER_ARGUMENT', breaker: 'test', argument });
        expect((error as Error).message).toContain(argument);
        expect(invoked).toBe(false);
        expect(breaker.stats()).toEqual({ successes: 0, failures: 0, rejected: 0, opened: 0 });
        expect(breaker.state()).toBe('closed');
      });
    }
  }
});
