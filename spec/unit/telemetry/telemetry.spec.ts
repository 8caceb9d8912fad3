import { describe, expect, it, vi } from 'vitest';
import { Telemetry, createTelemetry, createTestClock, type TelemetryEvent } from '../../../src/index.js';

function recorded(startMs = 0) {
  const clock = createTestClock(startMs);
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  const subscription = telemetry.events$.subscribe((event) => events.push(event));
  return { clock, telemetry, events, subscription };
}

describe('emit delivers {name, time, measurements, metadata} to events$ subscribers', () => {
  it('stamps time with the telemetry clock’s now()', () => {
    const { clock, telemetry, events } = recorded(1_000);
    telemetry.emit('breaker.call', { duration: 12 }, { breaker: 'payments', outcome: 'success' });
    clock.advance(250);
    telemetry.emit('breaker.state', {}, { breaker: 'payments', from: 'closed', to: 'open' });
    expect(events).toEqual([
      { name: 'breaker.call', time: 1_000, measurements: { duration: 12 }, metadata: { breaker: 'payments', outcome: 'success' } },
      { name: 'breaker.state', time: 1_250, measurements: {}, metadata: { breaker: 'payments', from: 'closed', to: 'open' } },
    ]);
  });

  it('fills absent measurements and metadata with empty objects', () => {
    const { telemetry, events } = recorded();
    telemetry.emit('supervisor.shutdown');
    expect(events).toEqual([{ name: 'supervisor.shutdown', time: 0, measurements: {}, metadata: {} }]);
  });

  it('passes the caller’s measurement and metadata objects through unchanged', () => {
    const { telemetry, events } = recorded();
    const measurements = { count: 1, cost: 2 };
    const metadata = { limiter: 'api', allowed: true };
    telemetry.emit('limiter.hit', measurements, metadata);
    expect(events[0]!.measurements).toEqual({ count: 1, cost: 2 });
    expect(events[0]!.metadata).toEqual({ limiter: 'api', allowed: true });
  });

  it('delivers each event to every subscriber, in emit order', () => {
    const { telemetry, events } = recorded();
    const second: string[] = [];
    telemetry.events$.subscribe((event) => second.push(event.name));
    telemetry.emit('a.one');
    telemetry.emit('a.two');
    expect(events.map((event) => event.name)).toEqual(['a.one', 'a.two']);
    expect(second).toEqual(['a.one', 'a.two']);
  });

  it('is hot: a late subscriber sees only later events, an unsubscribed one no more', () => {
    const { telemetry, events, subscription } = recorded();
    telemetry.emit('early.event');
    const late: string[] = [];
    telemetry.events$.subscribe((event) => late.push(event.name));
    telemetry.emit('late.event');
    subscription.unsubscribe();
    telemetry.emit('after.unsubscribe');
    expect(events.map((event) => event.name)).toEqual(['early.event', 'late.event']);
    expect(late).toEqual(['late.event', 'after.unsubscribe']);
  });

  it('keeps instances apart: createTelemetry gives a separate stream', () => {
    const { telemetry, events } = recorded();
    const other = createTelemetry({ clock: createTestClock() });
    expect(other).toBeInstanceOf(Telemetry);
    other.emit('other.event');
    telemetry.emit('own.event');
    expect(events.map((event) => event.name)).toEqual(['own.event']);
  });
});

describe('select(prefix) matches the prefix itself and its dotted descendants only', () => {
  it("'pool' matches 'pool' and 'pool.*' but not 'poolx', 'pool2.x' or other components", () => {
    const { telemetry } = recorded();
    const selected: string[] = [];
    telemetry.select('pool').subscribe((event) => selected.push(event.name));
    for (const name of ['pool', 'pool.checkout', 'pool.worker.exit', 'poolx', 'pool2.x', 'poolx.checkout', 'breaker.pool', 'pool_', 'po']) {
      telemetry.emit(name);
    }
    expect(selected).toEqual(['pool', 'pool.checkout', 'pool.worker.exit']);
  });

  it('matches multi-segment prefixes segment-wise', () => {
    const { telemetry } = recorded();
    const selected: string[] = [];
    telemetry.select('supervisor.child').subscribe((event) => selected.push(event.name));
    for (const name of ['supervisor.child', 'supervisor.child.started', 'supervisor.children', 'supervisor.shutdown', 'supervisor']) {
      telemetry.emit(name);
    }
    expect(selected).toEqual(['supervisor.child', 'supervisor.child.started']);
  });

  it('treats the prefix as text, not a pattern', () => {
    const { telemetry } = recorded();
    const selected: string[] = [];
    telemetry.select('a.b').subscribe((event) => selected.push(event.name));
    for (const name of ['axb', 'axb.c', 'a.b.c']) telemetry.emit(name);
    expect(selected).toEqual(['a.b.c']);
  });

  it('delivers the same event objects as events$', () => {
    const { telemetry, events } = recorded();
    const selected: TelemetryEvent[] = [];
    telemetry.select('pool').subscribe((event) => selected.push(event));
    telemetry.emit('pool.checkout', { duration: 3, waiting: 0 }, { pool: 'db', outcome: 'ok' });
    expect(selected).toHaveLength(1);
    expect(selected[0]).toBe(events[0]);
  });
});

describe('emit with no subscriber builds no event', () => {
  // telemetry.ts returns from emit before reading clock.now(); the event's `time` comes only from
  // that call, so an untouched clock proves the event object was never built.
  it('never reads the clock while nobody listens, and does when someone does', () => {
    const clock = createTestClock();
    const now = vi.spyOn(clock, 'now');
    const telemetry = createTelemetry({ clock });

    for (let index = 0; index < 1_000; index += 1) telemetry.emit('pool.checkout', { duration: index }, { pool: 'db' });
    expect(now).not.toHaveBeenCalled();
    expect(telemetry.observed).toBe(false);

    const subscription = telemetry.events$.subscribe(() => {});
    expect(telemetry.observed).toBe(true);
    telemetry.emit('pool.checkout', { duration: 1 }, { pool: 'db' });
    expect(now).toHaveBeenCalledTimes(1);

    subscription.unsubscribe();
    expect(telemetry.observed).toBe(false);
    telemetry.emit('pool.checkout', { duration: 2 }, { pool: 'db' });
    expect(now).toHaveBeenCalledTimes(1);
  });

  it('counts a select() subscriber as a listener', () => {
    const clock = createTestClock();
    const now = vi.spyOn(clock, 'now');
    const telemetry = createTelemetry({ clock });
    const subscription = telemetry.select('breaker').subscribe(() => {});
    telemetry.emit('pool.checkout');
    expect(now).toHaveBeenCalledTimes(1);
    subscription.unsubscribe();
    telemetry.emit('pool.checkout');
    expect(now).toHaveBeenCalledTimes(1);
  });
});

describe('span emits .start then .stop with the duration measured on the clock', () => {
  it('times an async fn across a clock advance and resolves its value', async () => {
    const { clock, telemetry, events } = recorded(100);
    const metadata = { pool: 'db' };
    const result = telemetry.span('pool.transaction', metadata, () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 40)));
    clock.advance(40);
    await expect(result).resolves.toBe('done');
    expect(events).toEqual([
      { name: 'pool.transaction.start', time: 100, measurements: {}, metadata: { pool: 'db' } },
      { name: 'pool.transaction.stop', time: 140, measurements: { duration: 40 }, metadata: { pool: 'db' } },
    ]);
  });

  it('times an async fn that advances the clock itself', async () => {
    const { clock, telemetry, events } = recorded();
    const value = await telemetry.span('job.run', { job: 'j1' }, async () => {
      await Promise.resolve();
      clock.advance(25);
      return 7;
    });
    expect(value).toBe(7);
    expect(events.map((event) => [event.name, event.time, event.measurements])).toEqual([
      ['job.run.start', 0, {}],
      ['job.run.stop', 25, { duration: 25 }],
    ]);
  });

  it('times a synchronous fn too, resolving with its return value', async () => {
    const { clock, telemetry, events } = recorded();
    const value = await telemetry.span('job.sync', { job: 'j2' }, () => {
      clock.advance(3);
      return 'sync result';
    });
    expect(value).toBe('sync result');
    expect(events.map((event) => [event.name, event.measurements, event.metadata])).toEqual([
      ['job.sync.start', {}, { job: 'j2' }],
      ['job.sync.stop', { duration: 3 }, { job: 'j2' }],
    ]);
  });

  it('reports a zero duration when the clock did not move', async () => {
    const { telemetry, events } = recorded(9);
    await telemetry.span('job.instant', {}, () => undefined);
    expect(events.map((event) => event.measurements)).toEqual([{}, { duration: 0 }]);
  });
});

describe('span emits .exception with metadata.error and the duration, and rethrows the same error', () => {
  it('for an async fn that rejects', async () => {
    const { clock, telemetry, events } = recorded(50);
    const failure = new Error('query failed');
    const result = telemetry.span('db.query', { db: 'main' }, async () => {
      clock.advance(15);
      throw failure;
    });
    await expect(result).rejects.toBe(failure);
    expect(events).toEqual([
      { name: 'db.query.start', time: 50, measurements: {}, metadata: { db: 'main' } },
      { name: 'db.query.exception', time: 65, measurements: { duration: 15 }, metadata: { db: 'main', error: failure } },
    ]);
    expect(events[1]!.metadata.error).toBe(failure);
  });

  it('for a synchronous fn that throws: the span rejects instead of throwing', async () => {
    const { clock, telemetry, events } = recorded();
    const failure = new TypeError('bad input');
    let result: Promise<never> | undefined;
    expect(() => {
      result = telemetry.span('job.sync', { job: 'j3' }, () => {
        clock.advance(4);
        throw failure;
      });
    }).not.toThrow();
    await expect(result).rejects.toBe(failure);
    expect(events.map((event) => [event.name, event.measurements, event.metadata])).toEqual([
      ['job.sync.start', {}, { job: 'j3' }],
      ['job.sync.exception', { duration: 4 }, { job: 'j3', error: failure }],
    ]);
  });

  it('rethrows non-Error values unchanged and never emits .stop', async () => {
    const { telemetry, events } = recorded();
    await expect(telemetry.span('job.odd', {}, () => Promise.reject('just a string'))).rejects.toBe('just a string');
    expect(events.map((event) => event.name)).toEqual(['job.odd.start', 'job.odd.exception']);
    expect(events[1]!.metadata).toEqual({ error: 'just a string' });
  });

  it('does not change the caller’s metadata object', async () => {
    const { telemetry } = recorded();
    const metadata = { job: 'j4' };
    await expect(
      telemetry.span('job.fail', metadata, () => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    expect(metadata).toEqual({ job: 'j4' });
  });
});
