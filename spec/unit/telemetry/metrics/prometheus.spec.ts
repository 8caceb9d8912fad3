import { describe, expect, it } from 'vitest';
import {
  counter,
  createTelemetry,
  createTestClock,
  distribution,
  lastValue,
  prometheusName,
  startMetrics,
  sum,
  summary,
  toPrometheus,
} from '../../../../src/index.js';
import { scrape } from '../../../support/prometheus.js';


/** A breaker name holding a backslash, double quotes and a newline, all of which labels must escape. */
const awkwardBreaker = 'a\\b "c"\nd';

describe('toPrometheus renders the text exposition format exactly', () => {
  it('for a known sequence of events over every kind of metric', () => {
    const text = scrape(
      [
        counter('breaker.call.count', { tags: ['breaker', 'outcome'], description: 'Calls by "outcome"\\ per\nbreaker' }),
        sum('limiter.hit.cost', { tags: ['limiter'] }),
        lastValue('pool.checkout.waiting', { tags: ['pool'] }),
        summary('breaker.call.duration', { tags: ['breaker'], description: 'Breaker call duration', unit: 'millisecond', keep: (event) => event.metadata.outcome !== 'failure' }),
        distribution('pool.checkout.duration', { buckets: [1, 5, 10], tags: ['pool'] }),
        counter('supervisor.child.restarted.count'),
        distribution('supervisor.child.restarted.restarts', { buckets: [1, 3] }),
        lastValue('pool.worker.exit.code', { tags: ['pool'] }),
      ],
      (emit) => {
        emit('breaker.call', { duration: 12 }, { breaker: 'payments', outcome: 'success' });
        emit('breaker.call', { duration: 30 }, { breaker: 'payments', outcome: 'failure' });
        emit('breaker.call', { duration: 4 }, { breaker: 'payments', outcome: 'success' });
        emit('breaker.call', { duration: 7 }, { breaker: awkwardBreaker, outcome: 'rejected' });
        emit('limiter.hit', { count: 1, cost: 2 }, { limiter: 'api', allowed: true });
        emit('limiter.hit', { count: 2, cost: 3 }, { limiter: 'api', allowed: false });
        emit('pool.checkout', { duration: 1, waiting: 3 }, { pool: 'db', outcome: 'ok' });
        emit('pool.checkout', { duration: 5.5, waiting: 1 }, { pool: 'db', outcome: 'ok' });
        emit('pool.checkout', { duration: 20, waiting: 0 }, { pool: 'db', outcome: 'timeout' });
        emit('supervisor.child.restarted', { restarts: 1 }, { supervisor: 'root', child: 'a' });
        emit('supervisor.child.restarted', { restarts: 2 }, { supervisor: 'root', child: 'a' });
        emit('supervisor.child.restarted', { restarts: 5 }, { supervisor: 'root', child: 'b' });
        emit('pool.worker.exit', {}, { pool: 'db', reason: 'crash' });
      },
    );

    expect(text).toBe(String.raw`# HELP breaker_call_total Calls by "outcome"\\ per\nbreaker
# TYPE breaker_call_total counter
breaker_call_total{breaker="payments",outcome="success"} 2
breaker_call_total{breaker="payments",outcome="failure"} 1
breaker_call_total{breaker="a\\b \"c\"\nd",outcome="rejected"} 1
# HELP limiter_hit_cost sum of limiter.hit
# TYPE limiter_hit_cost gauge
limiter_hit_cost{limiter="api"} 5
# HELP pool_checkout_waiting last_value of pool.checkout
# TYPE pool_checkout_waiting gauge
pool_checkout_waiting{pool="db"} 0
# HELP breaker_call_duration_seconds Breaker call duration
# TYPE breaker_call_duration_seconds summary
breaker_call_duration_seconds{breaker="payments",quantile="0.5"} 0.004
breaker_call_duration_seconds{breaker="payments",quantile="0.9"} 0.012
breaker_call_duration_seconds{breaker="payments",quantile="0.99"} 0.012
breaker_call_duration_seconds_sum{breaker="payments"} 0.016
breaker_call_duration_seconds_count{breaker="payments"} 2
breaker_call_duration_seconds{breaker="a\\b \"c\"\nd",quantile="0.5"} 0.007
breaker_call_duration_seconds{breaker="a\\b \"c\"\nd",quantile="0.9"} 0.007
breaker_call_duration_seconds{breaker="a\\b \"c\"\nd",quantile="0.99"} 0.007
breaker_call_duration_seconds_sum{breaker="a\\b \"c\"\nd"} 0.007
breaker_call_duration_seconds_count{breaker="a\\b \"c\"\nd"} 1
# HELP pool_checkout_duration distribution of pool.checkout
# TYPE pool_checkout_duration histogram
pool_checkout_duration_bucket{pool="db",le="1"} 1
pool_checkout_duration_bucket{pool="db",le="5"} 1
pool_checkout_duration_bucket{pool="db",le="10"} 2
pool_checkout_duration_bucket{pool="db",le="+Inf"} 3
pool_checkout_duration_sum{pool="db"} 26.5
pool_checkout_duration_count{pool="db"} 3
# HELP supervisor_child_restarted_total counter of supervisor.child.restarted
# TYPE supervisor_child_restarted_total counter
supervisor_child_restarted_total 3
# HELP supervisor_child_restarted_restarts distribution of supervisor.child.restarted
# TYPE supervisor_child_restarted_restarts histogram
supervisor_child_restarted_restarts_bucket{le="1"} 1
supervisor_child_restarted_restarts_bucket{le="3"} 2
supervisor_child_restarted_restarts_bucket{le="+Inf"} 3
supervisor_child_restarted_restarts_sum 8
supervisor_child_restarted_restarts_count 3
# HELP pool_worker_exit_code last_value of pool.worker.exit
# TYPE pool_worker_exit_code gauge
`);
  });
});

describe('toPrometheus escapes label values: backslash, double quote and newline', () => {
  it('keeps a literal backslash-n apart from a real newline', () => {
    const text = scrape([counter('job.run.count', { tags: ['job'] })], (emit) => {
      emit('job.run', {}, { job: 'back\\slash' });
      emit('job.run', {}, { job: 'say "hi"' });
      emit('job.run', {}, { job: 'two\nlines' });
      emit('job.run', {}, { job: 'not\\na newline' });
      emit('job.run', {}, { job: 'é ✓ {},=' });
    });
    expect(text).toBe(String.raw`# HELP job_run_total counter of job.run
# TYPE job_run_total counter
job_run_total{job="back\\slash"} 1
job_run_total{job="say \"hi\""} 1
job_run_total{job="two\nlines"} 1
job_run_total{job="not\\na newline"} 1
job_run_total{job="é ✓ {},="} 1
`);
  });

  it('turns tag keys into valid label names', () => {
    const text = scrape([counter('http.request.count', { tags: ['http.method', 'status-class'] })], (emit) => {
      emit('http.request', {}, { 'http.method': 'GET', 'status-class': '2xx' });
    });
    expect(text).toBe(String.raw`# HELP http_request_total counter of http.request
# TYPE http_request_total counter
http_request_total{http_method="GET",status_class="2xx"} 1
`);
  });
});

describe('toPrometheus takes one snapshot or a list', () => {
  it('renders nothing for an empty list', () => {
    expect(toPrometheus([])).toBe('');
  });

  it('renders a single metric snapshot as it renders a list of one', () => {
    const telemetry = createTelemetry({ clock: createTestClock() });
    const registry = startMetrics(telemetry.events$, [sum('limiter.hit.cost')]);
    telemetry.emit('limiter.hit', { cost: 1.25 });
    const [only] = registry.snapshot();
    expect(toPrometheus(only!)).toBe('# HELP limiter_hit_cost sum of limiter.hit\n# TYPE limiter_hit_cost gauge\nlimiter_hit_cost 1.25\n');
    expect(toPrometheus(only!)).toBe(toPrometheus(registry.snapshot()));
  });
});

describe('prometheusName maps a dotted name to a valid metric name', () => {
  it.each([
    ['breaker.call.duration', 'breaker_call_duration'],
    ['pool.checkout.waiting', 'pool_checkout_waiting'],
    ['a:b.c', 'a:b_c'],
    ['http-2.x', 'http_2_x'],
    ['2xx.count', '_2xx_count'],
  ])('%s → %s', (name, expected) => {
    expect(prometheusName(name)).toBe(expected);
  });
});
