/**
 * Service benchmarks: what the protection chain (`protect()`: rate limiter → circuit breaker →
 * pool checkout) costs a real HTTP route, and what it costs per call in process against
 * cockatiel 3 + rate-limiter-flexible 11 composed by hand.
 *
 * service.throughput (peer unprotected-route)
 *   ns per request (1e9 / requests per second) through the example back end
 *   (supervisors/backend.ts), loaded by autocannon 7 running in this same process:
 *     ours  GET /quote         limiter (token bucket per client) → `upstream` breaker
 *                              (callTimeoutMs 1000) → HTTP worker pool → the upstream's /quote
 *     peer  GET /direct/quote  the same upstream call through the same HTTP worker pool, no
 *                              limiter, no breaker
 *   ratio = protected cost / unprotected cost. Target ≤ 1.10 (the chain costs under 10 % of
 *   throughput). The back end runs with `upstream: { failureRate: 0, latencyMs: 0 }`, a
 *   `clientRate` of 10,000,000 (the limiter never refuses) and a fresh `createTelemetry()`; the
 *   back end's own metrics registry (its /metrics) subscribes to that telemetry, as it does in
 *   production, so both routes emit their telemetry events into it. One process holds autocannon,
 *   the back end, its undici workers and the upstream, so each request's figure is the CPU it
 *   takes end to end (client + service + upstream) on one event loop: the chain's share of that
 *   is what the ratio shows. Each run sends a fixed number of requests over 32 keep-alive
 *   connections (twice the pool's 4 + 12 workers, so the pool stays saturated and hands workers
 *   straight to waiters instead of dismissing overflow workers); the rate is taken between the
 *   10 % and the 90 % response (no ramp-up, no drain). Warm-up runs on both routes first, then
 *   rounds of one run per route, the first route alternating, a full GC before every run; the
 *   figure is the median over rounds. After every run the bench checks: every response 200, no
 *   connection error or timeout, exactly the requests sent answered, the breaker closed with no
 *   failure and no refusal, the breaker's successes grown by the request count on the protected
 *   route only (so no answer came from the fallback cache), and no upstream failure. Context:
 *   both rates, the per-round ratios, and the process CPU time per request over the same spans
 *   (less sensitive than req/s to other load on the machine).
 *   Where the protected route's extra cost goes (a scratch run of this back end in one process,
 *   routes alternating, node 20.20, a 2-core machine shared with other work, after the timed call
 *   was trimmed to one object, its AbortController and three closures): with the upstream
 *   breaker's `callTimeoutMs` the ratio was 1.13 (CPU 1.19), without it 1.08 (CPU 1.10), and
 *   without it nor the request's signal passed on 1.05 (CPU 1.07). The timed call's cost is
 *   mostly the AbortSignal that `fn` must get (it aborts at the deadline): node 20 builds one by
 *   changing an EventTarget's prototype, which left it at ~9 µs per request in that profile, plus
 *   the GC of it and the listener that links the request's signal to it. The rest is the chain's
 *   four telemetry events into the metrics registry, the limiter and protect's own bookkeeping.
 * protect.overhead (peer cockatiel+rate-limiter-flexible)
 *   median ns per sequential awaited call of the same trivial `async () => 1` (which counts its
 *   invocations), in batches of 1,000, contenders interleaved batch by batch with the first one
 *   rotating:
 *     ours  protect({ name, limiter: createRateLimiter({ limit: 1e12, windowMs: 1000 }),
 *             breaker: createBreaker({ name }), pool: createPool({ size: 8, maxOverflow: 0,
 *             worker: { create: () => ({}) } }) }, fn)(call), one fresh telemetry with no
 *             subscriber, `call = { key }` made once
 *     peer  `await rateLimiterMemory.consume(key); return policy.execute(fn)` with
 *             policy = wrap(bulkhead(8, 1024), circuitBreaker(handleAll, { halfOpenAfter,
 *             breaker: new ConsecutiveBreaker(5) })), RateLimiterMemory({ points: 1e12, duration: 1 })
 *   Target ratio ≤ 0.5. Context: a bare `await fn()`. After every batch the bench checks that
 *   the function ran once per call and every call returned 1 (a refusal would reject and end the
 *   suite), that no worker is left checked out and that the breakers are closed.
 *
 * The overseer measured is the tsc build unless `--source` is given (bench/support/target.ts); the
 * back end is that build's supervisors/backend.js (tsconfig.build.json compiles supervisors/ too),
 * else supervisors/backend.ts as tsx loads it (a context line says which).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { ConsecutiveBreaker, bulkhead, circuitBreaker, handleAll, wrap, CircuitState } from 'cockatiel';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type * as BackendModule from '../supervisors/backend.js';
import { formatCount, formatNs, formatRatio } from './support/format.js';
import { collectGarbage } from './support/memory.js';
import { median, quantile } from './support/stats.js';
import { defineSuite, type SuiteContext } from './support/suite.js';
import { builtModule, loadOverseer, type Overseer } from './support/target.js';
import { interleavedRounds, nowNs } from './support/timing.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** autocannon connections: twice the back end's upstream pool (size 4 + maxOverflow 12). */
const CONNECTIONS = 32;
/** Requests per client per second the back end's limiters allow: far above what one process serves. */
const CLIENT_RATE = 10_000_000;
/** The share of a run's responses left out at each end (ramp-up, drain). */
const EDGE_SHARE = 0.1;
/** Sequential awaited calls per timed batch in protect.overhead. */
const BATCH = 1_000;
/** A limit no run reaches within one window. */
const HUGE_LIMIT = 1e12;
/** Long enough that no breaker half-opens during a run. */
const LONG_MS = 600_000;
const KEY = 'bench-client';

const TARGET_THROUGHPUT_RATIO = 1.1;
const TARGET_OVERHEAD_RATIO = 0.5;

/** The package under test (the tsc build by default, see bench/support/target.ts); set by run(). */
let overseer: Overseer;

// ------------------------------------------------------------------ plans

interface Plan {
  /** Requests per route in each of the two warm-up runs per route. */
  warmupRequests: number;
  /** Target length of one measured run, in seconds (its request count comes from the warm-up rate). */
  runSeconds: number;
  /** Measured rounds: one run per route each. */
  throughputRounds: number;
  /** Untimed calls per contender before measuring protect.overhead. */
  warmupCalls: number;
  /** Measured rounds of protect.overhead (one batch per contender each). */
  overheadRounds: number;
}

// Many short rounds rather than a few long ones: each pair of runs sees about the same load from
// whatever else the machine is doing, and the medians shrug off the rounds it disturbed.
const FULL: Plan = { warmupRequests: 6_000, runSeconds: 0.6, throughputRounds: 25, warmupCalls: 50_000, overheadRounds: 600 };
const QUICK: Plan = { warmupRequests: 2_500, runSeconds: 0.5, throughputRounds: 9, warmupCalls: 20_000, overheadRounds: 120 };

// ------------------------------------------------------------------ formatting

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(join(benchDir, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return json.version ?? '?';
  } catch {
    return '?';
  }
}

function rate(nsPerRequest: number): string {
  return `${formatCount(Math.round(1e9 / nsPerRequest))} req/s`;
}

// ------------------------------------------------------------------ service.throughput

type Backend = Awaited<ReturnType<typeof BackendModule.startBackend>>;

/** The example back end's module: the compiled one of the build when there is one. */
async function loadBackend(): Promise<{ module: typeof BackendModule; description: string }> {
  const built = builtModule('supervisors/backend.ts');
  if (built) {
    return { module: (await import(pathToFileURL(built).href)) as typeof BackendModule, description: `tsc build (${built.slice(built.indexOf('.bench-tmp'))})` };
  }
  return {
    module: await import('../supervisors/backend.js'),
    description: 'supervisors/backend.ts through tsx (no build of supervisors/ available: this case measures tsx-loaded code)',
  };
}

interface LoadRun {
  /** Wall-clock ns per request between the edge responses. */
  ns: number;
  /** Process CPU time (user + system, every thread) per request over the same span, in ns. */
  cpuNs: number;
  requests: number;
}

/** Sends `amount` GET requests to `url` over {@link CONNECTIONS} connections; fails unless every one is answered 200. */
function runLoad(url: string, amount: number): Promise<LoadRun> {
  const first = Math.floor(amount * EDGE_SHARE);
  const last = amount - first;
  let responses = 0;
  let firstAt = 0;
  let lastAt = 0;
  let firstCpu: NodeJS.CpuUsage | undefined;
  let spanCpu: NodeJS.CpuUsage | undefined;
  return new Promise<LoadRun>((resolve, reject) => {
    const instance = autocannon(
      // sampleInt 25: the result is reported ≤ 25 ms after the last response (the default 1 s tick would idle).
      { url, connections: CONNECTIONS, amount, pipelining: 1, timeout: 10, sampleInt: 25 },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const statuses = Object.entries(result.statusCodeStats ?? {})
          .map(([code, stat]) => `${code}×${stat.count ?? 0}`)
          .join(', ');
        const answered = result['2xx'] + result.non2xx;
        if (result.errors !== 0 || result.timeouts !== 0 || result.non2xx !== 0 || result['2xx'] !== amount || answered !== amount) {
          return reject(
            new Error(
              `${url}: ${amount} requests got ${result['2xx']} 2xx, ${result.non2xx} non-2xx (status codes: ${statuses || 'none'}), ` +
                `${result.errors} errors, ${result.timeouts} timeouts, ${result.mismatches} mismatches`,
            ),
          );
        }
        const codes = Object.keys(result.statusCodeStats ?? {});
        if (codes.length !== 1 || codes[0] !== '200') return reject(new Error(`${url}: status codes ${statuses}, expected only 200`));
        if (firstAt === 0 || lastAt === 0 || !spanCpu) return reject(new Error(`${url}: saw ${responses} response events, expected ${amount}`));
        const span = last - first;
        resolve({ ns: (lastAt - firstAt) / span, cpuNs: ((spanCpu.user + spanCpu.system) * 1_000) / span, requests: amount });
      },
    );
    instance.on('response', () => {
      responses += 1;
      if (responses === first) {
        firstCpu = process.cpuUsage();
        firstAt = nowNs();
      } else if (responses === last) {
        lastAt = nowNs();
        spanCpu = process.cpuUsage(firstCpu);
      }
    });
  });
}

interface Route {
  name: 'protected' | 'unprotected';
  path: string;
}

const PROTECTED: Route = { name: 'protected', path: '/quote' };
const UNPROTECTED: Route = { name: 'unprotected', path: '/direct/quote' };

/** One run on a route, with the checks that it went where it claims (breaker untouched by /direct, no fallback). */
async function measuredRun(backend: Backend, route: Route, amount: number): Promise<LoadRun> {
  const breaker = backend.infra.breaker('quotes', 'upstream');
  const before = breaker.stats();
  collectGarbage();
  const run = await runLoad(`${backend.url}${route.path}`, amount);
  const after = breaker.stats();
  const grown = after.successes - before.successes;
  const expected = route === PROTECTED ? amount : 0;
  if (breaker.state() !== 'closed' || after.failures !== 0 || after.rejected !== 0 || after.opened !== 0) {
    throw new Error(`${route.path}: the upstream breaker is '${breaker.state()}' with stats ${JSON.stringify(after)}; expected closed, no failure, no refusal`);
  }
  if (grown !== expected) throw new Error(`${route.path}: the breaker counted ${grown} successes for ${amount} requests, expected ${expected}`);
  const upstream = backend.upstream.counts();
  if (upstream.failed !== 0) throw new Error(`the upstream answered ${upstream.failed} requests with 500 (failureRate should be 0)`);
  return run;
}

/** One GET, checked: 200 and a quote from the upstream (not the cache). */
async function checkOnce(backend: Backend, route: Route): Promise<void> {
  const response = await fetch(`${backend.url}${route.path}`);
  const body = (await response.json()) as { source?: unknown; price?: unknown };
  if (response.status !== 200 || body.source !== 'upstream' || typeof body.price !== 'number') {
    throw new Error(`GET ${route.path}: ${response.status} ${JSON.stringify(body)}, expected 200 with a quote from the upstream`);
  }
}

function describeRuns(values: readonly number[]): string {
  return `median ${rate(median(values))} = ${formatNs(median(values))}/request (p10 ${rate(quantile(values, 0.9))}, p90 ${rate(quantile(values, 0.1))}; ${values.length} runs)`;
}

async function throughputCase(context: SuiteContext, plan: Plan): Promise<void> {
  const backendModule = await loadBackend();
  context.note(`back end: ${backendModule.description}`);
  const telemetry = overseer.createTelemetry();
  const backend = await backendModule.module.startBackend({
    port: 0,
    upstream: { failureRate: 0, latencyMs: 0 },
    clientRate: CLIENT_RATE,
    telemetry,
  });
  try {
    context.note(
      `telemetry: a fresh createTelemetry(); subscribed by the back end's own metrics registry only (observed: ${telemetry.observed}), ` +
        `as in production: both routes emit their events into it`,
    );
    await checkOnce(backend, PROTECTED);
    await checkOnce(backend, UNPROTECTED);

    // Warm-up: two runs per route; the faster rate sizes the measured runs.
    const warm: number[] = [];
    for (let pass = 0; pass < 2; pass += 1) {
      for (const route of [PROTECTED, UNPROTECTED]) warm.push((await measuredRun(backend, route, plan.warmupRequests)).ns);
    }
    const perRun = Math.max(CONNECTIONS * 20, Math.round((plan.runSeconds * 1e9) / Math.min(...warm) / CONNECTIONS) * CONNECTIONS);
    context.note(
      `autocannon ${packageVersion('autocannon')} in process: ${CONNECTIONS} connections, ${formatCount(perRun)} requests per run ` +
        `(rate between the ${EDGE_SHARE * 100} % and ${100 - EDGE_SHARE * 100} % responses), ${plan.throughputRounds} rounds after ${2 * plan.warmupRequests} warm-up requests per route`,
    );

    const samples = { protected: [] as number[], unprotected: [] as number[] };
    const cpu = { protected: [] as number[], unprotected: [] as number[] };
    const pairRatios: number[] = [];
    for (let round = 0; round < plan.throughputRounds; round += 1) {
      const order = round % 2 === 0 ? [PROTECTED, UNPROTECTED] : [UNPROTECTED, PROTECTED];
      const figures = new Map<string, number>();
      for (const route of order) {
        const run = await measuredRun(backend, route, perRun);
        samples[route.name].push(run.ns);
        cpu[route.name].push(run.cpuNs);
        figures.set(route.name, run.ns);
      }
      pairRatios.push(figures.get('protected')! / figures.get('unprotected')!);
    }

    const oursNs = median(samples.protected);
    const peerNs = median(samples.unprotected);
    const ratio = oursNs / peerNs;
    context.note(`protected   GET /quote:        ${describeRuns(samples.protected)}`);
    context.note(`unprotected GET /direct/quote: ${describeRuns(samples.unprotected)}`);
    context.note(`per-round protected/unprotected: ${pairRatios.map((value) => value.toFixed(3)).join(', ')} (median ${median(pairRatios).toFixed(3)})`);
    const oursCpu = median(cpu.protected);
    const peerCpu = median(cpu.unprotected);
    context.note(
      `process CPU time per request (user + system, all threads; less sensitive to other load on the machine than req/s): ` +
        `protected ${formatNs(oursCpu)}, unprotected ${formatNs(peerCpu)}, ratio ${formatRatio(oursCpu / peerCpu)}`,
    );
    context.note(
      `the chain costs ${formatNs(oursNs - peerNs)} per request, ${((1 - peerNs / oursNs) * 100).toFixed(1)} % of throughput; ` +
        `ratio ${formatRatio(ratio)} (target ≤ ${TARGET_THROUGHPUT_RATIO}: ${verdict(ratio <= TARGET_THROUGHPUT_RATIO)}); every response 200, breaker closed throughout`,
    );
    context.bench({ case: 'service.throughput', ours: oursNs, peer: peerNs, peerName: 'unprotected-route', unit: 'ns' });
  } finally {
    await backend.stop();
  }
}

// ------------------------------------------------------------------ protect.overhead

/** How many times the wrapped function has run, whoever called it. */
let invocations = 0;
/** Calls in the current batch whose awaited value was 1. */
let returnedOne = 0;

/** The one async function every contender runs. */
const work = async (): Promise<number> => {
  invocations += 1;
  return 1;
};

interface Contender {
  name: string;
  /** Starts one call; the loop awaits the promise directly. */
  operation: () => Promise<unknown>;
  /** Untimed after every batch; throws when the batch did not do what it claims. */
  verify: () => void;
}

async function timeAwaitedBatches(contender: Contender, batches: number): Promise<number[]> {
  const { operation } = contender;
  const samples: number[] = [];
  for (let batch = 0; batch < batches; batch += 1) {
    const started = nowNs();
    for (let step = 0; step < BATCH; step += 1) if ((await operation()) === 1) returnedOne += 1;
    samples.push((nowNs() - started) / BATCH);
    const ran = invocations;
    const got = returnedOne;
    invocations = 0;
    returnedOne = 0;
    if (ran !== BATCH || got !== BATCH) {
      throw new Error(`${contender.name}: a batch of ${BATCH} calls ran the function ${ran} times and returned 1 ${got} times (expected ${BATCH} each)`);
    }
    contender.verify();
  }
  return samples;
}

/** Warms every contender up, then `rounds` rounds of one batch each, the first contender rotating. */
function interleaved(contenders: readonly Contender[], rounds: number, warmupCalls: number): Promise<Map<string, number[]>> {
  const warmupBatches = Math.max(1, Math.ceil(warmupCalls / BATCH));
  return interleavedRounds(contenders, rounds, warmupBatches, async (contender) => (await timeAwaitedBatches(contender, 1))[0]!);
}

function describeSamples(samples: readonly number[]): string {
  return `median ${formatNs(median(samples))} (p10 ${formatNs(quantile(samples, 0.1))}, p90 ${formatNs(quantile(samples, 0.9))}, ${formatCount(samples.length)} batches of ${formatCount(BATCH)})`;
}

async function overheadCase(context: SuiteContext, plan: Plan): Promise<void> {
  const telemetry = overseer.createTelemetry();
  const name = 'bench-protect';
  const limiter = overseer.createRateLimiter({ name, limit: HUGE_LIMIT, windowMs: 1_000, telemetry });
  const breaker = overseer.createBreaker({ name, telemetry });
  const pool = await overseer.createPool({ name, size: 8, maxOverflow: 0, worker: { create: () => ({}) }, telemetry });
  const ours = overseer.protect({ name, limiter, breaker, pool, telemetry }, work);
  const call = { key: KEY };

  const rateLimiterMemory = new RateLimiterMemory({ points: HUGE_LIMIT, duration: 1 });
  const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: LONG_MS, breaker: new ConsecutiveBreaker(5) });
  const policy = wrap(bulkhead(8, 1_024), cockatielBreaker);
  const peer = async (): Promise<number> => {
    await rateLimiterMemory.consume(KEY);
    return policy.execute(work);
  };

  const contenders: Contender[] = [
    {
      name: 'ours',
      operation: () => ours(call),
      verify: () => {
        const status = pool.status();
        if (status.checkedOut !== 0 || status.idle !== 8) throw new Error(`ours: pool ${JSON.stringify(status)} after a batch, expected 8 idle`);
        if (breaker.state() !== 'closed') throw new Error(`ours: breaker '${breaker.state()}' after a batch`);
        if (telemetry.observed) throw new Error('ours: the telemetry has a subscriber');
      },
    },
    {
      name: 'peer',
      operation: peer,
      verify: () => {
        if (cockatielBreaker.state !== CircuitState.Closed) throw new Error(`cockatiel: breaker state ${cockatielBreaker.state} after a batch`);
      },
    },
    { name: 'bare-call', operation: work, verify: () => undefined },
  ];
  const samples = await interleaved(contenders, plan.overheadRounds, plan.warmupCalls);
  const stats = breaker.stats();
  const warmupBatches = Math.max(1, Math.ceil(plan.warmupCalls / BATCH));
  const expected = (warmupBatches + plan.overheadRounds) * BATCH;
  if (stats.successes !== expected || stats.failures !== 0 || stats.rejected !== 0) {
    throw new Error(`ours: breaker stats ${JSON.stringify(stats)} after ${expected} calls`);
  }
  await pool.stop();
  limiter.stop();
  breaker.actor.stop();

  context.note(`ours      protect:  ${describeSamples(samples.get('ours')!)}  limiter → breaker → pool(8) → fn`);
  context.note(`peer      by hand:  ${describeSamples(samples.get('peer')!)}  RateLimiterMemory.consume → wrap(bulkhead(8), circuitBreaker).execute(fn)`);
  context.note(`bare-call fn():     ${describeSamples(samples.get('bare-call')!)}`);
  const oursNs = median(samples.get('ours')!);
  const peerNs = median(samples.get('peer')!);
  const bare = median(samples.get('bare-call')!);
  const ratio = oursNs / peerNs;
  context.note(
    `the chain adds ${formatNs(oursNs - bare)} per call to a bare awaited call (the peers ${formatNs(peerNs - bare)}); ` +
      `ratio ${formatRatio(ratio)} (target ≤ ${TARGET_OVERHEAD_RATIO}: ${verdict(ratio <= TARGET_OVERHEAD_RATIO)}); ${formatCount(expected)} calls through ours, all returned 1`,
  );
  context.bench({ case: 'protect.overhead', ours: oursNs, peer: peerNs, peerName: 'cockatiel+rate-limiter-flexible', unit: 'ns' });
}

export default defineSuite({
  name: 'service',
  description: 'requests/s through the example back end, protected vs unprotected route (autocannon); protect() per call vs cockatiel + rate-limiter-flexible',
  async run(context) {
    const plan = context.quick ? QUICK : FULL;
    const loaded = await loadOverseer();
    overseer = loaded.overseer;
    context.note(
      `node ${process.version}, autocannon ${packageVersion('autocannon')}, undici ${packageVersion('undici')}, cockatiel ${packageVersion('cockatiel')}, ` +
        `rate-limiter-flexible ${packageVersion('rate-limiter-flexible')}; overseer: ${loaded.description}`,
    );
    await throughputCase(context, plan);
    await overheadCase(context, plan);
  },
});
