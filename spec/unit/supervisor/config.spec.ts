import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createTelemetry,
  createTestClock,
  isConfigError,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  type SupervisorSpec,
} from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';

const harness = new ChildHarness();

/**
 * The ConfigError `act` reports by rejecting the promise it returns. A synchronous throw fails the
 * spec: a function that returns a promise reports every error by rejecting.
 */
async function configErrorOf(act: () => Promise<unknown>): Promise<ConfigError> {
  let returned: Promise<unknown> | undefined;
  expect(() => (returned = act()), 'threw synchronously instead of rejecting').not.toThrow();
  const error = await returned!.then(
    () => new Error('resolved instead of rejecting'),
    (caught: unknown) => caught,
  );
  if (isConfigError(error)) return error;
  throw error;
}


/** The option a ConfigError from `act` names. */
async function optionOf(act: () => Promise<unknown>): Promise<string> {
  return (await configErrorOf(act)).option;
}

describe('invalid supervisor specs reject with ConfigError before anything starts', () => {
  it('duplicate ids', async () => {
    const error = await configErrorOf(() => startSupervisor({ children: [harness.child('dup'), harness.child('dup')] }));
    expect(error.option).toBe('children[1].id');
    expect(error.message).toContain('"dup"');
    expect(harness.startCount('dup')).toBe(0);
  });

  it('negative or fractional intensity', async () => {
    expect(await optionOf(() => startSupervisor({ intensity: -1, children: [] }))).toBe('intensity');
    expect(await optionOf(() => startSupervisor({ intensity: 1.5, children: [] }))).toBe('intensity');
  });

  it('unknown strategy', async () => {
    const error = await configErrorOf(() => startSupervisor({ strategy: 'one_for_some' as never, children: [] }));
    expect(error.option).toBe('strategy');
    expect(error.message).toContain("'one_for_one'");
  });

  it('start that is not a function', async () => {
    expect(await optionOf(() => startSupervisor({ children: [{ id: 'x', start: 'go' as never }] }))).toBe('children[0].start');
  });

  it('bad period, restart, shutdown, type, children and id', async () => {
    expect(await optionOf(() => startSupervisor({ period: 0, children: [] }))).toBe('period');
    expect(await optionOf(() => startSupervisor({ children: [harness.child('x', { restart: 'always' as never })] }))).toBe(
      'children[0].restart',
    );
    expect(await optionOf(() => startSupervisor({ children: [harness.child('x', { shutdown: -5 })] }))).toBe('children[0].shutdown');
    expect(await optionOf(() => startSupervisor({ children: [harness.child('x', { type: 'boss' as never })] }))).toBe(
      'children[0].type',
    );
    expect(await optionOf(() => startSupervisor({ children: undefined as never }))).toBe('children');
    expect(await optionOf(() => startSupervisor({ children: [{ id: '', start: () => undefined as never }] }))).toBe('children[0].id');
  });

  it('bad supervisor options: id, and options that are not an object', async () => {
    expect(await optionOf(() => startSupervisor({ children: [] }, { id: '' }))).toBe('id');
    expect(await optionOf(() => startSupervisor({ children: [] }, 42 as never))).toBe('options');
    expect(await optionOf(() => startSupervisor(undefined as never))).toBe('spec');
  });

  it('is a TypeError with code ERR_CONFIG', async () => {
    const error = await configErrorOf(() => startSupervisor({ intensity: -1, children: [] }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_CONFIG');
    expect(error.value).toBe(-1);
  });

  it('checks a nested supervisor spec when the child spec is made (a synchronous factory: it throws)', () => {
    expect(() => supervisorChild('nested', { intensity: -3, children: [] })).toThrow(ConfigError);
  });
});

describe('a function that returns a promise reports bad options by rejecting, never by throwing', () => {
  it('startDynamicSupervisor rejects bad options', async () => {
    expect(await optionOf(() => startDynamicSupervisor({ maxChildren: -1 }))).toBe('maxChildren');
    expect(await optionOf(() => startDynamicSupervisor({ period: Number.NaN }))).toBe('period');
    expect(await optionOf(() => startDynamicSupervisor({ id: 7 as never }))).toBe('id');
    expect(await optionOf(() => startDynamicSupervisor(null as never))).toBe('options');
  });

  it("a nested supervisor's start rejects a spec made invalid after the child spec was made", async () => {
    const spec: SupervisorSpec = { children: [] };
    const child = supervisorChild('nested', spec);
    spec.intensity = -1;
    const clock = createTestClock();
    const context = { supervisor: 'root', clock, telemetry: createTelemetry({ clock }), signal: new AbortController().signal };
    expect(await optionOf(() => child.start(context) as Promise<unknown>)).toBe('intensity');
  });
});
