import { describe, expect, it } from 'vitest';
import { RestartHistory } from '../../../src/supervisor/restart-intensity.js';

describe('RestartHistory', () => {
  it('clear forgets every restart: the next one counts as the first', () => {
    const history = new RestartHistory();
    history.record(0, 1000);
    history.record(10, 1000);
    history.clear();
    expect(history.count).toBe(0);
    expect(history.record(20, 1000)).toBe(1);
  });
});
