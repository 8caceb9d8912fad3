import { startWith, take } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, createTelemetry, createTestClock, type TelemetryEvent } from '../../../src/index.js';
import { captureProcessWarnings } from '../../support/warnings.js';

const warnings = captureProcessWarnings('OVERSEER_SUBSCRIBER_ERROR');

function recorded() {
  const telemetry = createTelemetry({ clock: createTestClock() });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  return { telemetry, events };
}

/** What `call` threw, or undefined. */
function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalidArgument(error: unknown, argument: string, expectation: string): void {
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).argument).toBe(argument);
  expect((error as InvalidArgumentError).message).toContain(`: expected ${expectation}, got `);
}

describe('bad arguments throw an InvalidArgumentError that names the argument and says what it takes', () => {
  it('select with a prefix that is not a string', () => {
    const { telemetry } = recorded();
    expectInvalidArgument(
      thrownBy(() => telemetry.select(3 as never)),
      'select.prefix',
      'an event name prefix (a string)',
    );
  });

  it('emit with a name that is not a string', () => {
    const { telemetry, events } = recorded();
    expectInvalidArgument(
      thrownBy(() => telemetry.emit(undefined as never)),
      'emit.name',
      'an event name (a string)',
    );
    expect(events).toEqual([]);
  });

  it('emit with null or non-object measurements', () => {
    const { telemetry, events } = recorded();
    for (const measurements of [null, 5, 'x']) {
      expectInvalidArgument(
        thrownBy(() => telemetry.emit('job.run', measurements as never)),
        'emit.measurements',
        'an object of numbers or undefined',
      );
    }
    expect(events).toEqual([]);
  });

  it('emit with null or non-object metadata', () => {
    const { telemetry, events } = recorded();
    for (const metadata of [null, 5, 'x']) {
      expectInvalidArgument(
        thrownBy(() => telemetry.emit('job.run', undefined, metadata as never)),
        'emit.metadata',
        'an object or undefined',
      );
    }
    expect(events).toEqual([]);
  });

  it('span with a name that is not a string, or an fn that is not a function, rejects and emits nothing', async () => {
    const { telemetry, events } = recorded();
    const badName = await telemetry.span(7 as never, {}, () => 1).catch((error: unknown) => error);
    expectInvalidArgument(badName, 'span.name', 'a span name (a string)');
    const badFn = await telemetry.span('job.run', {}, 'run' as never).catch((error: unknown) => error);
    expectInvalidArgument(badFn, 'span.fn', 'a function');
    expect(events).toEqual([]);
  });

  it.each([
    ['null', null],
    ['a string', 'job'],
    ['a number', 3],
  ])('span with metadata that is %s rejects as span.metadata and emits nothing', async (_kind, metadata) => {
    const { telemetry, events } = recorded();
    const fn = vi.fn(() => 1);
    const error = await telemetry.span('job.run', metadata as never, fn).catch((thrown: unknown) => thrown);
    expectInvalidArgument(error, 'span.metadata', 'an object or undefined');
    expect(fn).not.toHaveBeenCalled();
    expect(events).toEqual([]);
  });

  it('span with undefined metadata runs, with empty metadata on its events', async () => {
    const { telemetry, events } = recorded();
    await expect(telemetry.span('job.run', undefined as never, () => 'done')).resolves.toBe('done');
    expect(events.map((event) => [event.name, event.metadata])).toEqual([
      ['job.run.start', {}],
      ['job.run.stop', {}],
    ]);
  });
});

describe('what a subscriber throws outside an emit is reported too', () => {
  it('a complete callback that throws while subscribing is reported once the current task’s microtasks run', async () => {
    const { telemetry, events } = recorded();
    const broken = new Error('complete broke at subscribe');
    const seed: TelemetryEvent = { name: 'seed', time: 0, measurements: {}, metadata: {} };
    telemetry.events$.pipe(startWith(seed), take(1)).subscribe({
      complete() {
        throw broken;
      },
    });
    expect(events).toEqual([]);
    await Promise.resolve();
    expect(events.map((event) => [event.name, event.metadata.error])).toEqual([['telemetry.subscriber_error', broken]]);
    expect(warnings).toHaveLength(0);
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(warnings[0]!.message).toContain('complete broke at subscribe');
  });
});

describe('the subscriber-error warning carries the error’s stack', () => {
  it('uses the stack of an Error, which holds its message and frames', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const broken = new Error('exporter broke');
    broken.stack = 'Error: exporter broke\n    at exporter (exporter.js:12:3)';
    telemetry.events$.subscribe(() => {
      throw broken;
    });
    telemetry.emit('job.run');
    await vi.waitFor(() => expect(warnings).toHaveLength(1), { timeout: 2_000, interval: 5 });
    expect(warnings[0]!.message).toBe('A telemetry subscriber threw: Error: exporter broke\n    at exporter (exporter.js:12:3)');
  });

  it('falls back to the message of an Error without a stack, and to String() of anything else', async () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const stackless = new Error('no stack here');
    stackless.stack = undefined;
    const thrown: unknown[] = [stackless, 'a plain string'];
    telemetry.events$.subscribe((event) => {
      if (event.name === 'job.run') throw thrown.shift();
    });
    telemetry.emit('job.run');
    telemetry.emit('job.run');
    await vi.waitFor(() => expect(warnings).toHaveLength(2), { timeout: 2_000, interval: 5 });
    expect(warnings.map((warning) => warning.message)).toEqual([
      'A telemetry subscriber threw: no stack here',
      'A telemetry subscriber threw: a plain string',
    ]);
  });
});

describe('subscribers that throw on every event, their reports included, are reported once per throw', () => {
  it('two such subscribers: each emit reports their two errors and returns', async () => {
    const { telemetry, events } = recorded();
    let thrown = 0;
    for (const subscriber of ['first', 'second']) {
      telemetry.events$.subscribe((event) => {
        thrown += 1;
        throw new Error(`${subscriber} broke on ${event.name}`);
      });
    }
    expect(() => telemetry.emit('job.run')).not.toThrow();
    expect(events.map((event) => event.name)).toEqual(['job.run', 'telemetry.subscriber_error', 'telemetry.subscriber_error']);
    expect(events.slice(1).map((event) => (event.metadata.error as Error).message)).toEqual(['first broke on job.run', 'second broke on job.run']);
    // Each subscriber also threw on both reports: those throws are not reported.
    expect(thrown).toBe(6);
    expect(() => telemetry.emit('job.run')).not.toThrow();
    expect(events).toHaveLength(6);
    await vi.waitFor(() => expect(warnings).toHaveLength(4), { timeout: 2_000, interval: 5 });
  });
});
