import { describe, expect, it, vi } from 'vitest';
import { filter, map } from 'rxjs';
import { createTelemetry, createTestClock } from '../../../src/index.js';
import { captureProcessWarnings } from '../../support/warnings.js';

/** Lets pending macrotasks (RxJS reports subscriber errors on a timer) run; not a sleep. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('a subscriber that throws never breaks the emitter or the other subscribers', () => {
  const warnings = captureProcessWarnings('OVERSEER_SUBSCRIBER_ERROR');

  it('delivers every event to subscribers before and after the thrower, and emit does not throw', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const before: string[] = [];
    const thrower: string[] = [];
    const after: string[] = [];
    const selected: string[] = [];
    telemetry.events$.subscribe((event) => before.push(event.name));
    telemetry.events$.subscribe((event) => {
      thrower.push(event.name);
      throw new Error(`subscriber failed on ${event.name}`);
    });
    telemetry.events$.subscribe((event) => after.push(event.name));
    telemetry.select('pool').subscribe((event) => selected.push(event.name));

    const names = ['pool.checkout', 'breaker.call', 'pool.worker.exit'];
    for (const name of names) expect(() => telemetry.emit(name, { duration: 1 }, { pool: 'db' })).not.toThrow();

    // Each error is reported to the subscribers too, right after the event it broke on.
    const reported = names.flatMap((name) => [name, 'telemetry.subscriber_error']);
    expect(before).toEqual(reported);
    expect(thrower).toEqual(reported);
    expect(after).toEqual(reported);
    expect(selected).toEqual(['pool.checkout', 'pool.worker.exit']);
    await vi.waitFor(() => expect(warnings).toHaveLength(3), { timeout: 2_000, interval: 5 });
  });

  it('reports each thrown error exactly once as an OVERSEER_SUBSCRIBER_ERROR process warning', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    telemetry.events$.subscribe((event) => {
      throw new Error(`metrics exporter broke on ${event.name}`);
    });

    telemetry.emit('limiter.hit', { count: 1, cost: 1 }, { limiter: 'api', allowed: true });
    telemetry.emit('breaker.state', {}, { breaker: 'payments', from: 'closed', to: 'open' });

    await vi.waitFor(() => expect(warnings).toHaveLength(2), { timeout: 2_000, interval: 5 });
    // Give a duplicate report, if any, the chance to arrive before counting again.
    for (let turn = 0; turn < 5; turn += 1) await nextMacrotask();

    expect(warnings).toHaveLength(2);
    for (const warning of warnings) {
      expect(warning.code).toBe('OVERSEER_SUBSCRIBER_ERROR');
      expect(warning.name).toBe('OverseerTelemetryWarning');
    }
    const messages = warnings.map((warning) => warning.message);
    expect(messages.filter((message) => message.includes('metrics exporter broke on limiter.hit'))).toHaveLength(1);
    expect(messages.filter((message) => message.includes('metrics exporter broke on breaker.state'))).toHaveLength(1);
  });

  it('keeps a span working when a subscriber throws on its events', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const seen: string[] = [];
    telemetry.events$.subscribe(() => {
      throw new Error('span subscriber failed');
    });
    telemetry.events$.subscribe((event) => seen.push(event.name));

    await expect(telemetry.span('job.run', {}, () => 'ok')).resolves.toBe('ok');
    expect(seen).toEqual(['job.run.start', 'telemetry.subscriber_error', 'job.run.stop', 'telemetry.subscriber_error']);
    await vi.waitFor(() => expect(warnings).toHaveLength(2), { timeout: 2_000, interval: 5 });
  });

  it('reports the error as a telemetry.subscriber_error event carrying it, to the other subscribers', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const broken = new Error('exporter broke');
    telemetry.select('pool').subscribe(() => {
      throw broken;
    });
    const reports: unknown[] = [];
    telemetry.select('telemetry.subscriber_error').subscribe((event) => reports.push(event.metadata.error));
    telemetry.emit('pool.checkout');
    expect(reports).toEqual([broken]);
  });

  it('guards subscribers of piped streams, observer objects, and streams that error without an error callback', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const reports: unknown[] = [];
    telemetry.select('telemetry.subscriber_error').subscribe((event) => reports.push(event.metadata.error));
    const fromNext = new Error('from an observer object');
    telemetry.events$.pipe(filter((event) => event.name === 'a')).subscribe({
      next() {
        throw fromNext;
      },
    });
    const fromMap = new Error('from a map in the pipe');
    telemetry.events$
      .pipe(
        map((event) => {
          if (event.name === 'a') throw fromMap;
          return event;
        }),
      )
      .subscribe(() => undefined);
    expect(() => telemetry.emit('a')).not.toThrow();
    expect(reports).toEqual([fromNext, fromMap]);
    // The piped stream that errored has ended; the others still deliver.
    telemetry.emit('a');
    expect(reports).toEqual([fromNext, fromMap, fromNext]);
  });

  it('changes no global RxJS setting', async () => {
    const { config } = await import('rxjs');
    expect(config.onUnhandledError).toBeNull();
  });
});
