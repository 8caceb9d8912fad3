import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBreaker,
  createTelemetry,
  startDynamicSupervisor,
  startSupervisor,
  supervisorChild,
  type Breaker,
  type DynamicSupervisor,
  type Supervisor,
  type Telemetry,
} from '../../src/index.js';
import { createObserver, type Observer } from '../../src/observer.js';
import { ChildHarness } from '../support/actors.js';
import { launchBrowser, serve, type TestBrowser } from './browser.js';

/**
 * The observer's page in a real browser (Debian's chromium through playwright-core, headless):
 * a supervision tree, a breaker and a dynamic supervisor of 10,000 children run on the real
 * clock behind a node:http server on 127.0.0.1, and the spec checks what a person would see.
 * One browser for the file; every wait is bounded.
 */
const TOKEN = 'browser-spec-token-0123456789abcdef';
const RED = 'rgb(201, 42, 42)';

let browser: TestBrowser;
let telemetry: Telemetry;
let harness: ChildHarness;
let root: Supervisor;
let crowd: DynamicSupervisor;
let breaker: Breaker;
let readOnly: Observer;
let withActions: Observer;
let site: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  browser = await launchBrowser();
  telemetry = createTelemetry();
  harness = new ChildHarness();
  root = await startSupervisor(
    {
      strategy: 'one_for_one',
      intensity: 100,
      period: 1_000,
      children: [
        harness.child('api'),
        harness.child('mailer', { backoff: { minMs: 8_000, maxMs: 8_000, randomFactor: 0 } }),
        supervisorChild('billing', { children: [harness.child('ledger')] }),
      ],
    },
    { id: 'shop', telemetry },
  );
  crowd = await startDynamicSupervisor({ id: 'sessions', telemetry });
  const sessions = new ChildHarness();
  await Promise.all(
    Array.from({ length: 10_000 }, (_, index) => {
      const spec = sessions.child(`session-${index}`, { restart: 'temporary' });
      return crowd.startChild({ id: spec.id, start: spec.start, restart: 'temporary' });
    }),
  );
  breaker = createBreaker({ name: 'payments', tolerance: { failures: 0, windowMs: 10_000 }, resetMs: 6_000, telemetry });
  readOnly = createObserver({ supervisors: [root, crowd], breakers: [breaker], telemetry, pageSize: 50 });
  withActions = createObserver({ supervisors: [root], breakers: [breaker], telemetry, base: '/admin/observer', actions: true, token: TOKEN });
  site = await serve((request, response) => readOnly(request, response, () => withActions(request, response)));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await readOnly?.stop();
  await withActions?.stop();
  await site?.close();
  await root?.stop();
  await crowd?.stop();
});

/** A computed style of the locator's element, as the browser paints it. */
function styleOf(locator: Locator, property: 'color' | 'borderLeftColor'): Promise<string> {
  // Run in the page: its globals are the browser's (this file is type-checked without the DOM library).
  return locator.evaluate((node, name) => (globalThis as unknown as { getComputedStyle(element: unknown): Record<string, string> }).getComputedStyle(node)[name]!, property);
}

/** Opens the page and waits for its first snapshot to render. */
async function open(path = '/observer/'): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(5_000);
  await page.goto(`${site.url}${path}`);
  await page.locator('#connection[data-state="live"]').waitFor();
  return page;
}

describe('the observer page in chromium', () => {
  it('renders the supervision trees: supervisors, nested ones, and children with type, restart and status', async () => {
    const page = await open();
    const shop = page.locator('.sup[data-supervisor="shop"]').first();
    await expect.poll(() => shop.locator(':scope > table tbody tr').count()).toBe(3);
    const rows = await shop.locator(':scope > table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)));
    expect(rows).toEqual([
      ['api', 'worker', 'permanent', 'running'],
      ['mailer', 'worker', 'permanent', 'running'],
      ['billing', 'supervisor', 'permanent', 'running'],
    ]);
    await expect.poll(() => page.locator('.sup[data-supervisor="shop"] .nested .sup[data-supervisor="shop/billing"] tr[data-child="ledger"]').count()).toBe(1);
    const running = await styleOf(page.locator('tr[data-child="api"] .pill'), 'color');
    expect(running).toBe('rgb(43, 138, 62)');
    await page.close();
  });

  it('a crashed child shows its restart, exit reason and message within a second, without a reload', async () => {
    const page = await open();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const row = page.locator('.sup[data-supervisor="shop"] tr[data-child="api"]');
    await expect.poll(() => row.locator('td.restarts').textContent()).toBe('0');
    // Twice: the first change after a quiet spell goes out at once, the next one must follow as soon.
    for (const count of [1, 2]) {
      const crashedAt = Date.now();
      harness.crash('api');
      await row.locator('td.restarts', { hasText: new RegExp(`^${count}\\(`) }).waitFor({ timeout: 1_000 });
      expect(Date.now() - crashedAt).toBeLessThan(1_000);
    }
    expect(await row.locator('td.last-exit').textContent()).toMatch(/^error: worker crashed · /);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    await page.locator('#events li[data-kind="exit"]', { hasText: 'api exited: worker crashed' }).first().waitFor({ timeout: 1_000 });
    await page.close();
  });

  it('a child in backoff shows an amber countdown to its restart that ticks down', async () => {
    const page = await open();
    harness.crash('mailer');
    const pill = page.locator('tr[data-child="mailer"] td.status .pill');
    await pill.filter({ hasText: /^backoff · / }).waitFor({ timeout: 1_000 });
    const first = await pill.textContent();
    expect(await styleOf(pill, 'color')).toBe('rgb(217, 72, 15)');
    await expect.poll(() => pill.textContent(), { timeout: 2_000 }).not.toBe(first);
    const seconds = (text: string | null): number => Number(/([\d.]+) s/.exec(text ?? '')?.[1]);
    expect(seconds(await pill.textContent())).toBeLessThan(seconds(first));
    // Its count filters the supervisor's children down to those in backoff, and back.
    const shop = page.locator('.sup[data-supervisor="shop"]').first();
    await shop.locator(':scope > .sup-head .counts button[data-filter="backoff"]').click();
    await expect.poll(() => shop.locator(':scope > table tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-child')))).toEqual(['mailer']);
    expect(await shop.locator(':scope > .pager .page').textContent()).toBe('page 1 of 1 · 1–1 of 1 backoff');
    await shop.locator(':scope > .sup-head .counts button', { hasText: 'children' }).click();
    await expect.poll(() => shop.locator(':scope > table tbody tr').count()).toBe(3);
    await page.close();
  });

  it('an opened breaker turns red with the countdown to its next probe', async () => {
    const page = await open();
    const card = page.locator('.card[data-breaker="payments"]');
    await expect.poll(() => card.getAttribute('data-state')).toBe('closed');
    breaker.melt();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 1_000 }).toBe('open');
    expect(await styleOf(card, 'borderLeftColor')).toBe(RED);
    expect(await styleOf(card.locator('.pill'), 'color')).toBe(RED);
    const countdown = card.locator('.countdown');
    const first = await countdown.textContent();
    expect(first).toMatch(/^probe in [\d.]+ s$/);
    await expect.poll(() => countdown.textContent(), { timeout: 2_000 }).not.toBe(first);
    expect(await page.locator('.tile[data-tile="breakers"] b').textContent()).toBe('1 / 1');
    breaker.reset();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 1_000 }).toBe('closed');
    await page.close();
  });

  it('a dynamic supervisor with 10,000 children shows one page of 50 rows and a pager', async () => {
    const page = await open();
    const sessions = page.locator('.sup[data-supervisor="sessions"]');
    await expect.poll(() => sessions.locator('tbody tr').count()).toBe(50);
    expect(await page.locator('tr[data-child]').count()).toBeLessThan(100);
    expect(await sessions.locator('.counts').textContent()).toContain('10000 children');
    expect(await sessions.locator('.pager .page').textContent()).toBe('page 1 of 200 · 1–50 of 10000');
    await sessions.locator('.pager button', { hasText: 'next' }).click();
    await expect.poll(() => sessions.locator('tbody tr').first().getAttribute('data-child')).toBe('session-50');
    expect(await sessions.locator('tbody tr').count()).toBe(50);
    expect(await sessions.locator('.pager .page').textContent()).toBe('page 2 of 200 · 51–100 of 10000');
    await page.close();
  });

  it('read-only by default: no action buttons, and the action routes do not exist', async () => {
    const page = await open();
    expect(await page.locator('button[data-action]').count()).toBe(0);
    expect(await page.locator('#token-field').isHidden()).toBe(true);
    const status = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"supervisor":"shop","child":"api"}' })).status, `${site.url}/observer/actions/child/restart`);
    expect(status).toBe(404);
    await page.close();
  });

  it('with actions on, an action without the token is refused and changes nothing; with it, it is done', async () => {
    const page = await open('/admin/observer/');
    const starts = harness.starts.get('api');
    await page.locator('#token-field').waitFor();
    await page.locator('tr[data-child="api"] button[data-action="child/restart"]').click();
    const toast = page.locator('#toast');
    await toast.filter({ hasText: 'refused (401)' }).waitFor({ timeout: 2_000 });
    expect(await toast.getAttribute('data-kind')).toBe('error');
    expect(harness.starts.get('api')).toBe(starts);
    await page.locator('#token').fill(TOKEN);
    await page.locator('tr[data-child="api"] button[data-action="child/restart"]').click();
    await toast.filter({ hasText: 'restart api: done' }).waitFor({ timeout: 2_000 });
    expect(harness.starts.get('api')).toBe(starts! + 1);
    await page.close();
  });
});
