import { createActor, type AnyActorRef } from 'xstate';
import type { ChildSpec, StartContext, TelemetryEvent } from '../../src/index.js';
import { createTelemetry, createTestClock, type TestClock, type Telemetry } from '../../src/index.js';
import { workerMachine } from './actors.js';

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

/** The clock times at which `child` was started (its `supervisor.child.started` events), in order. */
export function startTimes(recorded: Recorded, child: string): number[] {
  return recorded.named('supervisor.child.started').filter((event) => event.metadata.child === child).map((event) => event.time);
}

/**
 * How a child's start ends: with a running actor, with an actor that has already ended (reached
 * its final state, been stopped, or failed), or by rejecting (throwing, for a synchronous start).
 */
export type StartOutcome = 'running' | 'done' | 'stopped' | 'error' | 'reject';

/** One start a spec has not settled yet. */
interface PendingStart {
  readonly child: string;
  readonly settle: (outcome: StartOutcome) => void;
}

/** The options of {@link StartHarness.child}, besides the child-spec fields. */
export interface HarnessChildOptions {
  /** Each start returns a promise the spec settles with {@link StartHarness.settle}. Default false. */
  deferred?: boolean;
  /** The worker takes part in graceful shutdown and needs this long (supervisor's clock) to finish. */
  drainMs?: number | 'never';
  /** The outcomes of the next synchronous starts, in order; then `'running'`. */
  outcomes?: StartOutcome[];
}

/**
 * Child starts a spec controls: a start is synchronous or deferred (pending until the spec settles
 * it, in any order, or never), and ends with a running actor, an already-ended one or a failure.
 * Every actor any start produced is kept, so a spec can check that none of them still runs once
 * its supervisor has exited. Produced actors are started by the start itself, as an actor that
 * does work of its own would be.
 */
export class StartHarness {
  /** Every actor any start produced, in order. */
  readonly produced: AnyActorRef[] = [];
  /** Every call of a start, as `child@time` (the supervisor's clock), in order. */
  readonly startLog: string[] = [];
  private readonly pending: PendingStart[] = [];
  private readonly starts = new Map<string, number>();
  private readonly deferred = new Map<string, boolean>();
  private readonly outcomes = new Map<string, StartOutcome[]>();

  /** A child spec whose start counts itself and produces a worker on the supervisor's clock. */
  child(id: string, extra: Partial<ChildSpec> & HarnessChildOptions = {}): ChildSpec {
    const { deferred, drainMs, outcomes, ...spec } = extra;
    const machine = workerMachine(drainMs === undefined ? {} : { drainMs });
    this.deferred.set(id, deferred ?? false);
    if (outcomes) this.outcomes.set(id, [...outcomes]);
    return {
      id,
      start: (context: StartContext) => {
        this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
        this.startLog.push(`${id}@${context.clock.now()}`);
        if (this.deferred.get(id)) {
          return new Promise<AnyActorRef>((resolve, reject) => {
            this.pending.push({
              child: id,
              settle: (outcome) => {
                if (outcome === 'reject') reject(new Error(`start of ${id} rejected`));
                else resolve(this.produce(machine, context, outcome));
              },
            });
          });
        }
        const outcome = this.outcomes.get(id)?.shift() ?? 'running';
        if (outcome === 'reject') throw new Error(`start of ${id} failed`);
        return this.produce(machine, context, outcome);
      },
      ...spec,
    };
  }

  /** Makes the later starts of `id` deferred (or synchronous again). */
  setDeferred(id: string, deferred: boolean): void {
    this.deferred.set(id, deferred);
  }

  /** Makes the next synchronous start of `id` end with `outcome` (after any already primed). */
  primeOutcome(id: string, outcome: StartOutcome): void {
    const queued = this.outcomes.get(id) ?? [];
    queued.push(outcome);
    this.outcomes.set(id, queued);
  }

  /** Settles the `index`-th start still pending (in the order the starts were made). */
  settle(index: number, outcome: StartOutcome): void {
    const [pending] = this.pending.splice(index, 1);
    if (!pending) throw new Error(`no pending start #${index}`);
    pending.settle(outcome);
  }

  /** Settles the oldest pending start of `child`. */
  settleChild(child: string, outcome: StartOutcome): void {
    const index = this.pending.findIndex((pending) => pending.child === child);
    if (index < 0) throw new Error(`no pending start of ${child}`);
    this.settle(index, outcome);
  }

  /** The children whose starts are pending, oldest first. */
  pendingChildren(): string[] {
    return this.pending.map((pending) => pending.child);
  }

  /** How many times `id` was started (every call of its `start`, whatever came of it). */
  startCount(id: string): number {
    return this.starts.get(id) ?? 0;
  }

  /** The produced actors that still run (status `'active'`). */
  running(): AnyActorRef[] {
    return this.produced.filter((actor) => actor.getSnapshot().status === 'active');
  }

  private produce(machine: ReturnType<typeof workerMachine>, context: StartContext, outcome: StartOutcome): AnyActorRef {
    const actor = createActor(machine, { clock: context.clock });
    this.produced.push(actor);
    actor.start();
    if (outcome === 'done') actor.send({ type: 'FINISH' });
    else if (outcome === 'stopped') actor.stop();
    else if (outcome === 'error') {
      // Observed, so that XState does not report the failure as unhandled.
      actor.subscribe({ error: () => undefined });
      actor.send({ type: 'CRASH' });
    }
    return actor;
  }
}
