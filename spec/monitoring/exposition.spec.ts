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
  overseerMetrics,
  startMetrics,
  startSupervisor,
  sum,
  summary,
  toPrometheus,
} from '../../src/index.js';
import { ChildHarness } from '../support/actors.js';
import { flush } from '../support/supervision.js';
import { parseStrictly, promtoolCheck, promtoolRequired } from './exposition-checks.js';

/** Names that labels must escape or that the label grammar does not allow as they are. */
const hostile = ['pay"ments', 'back\\slash', 'two\nlines', 'é ✓ {},=', '', 'not\\na newline', '# HELP x y'];

/** Tag names a user may well choose that are not label names as they stand. */
const userMetrics = () => [
  counter('http.request.count', { tags: ['ns:key', 'http.method', 'status-class', '2xx', 'é', 'Route'], description: 'Requests' }),
  distribution('http.request.duration', { tags: ['http.method', 'route'], buckets: [1, 10, 100], unit: 'millisecond', description: 'Request time' }),
  summary('http.request.size', { tags: ['2xx', 'route'], unit: 'byte', description: 'Request size' }),
  sum('http.request.cost', { tags: ['ns:key'], description: 'Cost "units"\\ with a\nnewline' }),
  lastValue('http.request.inflight', { tags: ['route'], description: 'In flight' }),
];

/**
 * The real components on a test clock, named with hostile strings, plus user metrics with hostile
 * tag names, scraped from one registry holding every default metric.
 */
async function scrapeEverything(): Promise<string> {
  const clock = createTestClock();
  const telemetry = createTelemetry({ clock });
  const registry = startMetrics(telemetry.events$, [...overseerMetrics(), ...userMetrics()]);

  const harness = new ChildHarness();
  const supervisor = await startSupervisor({ intensity: 1, period: 1000, children: [harness.child('worker'), harness.child('other')] }, { id: hostile[0]!, clock, telemetry });
  harness.crash('worker');
  await flush();
  harness.crash('worker');
  await flush();
  await supervisor.exited;

  for (const name of hostile) {
    const breaker = createBreaker({ name: name || 'unnamed', tolerance: { failures: 0, windowMs: 1000 }, clock, telemetry });
    await breaker.call(() => new Promise((resolve) => (clock.setTimeout(() => resolve('ok'), 3), clock.advance(3))));
    await breaker.call(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await breaker.call(() => 'refused').catch(() => undefined);
    const limiter = createRateLimiter({ name: name || 'unnamed', limit: 1, windowMs: 1000, clock, telemetry });
    limiter.hitSync('k');
    limiter.hitSync('k');
  }

  const pool = await createPool({ name: hostile[2]!, size: 1, maxOverflow: 0, clock, telemetry, worker: { create: () => ({}) } });
  const lease = await pool.checkout();
  const waiting = pool.checkout();
  clock.advance(7);
  lease.destroy(new Error('bad worker'));
  (await waiting).release();
  await pool.checkout({ block: false }).then((held) => held.release());
  await pool.stop();

  for (const [index, value] of hostile.entries()) {
    const metadata = { 'ns:key': value, 'http.method': value, 'status-class': value, '2xx': index, é: value, Route: `R${index}`, route: value };
    telemetry.emit('http.request', { duration: index * 7.5, size: index * 100, cost: index, inflight: index }, metadata);
  }

  const text = toPrometheus(registry.snapshot());
  registry.stop();
  return text;
}

/** The family names of the default metrics, in the order overseerMetrics() gives them. */
const defaultFamilies = [
  ['supervisor_child_started_total', 'COUNTER'],
  ['supervisor_child_exited_total', 'COUNTER'],
  ['supervisor_child_restarted_total', 'COUNTER'],
  ['supervisor_child_restarted_restarts', 'GAUGE'],
  ['supervisor_shutdown_total', 'COUNTER'],
  ['breaker_call_total', 'COUNTER'],
  ['breaker_call_duration_seconds', 'HISTOGRAM'],
  ['breaker_state_total', 'COUNTER'],
  ['limiter_hit_total', 'COUNTER'],
  ['pool_checkout_total', 'COUNTER'],
  ['pool_checkout_duration_seconds', 'HISTOGRAM'],
  ['pool_checkout_waiting', 'GAUGE'],
  ['pool_worker_exit_total', 'COUNTER'],
];

describe('the exposition of every default metric, with hostile names and tag names, is valid Prometheus text', () => {
  it.runIf(promtoolRequired())('promtool check metrics accepts it without a parse error or lint problem', async () => {
    const text = await scrapeEverything();
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
  });

  it('the npm text-format parser reads it: every default family once, with its type, names in the grammar, values as written', async () => {
    const text = await scrapeEverything();
    const families = parseStrictly(text);
    for (const [name, type] of defaultFamilies) {
      const family = families.get(name!);
      expect(family, `${name} is in the exposition`).toBeDefined();
      expect(family!.type).toBe(type);
      expect(family!.metrics.length, `${name} has samples`).toBeGreaterThan(0);
    }
    expect(families.get('supervisor_child_restarted_total')!.metrics).toEqual([{ value: '1', labels: { supervisor: 'pay"ments' } }]);
    expect(families.get('supervisor_shutdown_total')!.metrics).toEqual([{ value: '1', labels: { supervisor: 'pay"ments', reason: 'intensity' } }]);
    const limiterHits = families.get('limiter_hit_total')!.metrics;
    expect(limiterHits).toContainEqual({ value: '1', labels: { limiter: 'two\nlines', allowed: 'false' } });
    expect(limiterHits).toContainEqual({ value: '1', labels: { limiter: 'é ✓ {},=', allowed: 'true' } });
    expect(limiterHits).toContainEqual({ value: '1', labels: { limiter: 'not\\na newline', allowed: 'true' } });
    expect(families.get('pool_worker_exit_total')!.metrics).toEqual([{ value: '1', labels: { pool: 'two\nlines', reason: 'Error' } }]);
    expect(families.get('http_request_total')!.metrics).toContainEqual({
      value: '1',
      labels: { ns_key: 'back\\slash', http_method: 'back\\slash', status_class: 'back\\slash', _2xx: '1', _: 'back\\slash', Route: 'R1' },
    });
    expect(families.get('http_request_cost')!.help).toBe('Cost "units"\\ with a\nnewline');
    expect(families.get('http_request_size_bytes')!.type).toBe('SUMMARY');
    expect(families.get('http_request_duration_seconds')!.type).toBe('HISTOGRAM');
  });
});
