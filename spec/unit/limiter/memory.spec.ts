import { describe } from 'vitest';
import { memoryBackend } from '../../support/limiter.js';
import { limiterSuite } from '../../support/limiter-suite.js';

describe('the embedded limiter', () => limiterSuite(memoryBackend));
