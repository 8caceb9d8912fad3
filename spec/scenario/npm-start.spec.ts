import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the real `npm start` entry (supervisors/main.ts) as a second process on the real clock,
 * waits until it has logged a crash and a restart, then sends SIGINT and expects an orderly stop.
 */
describe('npm start: the demo supervision tree', () => {
  it('logs children starting, a crash and its restart, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'supervisors/main.ts'], {
      cwd: root,
      env: { ...process.env, TICK_MS: '20', CRASH_EVERY: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await expect
        .poll(() => output, { timeout: 20_000, interval: 50 })
        .toContain('supervisor.child.restarted supervisor=app child=ticker');
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(output).toContain('supervisor.child.started supervisor=app child=ticker');
    expect(output).toContain('supervisor.child.started supervisor=app/jobs child=queue');
    expect(output).toMatch(/supervisor\.child\.exited supervisor=app child=ticker reason=error \(ticker crashed on tick 3\)/);
    const stopLines = output.split('\n').filter((line) => line.includes('reason=shutdown'));
    expect(stopLines.map((line) => /child=(\w+)/.exec(line)?.[1])).toEqual(['runner', 'queue', 'jobs', 'ticker']);
    expect(output).toContain('stopped cleanly');
  }, 40_000);
});
