import type { ExitReason, Restart } from './types.js';

/**
 * Whether a child that exited on its own is restarted: permanent always, transient only after an
 * `'error'` exit, temporary never.
 */
export function shouldRestart(restart: Restart, reason: ExitReason): boolean {
  switch (restart) {
    case 'permanent':
      return true;
    case 'transient':
      return reason === 'error';
    case 'temporary':
      return false;
  }
}

/**
 * Whether a significant child's own exit shuts its supervisor down: under `any_significant` at
 * once; under `all_significant` once no significant child is alive, i.e. running or being
 * restarted (OTP's `do_auto_shutdown` counts a child in `{restarting, _}`).
 */
export function autoShutdownDue(
  autoShutdown: 'never' | 'any_significant' | 'all_significant',
  significantChildAlive: boolean,
): boolean {
  switch (autoShutdown) {
    case 'never':
      return false;
    case 'any_significant':
      return true;
    case 'all_significant':
      return !significantChildAlive;
  }
}
