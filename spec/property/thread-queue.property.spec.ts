import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  WaitingTasks,
  createThreadQueue,
  stepThreadQueue,
  type ThreadQueueEffect,
  type ThreadQueueEvent,
  type ThreadQueueLimits,
  type ThreadQueueState,
} from '../../src/pool/thread-queue.js';

/**
 * The thread pool's accounting (src/pool/thread-queue.ts, a pure transition function) driven
 * through random interleavings of everything that can happen to a thread pool: tasks submitted
 * with or without a signal and aborted, threads that load, finish tasks, die while starting, idle
 * or busy, threads the pool ended exiting, idle and backoff timers firing (and cancelled ones
 * firing late), answers from threads whose task was already settled, drain and stop.
 *
 * The model holds the environment (which threads exist and what each is doing, as the effects
 * made it) and the rules: what a submitted task must get (an idle thread, a place in the queue,
 * or a refusal), that a thread that loads or frees takes the oldest waiting task, what a death
 * while starting does (backoff, rejecting the tasks no thread can run, failing after
 * maxStartFailures in a row). Every effect is checked as it is performed: a task runs only on an
 * idle loaded thread, never after it was refused or settled, in submission order; a thread starts
 * only while the pool runs and no backoff is armed, never beyond maxThreads; every task settles
 * exactly once (checked after a final stop).
 */

interface Death {
  thread: number;
}
type Effect = ThreadQueueEffect<number, Death>;
type EnvThread = 'starting' | 'idle' | 'busy' | 'ending';

interface Model {
  readonly limits: ThreadQueueLimits;
  phase: 'running' | 'draining' | 'stopped' | 'failed';
  nextTask: number;
  nextThread: number;
  /** The threads that exist, as the environment knows them. */
  threads: Map<number, EnvThread>;
  /** Busy threads and their task (an aborted task's thread stays busy, without a task, until it is ended). */
  busyWith: Map<number, number>;
  /** Tasks waiting, in submission order. */
  waiting: number[];
  /** Unsettled tasks that carry a signal. */
  signals: Set<number>;
  settled: Map<number, string>;
  refused: Set<number>;
  /** Tasks in the order they were sent to a thread. */
  started: number[];
  idleTimers: Map<number, number>;
  staleTimers: Array<[number, number]>;
  backoff: boolean;
  /** Start-up deaths since a thread last loaded. */
  streak: number;
  /** Threads ended by stop or failure: they may still report their exit. */
  gone: number[];
  /** Tasks settled while on a thread, and the thread: it may still answer. */
  answeredLate: Array<[number, number]>;
}

interface Real {
  state: ThreadQueueState<number, Death>;
}

const count = (m: Model, phase: EnvThread): number => [...m.threads.values()].filter((each) => each === phase).length;
const threadsIn = (m: Model, phase: EnvThread): number[] => [...m.threads].filter(([, each]) => each === phase).map(([thread]) => thread);
const coming = (m: Model): number => count(m, 'starting');
const loaded = (m: Model): number => count(m, 'idle') + m.busyWith.size;
const pick = <T>(list: readonly T[], index: number): T => list[index % list.length]!;

/** How many threads may start now: the rule restated. */
function headroom(m: Model): number {
  if (m.phase !== 'running' || m.backoff) return 0;
  const room = m.limits.maxThreads - m.threads.size;
  if (room <= 0) return 0;
  if (m.streak > 0) return coming(m) === 0 ? 1 : 0;
  return room;
}

function settle(m: Model, task: number, how: string): void {
  expect(m.settled.has(task), `task ${task} settled twice (${m.settled.get(task)}, then ${how})`).toBe(false);
  m.settled.set(task, how);
  m.signals.delete(task);
  m.waiting = m.waiting.filter((each) => each !== task);
  for (const [thread, running] of m.busyWith) {
    if (running !== task) continue;
    m.busyWith.delete(thread);
    if (how !== 'delivered') m.answeredLate.push([task, thread]);
  }
}

function endEnvironment(m: Model, phase: 'stopped' | 'failed'): void {
  expect(m.busyWith.size, 'a task was still running when the pool ended').toBe(0);
  expect(m.waiting, 'a task was still waiting when the pool ended').toEqual([]);
  m.phase = phase;
  m.gone.push(...m.threads.keys());
  m.threads.clear();
  m.staleTimers.push(...m.idleTimers);
  m.idleTimers.clear();
  m.backoff = false;
}

/** Performs the effects as the shell would, checking each against the rules; `context` names the task a thread just answered for, or the thread that just died. */
function absorb(m: Model, r: Real, effects: readonly Effect[], context: { answered?: number; died?: { thread: number; task: number | undefined } } = {}): void {
  for (const effect of effects) {
    switch (effect.type) {
      case 'run': {
        const { task, thread } = effect;
        expect(m.threads.get(thread), `task ${task} sent to thread ${thread}`).toBe('idle');
        expect(m.idleTimers.has(thread), `thread ${thread} got a task with its idle timer armed`).toBe(false);
        expect(m.refused.has(task), `refused task ${task} ran`).toBe(false);
        expect(m.settled.has(task), `settled task ${task} ran`).toBe(false);
        expect(task, `task ${task} started after task ${m.started.at(-1)}`).toBeGreaterThan(m.started.at(-1) ?? -1);
        if (m.waiting.includes(task)) expect(m.waiting[0], 'a waiting task started before an older one').toBe(task);
        m.waiting = m.waiting.filter((each) => each !== task);
        m.threads.set(thread, 'busy');
        m.busyWith.set(thread, task);
        m.started.push(task);
        break;
      }
      case 'deliver': {
        expect(effect.task).toBe(context.answered);
        const thread = [...m.busyWith].find(([, task]) => task === effect.task)?.[0];
        expect(thread, `delivered task ${effect.task} was not running`).toBeDefined();
        settle(m, effect.task, 'delivered');
        m.threads.set(thread!, 'idle');
        break;
      }
      case 'reject':
        expect(m.settled.has(effect.task)).toBe(false);
        if (effect.reason === 'full') {
          expect(m.started.includes(effect.task)).toBe(false);
          m.refused.add(effect.task);
        }
        settle(m, effect.task, effect.reason);
        break;
      case 'startFailed':
        expect([...m.busyWith.values()].includes(effect.task), `running task ${effect.task} rejected as a start failure`).toBe(false);
        settle(m, effect.task, 'start_failed');
        break;
      case 'crashed':
        expect(context.died?.task, `task ${effect.task} reported crashed`).toBe(effect.task);
        settle(m, effect.task, 'crashed');
        break;
      case 'startThread': {
        expect(m.phase).toBe('running');
        expect(m.backoff, 'a thread started during the backoff').toBe(false);
        const thread = m.nextThread++;
        m.threads.set(thread, 'starting');
        expect(m.threads.size, 'more threads than maxThreads').toBeLessThanOrEqual(m.limits.maxThreads);
        expect(stepThreadQueue(r.state, { type: 'spawned', thread })).toEqual([]);
        break;
      }
      case 'endThread': {
        const phase = m.threads.get(effect.thread);
        expect(phase === 'idle' || (phase === 'busy' && !m.busyWith.has(effect.thread)), `ended thread ${effect.thread} was ${phase}`).toBe(true);
        expect(m.idleTimers.has(effect.thread)).toBe(false);
        m.threads.set(effect.thread, 'ending');
        break;
      }
      case 'armIdleTimer':
        expect(m.threads.get(effect.thread)).toBe('idle');
        expect(m.idleTimers.has(effect.thread)).toBe(false);
        m.idleTimers.set(effect.thread, effect.epoch);
        break;
      case 'cancelIdleTimer':
        expect(m.idleTimers.has(effect.thread)).toBe(true);
        m.staleTimers.push([effect.thread, m.idleTimers.get(effect.thread)!]);
        m.idleTimers.delete(effect.thread);
        break;
      case 'armBackoff':
        // Armed, or re-armed (longer) when a thread that was starting alongside dies too.
        expect(effect.failures).toBe(m.streak);
        m.backoff = true;
        break;
      case 'threadLost':
        expect(effect.thread).toBe(context.died?.thread);
        break;
      case 'failed':
        expect(m.streak).toBe(m.limits.maxStartFailures);
        endEnvironment(m, 'failed');
        break;
      case 'stopped':
        endEnvironment(m, 'stopped');
        break;
    }
  }
}

/** What must hold between any two events. */
function invariants(m: Model, r: Real): void {
  const { state } = r;
  expect([...state.waiting]).toEqual(m.waiting);
  expect(state.busy).toBe(m.busyWith.size);
  expect(state.waiting.size).toBe(m.waiting.length);
  expect(state.phase).toBe(m.phase);
  if (m.phase === 'stopped' || m.phase === 'failed') {
    expect(state.threads.size).toBe(0);
    return;
  }
  expect(state.threads.size).toBe(m.threads.size);
  expect(m.threads.size).toBeLessThanOrEqual(m.limits.maxThreads);
  expect(m.waiting.length).toBeLessThanOrEqual(m.limits.maxQueue + m.limits.maxThreads);
  expect(m.streak).toBeLessThan(m.limits.maxStartFailures);
  // An idle timer is armed only for an idle thread (a thread that died or took a task had it cancelled).
  for (const thread of m.idleTimers.keys()) expect(m.threads.get(thread)).toBe('idle');
  // No task waits while a thread is idle.
  if (m.waiting.length > 0) expect(count(m, 'idle')).toBe(0);
  if (m.phase !== 'running' || m.backoff) return;
  // Waiting tasks always have a thread on its way, unless every slot is taken.
  if (m.waiting.length > 0) expect(coming(m) > 0 || m.threads.size >= m.limits.maxThreads, 'tasks wait and no thread is coming').toBe(true);
  // minThreads are kept (one at a time after a start-up death).
  const atMinimum = coming(m) + loaded(m) >= m.limits.minThreads || m.threads.size >= m.limits.maxThreads || (m.streak > 0 && coming(m) > 0);
  expect(atMinimum, 'fewer threads than minThreads and none coming').toBe(true);
}

type Command = fc.Command<Model, Real>;

class Submit implements Command {
  constructor(readonly signal: boolean) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const task = m.nextTask++;
    let expected: 'run' | 'wait' | 'full' | 'stopped' | 'start_failed';
    if (m.phase === 'failed') expected = 'start_failed';
    else if (m.phase !== 'running') expected = 'stopped';
    else if (count(m, 'idle') > 0) expected = 'run';
    else if (m.waiting.length - coming(m) - headroom(m) >= m.limits.maxQueue) expected = 'full';
    else expected = 'wait';
    const effects = stepThreadQueue(r.state, { type: 'submit', task });
    if (expected === 'run') expect(effects.find((effect) => effect.type === 'run')?.task).toBe(task);
    else if (expected === 'full' || expected === 'stopped') expect(effects).toEqual([{ type: 'reject', task, reason: expected }]);
    else if (expected === 'start_failed') expect(effects).toEqual([{ type: 'startFailed', task, death: expect.anything() }]);
    else {
      expect(effects.every((effect) => effect.type === 'startThread')).toBe(true);
      m.waiting.push(task);
    }
    if (expected === 'run' || expected === 'wait') {
      if (this.signal) m.signals.add(task);
    }
    absorb(m, r, effects);
    invariants(m, r);
  }
  toString = () => `submit(${this.signal ? 'signal' : ''})`;
}

class Abort implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.signals.size > 0;
  run(m: Model, r: Real): void {
    const task = pick([...m.signals], this.index);
    const thread = [...m.busyWith].find(([, running]) => running === task)?.[0];
    const effects = stepThreadQueue(r.state, { type: 'abort', task, thread });
    expect(effects[0]).toEqual({ type: 'reject', task, reason: 'aborted' });
    if (thread !== undefined) expect(effects[1]).toEqual({ type: 'endThread', thread });
    absorb(m, r, effects);
    invariants(m, r);
  }
  toString = () => `abort(#${this.index})`;
}

class Ready implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => threadsIn(m as Model, 'starting').length > 0;
  run(m: Model, r: Real): void {
    const thread = pick(threadsIn(m, 'starting'), this.index);
    const head = m.waiting[0];
    m.threads.set(thread, 'idle');
    m.streak = 0;
    const effects = stepThreadQueue(r.state, { type: 'ready', thread });
    if (head !== undefined) expect(effects).toContainEqual({ type: 'run', task: head, thread });
    absorb(m, r, effects);
    invariants(m, r);
  }
  toString = () => `ready(#${this.index})`;
}

class Finish implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.busyWith.size > 0;
  run(m: Model, r: Real): void {
    const [thread, task] = pick([...m.busyWith], this.index);
    const head = m.waiting[0];
    const effects = stepThreadQueue(r.state, { type: 'settled', task, thread });
    expect(effects[0]).toEqual({ type: 'deliver', task });
    if (head !== undefined) expect(effects).toContainEqual({ type: 'run', task: head, thread });
    absorb(m, r, effects, { answered: task });
    invariants(m, r);
  }
  toString = () => `finish(#${this.index})`;
}

class Die implements Command {
  constructor(
    readonly phase: 'starting' | 'idle' | 'busy',
    readonly index: number,
  ) {}
  check = (m: Readonly<Model>) => this.candidates(m as Model).length > 0;
  private candidates(m: Model): number[] {
    // A busy thread without a task is being ended (its task was aborted): its exit is planned.
    return threadsIn(m, this.phase).filter((thread) => this.phase !== 'busy' || m.busyWith.has(thread));
  }
  run(m: Model, r: Real): void {
    const thread = pick(this.candidates(m), this.index);
    const task = m.busyWith.get(thread);
    m.threads.delete(thread);
    const waitingBefore = [...m.waiting];
    const effects = stepThreadQueue(r.state, { type: 'exited', thread, death: { thread } });
    const during = this.phase === 'busy' ? 'task' : this.phase === 'starting' ? 'startup' : 'idle';
    expect(effects).toContainEqual({ type: 'threadLost', thread, during, death: { thread } });
    if (task !== undefined) expect(effects).toContainEqual({ type: 'crashed', task, death: { thread } });
    if (this.phase === 'starting' && m.phase === 'running') {
      m.streak += 1;
      if (m.streak >= m.limits.maxStartFailures) {
        for (const waiting of waitingBefore) expect(effects).toContainEqual({ type: 'startFailed', task: waiting, death: { thread } });
        expect(effects.at(-1)).toEqual({ type: 'failed', death: { thread } });
      } else {
        expect(effects).toContainEqual({ type: 'armBackoff', failures: m.streak });
        // With no thread loaded and none coming, the waiting tasks fail now.
        const stranded = loaded(m) === 0 && coming(m) === 0;
        for (const waiting of waitingBefore) {
          const failed = effects.some((effect) => effect.type === 'startFailed' && effect.task === waiting);
          expect(failed, `waiting task ${waiting} after a start-up death (stranded: ${stranded})`).toBe(stranded);
        }
      }
    }
    absorb(m, r, effects, { died: { thread, task } });
    invariants(m, r);
  }
  toString = () => `die(${this.phase} #${this.index})`;
}

class EndedExit implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => threadsIn(m as Model, 'ending').length > 0;
  run(m: Model, r: Real): void {
    const thread = pick(threadsIn(m, 'ending'), this.index);
    m.threads.delete(thread);
    const effects = stepThreadQueue(r.state, { type: 'exited', thread, death: { thread } });
    expect(effects.some((effect) => effect.type === 'threadLost' || effect.type === 'crashed')).toBe(false);
    absorb(m, r, effects);
    invariants(m, r);
  }
  toString = () => `endedExit(#${this.index})`;
}

class IdleTimerFires implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.idleTimers.size > 0;
  run(m: Model, r: Real): void {
    const [thread, epoch] = pick([...m.idleTimers], this.index);
    m.idleTimers.delete(thread);
    const above = m.phase === 'running' && m.threads.size - count(m, 'ending') > m.limits.minThreads;
    const effects = stepThreadQueue(r.state, { type: 'idleTimeout', thread, epoch });
    expect(effects).toEqual(above ? [{ type: 'endThread', thread }] : []);
    absorb(m, r, effects);
    invariants(m, r);
  }
  toString = () => `idleTimer(#${this.index})`;
}

class StaleTimerFires implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.staleTimers.length > 0;
  run(m: Model, r: Real): void {
    const [thread, epoch] = pick(m.staleTimers, this.index);
    expect(stepThreadQueue(r.state, { type: 'idleTimeout', thread, epoch })).toEqual([]);
    invariants(m, r);
  }
  toString = () => `staleTimer(#${this.index})`;
}

class BackoffElapses implements Command {
  check = (m: Readonly<Model>) => m.backoff;
  run(m: Model, r: Real): void {
    m.backoff = false;
    absorb(m, r, stepThreadQueue(r.state, { type: 'backoffElapsed' }));
    invariants(m, r);
  }
  toString = () => 'backoffElapsed';
}

/** A thread answers for a task that was settled otherwise, or one ended by stop reports its exit: nothing happens. */
class LateReport implements Command {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.answeredLate.length + m.gone.length > 0;
  run(m: Model, r: Real): void {
    const late: Array<ThreadQueueEvent<number, Death>> = [
      ...m.answeredLate.map(([task, thread]) => ({ type: 'settled' as const, task, thread })),
      ...m.gone.map((thread) => ({ type: 'exited' as const, thread, death: { thread } })),
      ...m.gone.map((thread) => ({ type: 'ready' as const, thread })),
    ];
    expect(stepThreadQueue(r.state, pick(late, this.index))).toEqual([]);
    invariants(m, r);
  }
  toString = () => `late(#${this.index})`;
}

class Drain implements Command {
  check = (m: Readonly<Model>) => m.phase === 'running';
  run(m: Model, r: Real): void {
    const waiting = [...m.waiting];
    const effects = stepThreadQueue(r.state, { type: 'drain' });
    for (const task of waiting) expect(effects).toContainEqual({ type: 'reject', task, reason: 'stopped' });
    m.phase = 'draining';
    absorb(m, r, effects);
    if (m.busyWith.size === 0) expect(m.phase).toBe('stopped');
    invariants(m, r);
  }
  toString = () => 'drain';
}

class Stop implements Command {
  check = (m: Readonly<Model>) => m.phase === 'running' || m.phase === 'draining';
  run(m: Model, r: Real): void {
    stop(m, r);
    invariants(m, r);
  }
  toString = () => 'stop';
}

function stop(m: Model, r: Real): void {
  const unsettled = [...m.waiting, ...m.busyWith.values()];
  const effects = stepThreadQueue(r.state, { type: 'stop' });
  if (m.phase === 'running' || m.phase === 'draining') {
    for (const task of unsettled) expect(effects).toContainEqual({ type: 'reject', task, reason: 'stopped' });
    expect(effects.at(-1)).toEqual({ type: 'stopped' });
  } else {
    expect(effects).toEqual([]);
  }
  absorb(m, r, effects);
}

const index = fc.nat({ max: 20 });
const commands = [
  fc.boolean().map((signal) => new Submit(signal)),
  fc.boolean().map((signal) => new Submit(signal)),
  fc.boolean().map((signal) => new Submit(signal)),
  index.map((at) => new Abort(at)),
  index.map((at) => new Ready(at)),
  index.map((at) => new Ready(at)),
  index.map((at) => new Finish(at)),
  index.map((at) => new Finish(at)),
  index.map((at) => new Finish(at)),
  fc.tuple(fc.constantFrom('starting' as const, 'idle' as const, 'busy' as const), index).map(([phase, at]) => new Die(phase, at)),
  fc.tuple(fc.constantFrom('starting' as const, 'idle' as const, 'busy' as const), index).map(([phase, at]) => new Die(phase, at)),
  index.map((at) => new EndedExit(at)),
  index.map((at) => new IdleTimerFires(at)),
  index.map((at) => new StaleTimerFires(at)),
  fc.constant(new BackoffElapses()),
  fc.constant(new BackoffElapses()),
  index.map((at) => new LateReport(at)),
  fc.constant(new Drain()),
  fc.constant(new Stop()),
];

const limitsArbitrary: fc.Arbitrary<ThreadQueueLimits> = fc
  .record({
    minThreads: fc.nat({ max: 2 }),
    extraThreads: fc.nat({ max: 2 }),
    maxQueue: fc.oneof(fc.nat({ max: 3 }), fc.constant(Number.POSITIVE_INFINITY)),
    maxStartFailures: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ minThreads, extraThreads, maxQueue, maxStartFailures }) => ({
    minThreads,
    maxThreads: Math.max(1, minThreads + extraThreads),
    maxQueue,
    maxStartFailures,
  }));

function setUp(limits: ThreadQueueLimits): { model: Model; real: Real } {
  const model: Model = {
    limits,
    phase: 'running',
    nextTask: 0,
    nextThread: 1,
    threads: new Map(),
    busyWith: new Map(),
    waiting: [],
    signals: new Set(),
    settled: new Map(),
    refused: new Set(),
    started: [],
    idleTimers: new Map(),
    staleTimers: [],
    backoff: false,
    streak: 0,
    gone: [],
    answeredLate: [],
  };
  const { state, effects } = createThreadQueue<number, Death>(limits);
  const real: Real = { state };
  expect(effects).toEqual(Array.from({ length: limits.minThreads }, () => ({ type: 'startThread' })));
  absorb(model, real, effects);
  invariants(model, real);
  return { model, real };
}

describe('thread pool accounting (model-based)', () => {
  it('a refused task never runs, at most maxQueue tasks wait beyond the threads coming for them, tasks start in submission order on idle loaded threads, thread starts stay within maxThreads and the backoff, and every task settles exactly once', () => {
    fc.assert(
      fc.property(limitsArbitrary, fc.commands(commands, { maxCommands: 80, size: 'max' }), (limits, script) => {
        const { model, real } = setUp(limits);
        fc.modelRun(() => ({ model, real }), script);
        stop(model, real);
        for (let task = 0; task < model.nextTask; task += 1) expect(model.settled.has(task), `task ${task} never settled`).toBe(true);
        expect(real.state.threads.size).toBe(0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('the waiting queue', () => {
  it('yields tasks oldest first, skips withdrawn ones, and counts them, across compactions', () => {
    const operation = fc.oneof(
      { arbitrary: fc.constant({ kind: 'add' as const, count: 1 }), weight: 3 },
      { arbitrary: fc.integer({ min: 1, max: 1500 }).map((count) => ({ kind: 'add' as const, count })), weight: 1 },
      { arbitrary: fc.integer({ min: 1, max: 1500 }).map((count) => ({ kind: 'take' as const, count })), weight: 3 },
      { arbitrary: fc.nat().map((at) => ({ kind: 'withdraw' as const, at })), weight: 2 },
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const queue = new WaitingTasks<number>();
        let model: number[] = [];
        let next = 0;
        for (const operation of operations) {
          if (operation.kind === 'add') {
            for (let index = 0; index < operation.count; index += 1) {
              queue.add(next);
              model.push(next);
              next += 1;
            }
          } else if (operation.kind === 'take') {
            for (let index = 0; index < operation.count; index += 1) expect(queue.take()).toBe(model.shift());
          } else if (model.length > 0) {
            const task = model[operation.at % model.length]!;
            queue.withdraw(task);
            model = model.filter((each) => each !== task);
          }
          expect(queue.size).toBe(model.length);
        }
        expect([...queue]).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});
