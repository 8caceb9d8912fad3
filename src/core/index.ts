export { OverseerError, ConfigError, isConfigError, hasCode, describeValue } from './errors.js';
export * as validate from './validate.js';
