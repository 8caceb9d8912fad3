import { describe, expect, it } from 'vitest';
import { autoShutdownDue, shouldRestart } from '../../../src/supervisor/restart-policy.js';

/** OTP's restart types and auto-shutdown rules, whole truth tables. */
describe('restart policy', () => {
  it('permanent always, transient only after an error exit, temporary never', () => {
    const table = (['permanent', 'transient', 'temporary'] as const).map((restart) =>
      (['normal', 'shutdown', 'error'] as const).map((reason) => shouldRestart(restart, reason)),
    );
    expect(table).toEqual([
      [true, true, true],
      [false, false, true],
      [false, false, false],
    ]);
  });

  it('never: no shutdown; any_significant: at once; all_significant: once no significant child is alive', () => {
    const table = (['never', 'any_significant', 'all_significant'] as const).map((autoShutdown) =>
      [true, false].map((alive) => autoShutdownDue(autoShutdown, alive)),
    );
    expect(table).toEqual([
      [false, false],
      [true, true],
      [false, true],
    ]);
  });
});
