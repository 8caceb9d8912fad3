/**
 * Rate limiter benchmarks, against rate-limiter-flexible 11 in this same process.
 *
 * limiter.hitSync (peer RateLimiterMemory.consume)
 *   ns per `hitSync(key)` of a fixed-window limiter against ns per `await consume(key)`, its
 *   closest counterpart (rate-limiter-flexible answers only through a promise). Each round builds
 *   a fresh limiter of each (limit 1,000 per hour), gives each of 10,000 keys one hit (untimed),
 *   then times 100,000 hits cycling over the keys: 10 more per key, all admitted, on known keys,
 *   the steady state of a busy service. Contenders alternate round by round; the figure is the
 *   median of the rounds' means. Target ratio ≤ 0.2.
 * limiter.hit (peer RateLimiterMemory.consume)
 *   the same with our `await hit(key)`. Target ratio ≤ 0.5.
 * limiter.redis@64 (peer RateLimiterRedis.consume)
 *   wall-clock ns per hit with 64 hits in flight (64 lanes of sequential awaited hits) over 1,000
 *   keys, each contender on its own ioredis connection to REDIS_URL (default
 *   redis://127.0.0.1:6379), fixed window on Redis's clock against rate-limiter-flexible's
 *   fixed window; limits high enough that every hit is admitted. Many short rounds, ours and the
 *   peer's alternating (who goes first alternating too), so that both sample the same machine;
 *   median of the rounds. The context gives each side's Redis time per script call (INFO
 *   commandstats, reset before each round): with 64 in flight the client mostly waits on Redis.
 *   Keys live under random prefixes, deleted afterwards with SCAN + DEL. Skipped (SKIP line) when
 *   Redis is unreachable. Target ratio ≤ 1.0.
 * limiter.memory@1m (unit bytes)
 *   heap retained per live key (heapUsed after global.gc(), with 1,000,000 distinct keys hit once
 *   each, minus before), key strings included, fixed window, against RateLimiterMemory with the
 *   same keys. Target ≤ 200 bytes.
 * limiter.memory.after_expiry@1m (unit bytes; peer ours@1m-live)
 *   what is left on the heap once those 1,000,000 keys have expired, against the heap the live
 *   keys held: the limiters must give memory back by themselves. Fixed window of 1 s, whose map is
 *   dropped whole by the window-end timer. The context also fills a token-bucket limiter with
 *   1,000,000 keys, lets the sweeper empty it, and gives the longest sweeper tick, to show the
 *   sweep never stalls the event loop; and rate-limiter-flexible's figure (it keeps one timer per
 *   key to delete it).
 *
 * The overseer measured is the tsc build of src/ unless `--source` is given (bench/support/target.ts).
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Clock, MemoryRateLimiter, RateLimiter } from '../src/index.js';
import { formatBytes, formatCount, formatMs, formatNs, formatRatio, sizeLabel } from './support/format.js';
import { heapUsedAfterGc } from './support/memory.js';
import { median, quantile } from './support/stats.js';
import { defineSuite, type SuiteContext } from './support/suite.js';
import { loadOverseer, type Overseer } from './support/target.js';
import { nowNs } from './support/timing.js';

const HOUR_MS = 3_600_000;
const KEYS = 10_000;
const HITS_PER_ROUND = 100_000;
const ROUND_LIMIT = 1_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_KEYS = 1_000;
const IN_FLIGHT = 64;
const MEMORY_KEYS = 1_000_000;
const EXPIRY_WINDOW_MS = 1_000;

const TARGETS = { hitSync: 0.2, hit: 0.5, redis: 1.0, bytesPerKey: 200 } as const;

interface Plan {
  warmupRounds: number;
  rounds: number;
  /** Rounds per contender; ours and the peer's alternate, who goes first alternating too. */
  redisRounds: number;
  redisHits: number;
}

const FULL: Plan = { warmupRounds: 10, rounds: 60, redisRounds: 30, redisHits: 10_000 };
const QUICK: Plan = { warmupRounds: 4, rounds: 15, redisRounds: 10, redisHits: 5_000 };

const PEER = 'rate-limiter-flexible';

/** The package under test (the tsc build by default); set by run(). */
let overseer: Overseer;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function describeSamples(samples: number[]): string {
  return `median ${formatNs(median(samples))} (p10 ${formatNs(quantile(samples, 0.1))}, p90 ${formatNs(quantile(samples, 0.9))}, ${samples.length} rounds)`;
}

function verdict(ratio: number, target: number): string {
  return `${formatRatio(ratio)} (target ≤ ${target}: ${ratio <= target ? 'met' : 'MISSED'})`;
}

/** rate-limiter-flexible keeps a timer per key (to delete it); clear them so a round leaves nothing behind. */
function disposePeerMemory(limiter: RateLimiterMemory): void {
  const storage = (limiter as unknown as { _memoryStorage?: { _storage?: Map<string, { timeoutId?: NodeJS.Timeout }> } })._memoryStorage?._storage;
  if (!storage) return;
  for (const record of storage.values()) clearTimeout(record.timeoutId);
  storage.clear();
}

function peerMemorySize(limiter: RateLimiterMemory): number {
  return (limiter as unknown as { _memoryStorage?: { _storage?: Map<string, unknown> } })._memoryStorage?._storage?.size ?? -1;
}

// ------------------------------------------------------------------ the hot path, in memory

interface HotPathFigures {
  hitSync: number[];
  hit: number[];
  consume: number[];
}

const keys = Array.from({ length: KEYS }, (_, index) => `user:${index}`);

function freshOurs(): MemoryRateLimiter {
  const limiter = overseer.createRateLimiter({ name: 'bench', limit: ROUND_LIMIT, windowMs: HOUR_MS, telemetry: overseer.createTelemetry() });
  for (const key of keys) limiter.hitSync(key);
  return limiter;
}

async function freshPeer(): Promise<RateLimiterMemory> {
  const limiter = new RateLimiterMemory({ points: ROUND_LIMIT, duration: HOUR_MS / 1000 });
  for (const key of keys) await limiter.consume(key);
  return limiter;
}

function roundHitSync(): number {
  const limiter = freshOurs();
  let admitted = 0;
  const started = nowNs();
  for (let index = 0; index < HITS_PER_ROUND; index += 1) if (limiter.hitSync(keys[index % KEYS]!).allowed) admitted += 1;
  const ns = (nowNs() - started) / HITS_PER_ROUND;
  limiter.stop();
  if (admitted !== HITS_PER_ROUND) throw new Error(`hitSync: ${admitted} of ${HITS_PER_ROUND} admitted`);
  return ns;
}

async function roundHit(): Promise<number> {
  const limiter = freshOurs();
  let admitted = 0;
  const started = nowNs();
  for (let index = 0; index < HITS_PER_ROUND; index += 1) if ((await limiter.hit(keys[index % KEYS]!)).allowed) admitted += 1;
  const ns = (nowNs() - started) / HITS_PER_ROUND;
  limiter.stop();
  if (admitted !== HITS_PER_ROUND) throw new Error(`hit: ${admitted} of ${HITS_PER_ROUND} admitted`);
  return ns;
}

async function roundConsume(): Promise<number> {
  const limiter = await freshPeer();
  let admitted = 0;
  const started = nowNs();
  for (let index = 0; index < HITS_PER_ROUND; index += 1) {
    const result = await limiter.consume(keys[index % KEYS]!);
    if (result.remainingPoints >= 0) admitted += 1;
  }
  const ns = (nowNs() - started) / HITS_PER_ROUND;
  disposePeerMemory(limiter);
  if (admitted !== HITS_PER_ROUND) throw new Error(`consume: ${admitted} of ${HITS_PER_ROUND} admitted`);
  return ns;
}

async function measureHotPath(plan: Plan): Promise<HotPathFigures> {
  const figures: HotPathFigures = { hitSync: [], hit: [], consume: [] };
  for (let round = 0; round < plan.warmupRounds + plan.rounds; round += 1) {
    // The order rotates so that no contender always runs right after a collection of another's garbage.
    const order = [
      () => Promise.resolve(roundHitSync()).then((ns) => figures.hitSync.push(ns)),
      () => roundHit().then((ns) => figures.hit.push(ns)),
      () => roundConsume().then((ns) => figures.consume.push(ns)),
    ];
    for (let step = 0; step < order.length; step += 1) await order[(round + step) % order.length]!();
    if (round < plan.warmupRounds) {
      figures.hitSync.length = 0;
      figures.hit.length = 0;
      figures.consume.length = 0;
    }
  }
  return figures;
}

// ------------------------------------------------------------------ Redis, 64 in flight

async function reachable(url: string): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

/** Wall-clock ns per hit of `hits` hits, `IN_FLIGHT` at a time. */
async function inFlight(hits: number, hit: (key: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < hits) {
      const index = next;
      next += 1;
      await hit(`user:${index % REDIS_KEYS}`);
    }
  };
  const started = nowNs();
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return (nowNs() - started) / hits;
}

async function deleteUnder(client: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await client.del(...found);
  } while (cursor !== '0');
}

/** Redis's own µs per EVALSHA since the last CONFIG RESETSTAT. */
async function redisMicrosPerCall(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  const match = /cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats);
  return match ? Number(match[1]) : Number.NaN;
}

interface RedisFigures {
  ours: number[];
  peer: number[];
  oursRedisMicros: number[];
  peerRedisMicros: number[];
}

async function measureRedis(context: SuiteContext, plan: Plan): Promise<RedisFigures | undefined> {
  const unreachable = await reachable(REDIS_URL);
  if (unreachable !== undefined) {
    context.skip(`limiter.redis@${IN_FLIGHT} (ours and ${PEER})`, `Redis at ${REDIS_URL} is unreachable: ${unreachable}`);
    return undefined;
  }
  const prefix = `bench${Math.random().toString(36).slice(2, 10)}`;
  const oursClient = new Redis(REDIS_URL);
  const peerClient = new Redis(REDIS_URL);
  try {
    const ours: RateLimiter = overseer.createRedisRateLimiter({
      name: 'bench',
      limit: 1_000_000_000,
      windowMs: HOUR_MS,
      redis: oursClient,
      prefix,
      telemetry: overseer.createTelemetry(),
    });
    const peer = new RateLimiterRedis({ storeClient: peerClient, points: 1_000_000_000, duration: HOUR_MS / 1000, keyPrefix: `${prefix}rlf` });
    const oursHit = async (key: string): Promise<void> => {
      const decision = await ours.hit(key);
      if (!decision.allowed) throw new Error(`redis: ours denied a hit: ${JSON.stringify(decision)}`);
    };
    const peerHit = async (key: string): Promise<void> => {
      await peer.consume(key);
    };
    // Warm-up: loads both scripts and both JITs.
    await inFlight(Math.min(5_000, plan.redisHits), oursHit);
    await inFlight(Math.min(5_000, plan.redisHits), peerHit);
    const figures: RedisFigures = { ours: [], peer: [], oursRedisMicros: [], peerRedisMicros: [] };
    const oursRound = async (): Promise<void> => {
      await oursClient.config('RESETSTAT');
      figures.ours.push(await inFlight(plan.redisHits, oursHit));
      figures.oursRedisMicros.push(await redisMicrosPerCall(oursClient));
    };
    const peerRound = async (): Promise<void> => {
      await oursClient.config('RESETSTAT');
      figures.peer.push(await inFlight(plan.redisHits, peerHit));
      figures.peerRedisMicros.push(await redisMicrosPerCall(oursClient));
    };
    for (let round = 0; round < plan.redisRounds; round += 1) {
      if (round % 2 === 0) {
        await oursRound();
        await peerRound();
      } else {
        await peerRound();
        await oursRound();
      }
    }
    return figures;
  } finally {
    await deleteUnder(oursClient, `${prefix}*`).catch(() => undefined);
    oursClient.disconnect();
    peerClient.disconnect();
  }
}

// ------------------------------------------------------------------ memory

interface MemoryFigures {
  oursPerKey: number;
  peerPerKey: number;
  oursLive: number;
  oursAfterExpiry: number;
  peerLive: number;
  peerAfterExpiry: number;
  sweep: { live: number; after: number; ticks: number; longestTickMs: number; totalMs: number };
}

/** Heap retained per key with MEMORY_KEYS fresh keys hit once each, then what is left after they expire. */
async function oursMemory(context: SuiteContext): Promise<Pick<MemoryFigures, 'oursPerKey' | 'oursLive' | 'oursAfterExpiry'>> {
  // Live keys: a window of an hour, so that nothing expires while measuring.
  let before = heapUsedAfterGc();
  const live = overseer.createRateLimiter({ name: 'live', limit: 10, windowMs: HOUR_MS });
  for (let index = 0; index < MEMORY_KEYS; index += 1) live.hitSync(`user:${index}`);
  const oursLive = heapUsedAfterGc() - before;
  if (live.size !== MEMORY_KEYS) throw new Error(`memory: ${live.size} live keys, expected ${MEMORY_KEYS}`);
  live.stop();
  live.reconfigure({ windowMs: HOUR_MS / 2 }); // a new window length drops the counts
  // Expiry: a window of 1 s, left to its own window-end timer.
  before = heapUsedAfterGc();
  const expiring = overseer.createRateLimiter({ name: 'expiring', limit: 10, windowMs: EXPIRY_WINDOW_MS });
  for (let index = 0; index < MEMORY_KEYS; index += 1) expiring.hitSync(`user:${index}`);
  const held = expiring.size;
  await waitFor(() => expiring.size === 0, 3 * EXPIRY_WINDOW_MS, 'the fixed window to drop its keys');
  const oursAfterExpiry = heapUsedAfterGc() - before;
  context.note(
    `ours   fixed window, 1 s windows: ${formatCount(held)} keys still held at the end of the fill (a window may end during it), all dropped by the window-end timer`,
  );
  return { oursPerKey: oursLive / MEMORY_KEYS, oursLive, oursAfterExpiry };
}

async function peerMemory(): Promise<Pick<MemoryFigures, 'peerPerKey' | 'peerLive' | 'peerAfterExpiry'>> {
  let before = heapUsedAfterGc();
  const live = new RateLimiterMemory({ points: 10, duration: HOUR_MS / 1000 });
  for (let index = 0; index < MEMORY_KEYS; index += 1) await live.consume(`user:${index}`);
  const peerLive = heapUsedAfterGc() - before;
  disposePeerMemory(live);
  before = heapUsedAfterGc();
  const expiring = new RateLimiterMemory({ points: 10, duration: EXPIRY_WINDOW_MS / 1000 });
  for (let index = 0; index < MEMORY_KEYS; index += 1) await expiring.consume(`user:${index}`);
  await waitFor(() => peerMemorySize(expiring) === 0, 10 * EXPIRY_WINDOW_MS, `${PEER} to delete its keys`);
  const peerAfterExpiry = heapUsedAfterGc() - before;
  return { peerPerKey: peerLive / MEMORY_KEYS, peerLive, peerAfterExpiry };
}

/** A token-bucket limiter with MEMORY_KEYS keys, emptied by its sweeper; every sweeper tick timed. */
async function sweepMemory(): Promise<MemoryFigures['sweep']> {
  const tickMs: number[] = [];
  const system = overseer.systemClock;
  const timed: Clock = {
    now: () => system.now(),
    setTimeout: (fn, ms) =>
      system.setTimeout(() => {
        const started = nowNs();
        fn();
        tickMs.push((nowNs() - started) / 1e6);
      }, ms),
    clearTimeout: (handle) => system.clearTimeout(handle),
  };
  const before = heapUsedAfterGc();
  const limiter = overseer.createRateLimiter({
    name: 'sweep',
    algorithm: 'token_bucket',
    limit: 10,
    windowMs: EXPIRY_WINDOW_MS,
    sweepIntervalMs: EXPIRY_WINDOW_MS,
    clock: timed,
  });
  for (let index = 0; index < MEMORY_KEYS; index += 1) limiter.hitSync(`user:${index}`);
  const live = heapUsedAfterGc() - before;
  await waitFor(() => limiter.size === 0, 20 * EXPIRY_WINDOW_MS, 'the sweeper to drop the token buckets');
  const after = heapUsedAfterGc() - before;
  limiter.stop();
  return {
    live,
    after,
    ticks: tickMs.length,
    longestTickMs: Math.max(...tickMs),
    totalMs: tickMs.reduce((sum, ms) => sum + ms, 0),
  };
}

async function waitFor(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${formatMs(withinMs)} waiting for ${what}`);
    await sleep(25);
  }
}

// ------------------------------------------------------------------ the suite

export default defineSuite({
  name: 'limiter',
  description: 'hitSync / hit vs RateLimiterMemory.consume; Redis at 64 in flight vs RateLimiterRedis; heap per key at 1m keys and after they expire',
  async run(context) {
    const plan = context.quick ? QUICK : FULL;
    const loaded = await loadOverseer();
    overseer = loaded.overseer;
    context.note(`node ${process.version}; overseer: ${loaded.description}; peer: ${PEER} (in this process)`);

    const hot = await measureHotPath(plan);
    const consume = median(hot.consume);
    context.note(`ours   hitSync (fixed window, known keys): ${describeSamples(hot.hitSync)}`);
    context.note(`ours   await hit:                          ${describeSamples(hot.hit)}`);
    context.note(`${PEER} await RateLimiterMemory.consume: ${describeSamples(hot.consume)}`);
    context.note(`ours   hitSync / consume ${verdict(median(hot.hitSync) / consume, TARGETS.hitSync)}; hit / consume ${verdict(median(hot.hit) / consume, TARGETS.hit)}`);
    context.bench({ case: 'limiter.hitSync', ours: median(hot.hitSync), peer: consume, peerName: PEER, unit: 'ns' });
    context.bench({ case: 'limiter.hit', ours: median(hot.hit), peer: consume, peerName: PEER, unit: 'ns' });

    const redis = await measureRedis(context, plan);
    if (redis !== undefined) {
      const ours = median(redis.ours);
      const peer = median(redis.peer);
      context.note(
        `ours   Redis, ${IN_FLIGHT} in flight: ${describeSamples(redis.ours)} per hit (${formatCount(Math.round(1e9 / ours))} hits/s); ${PEER} RateLimiterRedis: ${describeSamples(redis.peer)} (${formatCount(Math.round(1e9 / peer))} hits/s); ${formatCount(plan.redisHits)} hits a round`,
      );
      context.note(
        `ours   Redis time per script call: ours ${median(redis.oursRedisMicros).toFixed(2)} µs (its own clock read included), ${PEER} ${median(redis.peerRedisMicros).toFixed(2)} µs`,
      );
      context.note(`ours   Redis time ratio ${verdict(ours / peer, TARGETS.redis)}`);
      context.bench({ case: `limiter.redis@${IN_FLIGHT}`, ours, peer, peerName: PEER, unit: 'ns' });
    }

    const oursMem = await oursMemory(context);
    const peerMem = await peerMemory();
    const sweep = await sweepMemory();
    const label = sizeLabel(MEMORY_KEYS);
    context.note(
      `ours   ${formatCount(MEMORY_KEYS)} live keys (fixed window): ${formatBytes(oursMem.oursLive)} (${oursMem.oursPerKey.toFixed(1)} B per key, target ≤ ${TARGETS.bytesPerKey}: ${oursMem.oursPerKey <= TARGETS.bytesPerKey ? 'met' : 'MISSED'}); ${PEER}: ${formatBytes(peerMem.peerLive)} (${peerMem.peerPerKey.toFixed(1)} B per key)`,
    );
    context.note(
      `ours   after expiry: ${formatBytes(oursMem.oursAfterExpiry)} left of ${formatBytes(oursMem.oursLive)} (${((100 * oursMem.oursAfterExpiry) / oursMem.oursLive).toFixed(2)} %); ${PEER}: ${formatBytes(peerMem.peerAfterExpiry)} left of ${formatBytes(peerMem.peerLive)}`,
    );
    context.note(
      `ours   token bucket, ${formatCount(MEMORY_KEYS)} keys: ${formatBytes(sweep.live)} live, ${formatBytes(sweep.after)} left after the sweeper emptied it in ${sweep.ticks} ticks (${formatMs(sweep.totalMs)} of work in all, longest tick ${formatMs(sweep.longestTickMs)})`,
    );
    context.bench({ case: `limiter.memory@${label}`, ours: oursMem.oursPerKey, peer: peerMem.peerPerKey, peerName: PEER, unit: 'bytes' });
    context.bench({
      case: `limiter.memory.after_expiry@${label}`,
      ours: oursMem.oursAfterExpiry,
      peer: oursMem.oursLive,
      peerName: `ours@${label}-live`,
      unit: 'bytes',
    });
  },
});
