import { describe, expect, it } from 'vitest';
import {
  counter,
  createBreaker,
  createPool,
  createRateLimiter,
  createTelemetry,
  createTestClock,
  distribution,
  lastValue,
  startMetrics,
  startSupervisor,
  summary,
  toPrometheus,
} from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { flush } from '../support/supervision.js';

/**
 * A known sequence of real component events (a supervisor restart, breaker calls, limiter hits,
 * pool checkouts) on a test clock, scraped into the Prometheus text format: the output must be
 * exactly this text.
 */
describe('Prometheus output of a known sequence of events', () => {
  it('is exactly what it should be', async () => {
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const registry = startMetrics(telemetry.events$, [
      counter('supervisor.child.restarted.count', { tags: ['supervisor', 'child'], description: 'Children restarted' }),
      counter('breaker.call.count', { tags: ['breaker', 'outcome'], description: 'Breaker calls' }),
      summary('breaker.call.duration', { tags: ['breaker'], description: 'Breaker call duration', keep: (event) => event.metadata.outcome !== 'rejected' }),
      counter('limiter.hit.count', { tags: ['limiter', 'allowed'], description: 'Limiter hits' }),
      distribution('pool.checkout.duration', { tags: ['pool'], buckets: [5, 10], description: 'Checkout wait' }),
      lastValue('pool.checkout.waiting', { tags: ['pool'], description: 'Waiting checkouts' }),
    ]);

    const harness = new ChildHarness();
    await startSupervisor({ intensity: 5, children: [harness.child('worker')] }, { id: 'app', clock, telemetry });
    harness.crash('worker');
    await flush();

    const breaker = createBreaker({ name: 'pay"ments', tolerance: { failures: 0, windowMs: 1000 }, clock, telemetry });
    await breaker.call(() => new Promise((resolve) => (clock.setTimeout(() => resolve('ok'), 4), clock.advance(4))));
    await breaker.call(() => new Promise((_resolve, reject) => (clock.setTimeout(() => reject(new Error('x')), 12), clock.advance(12)))).catch(() => undefined);
    await breaker.call(() => 'refused').catch(() => undefined);

    const limiter = createRateLimiter({ name: 'api\nv2', limit: 1, windowMs: 1000, clock, telemetry });
    limiter.hitSync('k');
    limiter.hitSync('k');

    const pool = await createPool({ name: 'db', size: 1, maxOverflow: 0, clock, telemetry, worker: { create: () => ({}) } });
    const lease = await pool.checkout();
    const waiting = pool.checkout();
    clock.advance(7);
    lease.release();
    await waiting;

    expect(toPrometheus(registry.snapshot())).toBe(
      [
        '# HELP supervisor_child_restarted_total Children restarted',
        '# TYPE supervisor_child_restarted_total counter',
        'supervisor_child_restarted_total{supervisor="app",child="worker"} 1',
        '# HELP breaker_call_total Breaker calls',
        '# TYPE breaker_call_total counter',
        'breaker_call_total{breaker="pay\\"ments",outcome="success"} 1',
        'breaker_call_total{breaker="pay\\"ments",outcome="failure"} 1',
        'breaker_call_total{breaker="pay\\"ments",outcome="rejected"} 1',
        '# HELP breaker_call_duration Breaker call duration',
        '# TYPE breaker_call_duration summary',
        'breaker_call_duration{breaker="pay\\"ments",quantile="0.5"} 4',
        'breaker_call_duration{breaker="pay\\"ments",quantile="0.9"} 12',
        'breaker_call_duration{breaker="pay\\"ments",quantile="0.99"} 12',
        'breaker_call_duration_sum{breaker="pay\\"ments"} 16',
        'breaker_call_duration_count{breaker="pay\\"ments"} 2',
        '# HELP limiter_hit_total Limiter hits',
        '# TYPE limiter_hit_total counter',
        'limiter_hit_total{limiter="api\\nv2",allowed="true"} 1',
        'limiter_hit_total{limiter="api\\nv2",allowed="false"} 1',
        '# HELP pool_checkout_duration Checkout wait',
        '# TYPE pool_checkout_duration histogram',
        'pool_checkout_duration_bucket{pool="db",le="5"} 1',
        'pool_checkout_duration_bucket{pool="db",le="10"} 2',
        'pool_checkout_duration_bucket{pool="db",le="+Inf"} 2',
        'pool_checkout_duration_sum{pool="db"} 7',
        'pool_checkout_duration_count{pool="db"} 2',
        '# HELP pool_checkout_waiting Waiting checkouts',
        '# TYPE pool_checkout_waiting gauge',
        'pool_checkout_waiting{pool="db"} 0',
        '',
      ].join('\n'),
    );
    registry.stop();
  });
});
