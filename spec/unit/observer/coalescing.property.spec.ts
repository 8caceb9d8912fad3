import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, TelemetryEvents } from '../../../src/index.js';
import { createObserver } from '../../../src/observer.js';
import { openStream } from './fake-http.js';

/**
 * The observer's coalescing, driven by limiter.hit events at arbitrary times on a test clock
 * against one client's fake response.
 */
describe('coalescing', () => {
  it('whatever the events, messages are at least 1000/maxUpdatesPerSecond ms apart and the last event is sent within that much', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.double({ min: 0, max: 300, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (perSecond, gaps) => {
          const clock = createTestClock();
          const telemetry = createTelemetry({ clock });
          const observer = createObserver({ limiters: [{ name: 'api' }], telemetry, clock, maxUpdatesPerSecond: perSecond, historyMs: 3_600_000, heartbeatMs: 3_600_000, sampleMs: 3_600_000 });
          const stream = openStream(observer);
          const interval = 1000 / perSecond;
          // The clock time of every delta written, taken as it is written.
          const sentAt: number[] = [];
          const write = stream.write.bind(stream);
          stream.write = (chunk: string) => {
            if (chunk.includes('event: delta')) sentAt.push(clock.now());
            return write(chunk);
          };
          const step = (ms: number): void => clock.advance(ms);
          for (const gap of gaps) {
            step(gap);
            telemetry.emit(TelemetryEvents.limiterHit, { count: 1, cost: 1 }, { limiter: 'api', allowed: true });
          }
          const lastEventAt = clock.now();
          step(interval);
          for (let index = 1; index < sentAt.length; index += 1) expect(sentAt[index]! - sentAt[index - 1]!).toBeGreaterThanOrEqual(interval - 1e-9);
          expect(sentAt.at(-1)!).toBeLessThanOrEqual(lastEventAt + interval);
          const last = stream.messages().at(-1)!.data;
          expect(last.limiters.at(-1)).toMatchObject({ name: 'api', hits: gaps.length });
          stream.hangUp();
        },
      ),
      { numRuns: 200 },
    );
  });
});
