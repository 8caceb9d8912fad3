export { protect, type ProtectOptions, type ProtectCall, type ProtectedFunction, type ProtectOutcome, type RefusingStage } from './protect.js';
export {
  RateLimitedError,
  CallAbortedError,
  isRateLimitedError,
  isCallAbortedError,
  isRefusal,
  stageOf,
  type ProtectionStage,
} from './errors.js';
