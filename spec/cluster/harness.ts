import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { REDIS_SERVER, sparePort } from '../support/limiter-redis.js';
import type { LoggedWrite } from './service/fenced-writes.js';
import { SERVICE_CONFIG_ENV, type Command, type ServiceConfig, type ServiceEvent } from './service/protocol.js';

/**
 * The multi-process harness: forks service instances (`service/instance.ts`, run with
 * `node --import tsx` as `npm start` runs the example back end), records every event they report
 * over IPC, sends them commands and signals, and ends every process it started by its own pid.
 * The checks over a whole run are pure functions of what it recorded (and of the fenced-write
 * log), below.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const servicePath = fileURLToPath(new URL('./service/instance.ts', import.meta.url));

/** How an instance's process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One forked service process. */
export class Instance {
  /** Its stdout and stderr, for the failure messages. */
  output = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  /** Whether the harness SIGSTOPped it and has not continued it yet. */
  paused = false;

  constructor(
    readonly id: string,
    readonly process: ChildProcess,
  ) {
    process.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // Ended once it has exited and its IPC channel is closed: every message it sent has arrived.
    const disconnected = new Promise<void>((resolve) => (process.connected ? process.once('disconnect', () => resolve()) : resolve()));
    const exited = new Promise<Exit>((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = Promise.all([exited, disconnected]).then(([exit]) => {
      this.exit = exit;
      return exit;
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  send(command: Command): void {
    this.process.send(command);
  }

  /** Sends `signal` to this process (by its pid). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
    if (signal === 'SIGSTOP') this.paused = true;
    if (signal === 'SIGCONT') this.paused = false;
  }
}

/** A run of the singleton: one actor started by one instance with one fence, and its writes. */
export interface Run {
  readonly instance: string;
  readonly fence: number;
  readonly startedAt: number;
  /** When its actor ended, if the process said so. */
  stoppedAt: number | undefined;
  /** Its write attempts (accepted or not), in the order they were reported. */
  readonly writes: Array<Extract<ServiceEvent, { type: 'write' }>>;
}

/** The last element that passes `test` (the ES2022 lib has no findLast). */
function last<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let index = items.length - 1; index >= 0; index -= 1) if (test(items[index]!)) return items[index];
  return undefined;
}

/** Polls every 10 ms until `check` gives a value that is not undefined; throws after `withinMs`. */
export async function waitFor<T>(check: () => T | undefined, withinMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what()} (waited ${withinMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Forks instances of one configuration and records what they report. */
export class ServiceHarness {
  readonly events: ServiceEvent[] = [];
  readonly instances = new Map<string, Instance>();
  private requests = 0;

  constructor(private readonly base: Omit<ServiceConfig, 'instance'>) {}

  /** Forks instance `id` and waits until it reports `ready` (its tree started). */
  async spawn(id: string): Promise<Instance> {
    if (this.instances.has(id)) throw new Error(`instance ${id} exists already`);
    const config: ServiceConfig = { ...this.base, instance: id };
    const child = fork(servicePath, [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [SERVICE_CONFIG_ENV]: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const instance = new Instance(id, child);
    this.instances.set(id, instance);
    child.on('message', (event: ServiceEvent) => this.events.push(event));
    await waitFor(
      () => (this.events.some((event) => event.instance === id && event.type === 'ready') ? true : instance.alive ? undefined : false),
      20_000,
      () => `instance ${id} did not report ready:\n${instance.output}`,
    ).then((ready) => {
      if (!ready) throw new Error(`instance ${id} exited before it was ready (${JSON.stringify(instance.exit)}):\n${instance.output}`);
    });
    return instance;
  }

  instance(id: string): Instance {
    const found = this.instances.get(id);
    if (found === undefined) throw new Error(`no instance ${id}`);
    return found;
  }

  /** The instances still running. */
  live(): Instance[] {
    return [...this.instances.values()].filter((instance) => instance.alive);
  }

  /** Every run of the singleton, in the order they started, with their writes. */
  runs(): Run[] {
    const runs: Run[] = [];
    for (const event of this.events) {
      if (event.type === 'run.started') runs.push({ instance: event.instance, fence: event.fence, startedAt: event.at, stoppedAt: undefined, writes: [] });
      const latest = (): Run | undefined => last(runs, (run) => run.instance === event.instance && run.fence === (event as { fence?: number }).fence);
      if (event.type === 'run.stopped') {
        const run = latest();
        if (run !== undefined) run.stoppedAt = event.at;
      }
      if (event.type === 'write') latest()?.writes.push(event);
    }
    return runs;
  }

  /** The latest state of the run of `instance` with `fence` (runs are recomputed from the events on each call). */
  runOf(run: { instance: string; fence: number }): Run | undefined {
    return last(this.runs(), (candidate) => candidate.instance === run.instance && candidate.fence === run.fence);
  }

  /** The run going on now: its actor started, not reported stopped, in a live process. */
  current(): Run | undefined {
    return last(this.runs(), (run) => run.stoppedAt === undefined && this.instance(run.instance).alive);
  }

  /** The first run that started after `at` (on the common clock), if any. */
  runAfter(at: number, other?: { than: string }): Run | undefined {
    return this.runs().find((run) => run.startedAt >= at && (other === undefined || run.instance !== other.than));
  }

  /** The events of one type after `at`. */
  after<T extends ServiceEvent['type']>(type: T, at: number, instance?: string): Array<Extract<ServiceEvent, { type: T }>> {
    return this.events.filter(
      (event): event is Extract<ServiceEvent, { type: T }> => event.type === type && event.at >= at && (instance === undefined || event.instance === instance),
    );
  }

  /** Asks `instance` for one hit on the shared limiter; resolves with the decision. */
  async hit(instance: Instance, key: string): Promise<boolean> {
    const answer = await this.ask(instance, 'hit', (id) => ({ type: 'hit', id, key }));
    if (answer.error !== undefined) throw new Error(`hit ${answer.id} on ${instance.id} failed: ${answer.error}`);
    return answer.allowed === true;
  }

  /** Has `instance` isolate the shared breaker across instances; resolves once its fleet's `isolate()` has. */
  async isolate(instance: Instance, reason: string): Promise<Extract<ServiceEvent, { type: 'isolate' }>> {
    const answer = await this.ask(instance, 'isolate', (id) => ({ type: 'isolate', id, reason }));
    if (answer.error !== undefined) throw new Error(`isolate on ${instance.id} failed: ${answer.error}`);
    return answer;
  }

  /** Has `instance` restore the shared breaker across instances; resolves with whether there was an isolation. */
  async restore(instance: Instance): Promise<boolean> {
    const answer = await this.ask(instance, 'restore', (id) => ({ type: 'restore', id }));
    if (answer.error !== undefined) throw new Error(`restore on ${instance.id} failed: ${answer.error}`);
    return answer.existed === true;
  }

  /** One call through `instance`'s shared breaker: whether it ran or was refused, and why. */
  call(instance: Instance): Promise<Extract<ServiceEvent, { type: 'call' }>> {
    return this.ask(instance, 'call', (id) => ({ type: 'call', id }));
  }

  /** `instance`'s breaker fleet view, and whether its fleet's subscription stands. */
  view(instance: Instance): Promise<Extract<ServiceEvent, { type: 'view' }>> {
    return this.ask(instance, 'view', (id) => ({ type: 'view', id }));
  }

  /** Sends `instance` the command `command(id)` with a fresh id and waits (5 s at most) for its answer: the event of `type` with that id. */
  private async ask<T extends 'hit' | 'isolate' | 'restore' | 'call' | 'view'>(
    instance: Instance,
    type: T,
    command: (id: number) => Extract<Command, { type: T }>,
  ): Promise<Extract<ServiceEvent, { type: T }>> {
    const id = (this.requests += 1);
    instance.send(command(id));
    return waitFor(
      () => this.events.find((event): event is Extract<ServiceEvent, { type: T }> => event.type === type && (event as { id?: number }).id === id),
      5000,
      () => `instance ${instance.id} did not answer ${type} ${id}`,
    );
  }

  /** Stops `instance` with SIGTERM and waits for its exit. */
  async terminate(instance: Instance, withinMs = 10_000): Promise<Exit> {
    instance.signal('SIGTERM');
    return this.exitOf(instance, withinMs);
  }

  async exitOf(instance: Instance, withinMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`instance ${instance.id} did not exit within ${withinMs} ms:\n${instance.output}`)), withinMs);
    });
    try {
      return await Promise.race([instance.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every process still running, at once (SIGCONT first for a paused one, then SIGKILL). */
  async killAll(): Promise<void> {
    await Promise.all(
      this.live().map(async (instance) => {
        try {
          if (instance.paused) instance.signal('SIGCONT');
          instance.signal('SIGKILL');
        } catch {
          // It is gone already.
        }
        await instance.exited;
      }),
    );
  }
}

// ---------------------------------------------------------------- a redis-server of the spec's own

/** A redis-server of the scenario's own on a loopback port, persisting to an append-only file in a directory of its own. */
export interface PersistentRedis {
  readonly port: number;
  readonly url: string;
  /** Kills it (SIGKILL, by pid) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (its data reloaded from the append-only file). */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * Starts `redis-server --appendonly yes --appendfsync always` on a spare loopback port: a lease's
 * fence counter must survive a restart, or fences would start again at 1 (see the report of the
 * Redis restart fault).
 */
export async function startPersistentRedis(): Promise<PersistentRedis> {
  const port = await sparePort();
  const dir = await mkdtemp(join(tmpdir(), 'overseer-cluster-redis-'));
  let server: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
      { stdio: 'ignore' },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // LOADING while the append-only file is read back: wait for PONG.
        if ((await client.ping()) === 'PONG') return;
      } catch {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 5000 ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        client.disconnect();
      }
    }
  };
  const kill = async (): Promise<void> => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- checks over a whole run

/**
 * Every takeover gets a larger fence: each run's fence is at least every earlier run's, and larger
 * than all of them when another instance ran before it. Returns the violations.
 */
export function fenceViolations(runs: readonly Run[]): string[] {
  const violations: string[] = [];
  let highest = 0;
  let previous: Run | undefined;
  for (const run of runs) {
    if (run.fence < highest || (previous !== undefined && previous.instance !== run.instance && run.fence <= highest)) {
      violations.push(`run of ${run.instance} with fence ${run.fence} after fence ${highest} (of ${previous?.instance})`);
    }
    highest = Math.max(highest, run.fence);
    previous = run;
  }
  return violations;
}

/** The fenced-write log in commit order never goes back to a lower fence, nor back in the database's time. */
export function logViolations(log: readonly LoggedWrite[]): string[] {
  const violations: string[] = [];
  for (let index = 1; index < log.length; index += 1) {
    const before = log[index - 1]!;
    const row = log[index]!;
    if (row.fence < before.fence) violations.push(`seq ${row.seq}: fence ${row.fence} (${row.instance}) after fence ${before.fence} (${before.instance})`);
    if (row.atMs < before.atMs) violations.push(`seq ${row.seq}: at ${row.atMs} before the previous row's ${before.atMs}`);
  }
  return violations;
}

/**
 * The log against what the processes reported: every write reported taken is in the log as
 * reported, and the log holds no other write unless its outcome was unknown to its writer: the
 * last write of a process SIGKILLed between the commit and its report, or a write whose reply
 * was an error (a connection terminated after the commit: the classic unknown commit outcome).
 * Returns the violations.
 */
export function unexplainedWrites(log: readonly LoggedWrite[], runs: readonly Run[], killed: ReadonlySet<string>): string[] {
  const violations: string[] = [];
  const writes = runs.flatMap((run) => run.writes);
  const reported = new Map(writes.filter((write) => write.accepted).map((write) => [write.seq!, write] as const));
  for (const [seq, write] of reported) {
    const row = log.find((candidate) => candidate.seq === seq);
    if (row === undefined || row.fence !== write.fence || row.instance !== write.instance) {
      violations.push(`reported write seq ${seq} (${write.instance}, fence ${write.fence}) is logged as ${JSON.stringify(row)}`);
    }
  }
  const unknown = new Map<string, number>();
  for (const write of writes) if (write.error !== undefined) unknown.set(`${write.instance}/${write.fence}`, (unknown.get(`${write.instance}/${write.fence}`) ?? 0) + 1);
  for (const row of log) {
    if (reported.has(row.seq)) continue;
    const lastReported = Math.max(0, ...writes.filter((write) => write.instance === row.instance && write.accepted).map((write) => write.seq!));
    const key = `${row.instance}/${row.fence}`;
    if (killed.has(row.instance) && row.seq > lastReported) continue;
    if ((unknown.get(key) ?? 0) > 0) {
      unknown.set(key, unknown.get(key)! - 1);
      continue;
    }
    violations.push(`logged write seq ${row.seq} (${row.instance}, fence ${row.fence}) was never reported, nor was its outcome unknown to its writer`);
  }
  return violations;
}

/**
 * Holders' run windows do not overlap: a run's window is the span of its write attempts, from the
 * first sent to the last sent (on the machine's common clock), refused ones included: what the
 * holder did while it believed it held the lease. Consecutive runs of different instances must
 * not overlap at all: the documented design leaves a gap (a holder stops at its local deadline,
 * `ttlMs / 10` before the store could let the lease go), so no margin is granted. Returns the
 * violations and the smallest gap seen between two holders (ms).
 */
export function windowOverlaps(runs: readonly Run[]): { violations: string[]; smallestGapMs: number | undefined } {
  const violations: string[] = [];
  let smallestGapMs: number | undefined;
  const active = runs.filter((run) => run.writes.length > 0);
  for (let index = 1; index < active.length; index += 1) {
    const before = active[index - 1]!;
    const run = active[index]!;
    if (before.instance === run.instance) continue;
    const lastBefore = Math.max(...before.writes.map((write) => write.sentAt));
    const firstAfter = Math.min(...run.writes.map((write) => write.sentAt));
    const gap = firstAfter - lastBefore;
    smallestGapMs = smallestGapMs === undefined ? gap : Math.min(smallestGapMs, gap);
    if (gap < 0) violations.push(`${before.instance} (fence ${before.fence}) wrote until ${lastBefore}, ${-gap} ms after ${run.instance} (fence ${run.fence}) began at ${firstAfter}`);
  }
  return { violations, smallestGapMs };
}
