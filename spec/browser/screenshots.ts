/**
 * `npm run screenshots`: regenerates the observer's screenshots in docs/observer/.
 *
 * Starts the example back end (supervisors/backend.ts, real HTTP on 127.0.0.1) and puts it through
 * what an operator would want to see — a crashed HTTP server child restarted, the quote refresher
 * waiting out its backoff, the upstream breaker opened by a failing upstream, a client rate
 * limited — then opens /observer/ in chromium (as the browser specs do) and saves the page. A
 * second page shows a dynamic supervisor of 10,000 children, a few of them in backoff: counted
 * over all of them, shown a page at a time.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTelemetry, startDynamicSupervisor } from '../../src/index.js';
import { createObserver } from '../../src/observer.js';
import { startBackend } from '../../supervisors/backend.js';
import { ChildHarness } from '../support/actors.js';
import { launchBrowser, serve } from './browser.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(repo, 'docs', 'observer');

async function call(url: string, method = 'GET', client = 'demo'): Promise<number> {
  const answer = await fetch(url, { method, headers: { 'x-client-id': client }, signal: AbortSignal.timeout(5_000) });
  await answer.arrayBuffer();
  return answer.status;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const browser = await launchBrowser({ width: 1360, height: 1000 });
  const backend = await startBackend({ port: 0, upstream: { failureRate: 0, latencyMs: 1 }, clientRate: 5, breakerResetMs: 30_000, telemetry: createTelemetry() });
  const sessions = await startDynamicSupervisor({ id: 'sessions' });
  const crowdSite = await serve(createObserver({ supervisors: [sessions], pageSize: 25 }));
  try {
    // 10,000 sessions; a few crash and wait out a backoff before their restart.
    const harness = new ChildHarness();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, index) => {
        const spec = harness.child(`session-${index}`);
        return sessions.startChild({ id: spec.id, start: spec.start, restart: 'permanent', backoff: { minMs: 45_000, maxMs: 60_000 } });
      }),
    );

    const page = await browser.context.newPage();
    await page.goto(`${backend.url}/observer/`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });

    // The HTTP server crashed and restarted (the page's stream with it: the page reconnects), a
    // client over its rate, then the upstream failing: the breaker opens, and the quote refresher
    // (which crashes on upstream failures) backs off.
    await call(`${backend.url}/crash?child=http`, 'POST');
    await page.locator('tr[data-child="http"] td.restarts', { hasText: /^1/ }).waitFor({ timeout: 15_000 });
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await Promise.all(Array.from({ length: 12 }, () => call(`${backend.url}/quote`, 'GET', 'greedy-client')));
    backend.upstream.set({ failureRate: 1 });
    for (let index = 0; index < 6; index += 1) await call(`${backend.url}/quote`, 'GET', `client-${index}`);
    await call(`${backend.url}/crash?child=quote-refresher`, 'POST');
    await page.locator('.card[data-breaker="quotes.upstream"][data-state="open"]').waitFor({ timeout: 15_000 });
    await page.locator('tr[data-child="quote-refresher"][data-status="backoff"]').waitFor({ timeout: 15_000 });
    await pause(200);
    const overview = join(out, 'overview.png');
    await page.screenshot({ path: overview, fullPage: true });
    console.log(`wrote ${relative(repo, overview)}`);

    const crowdPage = await browser.context.newPage();
    await crowdPage.setViewportSize({ width: 1360, height: 900 });
    await crowdPage.goto(`${crowdSite.url}/observer/`);
    await crowdPage.locator('.sup[data-supervisor="sessions"] tbody tr').first().waitFor({ timeout: 10_000 });
    for (const id of ['session-3', 'session-11', 'session-12', 'session-4711']) harness.crash(id);
    await crowdPage.locator('tr[data-child="session-12"][data-status="backoff"]').waitFor({ timeout: 5_000 });
    await pause(1_500);
    const crowd = join(out, 'ten-thousand-children.png');
    await crowdPage.screenshot({ path: crowd, fullPage: true });
    console.log(`wrote ${relative(repo, crowd)}`);
  } finally {
    await browser.close();
    await crowdSite.close();
    await sessions.stop();
    await backend.stop();
  }
}

await main();
