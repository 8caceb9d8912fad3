import { describe, expect, it } from 'vitest';
import { SerialExecutor } from '../../../src/supervisor/serial-executor.js';
import { flush } from '../../support/supervision.js';

describe('SerialExecutor: operations run one at a time; their errors go to onError and never stop the queue', () => {
  it('runs a first synchronous operation at once and reports no error', () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const executor = new SerialExecutor((error) => errors.push(error));
    executor.run(() => void ran.push('first'));
    expect(ran).toEqual(['first']);
    expect(errors).toEqual([]);
  });

  it('passes what a synchronous operation throws to onError and runs the next one', () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const executor = new SerialExecutor((error) => errors.push(error));
    const boom = new Error('boom');
    executor.run(() => {
      throw boom;
    });
    executor.run(() => void ran.push('next'));
    expect(errors).toEqual([boom]);
    expect(ran).toEqual(['next']);
  });

  it('passes what an asynchronous operation rejects with to onError and then runs the queued ones', async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const executor = new SerialExecutor((error) => errors.push(error));
    const boom = new Error('async boom');
    executor.run(() => Promise.reject(boom));
    executor.run(() => void ran.push('queued'));
    expect(ran).toEqual([]);
    await flush();
    expect(errors).toEqual([boom]);
    expect(ran).toEqual(['queued']);
  });
});
