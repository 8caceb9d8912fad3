import { OverseerError, hasCode } from '../core/index.js';

/** The codes of {@link SupervisorError}, as OTP names the same failures. */
export type SupervisorErrorCode =
  | 'already_present'
  | 'already_started'
  | 'running'
  | 'restarting'
  | 'not_found'
  | 'start_failed'
  | 'max_children'
  | 'not_running';

const explanations: Record<SupervisorErrorCode, string> = {
  already_present: 'a child with this id exists but is not running',
  already_started: 'a child with this id is already running',
  running: 'the child is running',
  restarting: 'the child is being restarted',
  not_found: 'no child has this id',
  start_failed: 'the child failed to start',
  max_children: 'the supervisor holds its maximum number of children',
  not_running: 'the supervisor is not running',
};

/**
 * A supervisor refused a request or a child failed to start. `code` says which, as OTP's error
 * atoms do; `childId` names the child; `cause` holds what a failed `start` threw.
 */
export class SupervisorError extends OverseerError {
  readonly code: SupervisorErrorCode;
  readonly childId?: string;
  override readonly cause?: unknown;

  constructor(code: SupervisorErrorCode, supervisor: string, childId?: string, cause?: unknown) {
    const child = childId === undefined ? '' : ` child '${childId}':`;
    const reason = cause instanceof Error ? `: ${cause.message}` : cause === undefined ? '' : `: ${String(cause)}`;
    super(`supervisor '${supervisor}'${child} ${explanations[code]} (${code})${reason}`, { cause });
    this.code = code;
    if (childId !== undefined) this.childId = childId;
    if (cause !== undefined) this.cause = cause;
  }
}

/** True when `error` is a {@link SupervisorError} (optionally with this code), across package copies. */
export function isSupervisorError(error: unknown, code?: SupervisorErrorCode): error is SupervisorError {
  if (typeof error !== 'object' || error === null || (error as { name?: unknown }).name !== 'SupervisorError') return false;
  return code === undefined || hasCode(error, code);
}
