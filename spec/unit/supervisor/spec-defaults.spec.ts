import { describe, expect, it } from 'vitest';
import { resolveChildSpec, resolveDynamicOptions, resolveSupervisorSpec, splitChildOptions } from '../../../src/supervisor/child-spec.js';
import { ConfigError } from '../../../src/index.js';

/** The defaults OTP gives a child and a supervisor, and the option each refusal names. */
const start = () => undefined as never;

function optionOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof ConfigError ? error.option : `not a ConfigError: ${String(error)}`;
  }
  return undefined;
}

describe('child spec defaults', () => {
  it('a worker is permanent, not significant, and has 5000 ms to stop; a supervisor has infinity', () => {
    expect(resolveChildSpec({ id: 'w', start }, 'never')).toMatchObject({ id: 'w', restart: 'permanent', type: 'worker', shutdown: 5000, significant: false, backoff: undefined });
    expect(resolveChildSpec({ id: 's', start, type: 'supervisor' }, 'never').shutdown).toBe('infinity');
    expect(resolveChildSpec({ id: 'k', start, shutdown: 'brutal_kill' }, 'never').shutdown).toBe('brutal_kill');
    expect(resolveChildSpec({ id: 'i', start, shutdown: 'infinity' }, 'never').shutdown).toBe('infinity');
    expect(resolveChildSpec({ id: 'n', start, shutdown: 0 }, 'never').shutdown).toBe(0);
  });

  it('takes the supervisor’s backoff unless the child has its own', () => {
    const backoff = { minMs: 10, maxMs: 100, randomFactor: 0, resetAfterMs: 1000 };
    expect(resolveChildSpec({ id: 'w', start }, 'never', 'child', { backoff }).backoff).toBe(backoff);
    expect(resolveChildSpec({ id: 'w', start, backoff: { minMs: 1, maxMs: 2 } }, 'never', 'child', { backoff }).backoff).toMatchObject({ minMs: 1, maxMs: 2 });
  });

  it('a dynamic child may go without an id', () => {
    expect(resolveChildSpec({ start }, 'never', 'child', { idRequired: false }).id).toBe('');
    expect(optionOf(() => resolveChildSpec({ start }, 'never'))).toBe('child.id');
  });

  it('names the field at fault, under its path', () => {
    expect(optionOf(() => resolveChildSpec(7, 'never', 'children[2]'))).toBe('children[2]');
    expect(optionOf(() => resolveChildSpec({ id: 'w' }, 'never', 'children[2]'))).toBe('children[2].start');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, restart: 'sometimes' }, 'never'))).toBe('child.restart');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, type: 'daemon' }, 'never'))).toBe('child.type');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, shutdown: -1 }, 'never'))).toBe('child.shutdown');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, significant: 'yes' }, 'any_significant'))).toBe('child.significant');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, significant: true }, 'any_significant'))).toBe('child.significant');
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, restart: 'transient', significant: true }, 'never'))).toBe('child.significant');
    expect(resolveChildSpec({ id: 'w', start, restart: 'transient', significant: true }, 'all_significant').significant).toBe(true);
    expect(optionOf(() => resolveChildSpec({ id: 'w', start, backoff: { minMs: -1 } }, 'never'))).toMatch(/^child\.backoff/);
  });
});

describe('supervisor spec defaults', () => {
  it('one_for_one, intensity 1 in 5000 ms, autoShutdown never, no backoff', () => {
    expect(resolveSupervisorSpec({ children: [] })).toMatchObject({ strategy: 'one_for_one', intensity: 1, period: 5000, autoShutdown: 'never', backoff: undefined, children: [] });
    expect(resolveDynamicOptions({})).toEqual({ intensity: 1, period: 5000, maxChildren: Number.MAX_SAFE_INTEGER, backoff: undefined });
  });

  it('names the field at fault', () => {
    expect(optionOf(() => resolveSupervisorSpec(null))).toBe('spec');
    expect(optionOf(() => resolveSupervisorSpec({ strategy: 'simple_one_for_one', children: [] }))).toBe('strategy');
    expect(optionOf(() => resolveSupervisorSpec({ intensity: -1, children: [] }))).toBe('intensity');
    expect(optionOf(() => resolveSupervisorSpec({ period: 0, children: [] }))).toBe('period');
    expect(optionOf(() => resolveSupervisorSpec({ autoShutdown: 'always', children: [] }))).toBe('autoShutdown');
    expect(optionOf(() => resolveSupervisorSpec({ children: {} }))).toBe('children');
    expect(optionOf(() => resolveSupervisorSpec({ children: [{ id: 'a', start }, { id: 'a', start }] }))).toBe('children[1].id');
    expect(optionOf(() => resolveDynamicOptions({ maxChildren: -1 }))).toBe('maxChildren');
    expect(optionOf(() => resolveDynamicOptions({ intensity: 1.5 }))).toBe('intensity');
    expect(optionOf(() => resolveDynamicOptions({ period: 0 }))).toBe('period');
  });

  it('children keep their order and get the supervisor’s backoff', () => {
    const resolved = resolveSupervisorSpec({ backoff: { minMs: 5, maxMs: 50 }, children: [{ id: 'a', start }, { id: 'b', start }] });
    expect(resolved.children.map((child) => child.id)).toEqual(['a', 'b']);
    expect(resolved.children[1]!.backoff).toMatchObject({ minMs: 5, maxMs: 50 });
  });
});

describe('splitChildOptions', () => {
  it('takes out exactly the child fields given, and leaves the rest', () => {
    expect(splitChildOptions({ restart: 'transient', shutdown: 10, type: 'worker', significant: true, backoff: { minMs: 1, maxMs: 2 }, name: 'x' } as never)).toEqual({
      child: { restart: 'transient', shutdown: 10, type: 'worker', significant: true, backoff: { minMs: 1, maxMs: 2 } },
      own: { name: 'x' },
    });
    expect(splitChildOptions({ name: 'y' } as never)).toEqual({ child: {}, own: { name: 'y' } });
  });
});
