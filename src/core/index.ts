export {
  OverseerError,
  ConfigError,
  InvalidArgumentError,
  isConfigError,
  isInvalidArgumentError,
  isOverseerError,
  brandOverseerError,
  hasOverseerCode,
  describeValue,
  withoutStack,
} from './errors.js';
export * as validate from './validate.js';
export { attempt } from './attempt.js';
