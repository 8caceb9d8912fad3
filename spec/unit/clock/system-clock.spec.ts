import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { maxTimerDelayMs, systemClock } from '../../../src/index.js';

// The one spec file allowed to touch real time: each wait is a 1-5 ms timer, awaited with a waitFor that
// ends as soon as it fires and gives up after 1 s (50 ms failed on a machine busy with two mutation runs).
const realWait = { timeout: 1_000, interval: 1 } as const;

describe('systemClock.now reads performance.now and never goes back', () => {
  it('lies between two performance.now() readings taken around it', () => {
    const before = performance.now();
    const reading = systemClock.now();
    const after = performance.now();
    expect(reading).toBeGreaterThanOrEqual(before);
    expect(reading).toBeLessThanOrEqual(after);
  });

  it('is non-decreasing over many consecutive readings', () => {
    const readings = Array.from({ length: 10_000 }, () => systemClock.now());
    const decreases = readings.filter((reading, index) => index > 0 && reading < readings[index - 1]!);
    expect(decreases).toEqual([]);
  });
});

describe('systemClock.setTimeout runs the callback on a real, unref’d timer', () => {
  it('fires the callback once after the delay', async () => {
    const fired = vi.fn();
    const scheduledAt = performance.now();
    systemClock.setTimeout(fired, 2);
    expect(fired).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(fired).toHaveBeenCalledTimes(1), realWait);
    expect(performance.now() - scheduledAt).toBeGreaterThanOrEqual(1);
  });

  it('returns a handle whose timer does not hold the process open (hasRef() is false)', () => {
    const handle = systemClock.setTimeout(() => {}, 1) as NodeJS.Timeout;
    try {
      expect(typeof handle.hasRef).toBe('function');
      expect(handle.hasRef()).toBe(false);
    } finally {
      systemClock.clearTimeout(handle);
    }
  });
});

describe('systemClock.clearTimeout cancels a pending timer', () => {
  it('a cleared timer never fires, while a later uncleared one does', async () => {
    const cleared = vi.fn();
    const kept = vi.fn();
    const handle = systemClock.setTimeout(cleared, 1);
    systemClock.setTimeout(kept, 5);
    systemClock.clearTimeout(handle);
    // Node fires the 1 ms timer before the 5 ms one, so once `kept` ran, `cleared` would have too.
    await vi.waitFor(() => expect(kept).toHaveBeenCalledTimes(1), realWait);
    expect(cleared).not.toHaveBeenCalled();
  });

  it('ignores handles that already fired or were never issued', async () => {
    const fired = vi.fn();
    const handle = systemClock.setTimeout(fired, 1);
    await vi.waitFor(() => expect(fired).toHaveBeenCalledTimes(1), realWait);
    expect(() => systemClock.clearTimeout(handle)).not.toThrow();
    expect(() => systemClock.clearTimeout(undefined)).not.toThrow();
    expect(fired).toHaveBeenCalledTimes(1);
  });
});

describe('systemClock with delays past one Node timer', () => {
  it('does not fire a delay longer than ~24.8 days after 1 ms, and clears it', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    let fired = false;
    const handle = systemClock.setTimeout(() => (fired = true), maxTimerDelayMs + 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
    systemClock.clearTimeout(handle);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});

describe('systemClock never fires a timer before now() has advanced by its delay', () => {
  it('over 200 timers of 0.3 to 3 ms, each measured on systemClock.now()', async () => {
    const early: number[] = [];
    for (let index = 0; index < 200; index += 1) {
      const ms = 0.3 + (index % 10) * 0.3;
      const scheduledAt = systemClock.now();
      await new Promise<void>((resolve) =>
        systemClock.setTimeout(() => {
          const elapsed = systemClock.now() - scheduledAt;
          if (elapsed < ms) early.push(ms - elapsed);
          resolve();
        }, ms),
      );
    }
    expect(early).toEqual([]);
  });
});

describe('systemClock.setTimeout names what was wrong', () => {
  it('says it expected a function', () => {
    expect(() => systemClock.setTimeout('later' as unknown as () => void, 1)).toThrow('Invalid argument setTimeout.fn: expected a function');
  });
});
