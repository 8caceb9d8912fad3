import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the real `npm start` entry (supervisors/main.ts) as a second process on a free port,
 * calls it over HTTP, then sends SIGTERM and expects an orderly stop with exit code 0.
 */
describe('npm start: the example back end', () => {
  it('serves on 127.0.0.1, logs the tree starting, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'supervisors/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', UPSTREAM_FAILURE_RATE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect.poll(() => output, { timeout: 20_000, interval: 50 }).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
      expect(health.status).toBe(200);
      const quote = await fetch(`${url}/quote`, { signal: AbortSignal.timeout(5_000) });
      expect(quote.status).toBe(200);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(output).toContain('[telemetry] supervisor.child.started supervisor=infrastructure/quotes child=breaker:upstream');
    expect(output).toContain('[telemetry] supervisor.child.started supervisor=infrastructure child=http');
    const stops = output.split('\n').filter((line) => line.includes('reason=shutdown') && line.includes('supervisor=infrastructure child='));
    expect(stops.map((line) => /child=(\S+)/.exec(line)?.[1])).toEqual(['http', 'compute', 'quotes']);
    expect(output).toContain('stopped cleanly');
  }, 60_000);
});
