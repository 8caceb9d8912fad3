import { OverseerError, isOverseerError } from '../core/index.js';

/** The codes of {@link SupervisorError}, as OTP names the same failures. */
export type SupervisorErrorCode =
  /** `startChild`: a child with this id exists but is not running (restart or delete it first). */
  | 'already_present'
  /** `startChild`: a child with this id is already running. */
  | 'already_started'
  /** `restartChild` / `deleteChild`: the child is running. */
  | 'running'
  /** `restartChild` / `deleteChild`: the child is being restarted. */
  | 'restarting'
  /** No child has this id. */
  | 'not_found'
  /** The child's `start` threw, rejected or returned a failed actor; `cause` says why. */
  | 'start_failed'
  /** A dynamic supervisor already holds `maxChildren` children. */
  | 'max_children'
  /** The supervisor has exited (or exited while the request was in flight). */
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
  /** Which failure, as OTP's error atom names it (see {@link SupervisorErrorCode}). */
  readonly code: SupervisorErrorCode;
  /** The child the request or the failed start was about; absent for requests about the supervisor itself. */
  readonly childId?: string;
  /** For `start_failed`: what the child's `start` threw or rejected with (or the actor's error). */
  override readonly cause?: unknown;

  /** Builds the error of `supervisor` about `childId`; raised by supervisors, built by hand only in tests. */
  constructor(code: SupervisorErrorCode, supervisor: string, childId?: string, cause?: unknown) {
    const child = childId === undefined ? '' : ` child '${childId}':`;
    const reason = cause instanceof Error ? `: ${cause.message}` : cause === undefined ? '' : `: ${String(cause)}`;
    super(`supervisor '${supervisor}'${child} ${explanations[code]} (${code})${reason}`);
    this.code = code;
    // The fields are own properties whatever their values (class fields, ES2022): `cause` here
    // replaces the one `Error` would set, so it is not passed to `super`.
    this.childId = childId;
    this.cause = cause;
  }
}

/**
 * True when `error` is a {@link SupervisorError} (optionally with this code), across package
 * copies: an overseer error (by the package's brand) with one of the codes above, never an error
 * of another library that merely carries the name or the code.
 */
export function isSupervisorError(error: unknown, code?: SupervisorErrorCode): error is SupervisorError {
  if (!isOverseerError(error) || !Object.hasOwn(explanations, error.code)) return false;
  return code === undefined || error.code === code;
}
