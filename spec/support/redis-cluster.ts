import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { REDIS_SERVER } from './limiter-redis.js';

/** The redis-cli binary that joins the nodes (`redis-cli --cluster create`). */
export const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';

/**
 * Whether the Redis Cluster specs can start their own cluster. Outside CI missing binaries skip
 * them with a warning; in CI they run (and fail loudly if a binary is missing).
 */
export const redisClusterAvailable = (existsSync(REDIS_SERVER) && existsSync(REDIS_CLI)) || Boolean(process.env.CI);
if (!redisClusterAvailable) process.emitWarning(`${REDIS_SERVER} or ${REDIS_CLI} not found: skipping the Redis Cluster specs`);

/** One primary of a {@link RedisCluster}. */
export interface ClusterNode {
  readonly port: number;
  readonly id: string;
  /** A plain client of this node alone (no redirections followed). */
  readonly direct: Redis;
  /** The slot ranges it serves, `[first, last]` inclusive. */
  readonly slots: Array<[number, number]>;
}

/** A Redis Cluster of redis-server processes of our own on loopback ports, keeping nothing on disk but its node files. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** An ioredis `Cluster` client of it (created by {@link RedisCluster.client}; disconnected by `stop`). */
  client(): Cluster;
  /** The node serving `slot` now (asked of the cluster). */
  nodeOf(slot: number): Promise<ClusterNode>;
  /**
   * Moves `slot`, with its keys, from the primary serving it to `to` (IMPORTING/MIGRATING,
   * MIGRATE, SETSLOT NODE). `midway` runs once the keys have moved but before the slot has: the
   * old primary then answers ASK for them.
   */
  migrateSlot(slot: number, to: ClusterNode, midway?: () => Promise<void>): Promise<void>;
  /** Every key starting with `prefix:`, on every primary. */
  keysUnder(prefix: string): Promise<string[]>;
  /** Deletes every key starting with `prefix:`, on every primary. */
  deleteKeys(prefix: string): Promise<void>;
  /** Disconnects every client, kills every redis-server it started (by pid) and removes its directory. */
  stop(): Promise<void>;
}

/** Whether 127.0.0.1:`port` can be listened on right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port free right now whose cluster bus port (port + 10000) is free too. */
async function sparePortWithBus(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free pair of loopback ports (port, port + 10000) found for a cluster node');
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it is true; throws `what` after `withinMs`. */
async function until(check: () => Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${withinMs} ms`);
    await sleep(50);
  }
}

function plainClient(port: number): Redis {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  return client;
}

/** `CLUSTER SLOTS` as `[first, last, id]` per range. */
async function slotRanges(client: Redis): Promise<Array<[number, number, string]>> {
  const reply = (await client.cluster('SLOTS')) as unknown as Array<[number, number, [string, number, string]]>;
  return reply.map(([first, last, primary]) => [first, last, primary[2]]);
}

/**
 * Starts `count` (default 3) redis-server processes with `cluster-enabled yes` on loopback ports
 * (each with its bus port free), joins them with `redis-cli --cluster create … --cluster-replicas 0`,
 * and waits until every node reports `cluster_state:ok` and agrees on who serves all 16384 slots.
 * On any failure what was started is stopped before the error is thrown.
 */
export async function startRedisCluster(count = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'overseer-redis-cluster-'));
  const servers: ChildProcess[] = [];
  const clients: Array<Redis | Cluster> = [];
  const stop = async (): Promise<void> => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(
      servers.splice(0).map(async (server) => {
        if (server.exitCode !== null || server.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
        server.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let index = 0; index < count; index += 1) ports.push(await sparePortWithBus(taken));
    for (const port of ports) {
      const server = spawn(
        REDIS_SERVER,
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', '5000',
          '--save', '',
          '--appendonly', 'no',
          '--dir', dir,
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.once('spawn', () => resolve());
      });
    }
    const direct = ports.map((port) => {
      const client = plainClient(port);
      clients.push(client);
      return client;
    });
    for (const [index, client] of direct.entries()) {
      await until(async () => (await client.ping()) === 'PONG', 5000, `redis-server on port ${ports[index]} did not answer`);
    }
    const created = await run(
      REDIS_CLI,
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      20_000,
    );
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed (exit ${created.code}):\n${created.output}`);
    const ids = await Promise.all(direct.map(async (client) => String(await client.cluster('MYID'))));
    await until(
      async () => {
        for (const client of direct) {
          const info = String(await client.cluster('INFO'));
          if (!info.includes('cluster_state:ok')) return false;
          const ranges = await slotRanges(client);
          const covered = ranges.reduce((sum, [first, last]) => sum + last - first + 1, 0);
          if (covered !== 16384 || ranges.some(([, , id]) => !ids.includes(id))) return false;
        }
        return true;
      },
      15_000,
      'the cluster did not reach cluster_state:ok on every node',
    );
    const ranges = await slotRanges(direct[0]!);
    const nodes: ClusterNode[] = ports.map((port, index) => ({
      port,
      id: ids[index]!,
      direct: direct[index]!,
      slots: ranges.filter(([, , id]) => id === ids[index]).map(([first, last]) => [first, last] as [number, number]),
    }));
    const nodeOf = async (slot: number): Promise<ClusterNode> => {
      const owner = (await slotRanges(direct[0]!)).find(([first, last]) => slot >= first && slot <= last);
      const node = nodes.find((candidate) => candidate.id === owner?.[2]);
      if (node === undefined) throw new Error(`no node serves slot ${slot}`);
      return node;
    };
    const scanNode = async (node: ClusterNode, prefix: string): Promise<string[]> => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await node.direct.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
      return found;
    };
    return {
      nodes,
      client() {
        const cluster = new Cluster(
          nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
          { redisOptions: { maxRetriesPerRequest: 1 }, slotsRefreshTimeout: 2000 },
        );
        cluster.on('error', () => undefined);
        clients.push(cluster);
        return cluster;
      },
      nodeOf,
      async migrateSlot(slot, to, midway) {
        const from = await nodeOf(slot);
        if (from === to) return;
        await to.direct.cluster('SETSLOT', slot, 'IMPORTING', from.id);
        await from.direct.cluster('SETSLOT', slot, 'MIGRATING', to.id);
        for (;;) {
          const keys = (await from.direct.cluster('GETKEYSINSLOT', slot, 100)) as string[];
          if (keys.length === 0) break;
          await from.direct.migrate('127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
        }
        await midway?.();
        // The new owner first, then the old one, then the rest (the order the Cluster spec gives).
        await to.direct.cluster('SETSLOT', slot, 'NODE', to.id);
        await from.direct.cluster('SETSLOT', slot, 'NODE', to.id);
        for (const node of nodes) if (node !== to && node !== from) await node.direct.cluster('SETSLOT', slot, 'NODE', to.id);
      },
      async keysUnder(prefix) {
        return (await Promise.all(nodes.map((node) => scanNode(node, prefix)))).flat();
      },
      async deleteKeys(prefix) {
        for (const node of nodes) {
          const keys = await scanNode(node, prefix);
          // One DEL per key: a node refuses a DEL over keys of several slots.
          for (const key of keys) await node.direct.del(key);
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
