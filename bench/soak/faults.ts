/**
 * The soak's fault schedule: the same cycle every minute of the run, at fixed offsets, so that
 * the second minute and the last minute (the two the growth rule compares) see the same faults.
 * Each fault is done from outside the back end the way it would happen: a thread of the CPU pool
 * killed by its task, the upstream failing then slow (through the opt-in `/soak/upstream`, the
 * upstream being in the back end's process), the quote refresher crashed, Redis killed with
 * SIGKILL and started again on the same port, clients far over their limits.
 */
import { runLoad, type MixEntry, type Tally } from './load.js';
import type { SoakRedis } from './processes.js';
import type { FaultWindow } from './verdict.js';

/** A fault done (or tried). */
export interface FaultEvent {
  /** s since the load started. */
  t: number;
  kind: 'thread-crash' | 'upstream-failing' | 'upstream-slow' | 'upstream-recovered' | 'refresher-crash' | 'flood' | 'redis-restart';
  /** Whether the back end (or Redis) reacted as the fault expects; see `detail` otherwise. */
  ok: boolean;
  detail: string;
  /** How long it lasted, s (floods, Redis outages). */
  seconds?: number;
}

/** One step of the cycle. */
interface Step {
  /** Offset within each minute, s. */
  at: number;
  /** How long it takes; steps that would not end before the load does are left out. */
  lasts: number;
  run: () => Promise<Omit<FaultEvent, 't'>>;
}

/** What the schedule drives. */
export interface FaultContext {
  url: string;
  redis: SoakRedis;
  startedAt: number;
  /** The load's length, s. */
  seconds: number;
  /** Upstream fault windows, appended to as they begin and closed as they end. */
  upstreamFaults: FaultWindow[];
  /** Where the flood's answers are counted. */
  floodTally: Tally;
  /** Requests per second of each flood. */
  floodRate: number;
}

/** The clients of a flood: one identity, far over its per-route limit on both limited routes. */
export const FLOOD_MIX: readonly MixEntry[] = Object.freeze([
  { route: '/quote', client: 'flood', weight: 1 },
  { route: '/cpu', client: 'flood', weight: 1 },
]);

/** Connections of a flood: the largest divisor of its rate up to 10, so each gets the same rate (and share of the amount). */
function floodConnections(rate: number): number {
  let connections = Math.min(10, rate);
  while (rate % connections !== 0) connections -= 1;
  return connections;
}

/** How the schedule reads in the docs: offset within each minute, what. */
export function scheduleText(floodRate: number, clientRate: number): string[] {
  return [
    '+5 s and +35 s: a thread of the CPU pool killed (`POST /soak/crash-thread`: a task that calls `process.exit(70)` in its thread; expected `ERR_WORKER_CRASHED`, the pool replaces the thread)',
    '+8 s to +18 s: the upstream fails every request (`failureRate` 1): the breaker opens, `/quote` serves the cached quote, `/direct/quote` passes the 502 on',
    `+22 s: a flood of ${floodRate * 10} requests at ${floodRate} req/s from client \`flood\` on \`/quote\` and \`/cpu\` (${floodRate / 2}/s on each against a limit of ${clientRate}/s) over ${floodConnections(floodRate)} connections of its own, besides the steady load`,
    '+25 s: the quote refresher crashed (`POST /crash?child=quote-refresher`; 202, or 409 while it waits out a backoff)',
    '+38 s to +46 s: the upstream slower than the breaker\'s call timeout (1500 ms against 1000 ms), then +46 s to +50 s slow but within it (300 ms)',
    '+52 s: Redis killed with SIGKILL, its port closed for 3 s, then a new `redis-server` on the same port',
  ];
}

async function post(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** `POST /soak/upstream` with `query`; ok when the back end answers 200 with the behaviour asked. */
async function setUpstream(url: string, query: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const { status, body } = await post(`${url}/soak/upstream?${query}`);
    return { ok: status === 200, detail: `${query} → ${status} ${JSON.stringify(body)}` };
  } catch (error) {
    return { ok: false, detail: `${query} → ${(error as Error).message}` };
  }
}

/** When each step of the cycle starts (offset within the minute, s) and how long it takes, s; in the order of {@link cycle}. */
const STEP_TIMES: ReadonlyArray<{ at: number; lasts: number }> = Object.freeze([
  { at: 5, lasts: 2 },
  { at: 8, lasts: 11 },
  { at: 22, lasts: 12 },
  { at: 25, lasts: 1 },
  { at: 35, lasts: 2 },
  { at: 38, lasts: 13 },
  { at: 52, lasts: 6 },
]);

/** Whether a step starting `at` s into the load and lasting `lasts` s is run in a load of `seconds`: it must end 2 s before the load does. */
function fits(at: number, lasts: number, seconds: number): boolean {
  return at + lasts <= seconds - 2;
}

/** How many faults {@link startSchedule} starts over a load of `seconds`. */
export function scheduledFaults(seconds: number): number {
  let count = 0;
  for (let minute = 0; minute < Math.ceil(seconds / 60); minute += 1) {
    for (const step of STEP_TIMES) if (fits(minute * 60 + step.at, step.lasts, seconds)) count += 1;
  }
  return count;
}

/** The cycle of one minute. */
function cycle(context: FaultContext, minute: number): Step[] {
  const { url } = context;
  const crashThread: Step['run'] = async () => {
    try {
      const { status, body } = await post(`${url}/soak/crash-thread`);
      return { kind: 'thread-crash', ok: status === 200 && body.crashed === 'ERR_WORKER_CRASHED', detail: `${status} ${JSON.stringify(body)}` };
    } catch (error) {
      return { kind: 'thread-crash', ok: false, detail: (error as Error).message };
    }
  };
  const upstreamFault = (kind: FaultWindow['kind'], on: string, middle: { after: number; query: string } | undefined, lasts: number): Step['run'] => async () => {
    const window: FaultWindow = { kind, from: Date.now(), to: undefined };
    context.upstreamFaults.push(window);
    const started = await setUpstream(url, on);
    if (middle) {
      await new Promise((resolve) => setTimeout(resolve, middle.after * 1000));
      const step = await setUpstream(url, middle.query);
      started.ok &&= step.ok;
      started.detail += `; then ${step.detail}`;
      await new Promise((resolve) => setTimeout(resolve, (lasts - middle.after) * 1000));
    } else {
      await new Promise((resolve) => setTimeout(resolve, lasts * 1000));
    }
    const ended = await setUpstream(url, 'failureRate=0&latencyMs=2');
    window.to = Date.now();
    return { kind, ok: started.ok && ended.ok, detail: `${started.detail}; then ${ended.detail}`, seconds: (window.to - window.from) / 1000 };
  };
  return [
    { ...STEP_TIMES[0]!, run: crashThread },
    { ...STEP_TIMES[1]!, run: upstreamFault('upstream-failing', 'failureRate=1', undefined, 10) },
    {
      ...STEP_TIMES[2]!,
      run: async () => {
        const began = Date.now();
        const rate = context.floodRate;
        const before = context.floodTally.answered;
        try {
          await runLoad({
            name: 'flood',
            url,
            rate,
            connections: floodConnections(rate),
            amount: rate * 10,
            mix: FLOOD_MIX,
            seed: 1_000 + minute,
            startedAt: context.startedAt,
            upstreamFaults: context.upstreamFaults,
            tally: context.floodTally,
          });
          const answered = context.floodTally.answered - before;
          return { kind: 'flood', ok: true, detail: `${rate * 10} requests from client 'flood', ${answered} answered`, seconds: (Date.now() - began) / 1000 };
        } catch (error) {
          return { kind: 'flood', ok: false, detail: (error as Error).message, seconds: (Date.now() - began) / 1000 };
        }
      },
    },
    {
      ...STEP_TIMES[3]!,
      run: async () => {
        try {
          const { status, body } = await post(`${url}/crash?child=quote-refresher`);
          return { kind: 'refresher-crash', ok: status === 202 || status === 409, detail: `${status} ${JSON.stringify(body)}` };
        } catch (error) {
          return { kind: 'refresher-crash', ok: false, detail: (error as Error).message };
        }
      },
    },
    { ...STEP_TIMES[4]!, run: crashThread },
    { ...STEP_TIMES[5]!, run: upstreamFault('upstream-slow', 'latencyMs=1500', { after: 8, query: 'latencyMs=300' }, 12) },
    {
      ...STEP_TIMES[6]!,
      run: async () => {
        try {
          const downMs = await context.redis.restart(3_000);
          return { kind: 'redis-restart', ok: true, detail: `SIGKILL, restarted on port ${context.redis.port}, unreachable ${downMs} ms`, seconds: downMs / 1000 };
        } catch (error) {
          return { kind: 'redis-restart', ok: false, detail: (error as Error).message };
        }
      },
    },
  ];
}

/** A running schedule. */
export interface Schedule {
  /** Faults done so far (complete once `done` resolves). */
  readonly events: FaultEvent[];
  /** Resolves once every fault started has ended. */
  done: Promise<void>;
  /** Starts no further fault (those under way finish). */
  cancel(): void;
}

/**
 * Starts the schedule: every minute of the load, each step of the cycle whose end falls before
 * the load's end. Steps run on their own (a flood does not delay the next step).
 */
export function startSchedule(context: FaultContext): Schedule {
  const events: FaultEvent[] = [];
  const timers: NodeJS.Timeout[] = [];
  const running: Array<Promise<void>> = [];
  let allStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (allStarted = resolve));
  let pending = 0;
  const minutes = Math.ceil(context.seconds / 60);
  for (let minute = 0; minute < minutes; minute += 1) {
    for (const step of cycle(context, minute)) {
      const at = minute * 60 + step.at;
      if (!fits(at, step.lasts, context.seconds)) continue;
      pending += 1;
      timers.push(
        setTimeout(
          () => {
            const t = (Date.now() - context.startedAt) / 1000;
            running.push(step.run().then((event) => void events.push({ t: Math.round(t * 10) / 10, ...event })));
            pending -= 1;
            if (pending === 0) allStarted();
          },
          Math.max(0, context.startedAt + at * 1000 - Date.now()),
        ),
      );
    }
  }
  if (pending === 0) allStarted();
  return {
    events,
    done: started.then(() => Promise.all(running)).then(() => undefined),
    cancel() {
      for (const timer of timers) clearTimeout(timer);
      allStarted();
    },
  };
}
