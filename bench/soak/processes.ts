/**
 * The soak's own processes: a `redis-server` on a free loopback port and the example back end
 * (`node --expose-gc --import tsx supervisors/main.ts`). Each is spawned detached (its own process
 * group, so a Ctrl-C at the terminal reaches only the harness, which then ends them in order) and
 * is only ever ended by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 (bound once with port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends `signal` to `pid`; false when it no longer exists. */
export function signal(pid: number | undefined, name: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the exit code (or signal) of `child`, or `'timeout'` after `ms`. */
function exited(child: ChildProcess, ms: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    child.once('exit', (code, killedBy) => {
      clearTimeout(timer);
      resolve(code ?? killedBy ?? 'unknown');
    });
  });
}

/** One `PING` to Redis on `port` over a raw socket: true on `+PONG` within 500 ms. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

/** The soak's `redis-server`: no persistence, loopback only, restartable on the same port. */
export class SoakRedis {
  private child: ChildProcess | undefined;
  /** Restarts done so far. */
  restarts = 0;

  private constructor(
    readonly port: number,
    private readonly log: WriteStream,
  ) {}

  /** Starts `redis-server` on a free port and waits until it answers PING (10 s at most). */
  static async start(logPath: string): Promise<SoakRedis> {
    const redis = new SoakRedis(await freePort(), createWriteStream(logPath, { flags: 'a' }));
    await redis.spawn();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async spawn(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited (${code}) while starting; see the redis log`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await Promise.race([ping(this.port), failed])) return;
      await sleep(50);
    }
    signal(child.pid, 'SIGKILL');
    throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
  }

  /**
   * Kills the server with SIGKILL (a crash: no shutdown, no save), leaves the port closed for
   * `downMs`, then starts a new server on the same port and waits until it answers PING.
   * Resolves with the time it was unreachable, ms.
   */
  async restart(downMs: number): Promise<number> {
    const child = this.child;
    const killedAt = Date.now();
    if (child) {
      signal(child.pid, 'SIGKILL');
      await exited(child, 5_000);
    }
    await sleep(downMs);
    await this.spawn();
    this.restarts += 1;
    return Date.now() - killedAt;
  }

  /** Ends the server (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || !signal(child.pid, 'SIGTERM')) return;
    if ((await exited(child, 5_000)) === 'timeout') signal(child.pid, 'SIGKILL');
  }

  /** Synchronous last resort (process 'exit'): SIGKILL by pid. */
  kill(): void {
    signal(this.child?.pid, 'SIGKILL');
  }
}

/** The environment the back end runs with in the soak. */
export interface BackendEnvironment {
  port: number;
  redisUrl: string;
  clientRate: number;
}

/** The example back end as a child process: `node --expose-gc --import tsx supervisors/main.ts`. */
export class SoakBackend {
  private exitCode: number | string | undefined;
  /** Lines of its output that report an uncaught error or the tree giving up (everything goes to the log file). */
  readonly errorLines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.once('exit', (code, killedBy) => (this.exitCode = code ?? killedBy ?? 'unknown'));
  }

  /**
   * Starts the back end with the soak hooks on (`SOAK_HOOKS=1`), an upstream that does not fail
   * by itself (`UPSTREAM_FAILURE_RATE=0`: failures come from the fault schedule only) and
   * `--expose-gc` (the samples read the heap after a full collection). Resolves once it printed
   * that it listens; rejects if it exits or stays silent for 60 s.
   */
  static async start(root: string, environment: BackendEnvironment, logPath: string): Promise<SoakBackend> {
    const log = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'supervisors/main.ts'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: String(environment.port),
        REDIS_URL: environment.redisUrl,
        SOAK_HOOKS: '1',
        UPSTREAM_FAILURE_RATE: '0',
        UPSTREAM_LATENCY_MS: '2',
        CLIENT_RATE: String(environment.clientRate),
        QUOTE_REFRESH_MS: '5000',
      },
    });
    const url = `http://127.0.0.1:${environment.port}`;
    const backend = new SoakBackend(child, url);
    let text = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the back end did not report listening within 60 s')), 60_000);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the back end exited (${code}) while starting; see ${logPath}`)));
      const watch = (chunk: Buffer): void => {
        log.write(chunk);
        const lines = (text + chunk.toString()).split('\n');
        text = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes(`listening on ${url}`)) {
            clearTimeout(timer);
            resolve();
          }
          if (/uncaught|unhandled|gave up|could not start/i.test(line)) backend.errorLines.push(line);
        }
      };
      child.stdout?.on('data', watch);
      child.stderr?.on('data', watch);
    });
    try {
      await ready;
    } catch (error) {
      signal(child.pid, 'SIGKILL');
      throw error;
    }
    return backend;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** `undefined` while it runs, else its exit code or signal. */
  get exit(): number | string | undefined {
    return this.exitCode;
  }

  /**
   * SIGTERM (drain, stop the tree, exit 0), then SIGKILL if it has not exited within `graceMs`.
   * Resolves with the exit code, the signal, or `'timeout'` when SIGKILL was needed.
   */
  async stop(graceMs: number): Promise<number | string> {
    if (this.exitCode !== undefined) return this.exitCode;
    signal(this.child.pid, 'SIGTERM');
    const code = await exited(this.child, graceMs);
    if (code === 'timeout') {
      signal(this.child.pid, 'SIGKILL');
      await exited(this.child, 5_000);
    }
    return code;
  }

  /** Synchronous last resort (process 'exit'): SIGKILL by pid. */
  kill(): void {
    if (this.exitCode === undefined) signal(this.child.pid, 'SIGKILL');
  }
}

/**
 * A control for the event-loop figures: an idle Node process on the same machine, measuring its own
 * event-loop delay the same way the back end does (`monitorEventLoopDelay`, 10 ms resolution). It
 * does no work, so its delay is what the machine's scheduler adds (other processes competing for
 * the cores), which the back end's figures include too.
 */
export class IdleControl {
  private buffered = '';
  private readonly waiting: Array<(line: string) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (this.buffered + chunk.toString()).split('\n');
      this.buffered = lines.pop() ?? '';
      for (const line of lines) this.waiting.shift()?.(line);
    });
  }

  /** Starts the idle process. */
  static start(): IdleControl {
    const script = [
      "const { monitorEventLoopDelay } = require('node:perf_hooks');",
      'const windowDelay = monitorEventLoopDelay({ resolution: 10 }); windowDelay.enable();',
      'const totalDelay = monitorEventLoopDelay({ resolution: 10 }); totalDelay.enable();',
      'const ms = (ns) => Math.round(ns / 1e4) / 100;',
      "process.stdin.setEncoding('utf8');",
      "process.stdin.on('data', (text) => { for (const command of text.split('\\n').filter(Boolean)) {",
      "  if (command === 'reset') totalDelay.reset();",
      '  process.stdout.write(JSON.stringify({ p99: ms(windowDelay.percentile(99)), max: ms(windowDelay.max), totalP99: ms(totalDelay.percentile(99)), totalMax: ms(totalDelay.max) }) + "\\n");',
      '  windowDelay.reset();',
      '} });',
    ].join('\n');
    return new IdleControl(spawn(process.execPath, ['-e', script], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  /** Its event-loop delay since the previous read (`p99`, `max`) and since the reset (`totalP99`, `totalMax`), ms. */
  read(reset: boolean): Promise<{ p99: number; max: number; totalP99: number; totalMax: number }> {
    return new Promise((resolve, reject) => {
      const waiter = (line: string): void => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { p99: number; max: number; totalP99: number; totalMax: number });
      };
      const timer = setTimeout(() => {
        // Its answer, if it ever comes, goes nowhere: the next read gets the next line.
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting[index] = () => undefined;
        reject(new Error('the idle control did not answer within 5 s'));
      }, 5_000);
      this.waiting.push(waiter);
      this.child.stdin?.write(reset ? 'reset\n' : 'read\n');
    });
  }

  /** Ends it by its pid. */
  stop(): void {
    this.child.stdin?.end();
    signal(this.child.pid, 'SIGKILL');
  }
}
