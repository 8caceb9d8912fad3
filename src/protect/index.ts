export { protect, type ProtectOptions, type ProtectCall, type ProtectedFunction, type ProtectOutcome, type RefusingStage } from './protect.js';
export { RateLimitedError, isRateLimitedError, isRefusal, stageOf, type ProtectionStage } from './errors.js';
