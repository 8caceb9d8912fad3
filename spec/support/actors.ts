import { createActor, setup, type AnyActorRef } from 'xstate';
import type { ChildSpec, Clock, StartContext } from '../../src/index.js';

/**
 * A worker machine for supervisor specs: CRASH makes it fail (an 'error' exit), FINISH makes it
 * reach its final state (a 'normal' exit). With `drainMs` it takes part in graceful shutdown and
 * needs that long (on the given clock) to finish; with `drainMs: 'never'` it never finishes.
 */
export function workerMachine(options: { drainMs?: number | 'never' } = {}) {
  const graceful = options.drainMs !== undefined;
  const drainMs = typeof options.drainMs === 'number' ? options.drainMs : 0;
  return setup({
    actions: {
      crash: () => {
        throw new Error('worker crashed');
      },
    },
    delays: { drain: () => drainMs },
  }).createMachine({
    id: 'worker',
    initial: 'running',
    states: {
      running: {
        on: {
          CRASH: { actions: 'crash' },
          FINISH: 'finished',
          ...(graceful ? { 'overseer.shutdown': 'draining' } : {}),
        },
      },
      draining: options.drainMs === 'never' ? {} : { after: { drain: 'finished' } },
      finished: { type: 'final' },
    },
  });
}

/** Records every start of every child so specs can count restarts and reach the live actors. */
export class ChildHarness {
  readonly starts = new Map<string, number>();
  readonly actors = new Map<string, AnyActorRef>();
  readonly startOrder: string[] = [];
  private readonly failing = new Map<string, number>();

  /** A child spec whose start creates a worker on the supervisor's clock. */
  child(id: string, extra: Partial<ChildSpec> & { drainMs?: number | 'never'; clock?: Clock } = {}): ChildSpec {
    const { drainMs, clock, ...spec } = extra;
    const machine = workerMachine(drainMs === undefined ? {} : { drainMs });
    return {
      id,
      start: (context: StartContext) => {
        const remainingFailures = this.failing.get(id) ?? 0;
        if (remainingFailures > 0) {
          this.failing.set(id, remainingFailures - 1);
          throw new Error(`start of ${id} failed`);
        }
        this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
        this.startOrder.push(id);
        const actor = createActor(machine, { clock: clock ?? context.clock });
        this.actors.set(id, actor);
        return actor;
      },
      ...spec,
    };
  }

  /** Makes the next `times` starts of `id` throw. */
  failNextStarts(id: string, times: number): void {
    this.failing.set(id, times);
  }

  crash(id: string): void {
    this.actor(id).send({ type: 'CRASH' });
  }

  finish(id: string): void {
    this.actor(id).send({ type: 'FINISH' });
  }

  actor(id: string): AnyActorRef {
    const actor = this.actors.get(id);
    if (!actor) throw new Error(`no actor started for ${id}`);
    return actor;
  }

  startCount(id: string): number {
    return this.starts.get(id) ?? 0;
  }
}
