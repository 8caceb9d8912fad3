import { map, Observable, take } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, type TelemetryEvent } from '../../../src/index.js';

// The reports also go out as process warnings; Node's own listener would print each with its stack.
let otherListeners: NodeJS.WarningListener[] = [];
beforeEach(() => {
  otherListeners = process.listeners('warning');
  process.removeAllListeners('warning');
});
afterEach(() => {
  for (const listener of otherListeners) process.on('warning', listener);
});

/** A telemetry whose `telemetry.subscriber_error` reports are collected in `reports`. */
function watched() {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const reports: unknown[] = [];
  telemetry.select('telemetry.subscriber_error').subscribe((event) => reports.push(event.metadata.error));
  return { telemetry, reports };
}

/** A piped stream that errors with `failure` on the first event. */
function failingOnFirstEvent(telemetry: ReturnType<typeof createTelemetry>, failure: Error) {
  return telemetry.events$.pipe(
    map((event: TelemetryEvent) => {
      if (event.name === 'job.fail') throw failure;
      return event;
    }),
  );
}

describe('subscribing with callbacks (next, error, complete)', () => {
  it('calls the complete callback when a piped stream completes, and reports nothing', () => {
    const { telemetry, reports } = watched();
    const seen: string[] = [];
    let completed = 0;
    telemetry.events$.pipe(take(1)).subscribe(
      (event) => seen.push(event.name),
      undefined,
      () => {
        completed += 1;
      },
    );
    telemetry.emit('job.run');
    telemetry.emit('job.run');
    expect(seen).toEqual(['job.run']);
    expect(completed).toBe(1);
    expect(reports).toEqual([]);
  });

  it('reports what a complete callback throws, and the emitter carries on', () => {
    const { telemetry, reports } = watched();
    const broken = new Error('complete callback broke');
    telemetry.events$.pipe(take(1)).subscribe(
      () => undefined,
      undefined,
      () => {
        throw broken;
      },
    );
    expect(() => telemetry.emit('job.run')).not.toThrow();
    expect(reports).toEqual([broken]);
  });

  it('a stream that completes with only a next callback reports nothing', () => {
    const { telemetry, reports } = watched();
    const seen: string[] = [];
    telemetry.events$.pipe(take(1)).subscribe((event) => seen.push(event.name));
    telemetry.emit('job.run');
    expect(seen).toEqual(['job.run']);
    expect(reports).toEqual([]);
  });

  it('hands a stream error to the error callback, not to the report', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('map failed');
    const errors: unknown[] = [];
    failingOnFirstEvent(telemetry, failure).subscribe(
      () => undefined,
      (error) => errors.push(error),
    );
    telemetry.emit('job.fail');
    expect(errors).toEqual([failure]);
    expect(reports).toEqual([]);
  });

  it('subscribe() without arguments, or with null, counts as a listener and reports nothing on events', () => {
    const { telemetry, reports } = watched();
    const bare = createTelemetry({ clock: createTestClock() });
    expect(() => bare.events$.subscribe()).not.toThrow();
    expect(bare.observed).toBe(true);
    expect(() => telemetry.events$.subscribe()).not.toThrow();
    expect(() => telemetry.events$.subscribe(null)).not.toThrow();
    telemetry.emit('job.run');
    telemetry.emit('job.run');
    expect(reports).toEqual([]);
  });

  it('subscribe(null) on a stream that errors reports that error', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('map failed');
    failingOnFirstEvent(telemetry, failure).subscribe(null);
    telemetry.emit('job.fail');
    expect(reports).toEqual([failure]);
  });
});

describe('subscribing with an observer object', () => {
  it('an observer without next gets no errors reported on events', () => {
    const { telemetry, reports } = watched();
    let completed = 0;
    telemetry.events$.pipe(take(2)).subscribe({
      complete() {
        completed += 1;
      },
    });
    telemetry.emit('job.run');
    telemetry.emit('job.run');
    expect(completed).toBe(1);
    expect(reports).toEqual([]);
  });

  it('calls the observer’s error method, with the observer as this, and reports nothing', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('map failed');
    const observer = {
      errors: [] as unknown[],
      error(error: unknown) {
        this.errors.push(error);
      },
    };
    failingOnFirstEvent(telemetry, failure).subscribe(observer);
    telemetry.emit('job.fail');
    expect(observer.errors).toEqual([failure]);
    expect(reports).toEqual([]);
  });

  it('reports the stream’s own error for an observer without an error method', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('map failed');
    const seen: string[] = [];
    failingOnFirstEvent(telemetry, failure).subscribe({ next: (event) => seen.push(event.name) });
    telemetry.emit('job.ok');
    telemetry.emit('job.fail');
    expect(seen).toEqual(['job.ok']);
    expect(reports).toEqual([failure]);
  });

  it('calls the observer’s complete method, with the observer as this, and reports nothing', () => {
    const { telemetry, reports } = watched();
    const observer = {
      completed: 0,
      next: () => undefined,
      complete() {
        this.completed += 1;
      },
    };
    telemetry.events$.pipe(take(1)).subscribe(observer);
    telemetry.emit('job.run');
    expect(observer.completed).toBe(1);
    expect(reports).toEqual([]);
  });

  it('reports what an observer’s complete method throws', () => {
    const { telemetry, reports } = watched();
    const broken = new Error('complete method broke');
    telemetry.events$.pipe(take(1)).subscribe({
      complete() {
        throw broken;
      },
    });
    expect(() => telemetry.emit('job.run')).not.toThrow();
    expect(reports).toEqual([broken]);
  });

  it('an observer with only next, on a stream that completes, reports nothing', () => {
    const { telemetry, reports } = watched();
    const seen: string[] = [];
    telemetry.events$.pipe(take(1)).subscribe({ next: (event) => seen.push(event.name) });
    telemetry.emit('job.run');
    expect(seen).toEqual(['job.run']);
    expect(reports).toEqual([]);
  });
});

describe('an operator that does not lift keeps the guard through pipe', () => {
  it('take(0) (RxJS returns EMPTY): a complete callback that throws is reported, not thrown', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('complete failed');
    expect(() =>
      telemetry.events$.pipe(take(0)).subscribe({
        complete() {
          throw failure;
        },
      }),
    ).not.toThrow();
    telemetry.emit('job.run');
    expect(reports).toEqual([failure]);
  });

  it('a hand-written operator building its own observable: a next callback that throws is reported', () => {
    const { telemetry, reports } = watched();
    const failure = new Error('next failed');
    const ownObservable = (source: Observable<TelemetryEvent>) =>
      new Observable<string>((subscriber) => source.subscribe((event) => subscriber.next(event.name)));
    const seen: string[] = [];
    telemetry.events$.pipe(ownObservable, map((name) => name.toUpperCase())).subscribe((name) => {
      seen.push(name);
      if (name === 'JOB.FAIL') throw failure;
    });
    telemetry.emit('job.fail');
    telemetry.emit('job.run');
    expect(seen.filter((name) => name.startsWith('JOB.'))).toEqual(['JOB.FAIL', 'JOB.RUN']);
    expect(reports).toEqual([failure]);
  });

  it('pipe() with no operator is the stream itself', () => {
    const { telemetry } = watched();
    expect(telemetry.events$.pipe()).toBe(telemetry.events$);
  });
});
