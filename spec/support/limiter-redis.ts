import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis for the limiter specs. They use `REDIS_URL` (default redis://127.0.0.1:6379), each under
 * its own random key prefix, deleted afterwards with SCAN + DEL. When that Redis is unreachable
 * the Redis specs are skipped with a warning, except in CI (`CI=true`), where they must run: there
 * the import of this module fails, and with it every Redis spec file, loudly.
 */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function probe(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? undefined : `PING answered ${pong}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

const unreachable = await probe();
if (unreachable !== undefined) {
  const message = `Redis at ${REDIS_URL} is unreachable (${unreachable})`;
  if (process.env.CI) throw new Error(`${message}: the limiter's Redis specs must run in CI; start Redis or set REDIS_URL`);
  process.emitWarning(`${message}: skipping the limiter's Redis specs`);
}

/** Whether the Redis specs run (false only outside CI, when Redis is unreachable). */
export const redisAvailable = unreachable === undefined;

/** A key prefix no other run uses (letters and digits: no `:`, nothing glob-special). */
export function randomPrefix(label: string): string {
  return `spec${label}${randomBytes(6).toString('hex')}`;
}

/** A client of `REDIS_URL`. */
export function connectRedis(options: RedisOptions = {}): Redis {
  return new Redis(REDIS_URL, options);
}

/** Deletes every key starting with `prefix:`, with SCAN (never KEYS) and DEL. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Every key starting with `prefix:`. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** A loopback TCP port free right now. */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The redis-server binary the chaos specs start. */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/**
 * Whether the chaos specs can start their own redis-server. Outside CI a missing binary skips
 * them with a warning; in CI they run (and fail loudly if it is missing).
 */
export const redisServerAvailable = existsSync(REDIS_SERVER) || Boolean(process.env.CI);
if (!existsSync(REDIS_SERVER) && !process.env.CI) process.emitWarning(`${REDIS_SERVER} not found: skipping the limiter's chaos specs`);

/** A redis-server of our own on a loopback port, keeping nothing on disk. */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Kills it (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

/** Starts `redis-server --port <port> --save '' --appendonly no` and waits until it answers. */
export async function startOwnRedis(port?: number): Promise<OwnRedis> {
  const chosen = port ?? (await sparePort());
  let server: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const child = spawn(REDIS_SERVER, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
    await waitUntilAnswering(chosen, 5000);
  };
  await launch();
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    async kill() {
      const child = server;
      server = undefined;
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    restart: launch,
  };
}

async function waitUntilAnswering(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${withinMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      client.disconnect();
    }
  }
}

/** A TCP proxy of our own in front of a Redis, which can cut replies and play dead. */
export interface RedisProxy {
  readonly port: number;
  /** Replies cut mid-way so far. */
  readonly cuts: number;
  /**
   * Cuts the next chunk of replies Redis sends: passes its first half on (whole replies and a
   * partial one), then closes both connections. Resolves once it has, with the bytes held back.
   */
  cutNextReply(): Promise<number>;
  /**
   * Plays dead: stops passing commands on (those sent meanwhile never reach Redis), lets the
   * replies of what Redis already has drain for `drainMs`, then closes every connection and
   * refuses new ones until {@link RedisProxy.up}.
   */
  down(drainMs: number): Promise<void>;
  /** Accepts and passes on again. */
  up(): void;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

/** Starts a {@link RedisProxy} on a spare loopback port, in front of 127.0.0.1:`redisPort`. */
export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let accepting = true;
  let passing = true;
  let cuts = 0;
  let cut: ((bytes: number) => void) | undefined;
  const server = createServer((client) => {
    if (!accepting) {
      client.destroy();
      return;
    }
    const upstream = connect(redisPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const close = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (passing) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (cut !== undefined && chunk.length >= 2) {
        const half = Math.floor(chunk.length / 2);
        const done = cut;
        cut = undefined;
        cuts += 1;
        pairs.delete(pair);
        upstream.destroy();
        client.end(chunk.subarray(0, half));
        done(chunk.length - half);
        return;
      }
      client.write(chunk);
    });
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  const closeAll = (): void => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: address.port,
    get cuts() {
      return cuts;
    },
    cutNextReply: () => new Promise<number>((resolve) => (cut = resolve)),
    async down(drainMs) {
      passing = false;
      await new Promise((resolve) => setTimeout(resolve, drainMs));
      accepting = false;
      closeAll();
    },
    up() {
      accepting = true;
      passing = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        accepting = false;
        closeAll();
        server.close(() => resolve());
      }),
  };
}
