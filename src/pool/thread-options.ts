import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { Clock } from '../clock/index.js';
import { maxTimerDelayMs, systemClock } from '../clock/index.js';
import { ConfigError } from '../core/index.js';
import { finiteNumber, integer, nonEmptyString, record, clockOption, telemetryOption, abortSignal } from '../core/validate.js';
import { telemetry as sharedTelemetry, type Telemetry } from '../telemetry/index.js';

/** Options of {@link createThreadPool}. */
export interface ThreadPoolOptions {
  /** Names the pool in errors and telemetry. Required. */
  name: string;
  /**
   * The worker entry piscina loads in each thread: a path (absolute, or relative to the current
   * directory) or a `file:` URL of a JavaScript module whose default export handles a task (see
   * `thread-protocol.ts`). It must exist. Required.
   */
  filename: string | URL;
  /** Threads kept running even when idle; a crashed one is replaced. Default half the CPUs (at least 1). */
  minThreads?: number;
  /** The most threads at once. Default 1.5 × the CPUs (at least `minThreads`). */
  maxThreads?: number;
  /**
   * Tasks that may wait for a busy thread; one more is refused with `PoolFullError` and never runs.
   * Tasks waiting for a thread that is starting for them do not count (so `maxQueue: 0` still
   * lets a pool with no thread start one). A number, `'auto'` (maxThreads²) or `Infinity`.
   * Default `Infinity`.
   */
  maxQueue?: number | 'auto';
  /** How long a thread above `minThreads` may stay idle before it is ended, in ms, on `clock`; `Infinity` never ends it. Default 10000 (piscina's is 0). */
  idleTimeoutMs?: number;
  /**
   * Threads that may die in a row while starting (loading `filename`) before the pool gives up:
   * it rejects its tasks with `WorkerStartError`, ends its threads and its actor fails, so that a
   * supervisor restarts it per its intensity. An integer, at least 1. Default 5.
   */
  maxStartFailures?: number;
  /**
   * After a thread dies while starting, the pool starts no thread for this many ms, on `clock`;
   * the delay doubles with each such death in a row, up to 30 s (or this value when larger). Until
   * a thread starts again, one thread at a time is started. Default 100.
   */
  retryBackoffMs?: number;
  /** Heap and stack limits of each thread; a thread that exceeds its heap crashes (`reason: 'out_of_memory'`). Default Node's. */
  resourceLimits?: ResourceLimits;
  /**
   * Node options of each thread. Default `[]`: threads do not inherit the parent's `execArgv`
   * (Node's default), so a service run under tsx or vitest does not load a TypeScript loader in
   * every thread. Pass `process.execArgv` to inherit.
   */
  execArgv?: string[];
  /** `process.argv` additions of each thread. Default none. */
  argv?: string[];
  /** `process.env` of each thread. Default a copy of the parent's. */
  env?: Record<string, string>;
  /** `workerData` of each thread (cloned). Default none. */
  workerData?: unknown;
  /** The clock of the idle and backoff timers and of thread lifetimes; a test clock in specs. Default `systemClock`. */
  clock?: Clock;
  /** Where it reports its threads' exits (`pool.worker.exit`). Default the shared `telemetry`. */
  telemetry?: Telemetry;
}

/** Thread pool options after validation and defaults, frozen. */
export interface ResolvedThreadPoolOptions {
  readonly name: string;
  /** An absolute file path. */
  readonly filename: string;
  readonly minThreads: number;
  readonly maxThreads: number;
  /** `'auto'` resolved to maxThreads²; `Infinity` for no bound. */
  readonly maxQueue: number;
  readonly idleTimeoutMs: number;
  readonly maxStartFailures: number;
  readonly retryBackoffMs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly execArgv: readonly string[];
  readonly argv: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly workerData: unknown;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
}

const resourceLimitFields = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

const workerFilenameExpectation = 'the path or file URL of an existing worker module';

function workerFilename(value: unknown): string {
  let path: string | undefined;
  try {
    if (value instanceof URL) path = fileURLToPath(value);
    else if (typeof value === 'string' && value.startsWith('file:')) path = fileURLToPath(value);
    else if (typeof value === 'string' && value.length > 0) path = resolvePath(value);
  } catch (error) {
    // A malformed file URL (fileURLToPath throws): refused with the reason kept as `cause`.
    throw new ConfigError('filename', value, workerFilenameExpectation, { cause: error });
  }
  if (path === undefined || !existsSync(path)) {
    throw new ConfigError('filename', value, workerFilenameExpectation);
  }
  return path;
}

function strings(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ConfigError(option, value, 'an array of strings');
  }
  return [...(value as string[])];
}

function resourceLimits(value: unknown): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  const fields = record('resourceLimits', value);
  const limits: ResourceLimits = {};
  for (const key of Object.keys(fields)) {
    if (!(resourceLimitFields as readonly string[]).includes(key)) {
      throw new ConfigError(`resourceLimits.${key}`, fields[key], `one of the fields ${resourceLimitFields.join(', ')}`);
    }
  }
  for (const key of resourceLimitFields) {
    const limit = fields[key];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) {
      throw new ConfigError(`resourceLimits.${key}`, limit, 'a finite number > 0');
    }
    limits[key] = limit;
  }
  return Object.freeze(limits);
}

/** The longest delay Node's timers keep; a longer one fires after 1 ms. */
const maxTimerMs = maxTimerDelayMs;

function idleTimeout(value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  const ms = finiteNumber('idleTimeoutMs', value, 10_000, 0);
  if (ms > maxTimerMs) throw new ConfigError('idleTimeoutMs', value, `a number of ms <= ${maxTimerMs}, or Infinity`);
  return ms;
}

function retryBackoff(value: unknown): number {
  const ms = finiteNumber('retryBackoffMs', value, 100, 1);
  if (ms > maxTimerMs) throw new ConfigError('retryBackoffMs', value, `a number of ms between 1 and ${maxTimerMs}`);
  return ms;
}

/** Validates thread pool options; throws {@link ConfigError} naming the first bad option. */
export function resolveThreadPoolOptions(options: unknown): ResolvedThreadPoolOptions {
  const fields = record('options', options);
  const name = nonEmptyString('name', fields.name);
  const filename = workerFilename(fields.filename);
  const cpus = availableParallelism();
  const minThreads = integer('minThreads', fields.minThreads, Math.max(1, Math.floor(cpus / 2)), 0);
  const maxThreads = integer('maxThreads', fields.maxThreads, Math.max(minThreads, 1, Math.ceil(cpus * 1.5)), 1);
  if (maxThreads < minThreads) throw new ConfigError('maxThreads', maxThreads, `an integer >= minThreads (${minThreads})`);
  let maxQueue = Number.POSITIVE_INFINITY;
  if (fields.maxQueue === 'auto') maxQueue = maxThreads ** 2;
  else if (fields.maxQueue !== Number.POSITIVE_INFINITY) maxQueue = integer('maxQueue', fields.maxQueue, maxQueue, 0);
  const env = fields.env === undefined ? undefined : record('env', fields.env);
  if (env !== undefined) {
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== 'string') throw new ConfigError(`env.${key}`, value, 'a string');
    }
  }
  return Object.freeze({
    name,
    filename,
    minThreads,
    maxThreads,
    maxQueue,
    idleTimeoutMs: idleTimeout(fields.idleTimeoutMs),
    maxStartFailures: integer('maxStartFailures', fields.maxStartFailures, 5, 1),
    retryBackoffMs: retryBackoff(fields.retryBackoffMs),
    resourceLimits: resourceLimits(fields.resourceLimits),
    execArgv: Object.freeze(strings('execArgv', fields.execArgv) ?? []),
    argv: strings('argv', fields.argv),
    env: env === undefined ? undefined : Object.freeze({ ...(env as Record<string, string>) }),
    workerData: fields.workerData,
    clock: clockOption<Clock>('clock', fields.clock, systemClock),
    telemetry: telemetryOption<Telemetry>('telemetry', fields.telemetry, sharedTelemetry),
  });
}

/**
 * Validates the options of one `run()`; throws {@link ConfigError} naming the bad one: the
 * options not an object, a `signal` that is not an AbortSignal, a `transferList` that is not an
 * array.
 */
export function resolveRunOptions(options: unknown): { signal: AbortSignal | undefined; transferList: readonly TransferListItem[] | undefined } {
  const fields = record('options', options);
  const signal = abortSignal('signal', fields.signal);
  const transferList = fields.transferList;
  if (transferList !== undefined && !Array.isArray(transferList)) {
    throw new ConfigError('transferList', transferList, 'an array of ArrayBuffers and MessagePorts');
  }
  return { signal, transferList: transferList as readonly TransferListItem[] | undefined };
}
