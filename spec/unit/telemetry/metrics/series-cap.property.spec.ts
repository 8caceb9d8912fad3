import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, startMetrics, sum, toPrometheus, type MetricsRegistry, type Telemetry } from '../../../../src/index.js';

/** What a capped metric must hold: its series by tag values, in creation order, and the events it refused. */
interface SeriesModel {
  readonly maxSeries: number;
  readonly series: Map<string, { tags: { a: string; b: string }; total: number }>;
  dropped: number;
}

interface Real {
  telemetry: Telemetry;
  registry: MetricsRegistry;
}

/** Emits `job.run` with measurement cost and tags a, b: counted into its series, or refused when the metric is full. */
class EmitCommand implements fc.Command<SeriesModel, Real> {
  constructor(
    readonly a: string,
    readonly b: string,
    readonly cost: number,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: SeriesModel, real: Real): void {
    const key = JSON.stringify([this.a, this.b]);
    const existing = model.series.get(key);
    if (existing) existing.total += this.cost;
    else if (model.series.size < model.maxSeries) model.series.set(key, { tags: { a: this.a, b: this.b }, total: this.cost });
    else model.dropped += 1;
    real.telemetry.emit('job.run', { cost: this.cost }, { a: this.a, b: this.b });
  }
  toString(): string {
    return `emit(${JSON.stringify(this.a)}, ${JSON.stringify(this.b)}, ${this.cost})`;
  }
}

/** Scrapes: the snapshot equals the model, and the exposition has one sample per series plus the dropped count. */
class ScrapeCommand implements fc.Command<SeriesModel, Real> {
  check(): boolean {
    return true;
  }
  run(model: SeriesModel, real: Real): void {
    const [metric] = real.registry.snapshot();
    expect(metric!.series.length).toBeLessThanOrEqual(model.maxSeries);
    expect(metric!.series).toEqual([...model.series.values()].map(({ tags, total }) => ({ tags, value: { kind: 'scalar', value: total } })));
    expect(metric!.droppedSeries).toBe(model.dropped);
    const samples = toPrometheus(real.registry.snapshot())
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples).toHaveLength(model.series.size + (model.dropped > 0 ? 1 : 0));
    if (model.dropped > 0) expect(samples.at(-1)).toBe(`overseer_metric_series_dropped_total{metric="job_run_cost"} ${model.dropped}`);
  }
  toString(): string {
    return 'scrape';
  }
}

/** Tag values chosen to collide if series keys were joined naively: separators, digits and colons. */
const tagValue = fc.constantFrom('', 'x', 'y', '\u0000', 'x\u0000', '\u0000y', '1:', '1:x', 'a"b');

describe('a metric never holds more than maxSeries series, counts every refused event, and keeps distinct tag values apart', () => {
  it('model-based: emits and scrapes against a model of capped series', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.commands(
          [
            fc.tuple(tagValue, tagValue, fc.integer({ min: 0, max: 5 })).map(([a, b, cost]) => new EmitCommand(a, b, cost)),
            fc.constant(new ScrapeCommand()),
          ],
          { maxCommands: 80 },
        ),
        (maxSeries, commands) => {
          const telemetry = createTelemetry({ clock: createTestClock() });
          const registry = startMetrics(telemetry.events$, [sum('job.run.cost', { tags: ['a', 'b'], maxSeries })]);
          const model: SeriesModel = { maxSeries, series: new Map(), dropped: 0 };
          fc.modelRun(() => ({ model, real: { telemetry, registry } }), [...commands, new ScrapeCommand()]);
          registry.stop();
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('tag values that would join into one string stay separate series', () => {
  it('(x\\0, "") and (x, \\0) are two series', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const registry = startMetrics(telemetry.events$, [sum('job.run.cost', { tags: ['a', 'b'] })]);
    telemetry.emit('job.run', { cost: 1 }, { a: 'x\u0000', b: '' });
    telemetry.emit('job.run', { cost: 2 }, { a: 'x', b: '\u0000' });
    expect(registry.snapshot()[0]!.series).toEqual([
      { tags: { a: 'x\u0000', b: '' }, value: { kind: 'scalar', value: 1 } },
      { tags: { a: 'x', b: '\u0000' }, value: { kind: 'scalar', value: 2 } },
    ]);
    registry.stop();
  });
});
