import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The live processes of a process group (`ps -g`), with their command lines. Zombies are left
 * out: they run nothing, and whether they are reaped depends on the container's init, not on us.
 */
function processGroup(pgid: number): Array<{ pid: number; command: string }> {
  const listed = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  return listed.stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && !match[2]!.startsWith('Z'))
    .map((match) => ({ pid: Number(match[1]), command: match[3]! }));
}

/** Whether a process with this pid still exists (a zombie not yet reaped counts as gone). */
function alive(pid: number): boolean {
  const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return state !== '' && !state.startsWith('Z');
}

/**
 * Runs the command the README gives, `npm start`, as a real process tree (npm, then whatever npm
 * spawns) in a process group of its own, on a free port. It talks to it over HTTP, asks it to
 * crash its HTTP server child and its quote refresher (restarted after a backoff), then sends
 * SIGTERM to the npm process itself, as a container runtime or a process manager does, and
 * expects an orderly stop with exit code 0 and no process of the tree left behind.
 */
describe('npm start: the example back end', () => {
  let npm: ChildProcess;
  let output = '';
  let url = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  beforeAll(async () => {
    npm = spawn('npm', ['start'], {
      cwd: root,
      env: { ...process.env, PORT: '0', UPSTREAM_FAILURE_RATE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => npm.on('exit', (code, signal) => resolve({ code, signal })));
    // Bounded: a back end that never says it listens fails the hook after 40 s.
    const deadline = Date.now() + 40_000;
    while (!/listening on http:\/\/127\.0\.0\.1:\d+/.test(output) && npm.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (listening === null) throw new Error(`npm start did not come up:\n${output}`);
    url = listening[1]!;
  }, 60_000);

  afterAll(() => {
    // Whatever happened above, leave nothing running.
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  });

  it('serves on 127.0.0.1 and logs the tree starting', async () => {
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
    expect(health.status).toBe(200);
    const quote = await fetch(`${url}/quote`, { signal: AbortSignal.timeout(5_000) });
    expect(quote.status).toBe(200);
    expect(output).toContain('[telemetry] supervisor.child.started supervisor=infrastructure/quotes child=breaker:upstream');
    expect(output).toContain('[telemetry] supervisor.child.started supervisor=infrastructure child=http');
  });

  it('a crash asked for with POST /crash?child=http is restarted by the supervisor, logged, and shown in /health', async () => {
    const crash = await fetch(`${url}/crash?child=http`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    expect(crash.status).toBe(202);
    await expect.poll(() => output, { timeout: 10_000, interval: 50 }).toContain('[telemetry] supervisor.child.restarted supervisor=infrastructure child=http');
    expect(output).toContain('[telemetry] supervisor.child.exited supervisor=infrastructure child=http reason=error (crash requested by POST /crash?child=http)');
    const health = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).json()) as {
      tree: { children: Array<{ id: string; restarts: number; lastExit?: { reason: string } }> };
    };
    expect(health.tree.children.find((child) => child.id === 'http')).toMatchObject({ restarts: 1, lastExit: { reason: 'error' } });
  });

  it('a crash of the quote refresher is restarted after a backoff: logged with its delay, and /health shows it in backoff with the time left, then running', async () => {
    const refresher = async (): Promise<{ state: string; restartInMs?: number; restarts: number } | undefined> => {
      const health = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).json()) as {
        tree: { children: Array<{ id: string; state: string; restartInMs?: number; restarts: number }> };
      };
      return health.tree.children.find((child) => child.id === 'quote-refresher');
    };
    const crash = await fetch(`${url}/crash?child=quote-refresher`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    expect(crash.status).toBe(202);
    await expect.poll(refresher, { timeout: 5_000, interval: 20 }).toMatchObject({ state: 'backoff' });
    expect((await refresher())?.restartInMs).toBeGreaterThan(0);
    await expect.poll(() => output, { timeout: 5_000, interval: 50 }).toMatch(
      /\[telemetry\] supervisor\.child\.backoff supervisor=infrastructure child=quote-refresher delay=1\d{3}ms attempt=1/,
    );
    await expect.poll(refresher, { timeout: 5_000, interval: 50 }).toMatchObject({ state: 'running', restarts: 1 });
    expect(output).toContain('[telemetry] supervisor.child.restarted supervisor=infrastructure child=quote-refresher');
  });

  it('SIGTERM to the npm process itself drains, stops the tree in reverse order and exits 0, leaving no process behind', async () => {
    const tree = processGroup(npm.pid!);
    expect(tree.map((entry) => entry.pid)).toContain(npm.pid);
    expect(tree.some((entry) => entry.command.includes('supervisors/main.ts'))).toBe(true);
    process.kill(npm.pid!, 'SIGTERM');
    const result = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 20_000))]);
    expect(result).toEqual({ code: 0, signal: null });
    await expect.poll(() => tree.filter((entry) => alive(entry.pid)).map((entry) => entry.command), { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => processGroup(npm.pid!), { timeout: 5_000 }).toEqual([]);
    const stops = output.split('\n').filter((line) => line.includes('reason=shutdown') && line.includes('supervisor=infrastructure child='));
    expect(stops.map((line) => /child=(\S+)/.exec(line)?.[1])).toEqual(['http', 'quote-refresher', 'compute', 'quotes']);
    expect(output).toContain('stopped cleanly');
  }, 40_000);
});
