export { OverseerError, ConfigError, isConfigError, hasCode, describeValue, withoutStack } from './errors.js';
export * as validate from './validate.js';
export { attempt } from './attempt.js';
