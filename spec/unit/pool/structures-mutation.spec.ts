import { describe, expect, it } from 'vitest';
import { IdleWorkers } from '../../../src/pool/idle-workers.js';
import { WaiterQueue, type QueueNode } from '../../../src/pool/waiter-queue.js';
import { resolveCheckoutOptions, resolvePoolOptions } from '../../../src/pool/options.js';
import { ConfigError } from '../../../src/index.js';

type Item = { id: number; state: string };
const items = (count: number): Item[] => Array.from({ length: count }, (_, id) => ({ id, state: 'idle' }));

describe('idle workers deque', () => {
  it('keeps every worker, in order, past its initial capacity (lifo and fifo)', () => {
    for (const strategy of ['lifo', 'fifo'] as const) {
      const deque = new IdleWorkers<Item>();
      const all = items(40);
      for (const item of all) deque.add(item);
      expect(deque.count).toBe(40);
      const taken: number[] = [];
      for (let item = deque.take(strategy); item; item = deque.take(strategy)) taken.push(item.id);
      const ids = all.map((item) => item.id);
      expect(taken).toEqual(strategy === 'fifo' ? ids : [...ids].reverse());
      expect(deque.count).toBe(0);
      expect(deque.take(strategy)).toBeUndefined();
    }
  });

  it('keeps order when it grows after wrapping around', () => {
    const deque = new IdleWorkers<Item>();
    const all = items(30);
    for (const item of all.slice(0, 6)) deque.add(item);
    expect(deque.take('fifo')?.id).toBe(0);
    expect(deque.take('fifo')?.id).toBe(1);
    expect(deque.take('fifo')?.id).toBe(2);
    for (const item of all.slice(6)) deque.add(item);
    expect(deque.drain().map((item) => item.id)).toEqual(all.slice(3).map((item) => item.id));
  });

  it('drain returns every live worker, the longest idle first, and empties it', () => {
    const deque = new IdleWorkers<Item>();
    const all = items(5);
    for (const item of all) deque.add(item);
    all[2]!.state = 'dead';
    deque.forget();
    expect(deque.drain().map((item) => item.id)).toEqual([0, 1, 3, 4]);
    expect(deque.count).toBe(0);
    expect(deque.drain()).toEqual([]);
    const again = { id: 7, state: 'idle' };
    deque.add(again);
    expect(deque.count).toBe(1);
    expect(deque.take('fifo')).toBe(again);
    deque.add(again);
    expect(deque.take('lifo')).toBe(again);
  });

  it('compacting a full ring keeps each live worker once', () => {
    const deque = new IdleWorkers<Item>();
    const all = items(64);
    for (const item of all) deque.add(item);
    // the ring is exactly full (capacity 64); kill 33 workers but not the one at the head
    for (let index = 1; index <= 33; index += 1) {
      all[index]!.state = 'dead';
      deque.forget();
    }
    const live = [0, ...all.slice(34).map((item) => item.id)];
    expect(deque.count).toBe(live.length);
    expect(deque.drain().map((item) => item.id)).toEqual(live);
  });

  it('skips dead workers, and after compaction keeps the live ones in order', () => {
    for (const [size, dead] of [
      [40, 20],
      [40, 35],
      [100, 60],
      [20, 17],
      [20, 18],
    ] as const) {
      for (const strategy of ['lifo', 'fifo'] as const) {
        const deque = new IdleWorkers<Item>();
        const all = items(size);
        for (const item of all) deque.add(item);
        // kill the oldest ones one by one (below the working set under lifo)
        for (let index = 0; index < dead; index += 1) {
          all[index]!.state = 'dead';
          deque.forget();
          expect(deque.count).toBe(size - index - 1);
        }
        const live = all.slice(dead).map((item) => item.id);
        // adding after compaction keeps working
        const extra = { id: 999, state: 'idle' };
        deque.add(extra);
        const taken: number[] = [];
        for (let item = deque.take(strategy); item; item = deque.take(strategy)) taken.push(item.id);
        const expected = [...live, 999];
        expect(taken).toEqual(strategy === 'fifo' ? expected : expected.reverse());
      }
    }
  });

  it('compacts when the dead outnumber the live, dropping references to the dead', () => {
    const deque = new IdleWorkers<Item>();
    const all = items(40);
    for (const item of all) deque.add(item);
    const inner = deque as unknown as { items: Array<Item | undefined>; length: number };
    // 16 dead of 40: no compaction yet (24 live > 16)
    for (let index = 0; index < 16; index += 1) {
      all[index]!.state = 'dead';
      deque.forget();
    }
    expect(inner.length).toBe(40);
    // dead 17, live 23: 17 > max(16, 23)? no
    all[16]!.state = 'dead';
    deque.forget();
    expect(inner.length).toBe(40);
    // kill until dead > live and > 16: dead 21, live 19
    for (let index = 17; index < 21; index += 1) {
      all[index]!.state = 'dead';
      deque.forget();
    }
    expect(inner.length).toBe(19);
    expect(inner.items.filter((item) => item !== undefined)).toHaveLength(19);
    expect(inner.items.length).toBe(38);
    expect(inner.items.some((item) => item?.state === 'dead')).toBe(false);
  });

  it('does not compact while the dead are 16 or fewer, even when they outnumber the live', () => {
    const deque = new IdleWorkers<Item>();
    const all = items(20);
    for (const item of all) deque.add(item);
    const inner = deque as unknown as { items: Array<Item | undefined>; length: number };
    for (let index = 0; index < 16; index += 1) {
      all[index]!.state = 'dead';
      deque.forget();
    }
    expect(inner.length).toBe(20);
    all[16]!.state = 'dead';
    deque.forget();
    expect(inner.length).toBe(3);
    expect(inner.items.length).toBe(8);
  });
});

describe('waiter queue', () => {
  const node = (): QueueNode & { id: number } => ({ previous: undefined, next: undefined, queued: false, id: 0 });

  it('counts pushes and removals, and removing twice counts once', () => {
    const queue = new WaiterQueue<QueueNode & { id: number }>();
    expect(queue.length).toBe(0);
    const [a, b, c] = [node(), node(), node()];
    a.id = 1;
    b.id = 2;
    c.id = 3;
    queue.push(a);
    queue.push(b);
    queue.push(c);
    expect(queue.length).toBe(3);
    queue.remove(b);
    expect(b.queued).toBe(false);
    expect(queue.length).toBe(2);
    queue.remove(b);
    expect(queue.length).toBe(2);
    expect(queue.shift()?.id).toBe(1);
    expect(queue.length).toBe(1);
    queue.remove(a);
    expect(queue.length).toBe(1);
    expect(queue.shift()?.id).toBe(3);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('removing an already shifted node leaves the others linked', () => {
    const queue = new WaiterQueue<QueueNode & { id: number }>();
    const [a, b] = [node(), node()];
    a.id = 1;
    b.id = 2;
    queue.push(a);
    expect(queue.shift()).toBe(a);
    queue.push(b);
    queue.remove(a);
    expect(queue.length).toBe(1);
    expect(queue.shift()).toBe(b);
  });
});

describe('pool option validation names the option', () => {
  const worker = { create: () => ({}) };
  const configError = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('did not throw');
  };

  it('refuses options that are not an object', () => {
    const error = configError(() => resolvePoolOptions(null));
    expect(error.option).toBe('options');
    expect(error.message).toBe('Invalid option options: expected an object, got null');
  });

  it('refuses a worker that is not a factory', () => {
    for (const bad of [undefined, null, 5, {}, { create: 1 }]) {
      const error = configError(() => resolvePoolOptions({ name: 'p', worker: bad }));
      expect(error.option).toBe('worker');
      expect(error.message).toMatch(/^Invalid option worker: expected a factory \{ create\(ctx\), destroy\?\(worker\) \}, got /);
    }
  });

  it('refuses a destroy or retireOnRelease that is not a function', () => {
    const destroy = configError(() => resolvePoolOptions({ name: 'p', worker: { create: () => 1, destroy: 5 } }));
    expect(destroy.option).toBe('worker.destroy');
    expect(destroy.value).toBe(5);
    expect(destroy.message).toMatch(/^Invalid option worker\.destroy: expected a function, got /);
    const retire = configError(() => resolvePoolOptions({ name: 'p', worker: { create: () => 1, retireOnRelease: 'x' } }));
    expect(retire.option).toBe('worker.retireOnRelease');
    expect(retire.message).toMatch(/^Invalid option worker\.retireOnRelease: expected a function, got /);
  });

  it('accepts a factory with destroy and retireOnRelease functions', () => {
    const factory = { create: () => 1, destroy: () => undefined, retireOnRelease: () => undefined };
    expect(resolvePoolOptions({ name: 'p', worker: factory }).worker).toBe(factory);
  });

  it('defaults the strategy to lifo and refuses another', () => {
    expect(resolvePoolOptions({ name: 'p', worker }).strategy).toBe('lifo');
    const error = configError(() => resolvePoolOptions({ name: 'p', worker, strategy: 'random' }));
    expect(error.option).toBe('strategy');
    expect(error.message).toMatch(/^Invalid option strategy: expected one of 'lifo', 'fifo', got /);
  });

  it('refuses a telemetry that is not one, naming it', () => {
    const error = configError(() => resolvePoolOptions({ name: 'p', worker, telemetry: {} }));
    expect(error.option).toBe('telemetry');
  });

  it('refuses a negative or NaN timeout with the timeout expectation', () => {
    for (const [run, option] of [
      [() => resolvePoolOptions({ name: 'p', worker, checkoutTimeoutMs: -1 }), 'checkoutTimeoutMs'],
      [() => resolveCheckoutOptions({ timeoutMs: Number.NaN }, 5), 'timeoutMs'],
      [() => resolveCheckoutOptions({ timeoutMs: '5' }, 5), 'timeoutMs'],
    ] as const) {
      const error = configError(run);
      expect(error.option).toBe(option);
      expect(error.message).toMatch(new RegExp(`^Invalid option ${option}: expected a number >= 0 \\(Infinity to wait for ever\\), got `));
    }
    expect(resolveCheckoutOptions({ timeoutMs: Number.POSITIVE_INFINITY }, 5).timeoutMs).toBe(Number.POSITIVE_INFINITY);
    expect(resolveCheckoutOptions({}, 7)).toEqual({ block: true, timeoutMs: 7, signal: undefined });
  });
});
