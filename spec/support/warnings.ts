import { afterEach, beforeEach } from 'vitest';

/** A process warning as overseer emits it: `code` names its kind (`OVERSEER_SUBSCRIBER_ERROR`). */
export interface ProcessWarning extends Error {
  code?: string;
}

/**
 * Collects the process warnings of each test in the array it returns (only those with `code`, when
 * given), emptied before each test. Node's own listener, which prints every warning with its stack,
 * is taken off for the test and put back after it: expected warnings would only be noise. Call it
 * at the top of a spec file or a `describe` block; it registers that block's `beforeEach` and
 * `afterEach`.
 */
export function captureProcessWarnings(code?: string): ProcessWarning[] {
  const warnings: ProcessWarning[] = [];
  let otherListeners: NodeJS.WarningListener[] = [];
  const onWarning = (warning: ProcessWarning): void => {
    if (code === undefined || warning.code === code) warnings.push(warning);
  };
  beforeEach(() => {
    warnings.length = 0;
    otherListeners = process.listeners('warning');
    process.removeAllListeners('warning');
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
    for (const listener of otherListeners) process.on('warning', listener);
  });
  return warnings;
}
