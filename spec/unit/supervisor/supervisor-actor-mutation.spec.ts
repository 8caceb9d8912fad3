import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, supervisorOf } from '../../../src/index.js';

describe('supervisorOf', () => {
  it('refuses what is not an actor ref, saying what it expected', () => {
    expect(() => supervisorOf({} as never)).toThrow(InvalidArgumentError);
    expect(() => supervisorOf({} as never)).toThrow('expected an XState actor ref or undefined');
  });
});
