/**
 * Supervisor benchmarks, against Erlang/OTP's own `supervisor` run in the same invocation
 * (bench/otp/sup_bench.erl; skipped with a SKIP line when `erl` is not installed).
 *
 * supervisor.restart@1k, supervisor.restart@100k
 *   ns per crash+restart of a one_for_one child with 1,000 / 100,000 restarts already in the
 *   restart window (intensity 10,000,000, period 3,600,000 ms, so nothing leaves the window).
 *   Each round: a fresh supervisor, pre-fill the window with N real crash+restart cycles, then
 *   time batches of 100 further cycles (the window grows by at most 10 % while measuring);
 *   the figure is the median of the batch means. Our child is an XState machine actor whose
 *   CRASH event runs an action that throws (an 'error' exit); the supervisor restarts it inside
 *   the crash's own call stack, which the bench checks by counting starts after every batch.
 *   OTP's child is a gen_server whose handle_cast raises; a cycle ends when the new child's init
 *   has messaged the bench process.
 * supervisor.restart@100k_vs_1k
 *   our 100k figure against our 1k figure (peer 'ours@1k'): the restart path must not grow with
 *   the restarts in the window (target ratio <= 1.2).
 * dynamic.start@10k, dynamic.start@100k
 *   ns per child for N sequential `startChild` calls on a dynamic supervisor (OTP: N
 *   supervisor:start_child/2 calls on a simple_one_for_one supervisor). Children are idle,
 *   temporary XState machine actors (OTP: idle temporary gen_servers). Median over repetitions.
 * dynamic.memory@10k, dynamic.memory@100k (unit bytes)
 *   heap retained per idle child (heapUsed after global.gc(), children alive, minus before);
 *   OTP: erlang:memory(total) delta per child (the process plus the supervisor's bookkeeping).
 * supervisor.backoff@10k (peer 'ours-immediate'; no OTP peer: OTP has no restart backoff)
 *   ns per restart when the 10,000 permanent children of a dynamic supervisor all crash at once
 *   with `backoff: { minMs: 100, maxMs: 5000 }` (all 10,000 waiting), and are then restarted as
 *   their jittered delays fall due, against the same children crashing and restarting at once
 *   without backoff. Each round times the 10,000 crashes plus, for backoff, the advance of a
 *   TestClock over every delay (virtual time: only the supervisor's CPU is measured; each
 *   distinct due time fires the one supervisor timer). The rounds of both alternate; median.
 *   Checked every round: all 10,000 restarted and running, and ONE clock timer pending while they
 *   wait (no timer per child). Target: ratio <= 1.5.
 * supervisor.backoff.memory@10k (unit bytes; peer 'ours-running')
 *   heap per waiting child (the supervisor with its 10,000 children waiting, minus the supervisor
 *   with none, per child), against the same children running.
 *
 * All of our cases run first, back to back, then the peer's (idling while erl runs would change
 * how V8 sizes its heap for our later cases). Context lines also give the same work on bare XState
 * actors with no supervisor, so the supervisor's own share can be read off. The overseer measured
 * is the tsc build of src/ unless `--source` is given (bench/support/target.ts says why).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActor, setup, type AnyActorRef } from 'xstate';
import type { ChildSpec, DynamicChildSpec, Telemetry, TelemetryEvent } from '../src/index.js';
import { compileErlang, findErlang, runErlang, type CompiledErlang, type ErlangInfo, type OtpRecord } from './support/erlang.js';
import { formatBytes, formatCount, formatMs, formatNs, formatRatio, sizeLabel } from './support/format.js';
import { heapUsedAfterGc } from './support/memory.js';
import { median, quantile } from './support/stats.js';
import { defineSuite, type SuiteContext } from './support/suite.js';
import { loadOverseer, type Overseer } from './support/target.js';
import { nowNs, timeBatches } from './support/timing.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const ERLANG_SOURCE = join(benchDir, 'otp', 'sup_bench.erl');

const INTENSITY = 10_000_000;
const PERIOD_MS = 3_600_000;
const BATCH = 100;
const CRASH = Object.freeze({ type: 'CRASH' as const });

/** The package under test (the tsc build by default, see bench/support/target.ts); set by run(). */
let overseer: Overseer;

// ------------------------------------------------------------------ plans

interface RestartCase {
  /** Restarts in the window before measuring. */
  n: number;
  /** Fresh supervisors, each pre-filled with `n` restarts. */
  rounds: number;
  /** Timed batches of {@link BATCH} cycles per round. */
  batches: number;
  /**
   * Timed batches per round for OTP, whose restart costs O(window): at 100k one batch takes
   * ~0.2 s there, and its batches vary little (ours have the odd GC pause, so more of them).
   */
  peerBatches: number;
}

interface DynamicCase {
  n: number;
  repetitions: number;
}

interface BackoffCase {
  n: number;
  /** Timed rounds of each variant (alternating), after one warm-up round each. */
  rounds: number;
}

interface Plan {
  warmupCrashes: number;
  restart: [RestartCase, RestartCase];
  /** Rounds of OTP's restart with an (almost) empty window, and with `exit(Pid, kill)` at 1k: context only. */
  peerContextRounds: number;
  baselineBatches: number;
  dynamicWarmup: number;
  dynamic: [DynamicCase, DynamicCase];
  backoff: BackoffCase;
}

const FULL: Plan = {
  warmupCrashes: 5_000,
  restart: [
    { n: 1_000, rounds: 100, batches: 1, peerBatches: 1 },
    { n: 100_000, rounds: 2, batches: 50, peerBatches: 20 },
  ],
  peerContextRounds: 20,
  baselineBatches: 200,
  dynamicWarmup: 5_000,
  dynamic: [
    { n: 10_000, repetitions: 5 },
    { n: 100_000, repetitions: 2 },
  ],
  backoff: { n: 10_000, rounds: 15 },
};

const QUICK: Plan = {
  warmupCrashes: 2_000,
  restart: [
    { n: 1_000, rounds: 50, batches: 1, peerBatches: 1 },
    { n: 100_000, rounds: 1, batches: 40, peerBatches: 10 },
  ],
  peerContextRounds: 5,
  baselineBatches: 50,
  dynamicWarmup: 2_000,
  dynamic: [
    { n: 10_000, repetitions: 3 },
    { n: 100_000, repetitions: 1 },
  ],
  backoff: { n: 10_000, rounds: 5 },
};

// ------------------------------------------------------------------ the children

/** A worker whose CRASH event runs an action that throws: the actor errors, an 'error' exit. */
const crashingMachine = setup({
  actions: {
    crash: () => {
      throw new Error('worker crashed');
    },
  },
}).createMachine({
  id: 'worker',
  initial: 'running',
  states: { running: { on: { CRASH: { actions: 'crash' } } } },
});

/** An idle worker: one state, waits for ever. */
const idleMachine = setup({}).createMachine({
  id: 'idle',
  initial: 'idle',
  states: { idle: { on: { PING: {} } } },
});

/** The one child of a restart-bench supervisor; counts its starts and holds the live actor. */
class CrashingChild {
  starts = 0;
  current: AnyActorRef | undefined;
  readonly spec: ChildSpec = {
    id: 'worker',
    start: () => {
      this.starts += 1;
      const actor = createActor(crashingMachine);
      this.current = actor;
      return actor;
    },
  };

  crash(): void {
    this.current!.send(CRASH);
  }

  /** Fails loudly unless every crash so far was followed, synchronously, by a restart. */
  verify(expectedStarts: number, when: string): void {
    if (this.starts !== expectedStarts) {
      throw new Error(
        `${when}: ${this.starts} child starts, expected ${expectedStarts}: the supervisor did not restart the crashed child ` +
          'synchronously inside actor.send()',
      );
    }
    const status = (this.current?.getSnapshot() as { status?: string } | undefined)?.status;
    if (status !== 'active') throw new Error(`${when}: the restarted child is '${String(status)}', not 'active'`);
  }
}

async function startRestartSupervisor(child: CrashingChild, id: string) {
  const telemetry = overseer.createTelemetry();
  const supervisor = await overseer.startSupervisor(
    { strategy: 'one_for_one', intensity: INTENSITY, period: PERIOD_MS, children: [child.spec] },
    { id, clock: overseer.systemClock, telemetry },
  );
  child.verify(1, `${id} start`);
  return { supervisor, telemetry };
}

function crashTimes(child: CrashingChild, count: number, when: string): void {
  const expected = child.starts + count;
  for (let index = 0; index < count; index += 1) child.crash();
  child.verify(expected, when);
}

// ------------------------------------------------------------------ ours: restart

interface RestartResult {
  samples: number[];
  /** Restarts in the window reported by the supervisor after the last measured cycle. */
  windowAfter: number;
}

async function oursRestart(testCase: RestartCase): Promise<RestartResult> {
  const samples: number[] = [];
  let windowAfter = 0;
  for (let round = 0; round < testCase.rounds; round += 1) {
    const child = new CrashingChild();
    const { supervisor, telemetry } = await startRestartSupervisor(child, `bench-restart-${sizeLabel(testCase.n)}-${round}`);
    crashTimes(child, testCase.n, `pre-fill of ${testCase.n}`);
    let expected = child.starts;
    samples.push(
      ...timeBatches(
        testCase.batches,
        BATCH,
        () => child.crash(),
        (batch) => child.verify((expected += BATCH), `measured batch ${batch}`),
      ),
    );
    windowAfter = Math.max(windowAfter, restartsInWindowAfterOneMore(child, telemetry));
    await supervisor.stop();
  }
  return { samples, windowAfter };
}

/** One more (untimed) crash with a telemetry subscriber, to read the supervisor's window count. */
function restartsInWindowAfterOneMore(child: CrashingChild, telemetry: Telemetry): number {
  let restarts: number | undefined;
  const subscription = telemetry.select('supervisor.child.restarted').subscribe((event: TelemetryEvent) => {
    restarts = event.measurements.restarts;
  });
  crashTimes(child, 1, 'window probe');
  subscription.unsubscribe();
  if (restarts === undefined) throw new Error('no supervisor.child.restarted event after a crash');
  return restarts - 1;
}

/** The same work without a supervisor: create, watch and start an actor, then crash it. */
function bareXStateCycle(batches: number): number[] {
  const observer = { error: () => undefined };
  return timeBatches(batches, BATCH, () => {
    const actor = createActor(crashingMachine);
    actor.subscribe(observer);
    actor.start();
    actor.send(CRASH);
  });
}

// ------------------------------------------------------------------ ours: dynamic start

interface DynamicResult {
  nsPerChild: number;
  bytesPerChild: number;
  stopMs: number;
}

const idleChild: DynamicChildSpec = { start: () => createActor(idleMachine), restart: 'temporary' };

async function oursDynamic(n: number, id: string): Promise<DynamicResult> {
  const supervisor = await overseer.startDynamicSupervisor({ id, telemetry: overseer.createTelemetry(), clock: overseer.systemClock });
  const heapBefore = heapUsedAfterGc();
  const started = nowNs();
  for (let index = 0; index < n; index += 1) await supervisor.startChild(idleChild);
  const elapsed = nowNs() - started;
  const heapAfter = heapUsedAfterGc();
  const counts = supervisor.countChildren();
  if (counts.active !== n) throw new Error(`${id}: ${counts.active} active children, expected ${n}`);
  const stopping = nowNs();
  await supervisor.stop();
  const stopMs = (nowNs() - stopping) / 1e6;
  return { nsPerChild: elapsed / n, bytesPerChild: (heapAfter - heapBefore) / n, stopMs };
}

/** Idle actors created and started with no supervisor: ns and retained bytes per actor. */
function bareIdleActors(n: number): { nsPerActor: number; bytesPerActor: number } {
  const actors: AnyActorRef[] = [];
  const heapBefore = heapUsedAfterGc();
  const started = nowNs();
  for (let index = 0; index < n; index += 1) {
    const actor = createActor(idleMachine);
    actor.start();
    actors.push(actor);
  }
  const elapsed = nowNs() - started;
  const heapAfter = heapUsedAfterGc();
  for (const actor of actors) actor.stop();
  return { nsPerActor: elapsed / n, bytesPerActor: (heapAfter - heapBefore) / n };
}

// ------------------------------------------------------------------ ours: restart with backoff

const BACKOFF = Object.freeze({ minMs: 100, maxMs: 5000 });
/** The default resetAfterMs of {@link BACKOFF}: left to pass (untimed) between rounds, so each round waits minMs·(1 + jitter). */
const BACKOFF_RESET_MS = (BACKOFF.minMs + BACKOFF.maxMs) / 2;

/** A dynamic supervisor of `n` permanent crashing children on a TestClock, with or without backoff. */
class BackoffBenchTree {
  readonly clock = overseer.createTestClock();
  /** Timers the supervisor armed on the clock. */
  armed = 0;
  starts = 0;
  supervisor!: Awaited<ReturnType<Overseer['startDynamicSupervisor']>>;

  constructor(
    readonly n: number,
    readonly withBackoff: boolean,
  ) {}

  async start(id: string): Promise<void> {
    const clock = this.clock;
    const counting = {
      now: () => clock.now(),
      setTimeout: (fn: () => void, ms: number) => {
        this.armed += 1;
        return clock.setTimeout(fn, ms);
      },
      clearTimeout: (handle: unknown) => clock.clearTimeout(handle),
    };
    this.supervisor = await overseer.startDynamicSupervisor({
      id,
      intensity: INTENSITY,
      period: PERIOD_MS,
      clock: counting,
      telemetry: overseer.createTelemetry(),
      ...(this.withBackoff ? { backoff: BACKOFF } : {}),
    });
    const spec: DynamicChildSpec = {
      start: () => {
        this.starts += 1;
        return createActor(crashingMachine);
      },
    };
    for (let index = 0; index < this.n; index += 1) await this.supervisor.startChild(spec);
  }

  /** The running actors (untimed: whichChildren allocates a list). */
  actors(): AnyActorRef[] {
    const actors = this.supervisor.whichChildren().map((child) => child.ref);
    if (actors.length !== this.n || actors.some((ref) => ref === undefined)) {
      throw new Error(`${this.supervisor.id}: ${actors.filter(Boolean).length} of ${this.n} children running`);
    }
    return actors as AnyActorRef[];
  }

  /** One timed round: every child crashes; with backoff, the clock then runs over every delay. ns per restart. */
  round(): number {
    const actors = this.actors();
    const startsBefore = this.starts;
    let waitingTimers = 0;
    const started = nowNs();
    for (const actor of actors) actor.send(CRASH);
    if (this.withBackoff) {
      waitingTimers = this.clock.pendingTimers();
      this.clock.advance(BACKOFF.maxMs * 2);
    }
    const elapsed = nowNs() - started;
    if (this.starts - startsBefore !== this.n) {
      throw new Error(`${this.supervisor.id}: ${this.starts - startsBefore} restarts, expected ${this.n}`);
    }
    if (this.withBackoff && waitingTimers !== 1) {
      throw new Error(`${this.supervisor.id}: ${waitingTimers} clock timers pending while ${this.n} children wait, expected 1`);
    }
    if (this.supervisor.countChildren().active !== this.n) throw new Error(`${this.supervisor.id}: not every child is active again`);
    // Untimed: the children stay up long enough for their backoff to start again at minMs.
    this.clock.advance(BACKOFF_RESET_MS);
    return elapsed / this.n;
  }

  /** Every child crashed and waiting (untimed). */
  crashAll(): void {
    for (const actor of this.actors()) actor.send(CRASH);
    const waiting = this.supervisor.whichChildren().filter((child) => child.restarting && child.nextRestartAt !== undefined).length;
    if (waiting !== this.n) throw new Error(`${this.supervisor.id}: ${waiting} of ${this.n} children waiting`);
  }
}

interface BackoffFigures {
  nsBackoff: number[];
  nsImmediate: number[];
  bytesWaiting: number;
  bytesRunning: number;
  timersArmed: number;
  restartsTimed: number;
}

async function oursBackoff(testCase: BackoffCase): Promise<BackoffFigures> {
  const { n } = testCase;
  const backoff = new BackoffBenchTree(n, true);
  const immediate = new BackoffBenchTree(n, false);
  await backoff.start(`bench-backoff-${sizeLabel(n)}`);
  await immediate.start(`bench-immediate-${sizeLabel(n)}`);
  backoff.round();
  immediate.round();
  const armedBefore = backoff.armed;
  const nsBackoff: number[] = [];
  const nsImmediate: number[] = [];
  for (let round = 0; round < testCase.rounds; round += 1) {
    if (round % 2 === 0) {
      nsBackoff.push(backoff.round());
      nsImmediate.push(immediate.round());
    } else {
      nsImmediate.push(immediate.round());
      nsBackoff.push(backoff.round());
    }
  }
  const timersArmed = backoff.armed - armedBefore;
  await backoff.supervisor.stop();
  await immediate.supervisor.stop();

  // Heap: a fresh supervisor with no children, then its n children running, then all waiting.
  const memory = new BackoffBenchTree(n, true);
  const empty = heapUsedAfterGc();
  await memory.start(`bench-backoff-memory-${sizeLabel(n)}`);
  const running = heapUsedAfterGc();
  memory.crashAll();
  const waiting = heapUsedAfterGc();
  await memory.supervisor.stop();
  return {
    nsBackoff,
    nsImmediate,
    bytesWaiting: (waiting - empty) / n,
    bytesRunning: (running - empty) / n,
    timersArmed,
    restartsTimed: n * testCase.rounds,
  };
}

// ------------------------------------------------------------------ the peer

type Peer = { ok: true; info: ErlangInfo; compiled: CompiledErlang } | { ok: false; reason: string; failed: boolean };

async function preparePeer(): Promise<Peer> {
  const found = await findErlang();
  if (!found.ok) return { ok: false, reason: found.reason, failed: false };
  try {
    return { ok: true, info: found.info, compiled: await compileErlang(found.info, [ERLANG_SOURCE]) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error), failed: true };
  }
}

function peerName(peer: Peer): string {
  return peer.ok ? `erlang-otp-${peer.info.release}` : 'erlang-otp';
}

function records(all: OtpRecord[], type: string): OtpRecord[] {
  return all.filter((record) => record.type === type);
}

function numberField(record: OtpRecord | undefined, field: string): number {
  const value = record?.[field];
  if (typeof value !== 'number') throw new Error(`erlang peer: missing number '${field}' in ${JSON.stringify(record)}`);
  return value;
}

function samplesField(record: OtpRecord | undefined): number[] {
  const value = record?.samples;
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'number')) {
    throw new Error(`erlang peer: missing samples in ${JSON.stringify(record)}`);
  }
  return value as number[];
}

// ------------------------------------------------------------------ the suite

function describeSamples(samples: number[]): string {
  return `median ${formatNs(median(samples))} (p10 ${formatNs(quantile(samples, 0.1))}, p90 ${formatNs(quantile(samples, 0.9))}, ${samples.length} batches of ${BATCH})`;
}

function xstateVersion(): string {
  try {
    const json = JSON.parse(readFileSync(join(benchDir, '..', 'node_modules', 'xstate', 'package.json'), 'utf8')) as { version?: string };
    return json.version ?? '?';
  } catch {
    return '?';
  }
}

// ---- our side: every case, back to back (the peer runs afterwards, so that idling while erl
// ---- runs cannot change how V8 sizes its heap for our later cases)

interface OursFigures {
  restart: Map<number, RestartResult>;
  /** Median ns of the same cycle on a bare XState actor (no supervisor). */
  bareCycle: number;
  dynamic: Map<number, { ns: number; bytes: number; stopMs: number }>;
  bareIdle: { nsPerActor: number; bytesPerActor: number };
  backoff: BackoffFigures;
}

async function measureOurs(context: SuiteContext, plan: Plan): Promise<OursFigures> {
  // Restart: a throw-away supervisor warms the JIT up first.
  const warmChild = new CrashingChild();
  const warm = await startRestartSupervisor(warmChild, 'bench-restart-warmup');
  crashTimes(warmChild, plan.warmupCrashes, 'warm-up');
  await warm.supervisor.stop();
  const restart = new Map<number, RestartResult>();
  for (const testCase of plan.restart) {
    const result = await oursRestart(testCase);
    restart.set(testCase.n, result);
    context.note(
      `ours   restart@${sizeLabel(testCase.n)}: ${describeSamples(result.samples)}; ${testCase.rounds} round(s), window ${formatCount(testCase.n)} → ${formatCount(result.windowAfter)}`,
    );
  }
  const bareCycle = median(bareXStateCycle(plan.baselineBatches));
  const ours1k = median(restart.get(plan.restart[0].n)!.samples);
  context.note(
    `ours   no supervisor (createActor + subscribe + start + CRASH of a bare XState actor): ${formatNs(bareCycle)}; the supervisor adds ${formatNs(ours1k - bareCycle)} per crash+restart`,
  );

  // Dynamic start.
  await oursDynamic(plan.dynamicWarmup, 'bench-dynamic-warmup');
  const dynamic = new Map<number, { ns: number; bytes: number; stopMs: number }>();
  for (const { n, repetitions } of plan.dynamic) {
    const runs: DynamicResult[] = [];
    for (let rep = 0; rep < repetitions; rep += 1) runs.push(await oursDynamic(n, `bench-dynamic-${sizeLabel(n)}-${rep}`));
    const figure = {
      ns: median(runs.map((run) => run.nsPerChild)),
      bytes: median(runs.map((run) => run.bytesPerChild)),
      stopMs: median(runs.map((run) => run.stopMs)),
    };
    dynamic.set(n, figure);
    context.note(
      `ours   dynamic.start@${sizeLabel(n)}: ${formatNs(figure.ns)} per child (${repetitions === 1 ? '1 run' : `median of ${runs.map((run) => formatNs(run.nsPerChild)).join(', ')}`}), heap ${formatBytes(figure.bytes)} per idle child, stop() of ${formatCount(n)} children ${formatMs(figure.stopMs)}`,
    );
  }
  const bareIdle = bareIdleActors(plan.dynamic[0].n);
  context.note(
    `ours   no supervisor (createActor + start of ${formatCount(plan.dynamic[0].n)} idle XState actors): ${formatNs(bareIdle.nsPerActor)} and ${formatBytes(bareIdle.bytesPerActor)} per actor`,
  );
  context.note('ours   dynamic children: idle XState machine actors, restart: temporary, default shutdown (5000 ms; an idle actor is stopped at once)');

  // Restart with backoff.
  const backoff = await oursBackoff(plan.backoff);
  const label = sizeLabel(plan.backoff.n);
  const ratio = median(backoff.nsBackoff) / median(backoff.nsImmediate);
  context.note(
    `ours   backoff@${label}: ${formatNs(median(backoff.nsBackoff))} per restart with backoff (p10 ${formatNs(quantile(backoff.nsBackoff, 0.1))}, p90 ${formatNs(quantile(backoff.nsBackoff, 0.9))}) vs ${formatNs(median(backoff.nsImmediate))} at once (p10 ${formatNs(quantile(backoff.nsImmediate, 0.1))}, p90 ${formatNs(quantile(backoff.nsImmediate, 0.9))}); ${plan.backoff.rounds} rounds of ${formatCount(plan.backoff.n)} each; ratio ${formatRatio(ratio)} (target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'MISSED'})`,
  );
  context.note(
    `ours   backoff@${label}: 1 clock timer pending while ${formatCount(plan.backoff.n)} children wait (checked every round); ${formatCount(backoff.timersArmed)} timer arms for ${formatCount(backoff.restartsTimed)} restarts (one per distinct due time: jittered delays on a TestClock are all distinct)`,
  );
  context.note(
    `ours   backoff.memory@${label}: heap ${formatBytes(backoff.bytesWaiting)} per waiting child vs ${formatBytes(backoff.bytesRunning)} per running child (supervisor bookkeeping included; a waiting child holds no actor)`,
  );
  return { restart, bareCycle, dynamic, bareIdle, backoff };
}

// ---- the peer

interface PeerFigures {
  restart: Map<number, number[]>;
  dynamic: Map<number, { ns: number; bytes: number; processBytes: number; stopMs: number }>;
}

async function measurePeerRestart(context: SuiteContext, plan: Plan, peer: Extract<Peer, { ok: true }>, into: PeerFigures): Promise<void> {
  const [small, large] = plan.restart;
  const tasks = [
    `{warmup, ${plan.warmupCrashes}}`,
    `{restart, 0, ${plan.peerContextRounds}, 1, ${BATCH}, real, cast}`,
    `{restart, ${small.n}, ${small.rounds}, ${small.peerBatches}, ${BATCH}, real, cast}`,
    `{restart, ${small.n}, ${plan.peerContextRounds}, ${small.peerBatches}, ${BATCH}, real, kill}`,
    `{restart, ${large.n}, ${large.rounds}, ${large.peerBatches}, ${BATCH}, inject, cast}`,
  ];
  const output = records(
    await runErlang(peer.info, peer.compiled, `sup_bench:main([${tasks.join(', ')}]).`, { timeoutMs: 600_000 }),
    'restart',
  );
  const find = (n: number, crash: string): OtpRecord | undefined => output.find((record) => record.n === n && record.crash === crash);
  for (const testCase of plan.restart) {
    const record = find(testCase.n, 'cast');
    const samples = samplesField(record);
    into.restart.set(testCase.n, samples);
    context.note(
      `erlang restart@${sizeLabel(testCase.n)}: ${describeSamples(samples)}; ${testCase.rounds} round(s), window ${formatCount(testCase.n)} → ${formatCount(numberField(record, 'window_after'))}, pre-filled by ${String(record?.prefill)}`,
    );
  }
  context.note(
    `erlang restart with ≤${BATCH} in the window: ${formatNs(median(samplesField(find(0, 'cast'))))}; restart@${sizeLabel(small.n)} with exit(Pid, kill) instead of a raise: ${formatNs(median(samplesField(find(small.n, 'kill'))))}`,
  );
  context.note(
    `erlang pre-fills ${sizeLabel(large.n)} by writing the timestamps into the supervisor's state: its add_restart/1 copies and counts the whole window on every restart, so ${formatCount(large.n)} real restarts would take O(N²)`,
  );
}

async function measurePeerDynamic(context: SuiteContext, plan: Plan, peer: Extract<Peer, { ok: true }>, into: PeerFigures): Promise<void> {
  const tasks = plan.dynamic.flatMap(({ n, repetitions }) => Array.from({ length: repetitions }, () => `{dynamic, ${n}}`));
  const output = records(
    await runErlang(peer.info, peer.compiled, `sup_bench:main([{dynamic, ${plan.dynamicWarmup}}, ${tasks.join(', ')}]).`, {
      timeoutMs: 600_000,
    }),
    'dynamic',
  );
  for (const { n } of plan.dynamic) {
    const runs = output.filter((record) => record.n === n);
    if (runs.length === 0) throw new Error(`erlang peer: no dynamic result for ${n}`);
    const figure = {
      ns: median(runs.map((run) => numberField(run, 'ns_per_child'))),
      bytes: median(runs.map((run) => numberField(run, 'bytes_per_child'))),
      processBytes: median(runs.map((run) => numberField(run, 'process_bytes_per_child'))),
      stopMs: median(runs.map((run) => numberField(run, 'stop_ms'))),
    };
    into.dynamic.set(n, figure);
    context.note(
      `erlang dynamic.start@${sizeLabel(n)}: ${formatNs(figure.ns)} per child (median of ${runs.length}), ${formatBytes(figure.bytes)} per idle child (${formatBytes(figure.processBytes)} of it process memory), stopping ${formatCount(n)} children ${formatMs(figure.stopMs)}`,
    );
  }
}

/** Runs both peer groups; a failure becomes a SKIP line plus an entry in `errors`. */
async function measurePeer(context: SuiteContext, plan: Plan, peer: Peer, errors: string[]): Promise<PeerFigures> {
  const figures: PeerFigures = { restart: new Map(), dynamic: new Map() };
  if (!peer.ok) return figures;
  const groups: [string, () => Promise<void>][] = [
    ['supervisor.restart', () => measurePeerRestart(context, plan, peer, figures)],
    ['dynamic', () => measurePeerDynamic(context, plan, peer, figures)],
  ];
  for (const [what, measure] of groups) {
    try {
      await measure();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors.push(message);
      context.skip(`${what} peer ${peerName(peer)}`, message);
    }
  }
  return figures;
}

// ---- the BENCH lines

function report(context: SuiteContext, plan: Plan, peer: Peer, ours: OursFigures, theirs: PeerFigures): void {
  const [small, large] = plan.restart;
  for (const { n } of plan.restart) {
    const peerSamples = theirs.restart.get(n);
    context.bench({
      case: `supervisor.restart@${sizeLabel(n)}`,
      ours: median(ours.restart.get(n)!.samples),
      peer: peerSamples ? median(peerSamples) : null,
      peerName: peerName(peer),
      unit: 'ns',
    });
  }
  const ours1k = median(ours.restart.get(small.n)!.samples);
  const ours100k = median(ours.restart.get(large.n)!.samples);
  const scaling = ours100k / ours1k;
  const peerSmall = theirs.restart.get(small.n);
  const peerLarge = theirs.restart.get(large.n);
  context.note(
    `ours   restart@${sizeLabel(large.n)} / restart@${sizeLabel(small.n)} = ${formatRatio(scaling)} (target ≤ 1.2: ${scaling <= 1.2 ? 'met' : 'MISSED'})` +
      (peerSmall && peerLarge ? `; erlang: ${formatRatio(median(peerLarge) / median(peerSmall))}` : ''),
  );
  context.bench({
    case: `supervisor.restart@${sizeLabel(large.n)}_vs_${sizeLabel(small.n)}`,
    ours: ours100k,
    peer: ours1k,
    peerName: `ours@${sizeLabel(small.n)}`,
    unit: 'ns',
  });
  for (const { n } of plan.dynamic) {
    context.bench({
      case: `dynamic.start@${sizeLabel(n)}`,
      ours: ours.dynamic.get(n)!.ns,
      peer: theirs.dynamic.get(n)?.ns ?? null,
      peerName: peerName(peer),
      unit: 'ns',
    });
  }
  for (const { n } of plan.dynamic) {
    context.bench({
      case: `dynamic.memory@${sizeLabel(n)}`,
      ours: ours.dynamic.get(n)!.bytes,
      peer: theirs.dynamic.get(n)?.bytes ?? null,
      peerName: peerName(peer),
      unit: 'bytes',
    });
  }
  const backoffLabel = sizeLabel(plan.backoff.n);
  context.bench({
    case: `supervisor.backoff@${backoffLabel}`,
    ours: median(ours.backoff.nsBackoff),
    peer: median(ours.backoff.nsImmediate),
    peerName: 'ours-immediate',
    unit: 'ns',
  });
  context.bench({
    case: `supervisor.backoff.memory@${backoffLabel}`,
    ours: ours.backoff.bytesWaiting,
    peer: ours.backoff.bytesRunning,
    peerName: 'ours-running',
    unit: 'bytes',
  });
}

export default defineSuite({
  name: 'supervisor',
  description:
    'crash → restart with 1k/100k restarts in the window; dynamic start of 10k/100k children; vs Erlang/OTP supervisor; restart with backoff of 10k children vs at once',
  async run(context) {
    const plan = context.quick ? QUICK : FULL;
    const loaded = await loadOverseer();
    overseer = loaded.overseer;
    const peer = await preparePeer();
    context.note(`node ${process.version}, xstate ${xstateVersion()}; overseer: ${loaded.description}`);
    if (peer.ok) {
      context.note(
        `peer: Erlang/OTP ${peer.info.version} (erts ${peer.info.erts}, ${peer.info.flavor}, ${peer.info.schedulers} schedulers), bench/otp/sup_bench.erl`,
      );
    } else {
      context.skip(`peer ${peerName(peer)} for every supervisor case`, peer.reason);
    }
    const peerErrors: string[] = [];
    try {
      const ours = await measureOurs(context, plan);
      const theirs = await measurePeer(context, plan, peer, peerErrors);
      report(context, plan, peer, ours, theirs);
    } finally {
      if (peer.ok) await peer.compiled.dispose();
    }
    // A missing erl is a SKIP; an installed peer that fails means the bench is broken.
    if (!peer.ok && peer.failed) peerErrors.push(peer.reason);
    if (peerErrors.length > 0) throw new Error(`the Erlang peer failed:\n${peerErrors.join('\n')}`);
  },
});
