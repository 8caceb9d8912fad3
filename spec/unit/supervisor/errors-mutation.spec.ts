import { describe, expect, it } from 'vitest';
import { SupervisorError, isSupervisorError } from '../../../src/index.js';

describe('SupervisorError: the message names the supervisor, the child, what went wrong and why', () => {
  it('about the supervisor itself: no child part, no reason', () => {
    const error = new SupervisorError('not_running', 'root');
    expect(error.message).toBe("supervisor 'root' the supervisor is not running (not_running)");
    expect(error.childId).toBeUndefined();
    expect(error.cause).toBeUndefined();
  });

  it('about a child: names it after the supervisor', () => {
    const error = new SupervisorError('not_found', 'root', 'db');
    expect(error.message).toBe("supervisor 'root' child 'db': no child has this id (not_found)");
    expect(error.childId).toBe('db');
  });

  it('with an Error as cause: appends its message and keeps the error', () => {
    const boom = new Error('boom');
    const error = new SupervisorError('start_failed', 'root', 'db', boom);
    expect(error.message).toBe("supervisor 'root' child 'db': the child failed to start (start_failed): boom");
    expect(error.cause).toBe(boom);
  });

  it('with any other cause: appends it as a string and keeps it', () => {
    const error = new SupervisorError('start_failed', 'root', 'db', 'refused');
    expect(error.message).toBe("supervisor 'root' child 'db': the child failed to start (start_failed): refused");
    expect(error.cause).toBe('refused');
    expect(new SupervisorError('start_failed', 'root', 'db', 0).message).toMatch(/\(start_failed\): 0$/);
  });

  it('is recognised by its guard, with or without the code', () => {
    const error = new SupervisorError('max_children', 'pool');
    expect(error.message).toBe("supervisor 'pool' the supervisor holds its maximum number of children (max_children)");
    expect(isSupervisorError(error)).toBe(true);
    expect(isSupervisorError(error, 'max_children')).toBe(true);
    expect(isSupervisorError(error, 'not_found')).toBe(false);
  });
});
