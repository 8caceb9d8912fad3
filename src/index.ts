/**
 * overseer: an OTP-style supervision runtime for Node.js back ends.
 * This is the package's only public entry; each concept's folder exposes its face through its
 * own index.
 */
export { OverseerError, ConfigError, isConfigError } from './core/index.js';
export * from './clock/index.js';
export * from './telemetry/index.js';
export * from './supervisor/index.js';
export * from './breaker/index.js';
export * from './pool/index.js';
export * from './limiter/index.js';
export * from './protect/index.js';
export {
  startInfrastructure,
  InfrastructureLookupError,
  type Infrastructure,
  type InfrastructureOptions,
  type InfrastructurePatch,
  type NamespaceConfig,
} from '../supervisors/infrastructure.js';
