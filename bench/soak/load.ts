/**
 * The soak's load: autocannon 7 in this process, at a fixed rate (`overallRate` over a fixed
 * number of keep-alive connections, pipelining 1) for a fixed `amount` of requests, each request
 * drawn from a weighted mix of routes and client identities (`x-client-id`) by a seeded
 * generator. Every request is accounted for by the harness itself, not by autocannon's summary:
 * sent (the client's `request` event), answered (its `onResponse`, with status and body),
 * timed out or lost to a connection error — so "every request answered" is checked exactly.
 */
import autocannon from 'autocannon';
import { judgeAnswer, type FaultWindow } from './verdict.js';

/** The routes the soak sends load to. */
export type SoakRoute = '/quote' | '/direct/quote' | '/cpu' | '/health' | '/metrics' | '/observer/snapshot';

/** One kind of request in a mix: a route for a client identity, with its share of the load. */
export interface MixEntry {
  route: SoakRoute;
  /** The `x-client-id` sent; `undefined` sends none. */
  client: string | undefined;
  /** Relative share of the load. */
  weight: number;
}

/** Counts of one load (or of several loads added up). */
export interface Tally {
  /** Requests written to a connection. */
  sent: number;
  /** Responses received (any status). */
  answered: number;
  /** Requests autocannon gave up on after its timeout (no response). */
  timeouts: number;
  /** Requests lost to a connection error (reset, refused …), by error code. */
  connectionErrors: Record<string, number>;
  /** Responses by `"<route> <status>"`. */
  byRouteStatus: Record<string, number>;
  /** Responses by client identity and status. */
  byClientStatus: Record<string, Record<string, number>>;
  /** 502/504 answers on an upstream route inside an upstream fault window (the failure passed on, allowed). */
  upstreamPassedOn: number;
  /** Answers the rule refuses (a status not allowed, a body missing or not the route's format). */
  refused: number;
  /** The first refused answers and lost requests, for the report. */
  examples: string[];
  /** Answers per minute of the run (index = minute since the load started): total, 2xx, 429, 503, 502/504. */
  perMinute: Array<{ answered: number; ok: number; limited: number; unavailable: number; upstream: number }>;
}

/** A new empty {@link Tally}. */
export function emptyTally(): Tally {
  return { sent: 0, answered: 0, timeouts: 0, connectionErrors: {}, byRouteStatus: {}, byClientStatus: {}, upstreamPassedOn: 0, refused: 0, examples: [], perMinute: [] };
}

const MAX_EXAMPLES = 20;

function note(tally: Tally, example: string): void {
  if (tally.examples.length < MAX_EXAMPLES) tally.examples.push(example);
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** A small seeded generator (mulberry32): the same seed draws the same mix. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What a load needs. */
export interface LoadOptions {
  /** Name in reports (`steady`, `flood`). */
  name: string;
  url: string;
  /** Requests per second over all connections. */
  rate: number;
  connections: number;
  /** Requests in all: the load lasts `amount / rate` seconds when the service keeps up. */
  amount: number;
  mix: readonly MixEntry[];
  seed: number;
  /** The harness's start time (ms since the epoch): minutes in `perMinute` count from it. */
  startedAt: number;
  /** Upstream fault windows so far (the list grows while the load runs). */
  upstreamFaults: readonly FaultWindow[];
  /** Where the counts go (shared by the loads of a run). */
  tally: Tally;
  /** Seconds without a response before autocannon gives up on a request. Default 10. */
  timeoutSeconds?: number;
}

/** A path for `route`: `/cpu` draws `n` in [18, 26] (≈ 0.1–3 ms of one core each). */
function pathOf(route: SoakRoute, random: () => number): string {
  return route === '/cpu' ? `/cpu?n=${18 + Math.floor(random() * 9)}` : route;
}

interface RequestContext {
  entry?: MixEntry;
}

/** Internals of an autocannon client the harness reads (not in @types/autocannon). */
interface ClientInternals {
  requestIterator: { context: RequestContext };
}

/**
 * Runs one load to the end (every connection has sent its share of `amount` and had each request
 * answered, timed out or failed) and resolves with autocannon's own result, for cross-checking.
 */
export function runLoad(options: LoadOptions): Promise<autocannon.Result> {
  const { tally, mix, startedAt } = options;
  const random = seededRandom(options.seed);
  const total = mix.reduce((sum, entry) => sum + entry.weight, 0);
  const draw = (): MixEntry => {
    let left = random() * total;
    for (const entry of mix) {
      left -= entry.weight;
      if (left < 0) return entry;
    }
    return mix[mix.length - 1]!;
  };
  const lost = (context: RequestContext, what: string): void => {
    note(tally, `${options.name}: ${context.entry?.route ?? '?'} (client ${context.entry?.client ?? '-'}) ${what} at ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        overallRate: options.rate,
        amount: options.amount,
        pipelining: 1,
        timeout: options.timeoutSeconds ?? 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (request, context) => {
              const entry = draw();
              (context as RequestContext).entry = entry;
              return { ...request, path: pathOf(entry.route, random), headers: entry.client === undefined ? {} : { 'x-client-id': entry.client } };
            },
            onResponse: (status, body, context) => {
              const entry = (context as RequestContext).entry;
              const at = Date.now();
              tally.answered += 1;
              const route = entry?.route ?? '?';
              bump(tally.byRouteStatus, `${route} ${status}`);
              const client = entry?.client ?? '(none)';
              bump((tally.byClientStatus[client] ??= {}), String(status));
              const minute = Math.floor((at - startedAt) / 60_000);
              while (tally.perMinute.length <= minute) tally.perMinute.push({ answered: 0, ok: 0, limited: 0, unavailable: 0, upstream: 0 });
              const bucket = tally.perMinute[minute]!;
              bucket.answered += 1;
              if (status >= 200 && status < 300) bucket.ok += 1;
              else if (status === 429) bucket.limited += 1;
              else if (status === 503) bucket.unavailable += 1;
              else if (status === 502 || status === 504) bucket.upstream += 1;
              const judged = judgeAnswer(route, status, body, at, options.upstreamFaults);
              if (judged === 'upstream-passed-on') tally.upstreamPassedOn += 1;
              else if (judged !== 'ok') {
                tally.refused += 1;
                note(tally, `${options.name}: ${route} (client ${client}) answered ${status} at ${((at - startedAt) / 1000).toFixed(1)} s: ${judged}; body ${JSON.stringify(body.slice(0, 160))}`);
              }
            },
          },
        ],
        setupClient: (client) => {
          const context = (): RequestContext => (client as unknown as ClientInternals).requestIterator.context;
          // The client's own events (not declared by @types/autocannon): one per request written, timed out, or lost with its connection.
          const events = client as unknown as NodeJS.EventEmitter;
          events.on('request', () => (tally.sent += 1));
          events.on('timeout', () => {
            tally.timeouts += 1;
            lost(context(), 'timed out');
          });
          events.on('connError', (error: NodeJS.ErrnoException) => {
            bump(tally.connectionErrors, error.code ?? error.message);
            lost(context(), `lost to a connection error (${error.code ?? error.message})`);
          });
        },
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    instance.on('error', (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
  });
}
