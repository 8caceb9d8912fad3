export { startInfrastructure } from './start-infrastructure.js';
export { InfrastructureLookupError, isInfrastructureLookupError } from './errors.js';
export type { Infrastructure, InfrastructureOptions, InfrastructurePatch, NamespaceConfig } from './types.js';
