import { OverseerError, hasOverseerCode } from '../core/index.js';

/** A look-up for a namespace or component the tree does not have, or one not running now. */
export class InfrastructureLookupError extends OverseerError {
  /** Always `'ERR_INFRASTRUCTURE_LOOKUP'`. */
  readonly code = 'ERR_INFRASTRUCTURE_LOOKUP' as const;

  /** Builds the error for the missing `what` (`"namespace 'billing'"`); raised by the tree's look-ups. */
  constructor(what: string) {
    super(`the infrastructure has no ${what}`);
  }
}

/** True when `error` is an {@link InfrastructureLookupError}, even one from another copy of the package. */
export function isInfrastructureLookupError(error: unknown): error is InfrastructureLookupError {
  return hasOverseerCode(error, 'ERR_INFRASTRUCTURE_LOOKUP');
}

/** The current run of a supervised component, or a lookup error when it is not running. */
export function current<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InfrastructureLookupError(`running ${what}`);
  return value;
}
