/**
 * `npm run soak -- --minutes N`: the example back end under a steady load with faults for N
 * minutes, sampled from inside every 10 s, ending with a verdict (exit code 0 only when it passes).
 *
 * What it starts (each its own process, ended by its pid at the end, on Ctrl-C and on failure):
 * a `redis-server` on a free loopback port, and the example back end
 * (`node --expose-gc --import tsx supervisors/main.ts`, with `REDIS_URL` pointing at that Redis,
 * `SOAK_HOOKS=1` for the opt-in routes of supervisors/soak-hooks.ts, `UPSTREAM_FAILURE_RATE=0`,
 * `CLIENT_RATE` 10 by default). The upstream it calls runs inside the back end's process.
 *
 * Load (bench/soak/load.ts): autocannon in this process, `--rate` requests/s (default 100) over
 * `--connections` keep-alive connections (default 20; rounded down so that every
 * connection of a wave gets the same rate), split into 4 waves started 250 ms apart
 * (autocannon sends each connection's share at the start of its second), for `rate × 60 × N`
 * requests; the mix covers every route and several client identities, two of them over their limits.
 * Faults (bench/soak/faults.ts): the same cycle every minute. Samples: `GET /soak/sample?gc=1`
 * every 10 s. The rules (bench/soak/verdict.ts) are stated in docs/verification.md.
 *
 * Options: --minutes N (required, ≥ 1), --rate, --connections, --client-rate, --flood-rate,
 * --seed, --out DIR (default docs/verification: soak.json, soak.svg, soak.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { scheduleText, scheduledFaults, startSchedule, type FaultEvent, type Schedule } from './faults.js';
import { emptyTally, runLoad, type MixEntry, type Tally } from './load.js';
import { freePort, IdleControl, SoakBackend, SoakRedis } from './processes.js';
import { clientTable, minuteTable, renderSvg, routeTable, verdictTable, type SampleRecord } from './report.js';
import {
  assessGrowth,
  EVENT_LOOP_P99_LIMIT_MS,
  HANDLE_GROWTH_ALLOWED,
  SOCKET_GROWTH_ALLOWED,
  HEAP_GROWTH_FLOOR_BYTES,
  HEAP_GROWTH_SHARE,
  heapAllowance,
  UPSTREAM_GRACE_MS,
  type Check,
  type FaultWindow,
  type Growth,
} from './verdict.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The steady mix: every route, six client identities. At the default 100 req/s, `greedy` asks
 * ~16/s of each limited route (`/quote`, `/cpu`) against a limit of 10/s; the others stay at ≤ 5.5/s.
 */
const STEADY_MIX: readonly MixEntry[] = Object.freeze([
  { route: '/quote', client: 'alice', weight: 5 },
  { route: '/quote', client: 'bob', weight: 5 },
  { route: '/quote', client: 'carol', weight: 5 },
  { route: '/quote', client: 'dave', weight: 5 },
  { route: '/quote', client: 'greedy', weight: 15 },
  { route: '/cpu', client: 'alice', weight: 3 },
  { route: '/cpu', client: 'bob', weight: 3 },
  { route: '/cpu', client: 'carol', weight: 3 },
  { route: '/cpu', client: 'greedy', weight: 15 },
  { route: '/direct/quote', client: 'alice', weight: 8 },
  { route: '/health', client: 'ops', weight: 12 },
  { route: '/metrics', client: 'ops', weight: 6 },
  { route: '/observer/snapshot', client: 'ops', weight: 6 },
]);
const WAVES = 4;
const SAMPLE_EVERY_MS = 10_000;
const BACKEND_STOP_GRACE_MS = 20_000;

interface Config {
  minutes: number;
  rate: number;
  connections: number;
  clientRate: number;
  floodRate: number;
  seed: number;
  out: string;
}

function readConfig(): Config {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string', default: '100' },
      connections: { type: 'string', default: '20' },
      'client-rate': { type: 'string', default: '10' },
      'flood-rate': { type: 'string', default: '60' },
      seed: { type: 'string', default: '15' },
      out: { type: 'string', default: 'docs/verification' },
    },
  });
  const integer = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isSafeInteger(value) || value < min) {
      console.error(`--${name} must be an integer ≥ ${min}, got ${text === undefined ? 'nothing' : JSON.stringify(text)}\nusage: npm run soak -- --minutes N [--rate 100] [--connections 20] [--client-rate 10] [--flood-rate 60] [--seed 15] [--out docs/verification]`);
      process.exit(2);
    }
    return value;
  };
  const rate = integer('rate', values.rate, WAVES);
  if (rate % WAVES !== 0) {
    console.error(`--rate must be a multiple of ${WAVES} (the load runs in ${WAVES} waves), got ${rate}`);
    process.exit(2);
  }
  // Each connection of a wave must get the same rate: autocannon gives every connection the same
  // share of `amount`, so a faster one would finish early and the load would shrink before its end.
  const perWave = rate / WAVES;
  const asked = Math.max(1, Math.floor(integer('connections', values.connections, WAVES) / WAVES));
  let perWaveConnections = Math.min(asked, perWave);
  while (perWave % perWaveConnections !== 0) perWaveConnections -= 1;
  return {
    minutes: integer('minutes', values.minutes, 1),
    rate,
    connections: perWaveConnections * WAVES,
    clientRate: integer('client-rate', values['client-rate'], 1),
    floodRate: integer('flood-rate', values['flood-rate'], 1),
    seed: integer('seed', values.seed, 0),
    out: resolve(root, values.out ?? 'docs/verification'),
  };
}

/** One `GET /soak/sample`, as a {@link SampleRecord}; CPU figures are since `previous`. */
async function sample(url: string, startedAt: number, previous: SampleRecord | undefined, control: IdleControl, phase: SampleRecord['phase']): Promise<SampleRecord> {
  const reset = previous === undefined;
  const t = Math.round((Date.now() - startedAt) / 100) / 10;
  const idle = control.read(reset);
  const response = await fetch(`${url}/soak/sample?gc=1${reset ? '&reset=1' : ''}`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`GET /soak/sample answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as {
    uptimeMs: number;
    cpuUsage: NodeJS.CpuUsage;
    memory: NodeJS.MemoryUsage;
    afterGc: { heapUsed: number; rss: number; gcMs: number } | null;
    activeResources: number;
    resourcesByType: Record<string, number>;
    eventLoopDelay: { window: { p99: number; max: number }; total: { p99: number; max: number } };
    sockets: { server: number; upstream: number };
    breaker: string;
  };
  if (body.afterGc === null) throw new Error('the back end runs without --expose-gc: no heap after a full collection');
  const cpuMicros = body.cpuUsage.user + body.cpuUsage.system;
  const cpuPercent = previous === undefined ? 0 : Math.round(((cpuMicros - previous.cpuMicros) / 10 / (body.uptimeMs - previous.uptimeMs)) * 10) / 10;
  const idleFigures = await idle;
  return {
    t,
    phase,
    heapUsed: body.memory.heapUsed,
    heapAfterGc: body.afterGc.heapUsed,
    rss: body.afterGc.rss,
    gcMs: body.afterGc.gcMs,
    activeResources: body.activeResources,
    ownHandles: body.activeResources - body.sockets.server,
    resourcesByType: body.resourcesByType,
    eldP99: body.eventLoopDelay.window.p99,
    eldMax: body.eventLoopDelay.window.max,
    eldTotalP99: body.eventLoopDelay.total.p99,
    eldTotalMax: body.eventLoopDelay.total.max,
    idleP99: idleFigures.p99,
    idleTotalP99: idleFigures.totalP99,
    serverSockets: body.sockets.server,
    upstreamSockets: body.sockets.upstream,
    breaker: body.breaker,
    cpuPercent,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    cpuMicros,
    uptimeMs: body.uptimeMs,
  };
}

const MiB = 1_048_576;

function describeGrowth(growth: Growth, format: (value: number) => string): string {
  if (growth.unjudged) return growth.unjudged;
  return `floor of minute 2 ${format(growth.secondMinuteFloor)}, of the last minute ${format(growth.lastMinuteFloor)} (Δ ${format(growth.delta)}); trend of the minute floors ${format(growth.slopePerMinute)}/min → ${format(growth.trendGrowth)} from minute 2 to the last`;
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((total, value) => total + value, 0);
}

async function main(): Promise<number> {
  const config = readConfig();
  const seconds = config.minutes * 60;
  mkdirSync(config.out, { recursive: true });
  const logDir = join(tmpdir(), 'overseer-soak');
  mkdirSync(logDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backendLog = join(logDir, `backend-${stamp}.log`);
  const redisLog = join(logDir, `redis-${stamp}.log`);

  let redis: SoakRedis | undefined;
  let backend: SoakBackend | undefined;
  let schedule: Schedule | undefined;
  let control: IdleControl | undefined;
  // Last resort: whatever happens to this process, its children are ended by their pids.
  process.on('exit', () => {
    control?.stop();
    backend?.kill();
    redis?.kill();
  });
  let interrupted = false;
  const interrupt = (name: string): void => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${name}: stopping the back end and Redis`);
    schedule?.cancel();
    void (async () => {
      await backend?.stop(BACKEND_STOP_GRACE_MS);
      await redis?.stop();
      process.exit(130);
    })();
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));

  const loadBefore = loadavg();
  try {
    redis = await SoakRedis.start(redisLog);
    console.log(`redis-server pid ${redis.pid} on ${redis.url}`);
    const port = await freePort();
    backend = await SoakBackend.start(root, { port, redisUrl: redis.url, clientRate: config.clientRate }, backendLog);
    console.log(`back end pid ${backend.pid} on ${backend.url} (log ${backendLog})`);
    const url = backend.url;
    console.log(
      `load: ${config.rate} req/s over ${config.connections} connections (${WAVES} waves 250 ms apart) for ${config.minutes} min = ${config.rate * seconds} requests; ` +
        `client limit ${config.clientRate}/s per route; floods of ${config.floodRate} req/s`,
    );

    const steady = emptyTally();
    const flood = emptyTally();
    const upstreamFaults: FaultWindow[] = [];
    const samples: SampleRecord[] = [];
    const sampleFailures: string[] = [];
    control = IdleControl.start();
    const startedAt = Date.now();
    samples.push(await sample(url, startedAt, undefined, control, 'load'));

    // The steady load, in waves so that autocannon's once-a-second bursts are spread over the second.
    const waves: Array<Promise<unknown>> = [];
    for (let wave = 0; wave < WAVES; wave += 1) {
      const rate = config.rate / WAVES;
      const connections = config.connections / WAVES;
      waves.push(
        sleep(wave * 250).then(() =>
          runLoad({ name: `steady#${wave + 1}`, url, rate, connections, amount: rate * seconds, mix: STEADY_MIX, seed: config.seed * 100 + wave, startedAt, upstreamFaults, tally: steady }),
        ),
      );
    }
    let loadDone = false;
    const load = Promise.all(waves).finally(() => (loadDone = true));
    schedule = startSchedule({ url, redis, startedAt, seconds, upstreamFaults, floodTally: flood, floodRate: config.floodRate });

    // Samples every 10 s (on the start's grid) until the load has ended.
    const progress = (): void => {
      const last = samples[samples.length - 1]!;
      console.log(
        `t=${last.t.toFixed(0).padStart(4)} s  sent ${steady.sent + flood.sent}  answered ${steady.answered + flood.answered}  ` +
          `heap ${(last.heapAfterGc / MiB).toFixed(1)} MiB (after GC)  rss ${(last.rss / MiB).toFixed(0)} MiB  handles ${last.activeResources}  sockets ${last.serverSockets}  ` +
          `eld p99 ${last.eldP99} ms  breaker ${last.breaker}  faults ${schedule?.events.length ?? 0}`,
      );
    };
    for (let tick = 1; !loadDone && !interrupted; tick += 1) {
      const due = startedAt + tick * SAMPLE_EVERY_MS;
      while (!loadDone && Date.now() < due) await Promise.race([sleep(Math.min(250, due - Date.now())), load.catch(() => undefined)]);
      if (loadDone || interrupted) break;
      try {
        samples.push(await sample(url, startedAt, samples[samples.length - 1], control, 'load'));
        progress();
      } catch (error) {
        sampleFailures.push(`t=${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${(error as Error).message}`);
        console.error(`sample failed: ${(error as Error).message}`);
      }
    }
    await load;
    const loadSeconds = (Date.now() - startedAt) / 1000;
    await schedule.done;
    try {
      samples.push(await sample(url, startedAt, samples[samples.length - 1], control, 'after'));
      progress();
    } catch (error) {
      sampleFailures.push(`after the load: ${(error as Error).message}`);
    }
    control.stop();
    const aliveThroughout = backend.exit === undefined;
    const exitCode = await backend.stop(BACKEND_STOP_GRACE_MS);
    await redis.stop();
    const loadAfter = loadavg();

    // ------------------------------------------------------------ the verdict
    const faults: FaultEvent[] = [...schedule.events].sort((a, b) => a.t - b.t);
    const sent = steady.sent + flood.sent;
    const answered = steady.answered + flood.answered;
    const timeouts = steady.timeouts + flood.timeouts;
    const connectionErrors = sum(steady.connectionErrors) + sum(flood.connectionErrors);
    const refused = steady.refused + flood.refused;
    const passedOn = steady.upstreamPassedOn + flood.upstreamPassedOn;
    const limited = (tally: Tally, client: string): number => tally.byClientStatus[client]?.['429'] ?? 0;
    // Judged: the samples taken while the load ran, up to its planned end (a load that fell behind
    // its rate runs on with fewer connections as waves finish: a different regime).
    const judged = samples.filter((s) => s.phase === 'load' && s.t <= seconds + 1);
    const heap = assessGrowth(judged.map((s) => ({ t: s.t, value: s.heapAfterGc })), config.minutes, heapAllowance);
    const handles = assessGrowth(judged.map((s) => ({ t: s.t, value: s.ownHandles })), config.minutes, () => HANDLE_GROWTH_ALLOWED);
    const sockets = assessGrowth(judged.map((s) => ({ t: s.t, value: s.serverSockets })), config.minutes, () => SOCKET_GROWTH_ALLOWED);
    const rss = assessGrowth(judged.map((s) => ({ t: s.t, value: s.rss })), config.minutes, (floor) => 0.25 * floor);
    const lastSample = samples[samples.length - 1]!;
    const firstSample = samples[0]!;
    const eldP99 = lastSample.eldTotalP99;
    const expectedFaults = scheduledFaults(seconds);
    const failedFaults = faults.filter((fault) => !fault.ok);
    const checks: Check[] = [
      {
        rule: 'every request answered',
        measured: `${answered} of ${sent} sent answered; ${timeouts} timeouts; ${connectionErrors} connection errors`,
        threshold: 'answered = sent, 0 timeouts, 0 connection errors',
        pass: answered === sent && timeouts === 0 && connectionErrors === 0,
      },
      {
        rule: 'only allowed answers, each with a body',
        measured: `${refused} refused; ${passedOn} 502/504 on upstream routes inside upstream fault windows`,
        threshold: `2xx, 429 or 503 with a body; 502/504 only on /quote and /direct/quote within an upstream fault (+${UPSTREAM_GRACE_MS / 1000} s)`,
        pass: refused === 0,
      },
      {
        rule: 'clients over their limits refused',
        measured: `429s: greedy ${limited(steady, 'greedy')}, flood ${limited(flood, 'flood')}`,
        threshold: '> 0 for each',
        pass: limited(steady, 'greedy') > 0 && limited(flood, 'flood') > 0,
      },
      {
        rule: 'no heap growth (used, after a full GC)',
        measured: describeGrowth(heap, (value) => `${(value / MiB).toFixed(2)} MiB`),
        threshold: `Δ and trend ≤ ${(heap.allowed / MiB).toFixed(2)} MiB (${HEAP_GROWTH_SHARE * 100} % of the minute-2 floor, ≥ ${HEAP_GROWTH_FLOOR_BYTES / MiB} MiB)`,
        pass: heap.pass,
      },
      {
        rule: 'no growth of the back end\'s own handles (active resources less server sockets)',
        measured: describeGrowth(handles, (value) => value.toFixed(1)),
        threshold: `Δ and trend ≤ ${HANDLE_GROWTH_ALLOWED}`,
        pass: handles.pass,
      },
      {
        rule: 'no growth of the server\'s open sockets',
        measured: describeGrowth(sockets, (value) => value.toFixed(1)),
        threshold: `Δ and trend ≤ ${SOCKET_GROWTH_ALLOWED}`,
        pass: sockets.pass,
      },
      {
        rule: 'event-loop delay p99, whole run',
        measured: `${eldP99} ms (max ${lastSample.eldTotalMax} ms; worst 10-s window p99 ${Math.max(...samples.slice(1).map((s) => s.eldP99), 0)} ms); an idle process on the same machine: ${lastSample.idleTotalP99} ms`,
        threshold: `< ${EVENT_LOOP_P99_LIMIT_MS} ms`,
        pass: eldP99 < EVENT_LOOP_P99_LIMIT_MS,
      },
      {
        rule: 'every scheduled fault done and seen',
        measured: `${faults.length - failedFaults.length} of ${expectedFaults} as expected${failedFaults.length > 0 ? `; failed: ${failedFaults.map((fault) => `${fault.kind}@${fault.t}s`).join(', ')}` : ''}`,
        threshold: `${expectedFaults} of ${expectedFaults}`,
        pass: faults.length === expectedFaults && failedFaults.length === 0,
      },
      {
        rule: 'back end alive, stops cleanly',
        measured: `${aliveThroughout ? 'alive throughout' : 'exited during the run'}; SIGTERM → exit ${exitCode}; ${backend.errorLines.length} uncaught-error lines`,
        threshold: `alive, exit 0 within ${BACKEND_STOP_GRACE_MS / 1000} s, 0 such lines`,
        pass: aliveThroughout && exitCode === 0 && backend.errorLines.length === 0,
      },
      {
        rule: 'samples taken',
        measured: `${samples.length} samples, ${sampleFailures.length} failed`,
        threshold: 'none failed',
        pass: sampleFailures.length === 0,
      },
    ];
    const pass = checks.every((check) => check.pass);

    // ------------------------------------------------------------ outputs
    const title = `overseer soak: ${config.minutes} min, ${config.rate} req/s, faults every minute — ${pass ? 'PASS' : 'FAIL'}`;
    const svg = renderSvg(samples, faults, title, EVENT_LOOP_P99_LIMIT_MS, cpus().length, Math.max(0, ...judged.map((s) => s.t)));
    const environment = `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')} at the start, ${loadAfter.map((v) => v.toFixed(2)).join(' ')} at the end`;
    const markdown = [
      `# Soak: ${config.minutes} min — ${pass ? 'PASS' : 'FAIL'}`,
      '',
      `\`npm run soak -- --minutes ${config.minutes}\` (rate ${config.rate} req/s, ${config.connections} connections, client limit ${config.clientRate}/s per route, floods of ${config.floodRate} req/s, seed ${config.seed}); ${new Date(startedAt).toISOString()}; load ran ${loadSeconds.toFixed(0)} s; ${environment}.`,
      '',
      verdictTable(checks),
      '',
      `For information (not judged): RSS ${describeGrowth(rss, (value) => `${(value / MiB).toFixed(1)} MiB`)}. ` +
        `Once the load had ended: heap ${(lastSample.heapAfterGc / MiB).toFixed(1)} MiB after GC (${(firstSample.heapAfterGc / MiB).toFixed(1)} MiB at the start), ` +
        `${lastSample.ownHandles} own handles and ${lastSample.serverSockets} server sockets (${firstSample.ownHandles} and ${firstSample.serverSockets} at the start; ` +
        `by type now ${JSON.stringify(lastSample.resourcesByType)}, at the start ${JSON.stringify(firstSample.resourcesByType)}). ` +
        `The judged samples are the ${judged.length} taken while the load ran, up to its planned end (${seconds} s); the load itself ran ${loadSeconds.toFixed(0)} s.`,
      '',
      '## Minute by minute',
      '',
      minuteTable(samples, steady, flood),
      '',
      '## Answers by route',
      '',
      routeTable(steady, flood),
      '',
      '## Answers by client',
      '',
      clientTable(steady, flood),
      '',
      '## Faults',
      '',
      ...scheduleText(config.floodRate, config.clientRate).map((line) => `- ${line}`),
      '',
      `${faults.length} done: ${Object.entries(countBy(faults.map((fault) => fault.kind))).map(([kind, count]) => `${kind} ×${count}`).join(', ')}; ${failedFaults.length} not as expected.`,
      ...(failedFaults.length > 0 ? ['', ...failedFaults.map((fault) => `- ${fault.kind} at ${fault.t} s: ${fault.detail}`)] : []),
      ...(steady.examples.length + flood.examples.length > 0 ? ['', '## Refused or lost requests (first ones)', '', ...[...steady.examples, ...flood.examples].map((line) => `- ${line}`)] : []),
      ...(sampleFailures.length > 0 ? ['', '## Failed samples', '', ...sampleFailures.map((line) => `- ${line}`)] : []),
      ...(backend.errorLines.length > 0 ? ['', '## Uncaught errors in the back end\'s log', '', ...backend.errorLines.slice(0, 20).map((line) => `- \`${line}\``)] : []),
      '',
    ].join('\n');
    writeFileSync(join(config.out, 'soak.svg'), svg);
    writeFileSync(join(config.out, 'soak.md'), markdown);
    writeFileSync(
      join(config.out, 'soak.json'),
      `${JSON.stringify({ config: { ...config, out: undefined, mix: STEADY_MIX, waves: WAVES }, environment, startedAt: new Date(startedAt).toISOString(), loadSeconds, pass, checks, growth: { heap, handles, sockets, rss }, tallies: { steady, flood }, faults, samples }, null, 1)}\n`,
    );
    console.log(`\n${verdictTable(checks)}\n`);
    console.log(minuteTable(samples, steady, flood));
    console.log(`\nverdict: ${pass ? 'PASS' : 'FAIL'}; written ${join(config.out, 'soak.md')}, soak.svg, soak.json; back end log ${backendLog}`);
    return pass ? 0 : 1;
  } catch (error) {
    console.error(`the soak failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    schedule?.cancel();
    await backend?.stop(BACKEND_STOP_GRACE_MS).catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    return 2;
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

process.exitCode = await main();
