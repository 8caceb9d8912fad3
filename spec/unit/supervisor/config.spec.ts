import { describe, expect, it } from 'vitest';
import { ConfigError, isConfigError, startDynamicSupervisor, startSupervisor, supervisorChild } from '../../../src/index.js';
import { ChildHarness } from '../../support/actors.js';

const harness = new ChildHarness();

function configErrorOf(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('no ConfigError was thrown');
}

describe('invalid supervisor specs throw ConfigError before anything starts', () => {
  it('duplicate ids', () => {
    const error = configErrorOf(() => startSupervisor({ children: [harness.child('dup'), harness.child('dup')] }));
    expect(error.option).toBe('children[1].id');
    expect(error.message).toContain('"dup"');
    expect(harness.startCount('dup')).toBe(0);
  });

  it('negative or fractional intensity', () => {
    expect(configErrorOf(() => startSupervisor({ intensity: -1, children: [] })).option).toBe('intensity');
    expect(configErrorOf(() => startSupervisor({ intensity: 1.5, children: [] })).option).toBe('intensity');
  });

  it('unknown strategy', () => {
    const error = configErrorOf(() => startSupervisor({ strategy: 'one_for_some' as never, children: [] }));
    expect(error.option).toBe('strategy');
    expect(error.message).toContain("'one_for_one'");
  });

  it('start that is not a function', () => {
    expect(configErrorOf(() => startSupervisor({ children: [{ id: 'x', start: 'go' as never }] })).option).toBe(
      'children[0].start',
    );
  });

  it('bad period, restart, shutdown, type, children and id', () => {
    expect(configErrorOf(() => startSupervisor({ period: 0, children: [] })).option).toBe('period');
    expect(configErrorOf(() => startSupervisor({ children: [harness.child('x', { restart: 'always' as never })] })).option).toBe(
      'children[0].restart',
    );
    expect(configErrorOf(() => startSupervisor({ children: [harness.child('x', { shutdown: -5 })] })).option).toBe(
      'children[0].shutdown',
    );
    expect(configErrorOf(() => startSupervisor({ children: [harness.child('x', { type: 'boss' as never })] })).option).toBe(
      'children[0].type',
    );
    expect(configErrorOf(() => startSupervisor({ children: undefined as never })).option).toBe('children');
    expect(configErrorOf(() => startSupervisor({ children: [{ id: '', start: () => undefined as never }] })).option).toBe(
      'children[0].id',
    );
  });

  it('is a TypeError with code ERR_CONFIG', () => {
    const error = configErrorOf(() => startSupervisor({ intensity: -1, children: [] }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_CONFIG');
    expect(error.value).toBe(-1);
  });

  it('checks a nested supervisor spec when the child spec is made', () => {
    expect(() => supervisorChild('nested', { intensity: -3, children: [] })).toThrow(ConfigError);
  });

  it('checks dynamic supervisor options', () => {
    expect(() => startDynamicSupervisor({ maxChildren: -1 })).toThrow(ConfigError);
    expect(() => startDynamicSupervisor({ period: Number.NaN })).toThrow(ConfigError);
  });
});
