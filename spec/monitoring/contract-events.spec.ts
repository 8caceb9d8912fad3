import { describe, expect, it } from 'vitest';
import {
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  startSupervisor,
  TelemetryEvents,
  type TelemetryEvent,
} from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { flush } from '../support/supervision.js';

/**
 * Every event of the contract's telemetry table, emitted by the real components on a test clock,
 * with its measurements and metadata keys exactly as the table lists them.
 */
function recorder() {
  const clock = createTestClock(1000);
  const telemetry = createTelemetry({ clock });
  const events: TelemetryEvent[] = [];
  telemetry.events$.subscribe((event) => events.push(event));
  const of = (name: string) => events.filter((event) => event.name === name);
  return { clock, telemetry, events, of };
}

describe('the contract telemetry table', () => {
  it('supervisor.child.started / exited / restarted and supervisor.shutdown', async () => {
    const { clock, telemetry, of } = recorder();
    const harness = new ChildHarness();
    const supervisor = await startSupervisor({ intensity: 0, children: [harness.child('w')] }, { id: 'sup', clock, telemetry });
    await supervisor.restartChild('w').catch(() => undefined);
    const started = of(TelemetryEvents.supervisorChildStarted)[0]!;
    expect(started.measurements).toEqual({});
    expect(started.metadata).toEqual({ supervisor: 'sup', child: 'w' });
    expect(started.time).toBe(1000);
    harness.crash('w');
    await flush();
    const exited = of(TelemetryEvents.supervisorChildExited);
    expect(exited[0]!.metadata).toMatchObject({ supervisor: 'sup', child: 'w', reason: 'error' });
    expect(exited[0]!.metadata.error).toBeInstanceOf(Error);
    expect(of(TelemetryEvents.supervisorShutdown)[0]!.metadata).toMatchObject({ supervisor: 'sup', reason: 'intensity' });

    const again = new ChildHarness();
    const second = await startSupervisor({ intensity: 5, children: [again.child('x')] }, { id: 'sup2', clock, telemetry });
    again.crash('x');
    await flush();
    const restarted = of(TelemetryEvents.supervisorChildRestarted)[0]!;
    expect(restarted.measurements).toEqual({ restarts: 1 });
    expect(restarted.metadata).toEqual({ supervisor: 'sup2', child: 'x' });
    await second.stop();
    expect(of(TelemetryEvents.supervisorShutdown)[1]!.metadata).toMatchObject({ supervisor: 'sup2', reason: 'stop' });
    expect(of(TelemetryEvents.supervisorChildExited).at(-1)!.metadata).toMatchObject({ child: 'x', reason: 'shutdown' });
  });

  it('breaker.call and breaker.state', async () => {
    const { clock, telemetry, of } = recorder();
    const breaker = createBreaker({ name: 'b', tolerance: { failures: 0, windowMs: 100 }, callTimeoutMs: 50, clock, telemetry });
    await breaker.call(() => 'ok');
    await breaker.call(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await breaker.call(() => 'never').catch(() => undefined);
    const calls = of(TelemetryEvents.breakerCall);
    expect(calls.map((event) => event.metadata)).toEqual([
      { breaker: 'b', outcome: 'success' },
      { breaker: 'b', outcome: 'failure' },
      { breaker: 'b', outcome: 'rejected' },
    ]);
    expect(calls.every((event) => typeof event.measurements.duration === 'number')).toBe(true);
    expect(of(TelemetryEvents.breakerState).map((event) => event.metadata)).toEqual([{ breaker: 'b', from: 'closed', to: 'open' }]);
    breaker.reset();
    const slow = breaker.call(() => new Promise(() => undefined)).catch(() => undefined);
    clock.advance(50);
    await slow;
    expect(of(TelemetryEvents.breakerCall).at(-1)!.metadata).toEqual({ breaker: 'b', outcome: 'timeout' });
    expect(of(TelemetryEvents.breakerCall).at(-1)!.measurements).toEqual({ duration: 50 });
  });

  it('limiter.hit, without the raw key', async () => {
    const { clock, telemetry, of } = recorder();
    const limiter = createRateLimiter({ name: 'l', limit: 1, windowMs: 1000, clock, telemetry });
    limiter.hitSync('alice@example.com');
    limiter.hitSync('alice@example.com', 1);
    const hits = of(TelemetryEvents.limiterHit);
    expect(hits[0]!.metadata).toEqual({ limiter: 'l', allowed: true });
    expect(hits[1]!.metadata).toMatchObject({ limiter: 'l', allowed: false });
    expect(hits.every((event) => !('key' in event.metadata))).toBe(true);
    expect(hits[0]!.measurements).toEqual({ count: 1, cost: 1 });
    expect(JSON.stringify(hits)).not.toContain('alice');
  });

  it('pool.checkout and pool.worker.exit', async () => {
    const { clock, telemetry, of } = recorder();
    let exit!: (reason: unknown) => void;
    const pool = await createPool({
      name: 'p',
      size: 1,
      maxOverflow: 0,
      checkoutTimeoutMs: 20,
      clock,
      telemetry,
      worker: { create: (context) => ((exit = (reason) => context.exit(reason)), {}) },
    });
    const lease = await pool.checkout();
    await pool.checkout({ block: false }).catch(() => undefined);
    const waiting = pool.checkout().catch(() => undefined);
    clock.advance(20);
    await waiting;
    const controller = new AbortController();
    const aborted = pool.checkout({ signal: controller.signal }).catch(() => undefined);
    controller.abort();
    await aborted;
    lease.release();
    expect(of(TelemetryEvents.poolCheckout).map((event) => event.metadata)).toEqual([
      { pool: 'p', outcome: 'ok' },
      { pool: 'p', outcome: 'full' },
      { pool: 'p', outcome: 'timeout' },
      { pool: 'p', outcome: 'aborted' },
    ]);
    expect(of(TelemetryEvents.poolCheckout)[2]!.measurements).toEqual({ duration: 20, waiting: 0 });
    exit('crashed');
    expect(of(TelemetryEvents.poolWorkerExit).map((event) => event.metadata)).toEqual([{ pool: 'p', reason: 'crashed' }]);
    expect(of(TelemetryEvents.poolWorkerExit)[0]!.measurements).toEqual({});
  });
});
