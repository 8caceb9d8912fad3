import { describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock, isConfigError } from '../../../src/index.js';
import { createObserver, type ObserverOptions } from '../../../src/observer.js';
import { openStream, request } from './fake-http.js';

/** What the handler answers where, and the options it refuses. */
const quiet = (): ObserverOptions => {
  const clock = createTestClock();
  return { clock, telemetry: createTelemetry({ clock }) };
};

describe('the handler serves under its base and nowhere else', () => {
  it('GET {base}/ and {base} serve the page, with a CSP that loads only its own script and stylesheet', async () => {
    const observer = createObserver(quiet());
    for (const path of ['/observer', '/observer/']) {
      const page = await request(observer, 'GET', path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.body).toContain('<script type="module" src="/observer/app.js"></script>');
      expect(page.body).toContain('<link rel="stylesheet" href="/observer/app.css">');
      expect(page.body).not.toMatch(/https?:\/\//);
    }
    const script = await request(observer, 'GET', '/observer/app.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain("new EventSource(base + '/events')");
    expect(script.body).not.toMatch(/innerHTML|https?:\/\//);
    const style = await request(observer, 'GET', '/observer/app.css');
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('the script compiles (it has no import or export, so a Function body parses it as the browser will)', async () => {
    const observer = createObserver(quiet());
    const script = (await request(observer, 'GET', '/observer/app.js')).body;
    expect(script).not.toMatch(/^\s*(import|export)\b/m);
    expect(() => new Function(script)).not.toThrow();
  });

  it('a request outside the base goes to next() when given (Express), else 404', async () => {
    const observer = createObserver(quiet());
    let passed = 0;
    const answer = await request(observer, 'GET', '/observerx/snapshot', { next: () => (passed += 1) });
    expect(passed).toBe(1);
    expect(answer.headersSent).toBe(false);
    expect((await request(observer, 'GET', '/api/orders')).status).toBe(404);
  });

  it("Express's originalUrl is used when a mount path stripped url", async () => {
    const observer = createObserver(quiet());
    const { fakeRequest, FakeResponse } = await import('./fake-http.js');
    const mounted = Object.assign(fakeRequest('GET', '/snapshot'), { originalUrl: '/observer/snapshot' });
    const response = new FakeResponse();
    observer(mounted, response as never);
    expect(response.status).toBe(200);
    expect(response.json()).toHaveProperty('supervisors');
  });

  it('an unknown route under the base is 404, a wrong method 405 naming what is allowed, a target that is no URL 400', async () => {
    const observer = createObserver(quiet());
    expect((await request(observer, 'GET', '/observer/nothing')).status).toBe(404);
    const post = await request(observer, 'POST', '/observer/snapshot');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await request(observer, 'GET', '//[')).status).toBe(400);
  });

  it("a base of '/' serves at the root; a custom base is honoured with or without its trailing slash", async () => {
    const atRoot = createObserver({ ...quiet(), base: '/' });
    expect(atRoot.base).toBe('');
    expect((await request(atRoot, 'GET', '/snapshot')).status).toBe(200);
    expect((await request(atRoot, 'GET', '/')).body).toContain('src="/app.js"');
    const custom = createObserver({ ...quiet(), base: '/ops/observer/' });
    expect(custom.base).toBe('/ops/observer');
    expect((await request(custom, 'GET', '/ops/observer/snapshot')).status).toBe(200);
    const stream = openStream(custom, {}, '/ops/observer');
    expect(stream.status).toBe(200);
    stream.hangUp();
  });
});

describe('bad options are a ConfigError naming the option', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['actions', { actions: 'yes' }],
    ['token', { actions: true }],
    ['token', { actions: true, token: 'short' }],
    ['token', { token: 42 }],
    ['base', { base: 'observer' }],
    ['base', { base: '/obs erver' }],
    ['base', { base: '/a/../b' }],
    ['base', { base: '/x"><script>' }],
    ['maxUpdatesPerSecond', { maxUpdatesPerSecond: 0 }],
    ['maxUpdatesPerSecond', { maxUpdatesPerSecond: 1_000 }],
    ['heartbeatMs', { heartbeatMs: 10 }],
    ['pageSize', { pageSize: 0 }],
    ['pageSize', { pageSize: 5_000 }],
    ['maxBufferedBytes', { maxBufferedBytes: 10 }],
    ['maxClients', { maxClients: 0 }],
    ['sampleMs', { sampleMs: Number.NaN }],
    ['historyMs', { historyMs: 10 }],
    ['supervisors', { supervisors: {} }],
    ['supervisors[0]', { supervisors: [{ id: 'x' }] }],
    ['breakers[0]', { breakers: [{ name: 'b' }] }],
    ['pools[1]', { pools: [{ name: 'p', status: () => ({}) }, null] }],
    ['leases[0]', { leases: [{ name: 'l' }] }],
    ['infrastructure', { infrastructure: {} }],
    ['telemetry', { telemetry: { emit: () => undefined } }],
    ['clock', { clock: Date }],
    ['options', 'nope' as never],
  ];
  for (const [option, given] of cases) {
    it(`${option}: ${JSON.stringify(given) ?? String(given)}`, () => {
      let thrown: unknown;
      try {
        createObserver(given as ObserverOptions);
      } catch (error) {
        thrown = error;
      }
      expect(isConfigError(thrown)).toBe(true);
      expect((thrown as { option: string }).option).toBe(option);
    });
  }

  it('the token never appears in the error', () => {
    try {
      createObserver({ actions: true, token: 'secret!' });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret!');
    }
  });
});
