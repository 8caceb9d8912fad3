import { describe, expect, it } from 'vitest';
import {
  WaitingTasks,
  createThreadQueue,
  stepThreadQueue,
  type ThreadQueueEffect,
  type ThreadQueueEvent,
  type ThreadQueueLimits,
} from '../../../src/pool/thread-queue.js';

/**
 * Exact effects and counts of the thread pool's accounting (src/pool/thread-queue.ts) in the
 * corners the model-based property spec reaches only rarely: guards that drop late or foreign
 * reports, idle timers at the minimum, start-up deaths while draining, compaction of the queue.
 */

type Task = string | undefined;
type Effect = ThreadQueueEffect<Task, string>;

function queue(limits: Partial<ThreadQueueLimits> = {}) {
  const { state, effects } = createThreadQueue<Task, string>({
    minThreads: 0,
    maxThreads: 2,
    maxQueue: Infinity,
    maxStartFailures: 5,
    ...limits,
  });
  const step = (event: ThreadQueueEvent<Task, string>): Effect[] => [...stepThreadQueue(state, event)];
  return { state, initial: effects, step };
}

/** Items held by the waiting array, consumed head included (private; read to pin the compaction). */
function held(waiting: WaitingTasks<unknown>): { items: number; head: number } {
  const inner = waiting as unknown as { items: unknown[]; head: number };
  return { items: inner.items.length, head: inner.head };
}

describe('WaitingTasks', () => {
  it('a task withdrawn as the last one waiting can wait again when added anew', () => {
    const waiting = new WaitingTasks<string>();
    waiting.add('a');
    waiting.withdraw('a');
    waiting.add('a');
    expect([...waiting]).toEqual(['a']);
    expect(waiting.size).toBe(1);
    expect(waiting.take()).toBe('a');
  });

  it('taking the last waiting task forgets the withdrawn ones behind it', () => {
    const waiting = new WaitingTasks<string>();
    waiting.add('a');
    waiting.add('b');
    waiting.withdraw('b');
    expect(waiting.take()).toBe('a');
    expect(waiting.size).toBe(0);
    expect(held(waiting)).toEqual({ items: 0, head: 0 });
    waiting.add('b');
    expect([...waiting]).toEqual(['b']);
    expect(waiting.take()).toBe('b');
  });

  it('does not compact a short queue however much of it was consumed', () => {
    const waiting = new WaitingTasks<number>();
    for (let index = 0; index < 10; index += 1) waiting.add(index);
    for (let index = 0; index < 5; index += 1) expect(waiting.take()).toBe(index);
    expect(held(waiting)).toEqual({ items: 10, head: 5 });
    expect([...waiting]).toEqual([5, 6, 7, 8, 9]);
  });

  it('compacts once 1024 are consumed and they are half the array, keeping the order', () => {
    const waiting = new WaitingTasks<number>();
    for (let index = 0; index < 2048; index += 1) waiting.add(index);
    for (let index = 0; index < 1023; index += 1) expect(waiting.take()).toBe(index);
    expect(held(waiting)).toEqual({ items: 2048, head: 1023 });
    expect(waiting.take()).toBe(1023);
    expect(held(waiting)).toEqual({ items: 1024, head: 0 });
    for (let index = 1024; index < 2048; index += 1) expect(waiting.take()).toBe(index);
    expect(waiting.take()).toBeUndefined();
  });

  it('does not compact while the consumed head is less than half of a long array', () => {
    const waiting = new WaitingTasks<number>();
    for (let index = 0; index < 4096; index += 1) waiting.add(index);
    for (let index = 0; index < 2047; index += 1) expect(waiting.take()).toBe(index);
    expect(held(waiting)).toEqual({ items: 4096, head: 2047 });
    expect(waiting.take()).toBe(2047);
    expect(held(waiting)).toEqual({ items: 2048, head: 0 });
    expect(waiting.take()).toBe(2048);
    expect(waiting.size).toBe(2047);
  });
});

/** A pool with threads 1 and 2 loaded and running t1 and t2. */
function twoBusy(limits: Partial<ThreadQueueLimits> = {}) {
  const q = queue(limits);
  q.step({ type: 'submit', task: 't1' });
  q.step({ type: 'submit', task: 't2' });
  q.step({ type: 'spawned', thread: 1 });
  q.step({ type: 'spawned', thread: 2 });
  expect(q.step({ type: 'ready', thread: 1 })).toEqual([{ type: 'run', task: 't1', thread: 1 }]);
  expect(q.step({ type: 'ready', thread: 2 })).toEqual([{ type: 'run', task: 't2', thread: 2 }]);
  return q;
}

describe('thread queue: submit and settle', () => {
  it('a task submitted to an idle thread gives exactly the run (cancelling its idle timer)', () => {
    const q = twoBusy();
    expect(q.step({ type: 'settled', task: 't1', thread: 1 })).toEqual([
      { type: 'deliver', task: 't1' },
      { type: 'armIdleTimer', thread: 1, epoch: 1 },
    ]);
    expect(q.step({ type: 'submit', task: 't3' })).toEqual([
      { type: 'cancelIdleTimer', thread: 1 },
      { type: 'run', task: 't3', thread: 1 },
    ]);
    expect(q.state.busy).toBe(2);
  });

  it('a task submitted to an idle thread at the minimum gives only the run', () => {
    const q = queue({ minThreads: 1 });
    expect(q.initial).toEqual([{ type: 'startThread' }]);
    q.step({ type: 'spawned', thread: 1 });
    expect(q.step({ type: 'ready', thread: 1 })).toEqual([]);
    expect(q.step({ type: 'submit', task: 't1' })).toEqual([{ type: 'run', task: 't1', thread: 1 }]);
  });

  it('drops an outcome reported for a task the thread does not run', () => {
    const q = twoBusy();
    expect(q.step({ type: 'settled', task: 'other', thread: 1 })).toEqual([]);
    expect(q.step({ type: 'settled', task: 't2', thread: 1 })).toEqual([]);
    expect(q.state.busy).toBe(2);
  });

  it('drops an outcome reported for an idle thread, even for an undefined task', () => {
    const q = queue({ minThreads: 1 });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'ready', thread: 1 });
    expect(q.step({ type: 'settled', task: undefined, thread: 1 })).toEqual([]);
    expect(q.state.busy).toBe(0);
    expect(q.state.idle).toEqual([1]);
  });

  it('each idle period gets a fresh epoch', () => {
    const q = twoBusy();
    expect(q.step({ type: 'settled', task: 't1', thread: 1 })).toEqual([
      { type: 'deliver', task: 't1' },
      { type: 'armIdleTimer', thread: 1, epoch: 1 },
    ]);
    expect(q.step({ type: 'settled', task: 't2', thread: 2 })).toEqual([
      { type: 'deliver', task: 't2' },
      { type: 'armIdleTimer', thread: 2, epoch: 2 },
    ]);
  });
});

describe('thread queue: abort', () => {
  it('aborting a running task retires its thread and replaces it up to the minimum', () => {
    const q = queue({ minThreads: 1 });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'ready', thread: 1 });
    q.step({ type: 'submit', task: 't1' });
    expect(q.step({ type: 'abort', task: 't1', thread: 1 })).toEqual([
      { type: 'reject', task: 't1', reason: 'aborted' },
      { type: 'endThread', thread: 1 },
      { type: 'startThread' },
    ]);
    expect(q.state.busy).toBe(0);
    expect(q.state.retiring).toBe(1);
    expect(q.state.threads.get(1)?.phase).toBe('retiring');
    expect(q.step({ type: 'exited', thread: 1, death: 'ended' })).toEqual([]);
    expect(q.state.retiring).toBe(0);
  });

  it('ignores an abort for a thread that does not exist, runs another task, or runs nothing', () => {
    const q = twoBusy();
    expect(q.step({ type: 'abort', task: 't1', thread: 99 })).toEqual([]);
    expect(q.step({ type: 'abort', task: 't1', thread: 2 })).toEqual([]);
    q.step({ type: 'settled', task: 't1', thread: 1 });
    expect(q.step({ type: 'abort', task: undefined, thread: 1 })).toEqual([]);
    expect(q.state.busy).toBe(1);
    expect(q.state.retiring).toBe(0);
  });

  it('ignores an abort once the pool has stopped', () => {
    const q = queue({ maxThreads: 1 });
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'stop' });
    expect(q.step({ type: 'abort', task: 't1', thread: undefined })).toEqual([]);
  });
});

describe('thread queue: spawned and ready', () => {
  it('ignores a spawned report nobody asked for, and a second one for the same thread', () => {
    const q = queue();
    expect(q.step({ type: 'spawned', thread: 5 })).toEqual([]);
    expect(q.state.threads.has(5)).toBe(false);
    expect(q.state.starting).toBe(0);
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'submit', task: 't2' });
    expect(q.state.spawning).toBe(2);
    q.step({ type: 'spawned', thread: 1 });
    expect(q.step({ type: 'spawned', thread: 1 })).toEqual([]);
    expect(q.state.spawning).toBe(1);
    expect(q.state.starting).toBe(1);
  });

  it('ignores a second ready from a loaded thread', () => {
    const q = twoBusy();
    expect(q.step({ type: 'ready', thread: 1 })).toEqual([]);
    expect(q.state.starting).toBe(0);
    expect(q.state.busy).toBe(2);
    expect(q.state.threads.get(1)?.task).toBe('t1');
  });
});

describe('thread queue: deaths', () => {
  it('an idle thread with an idle timer dies: the timer is cancelled and the loss reported as idle', () => {
    const q = twoBusy();
    q.step({ type: 'settled', task: 't1', thread: 1 });
    expect(q.step({ type: 'exited', thread: 1, death: 'd' })).toEqual([
      { type: 'cancelIdleTimer', thread: 1 },
      { type: 'threadLost', thread: 1, during: 'idle', death: 'd' },
    ]);
    expect(q.state.idle).toEqual([]);
  });

  it('an idle thread at the minimum dies: no timer to cancel, a replacement starts', () => {
    const q = queue({ minThreads: 1 });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'ready', thread: 1 });
    expect(q.step({ type: 'exited', thread: 1, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 1, during: 'idle', death: 'd' },
      { type: 'startThread' },
    ]);
  });

  it('a busy thread dies: its loss is reported as during a task and its task crashed', () => {
    const q = twoBusy();
    expect(q.step({ type: 'exited', thread: 1, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 1, during: 'task', death: 'd' },
      { type: 'crashed', task: 't1', death: 'd' },
    ]);
    expect(q.state.busy).toBe(1);
  });

  it('the only thread dies while starting: the waiting tasks fail at once and a backoff is armed', () => {
    const q = queue({ maxThreads: 1 });
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'spawned', thread: 1 });
    expect(q.step({ type: 'exited', thread: 1, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 1, during: 'startup', death: 'd' },
      { type: 'startFailed', task: 't1', death: 'd' },
      { type: 'armBackoff', failures: 1 },
    ]);
    expect(q.state.waiting.size).toBe(0);
  });

  it('a thread dies while starting beside a loaded one: the waiting task keeps waiting; after the backoff one thread probes', () => {
    const q = queue({ maxThreads: 3 });
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'ready', thread: 1 });
    expect(q.step({ type: 'submit', task: 't2' })).toEqual([{ type: 'startThread' }]);
    q.step({ type: 'spawned', thread: 2 });
    expect(q.step({ type: 'exited', thread: 2, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 2, during: 'startup', death: 'd' },
      { type: 'armBackoff', failures: 1 },
    ]);
    expect([...q.state.waiting]).toEqual(['t2']);
    expect(q.step({ type: 'submit', task: 't3' })).toEqual([]);
    expect(q.step({ type: 'backoffElapsed' })).toEqual([{ type: 'startThread' }]);
    expect(q.state.spawning).toBe(1);
    expect(q.state.backoff).toBe(false);
    expect(q.step({ type: 'backoffElapsed' })).toEqual([]);
  });

  it('a thread that dies while starting in a draining pool counts no start-up failure', () => {
    const q = twoBusy({ maxThreads: 3 });
    q.step({ type: 'submit', task: 't3' });
    q.step({ type: 'spawned', thread: 3 });
    expect(q.step({ type: 'drain' })).toEqual([{ type: 'reject', task: 't3', reason: 'stopped' }]);
    expect(q.step({ type: 'exited', thread: 3, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 3, during: 'startup', death: 'd' },
    ]);
    expect(q.state.startFailures).toBe(0);
    expect(q.state.backoff).toBe(false);
  });

  it('the last allowed start-up death fails the pool: waiting tasks fail, running ones are rejected', () => {
    const q = queue({ maxStartFailures: 1 });
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'ready', thread: 1 });
    q.step({ type: 'submit', task: 't2' });
    q.step({ type: 'spawned', thread: 2 });
    expect(q.step({ type: 'exited', thread: 2, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 2, during: 'startup', death: 'd' },
      { type: 'startFailed', task: 't2', death: 'd' },
      { type: 'reject', task: 't1', reason: 'stopped' },
      { type: 'failed', death: 'd' },
    ]);
    expect(q.state.phase).toBe('failed');
    expect(q.step({ type: 'abort', task: 't3', thread: undefined })).toEqual([]);
    expect(q.step({ type: 'stop' })).toEqual([]);
    expect(q.step({ type: 'drain' })).toEqual([]);
    expect(q.step({ type: 'submit', task: 't4' })).toEqual([{ type: 'startFailed', task: 't4', death: 'd' }]);
  });
});

describe('thread queue: idle timers', () => {
  /** minThreads 1, maxThreads 2; threads 1 and 2 idle, each with a timer (epochs 1 and 2). */
  function twoIdle() {
    const q = twoBusy({ minThreads: 1 });
    q.step({ type: 'settled', task: 't1', thread: 1 });
    q.step({ type: 'settled', task: 't2', thread: 2 });
    return q;
  }

  it('ignores a timeout for an unknown thread or from an earlier idle period', () => {
    const q = twoIdle();
    expect(q.step({ type: 'idleTimeout', thread: 9, epoch: 1 })).toEqual([]);
    q.step({ type: 'submit', task: 't3' });
    q.step({ type: 'settled', task: 't3', thread: 2 });
    expect(q.state.threads.get(2)?.idleEpoch).toBe(3);
    expect(q.step({ type: 'idleTimeout', thread: 2, epoch: 2 })).toEqual([]);
    expect(q.state.retiring).toBe(0);
  });

  it('retires an idle thread above the minimum, and keeps the last one at the minimum', () => {
    const q = twoIdle();
    expect(q.step({ type: 'idleTimeout', thread: 1, epoch: 1 })).toEqual([{ type: 'endThread', thread: 1 }]);
    expect(q.state.retiring).toBe(1);
    expect(q.state.idle).toEqual([2]);
    expect(q.step({ type: 'idleTimeout', thread: 2, epoch: 2 })).toEqual([]);
    expect(q.state.threads.get(2)?.idleTimerArmed).toBe(false);
    // Its timer fired: its death cancels none.
    expect(q.step({ type: 'exited', thread: 2, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 2, during: 'idle', death: 'd' },
      { type: 'startThread' },
    ]);
  });

  it('a thread that ran a task while another retires idles without a timer at the minimum', () => {
    const q = twoIdle();
    expect(q.step({ type: 'submit', task: 't3' })).toEqual([
      { type: 'cancelIdleTimer', thread: 2 },
      { type: 'run', task: 't3', thread: 2 },
    ]);
    expect(q.state.threads.get(2)?.idleTimerArmed).toBe(false);
    expect(q.step({ type: 'idleTimeout', thread: 1, epoch: 1 })).toEqual([{ type: 'endThread', thread: 1 }]);
    expect(q.step({ type: 'settled', task: 't3', thread: 2 })).toEqual([{ type: 'deliver', task: 't3' }]);
    expect(q.step({ type: 'exited', thread: 2, death: 'd' })).toEqual([
      { type: 'threadLost', thread: 2, during: 'idle', death: 'd' },
      { type: 'startThread' },
    ]);
  });

  it('a draining pool retires no idle thread on its timer and arms no new timer', () => {
    const q = twoBusy({ minThreads: 0, maxThreads: 3 });
    q.step({ type: 'submit', task: 't3' });
    q.step({ type: 'spawned', thread: 3 });
    q.step({ type: 'ready', thread: 3 });
    q.step({ type: 'settled', task: 't1', thread: 1 });
    expect(q.step({ type: 'drain' })).toEqual([]);
    expect(q.step({ type: 'idleTimeout', thread: 1, epoch: 1 })).toEqual([]);
    expect(q.state.retiring).toBe(0);
    expect(q.step({ type: 'settled', task: 't2', thread: 2 })).toEqual([{ type: 'deliver', task: 't2' }]);
    expect(q.step({ type: 'settled', task: 't3', thread: 3 })).toEqual([{ type: 'deliver', task: 't3' }, { type: 'stopped' }]);
  });

  it('a thread freed at the minimum arms no idle timer', () => {
    const q = queue({ minThreads: 1, maxThreads: 1 });
    q.step({ type: 'spawned', thread: 1 });
    expect(q.step({ type: 'ready', thread: 1 })).toEqual([]);
    q.step({ type: 'submit', task: 't1' });
    expect(q.step({ type: 'settled', task: 't1', thread: 1 })).toEqual([{ type: 'deliver', task: 't1' }]);
  });
});

describe('thread queue: drain and stop', () => {
  it('drain and abort after stop change nothing; stop forgets every count', () => {
    const q = twoBusy();
    q.step({ type: 'submit', task: 't3' });
    expect(q.step({ type: 'stop' })).toEqual([
      { type: 'reject', task: 't3', reason: 'stopped' },
      { type: 'reject', task: 't1', reason: 'stopped' },
      { type: 'reject', task: 't2', reason: 'stopped' },
      { type: 'stopped' },
    ]);
    expect(q.step({ type: 'drain' })).toEqual([]);
    expect(q.step({ type: 'stop' })).toEqual([]);
    expect(q.step({ type: 'abort', task: 't3', thread: undefined })).toEqual([]);
    expect(q.state.phase).toBe('stopped');
  });

  it('stop during a backoff clears the backoff', () => {
    const q = queue({ maxThreads: 1 });
    q.step({ type: 'submit', task: 't1' });
    q.step({ type: 'spawned', thread: 1 });
    q.step({ type: 'exited', thread: 1, death: 'd' });
    expect(q.state.backoff).toBe(true);
    expect(q.step({ type: 'stop' })).toEqual([{ type: 'stopped' }]);
    expect(q.state.backoff).toBe(false);
  });

  it('a thread dying in a pool with nothing else emits exactly its loss', () => {
    const q = twoBusy();
    q.step({ type: 'abort', task: 't1', thread: 1 });
    expect(q.step({ type: 'exited', thread: 1, death: 'ended' })).toEqual([]);
  });
});
