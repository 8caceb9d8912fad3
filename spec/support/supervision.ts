import type { TelemetryEvent } from '../../src/index.js';
import { createTelemetry, createTestClock, type TestClock, type Telemetry } from '../../src/index.js';

/** Lets pending promise callbacks and queued supervisor operations run; not a sleep. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A test clock, a telemetry on it, and every event recorded. */
export interface Recorded {
  clock: TestClock;
  telemetry: Telemetry;
  events: TelemetryEvent[];
  /** `name child reason` lines of supervisor events, for order checks. */
  trail(): string[];
  named(name: string): TelemetryEvent[];
}

const trailEvents = new Set(['supervisor.child.started', 'supervisor.child.exited', 'supervisor.child.restarted']);

export function recordTelemetry(): Recorded {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  return {
    clock,
    telemetry,
    events,
    trail: () =>
      events
        .filter((event) => trailEvents.has(event.name))
        .map((event) =>
          [event.name.replace('supervisor.child.', ''), event.metadata.child, event.metadata.reason]
            .filter((part) => part !== undefined)
            .join(' '),
        ),
    named: (name) => events.filter((event) => event.name === name),
  };
}
