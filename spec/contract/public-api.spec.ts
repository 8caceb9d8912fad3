import type { AnyActorRef } from 'xstate';
import { createActor, createMachine } from 'xstate';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import * as overseer from '../../src/index.js';
import {
  ConfigError,
  SupervisorError,
  Telemetry,
  TelemetryEvents,
  createTelemetry,
  createTestClock,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  systemClock,
  telemetry,
  type ChildCounts,
  type ChildInfo,
  type ChildSpec,
  type Clock,
  type DynamicSupervisor,
  type Supervisor,
  type SupervisorSpec,
  type TelemetryEvent,
  type TestClock,
} from '../../src/index.js';

// This spec reads the package the way code outside the repository does: only through its entry,
// against the names and shapes written in ../shared/API.md (sections Time, Telemetry, Supervision).

const idle = createMachine({ id: 'idle', initial: 'running', states: { running: {} } });

function worker(id: string): ChildSpec {
  return { id, start: () => createActor(idle), shutdown: 'brutal_kill' };
}

/** Everything a spec started, stopped after it whatever happened. */
const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((handle) => handle.stop()));
});

function tracked<T extends { stop(): Promise<void> }>(handle: T): T {
  running.push(handle);
  return handle;
}

const contractExports = {
  Time: { systemClock: 'object', createTestClock: 'function' },
  Telemetry: { Telemetry: 'class', createTelemetry: 'function', telemetry: 'object' },
  Supervision: {
    startSupervisor: 'function',
    supervisorChild: 'function',
    startDynamicSupervisor: 'function',
    SupervisorError: 'class',
  },
  Errors: { ConfigError: 'class' },
} as const;

function kindOf(value: unknown): 'class' | 'function' | 'object' | string {
  if (typeof value === 'function') {
    return /^class\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  }
  return value === null ? 'null' : typeof value;
}

describe('every name of the contract’s Time, Telemetry and Supervision sections is exported with its kind', () => {
  for (const [section, names] of Object.entries(contractExports)) {
    for (const [name, kind] of Object.entries(names)) {
      it(`${section}: ${name} is a ${kind}`, () => {
        expect(Object.keys(overseer)).toContain(name);
        expect(kindOf((overseer as Record<string, unknown>)[name])).toBe(kind);
      });
    }
  }
});

describe('Time: the clocks have the Clock shape', () => {
  it('systemClock has now, setTimeout and clearTimeout, and now() is a number', () => {
    expect(systemClock).toEqual({ now: expect.any(Function), setTimeout: expect.any(Function), clearTimeout: expect.any(Function) });
    expect(typeof systemClock.now()).toBe('number');
    expectTypeOf(systemClock).toEqualTypeOf<Clock>();
  });

  it('createTestClock(startMs?) returns a TestClock with advance', () => {
    const clock = createTestClock(5);
    for (const method of ['now', 'setTimeout', 'clearTimeout', 'advance']) {
      expect(typeof (clock as unknown as Record<string, unknown>)[method]).toBe('function');
    }
    expect(clock.now()).toBe(5);
    expectTypeOf(createTestClock).parameters.toEqualTypeOf<[startMs?: number]>();
    expectTypeOf(createTestClock).returns.toEqualTypeOf<TestClock>();
    expectTypeOf<TestClock>().toExtend<Clock & { advance(ms: number): void }>();
  });

  it('a Clock is what XState’s createActor accepts as its clock', () => {
    expectTypeOf<Clock>().toExtend<NonNullable<Parameters<typeof createActor>[1]>['clock'] & object>();
  });
});

describe('Telemetry: the class, its factory and the shared instance', () => {
  it('createTelemetry and telemetry give Telemetry instances with events$, select, emit and span', () => {
    const created = createTelemetry({ clock: createTestClock() });
    for (const instance of [created, telemetry, createTelemetry()]) {
      expect(instance).toBeInstanceOf(Telemetry);
      expect(typeof instance.events$.subscribe).toBe('function');
      expect(typeof instance.select('pool').subscribe).toBe('function');
      expect(typeof instance.emit).toBe('function');
      expect(typeof instance.span).toBe('function');
    }
    expectTypeOf(createTelemetry).returns.toEqualTypeOf<Telemetry>();
    expectTypeOf(telemetry.span<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(telemetry.emit).parameters.toEqualTypeOf<
      [name: string, measurements?: Record<string, number>, metadata?: Record<string, unknown>]
    >();
    expectTypeOf<TelemetryEvent>().toEqualTypeOf<{
      name: string;
      time: number;
      measurements: Record<string, number>;
      metadata: Record<string, unknown>;
    }>();
  });

  it('the event-name table in src/telemetry/events.ts holds every event of the contract’s table', () => {
    const contractEvents = [
      'supervisor.child.started',
      'supervisor.child.exited',
      'supervisor.child.restarted',
      'supervisor.shutdown',
      'breaker.call',
      'breaker.state',
      'limiter.hit',
      'pool.checkout',
      'pool.worker.exit',
    ];
    const table: readonly string[] = Object.values(TelemetryEvents);
    for (const name of contractEvents) expect(table).toContain(name);
    expect(Object.isFrozen(TelemetryEvents)).toBe(true);
  });
});

describe('Errors: ConfigError is a TypeError with code ERR_CONFIG', () => {
  it('is a TypeError subclass', () => {
    expect(Object.getPrototypeOf(ConfigError.prototype)).toBe(TypeError.prototype);
  });

  it('is what a constructor throws for a bad option, naming the option and the value', async () => {
    let thrown: unknown;
    try {
      await startSupervisor({ intensity: -1, children: [] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as ConfigError).code).toBe('ERR_CONFIG');
    expect((thrown as ConfigError).message).toContain('intensity');
    expect((thrown as ConfigError).message).toContain('-1');
    expect(overseer.isConfigError(thrown)).toBe(true);
  });
});

describe('Supervision: SupervisorError carries code, childId and cause', () => {
  it('extends Error', () => {
    expect(SupervisorError.prototype).toBeInstanceOf(Error);
    expectTypeOf<'already_present' | 'already_started' | 'running' | 'not_found' | 'start_failed' | 'max_children'>().toExtend<
      SupervisorError['code']
    >();
    expectTypeOf<SupervisorError>().toHaveProperty('childId').toEqualTypeOf<string | undefined>();
    expectTypeOf<SupervisorError>().toHaveProperty('cause').toEqualTypeOf<unknown>();
  });

  it("a child whose start throws makes startSupervisor reject with 'start_failed', the child id and the cause", async () => {
    const cause = new Error('cannot connect');
    let thrown: unknown;
    try {
      await startSupervisor(
        {
          children: [
            worker('first'),
            {
              id: 'broken',
              start: () => {
                throw cause;
              },
            },
          ],
        },
        { clock: createTestClock(), telemetry: createTelemetry({ clock: createTestClock() }) },
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SupervisorError);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ code: 'start_failed', childId: 'broken', cause });
  });

  it("an unknown child id is a 'not_found' SupervisorError naming the child", async () => {
    const supervisor = tracked(await startSupervisor({ children: [] }, { clock: createTestClock() }));
    const rejection = supervisor.terminateChild('missing');
    await expect(rejection).rejects.toBeInstanceOf(SupervisorError);
    await expect(rejection).rejects.toMatchObject({ code: 'not_found', childId: 'missing' });
  });
});

describe('Supervision: a started static supervisor has the Supervisor shape', () => {
  it('exposes id, ref, exited and the child-management methods', async () => {
    const clock = createTestClock();
    const supervisor = tracked(
      await startSupervisor(
        { strategy: 'one_for_one', children: [worker('a'), supervisorChild('nested', { children: [worker('n1')] })] },
        { id: 'contract-root', clock, telemetry: createTelemetry({ clock }) },
      ),
    );
    expect(supervisor.id).toBe('contract-root');
    expect(typeof supervisor.ref.send).toBe('function');
    expect(typeof supervisor.ref.getSnapshot).toBe('function');
    expect(supervisor.exited).toBeInstanceOf(Promise);
    for (const method of ['whichChildren', 'countChildren', 'startChild', 'terminateChild', 'restartChild', 'deleteChild', 'stop']) {
      expect(typeof (supervisor as unknown as Record<string, unknown>)[method]).toBe('function');
    }

    const children = supervisor.whichChildren();
    expect(children.map((child) => ({ id: child.id, type: child.type, restart: child.restart }))).toEqual([
      { id: 'a', type: 'worker', restart: 'permanent' },
      { id: 'nested', type: 'supervisor', restart: 'permanent' },
    ]);
    for (const child of children) {
      expect(Object.keys(child)).toEqual(expect.arrayContaining(['id', 'ref', 'type', 'restart']));
      expect(typeof child.ref?.send).toBe('function');
    }
    expect(supervisor.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 1, workers: 1 });

    const started = await supervisor.startChild(worker('b'));
    expect(typeof started.send).toBe('function');
    await supervisor.terminateChild('b');
    expect(supervisor.whichChildren().find((child) => child.id === 'b')?.ref).toBeUndefined();
    expect(supervisor.countChildren()).toEqual({ specs: 3, active: 2, supervisors: 1, workers: 2 });
    const restarted = await supervisor.restartChild('b');
    expect(typeof restarted.send).toBe('function');
    await supervisor.terminateChild('b');
    await supervisor.deleteChild('b');
    expect(supervisor.whichChildren().map((child) => child.id)).toEqual(['a', 'nested']);

    await supervisor.stop();
    await expect(supervisor.exited).resolves.toBe('normal');
  });

  it('has the contract’s types', () => {
    expectTypeOf(startSupervisor).returns.toEqualTypeOf<Promise<Supervisor>>();
    expectTypeOf(startSupervisor).parameter(0).toEqualTypeOf<SupervisorSpec>();
    expectTypeOf<Supervisor['exited']>().toEqualTypeOf<Promise<'normal' | 'shutdown'>>();
    expectTypeOf<Supervisor['whichChildren']>().returns.toEqualTypeOf<ChildInfo[]>();
    expectTypeOf<Supervisor['countChildren']>().returns.toEqualTypeOf<ChildCounts>();
    expectTypeOf<Supervisor['startChild']>().returns.toEqualTypeOf<Promise<AnyActorRef>>();
    expectTypeOf<Supervisor['restartChild']>().returns.toEqualTypeOf<Promise<AnyActorRef>>();
    expectTypeOf<ChildInfo>().toEqualTypeOf<{
      id: string;
      ref: AnyActorRef | undefined;
      type: 'worker' | 'supervisor';
      restart: 'permanent' | 'transient' | 'temporary';
      // Added by the contract's "Restart with backoff".
      restarting?: boolean;
      nextRestartAt?: number;
    }>();
    expectTypeOf<ChildCounts>().toEqualTypeOf<{ specs: number; active: number; supervisors: number; workers: number }>();
    // The contract's `start: () => AnyActorRef | Promise<AnyActorRef>` must still be accepted.
    expectTypeOf<{ id: string; start: () => AnyActorRef | Promise<AnyActorRef> }>().toExtend<ChildSpec>();
  });
});

describe('Supervision: a started dynamic supervisor has the DynamicSupervisor shape', () => {
  it('exposes id, ref, exited, startChild resolving {id, ref}, terminateChild, whichChildren, countChildren and stop', async () => {
    const clock = createTestClock();
    const dynamic = tracked(await startDynamicSupervisor({ id: 'contract-dynamic', clock, telemetry: createTelemetry({ clock }) }));
    expect(dynamic.id).toBe('contract-dynamic');
    expect(typeof dynamic.ref.send).toBe('function');
    expect(dynamic.exited).toBeInstanceOf(Promise);
    for (const method of ['startChild', 'terminateChild', 'whichChildren', 'countChildren', 'stop']) {
      expect(typeof (dynamic as unknown as Record<string, unknown>)[method]).toBe('function');
    }

    const named = await dynamic.startChild({ id: 'session-1', start: () => createActor(idle), shutdown: 'brutal_kill' });
    expect(named.id).toBe('session-1');
    expect(typeof named.ref.send).toBe('function');
    const generated = await dynamic.startChild({ start: () => createActor(idle), shutdown: 'brutal_kill' });
    expect(typeof generated.id).toBe('string');
    expect(generated.id.length).toBeGreaterThan(0);
    expect(generated.id).not.toBe('session-1');

    expect(dynamic.whichChildren().map((child) => [child.id, child.type, child.restart, child.ref === undefined])).toEqual([
      ['session-1', 'worker', 'permanent', false],
      [generated.id, 'worker', 'permanent', false],
    ]);
    expect(dynamic.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 0, workers: 2 });

    await dynamic.terminateChild('session-1');
    expect(dynamic.whichChildren().map((child) => child.id)).toEqual([generated.id]);

    await dynamic.stop();
    await expect(dynamic.exited).resolves.toBe('normal');
  });

  it('has the contract’s types', () => {
    expectTypeOf(startDynamicSupervisor).returns.toEqualTypeOf<Promise<DynamicSupervisor>>();
    expectTypeOf<DynamicSupervisor['startChild']>().returns.toEqualTypeOf<Promise<{ id: string; ref: AnyActorRef }>>();
    expectTypeOf<DynamicSupervisor['exited']>().toEqualTypeOf<Promise<'normal' | 'shutdown'>>();
  });
});

describe('Supervision: supervisorChild returns a supervisor ChildSpec', () => {
  it("with type 'supervisor', shutdown 'infinity' and the given id", () => {
    const spec = supervisorChild('billing', { strategy: 'one_for_all', children: [worker('invoice')] });
    expect(spec).toMatchObject({ id: 'billing', type: 'supervisor', shutdown: 'infinity' });
    expect(typeof spec.start).toBe('function');
    expectTypeOf(supervisorChild).returns.toEqualTypeOf<ChildSpec>();
  });

  it('keeps the given restart and shutdown options', () => {
    expect(supervisorChild('billing', { children: [] }, { restart: 'transient', shutdown: 1000 })).toMatchObject({
      id: 'billing',
      type: 'supervisor',
      restart: 'transient',
      shutdown: 1000,
    });
  });

  it('validates the nested spec up front with a ConfigError', () => {
    expect(() => supervisorChild('billing', { strategy: 'sideways' as 'one_for_one', children: [] })).toThrow(ConfigError);
  });
});
