import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, createTestClock } from '../../../src/index.js';
import { createObserver } from '../../../src/observer.js';
import { bearerMatches } from '../../../src/observer/actions.js';
import { request } from './fake-http.js';
import { crowdedSupervisor, flush, startWorld, type World } from './world.js';

/** The action routes: absent by default, behind a bearer token checked on every request when on. */
const TOKEN = 'observer-spec-token-0123456789';
const authorized = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('without actions: true the action routes do not exist', () => {
  it('POST /observer/actions/... is a 404, even with a token configured and sent', async () => {
    world = await startWorld({ token: TOKEN });
    for (const path of ['child/restart', 'child/terminate', 'breaker/melt', 'breaker/reset', 'breaker/isolate', 'breaker/restore']) {
      const answer = await request(world.observer, 'POST', `/observer/actions/${path}`, { headers: authorized, body: JSON.stringify({ supervisor: 'root', child: 'api', breaker: 'payments' }) });
      expect(answer.status, path).toBe(404);
    }
    expect(world.root.whichChildren()[0]!.ref).toBe(world.harness.actor('api'));
    expect(world.breaker.state()).toBe('closed');
    expect(world.observer.snapshot().actions).toBe(false);
  });
});

describe('with actions: true every action request must carry the token', () => {
  it('no Authorization, a wrong token, another scheme or a token with extra text: 401 with WWW-Authenticate, and nothing happens', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const before = world.harness.actor('api');
    for (const header of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, `Bearer ${TOKEN} extra`, 'Bearer', '']) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (header !== undefined) headers.authorization = header;
      const answer = await request(world.observer, 'POST', '/observer/actions/child/restart', { headers, body: JSON.stringify({ supervisor: 'root', child: 'api' }) });
      expect(answer.status, String(header)).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="overseer-observer"');
      expect(answer.json()).toMatchObject({ error: 'ERR_UNAUTHORIZED' });
    }
    await flush();
    expect(world.harness.actor('api')).toBe(before);
    expect(world.harness.starts.get('api')).toBe(1);
  });

  it('the token is compared in constant time over equal-length digests: any length of guess is handled alike', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${'x'.repeat(10_000)}`, TOKEN)).toBe(false);
    expect(bearerMatches(['Bearer', TOKEN], TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });

  it('restart with the token: the running child is stopped and started again, counting no restart against the intensity', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const answer = await request(world.observer, 'POST', '/observer/actions/child/restart', { headers: authorized, body: JSON.stringify({ supervisor: 'root', child: 'api' }) });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ ok: true, action: 'restart', supervisor: 'root', child: 'api' });
    expect(world.harness.starts.get('api')).toBe(2);
    expect(world.root.whichChildren()[0]!.ref).toBe(world.harness.actor('api'));
    expect(world.observer.snapshot().events.at(-1)).toMatchObject({ kind: 'action', text: 'restart api (observer action)' });
  });

  it('restart of a nested supervisor child and of a child waiting out its backoff', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const nested = await request(world.observer, 'POST', '/observer/actions/child/restart', { headers: authorized, body: JSON.stringify({ supervisor: 'root/billing', child: 'ledger' }) });
    expect(nested.status).toBe(200);
    expect(world.harness.starts.get('ledger')).toBe(2);
    world.harness.crash('mailer');
    await flush();
    expect(world.root.whichChildren()[1]).toMatchObject({ id: 'mailer', restarting: true });
    const waiting = await request(world.observer, 'POST', '/observer/actions/child/restart', { headers: authorized, body: JSON.stringify({ supervisor: 'root', child: 'mailer' }) });
    expect(waiting.status).toBe(200);
    expect(world.root.whichChildren()[1]!.ref).toBe(world.harness.actor('mailer'));
  });

  it('terminate with the token stops the child; a dynamic supervisor\'s child can be terminated but not restarted (409)', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const answer = await request(world.observer, 'POST', '/observer/actions/child/terminate', { headers: authorized, body: JSON.stringify({ supervisor: 'root', child: 'api' }) });
    expect(answer.status).toBe(200);
    expect(world.root.whichChildren()[0]!.ref).toBeUndefined();
    const clock = createTestClock();
    const telemetry = createTelemetry({ clock });
    const crowd = await crowdedSupervisor(clock, telemetry, 3);
    const observer = createObserver({ supervisors: [crowd], clock, telemetry, actions: true, token: TOKEN });
    const refused = await request(observer, 'POST', '/observer/actions/child/restart', { headers: authorized, body: JSON.stringify({ supervisor: 'crowd', child: 'worker-1' }) });
    expect(refused.status).toBe(409);
    expect(refused.json()).toMatchObject({ error: 'ERR_NOT_SUPPORTED' });
    const terminated = await request(observer, 'POST', '/observer/actions/child/terminate', { headers: authorized, body: JSON.stringify({ supervisor: 'crowd', child: 'worker-1' }) });
    expect(terminated.status).toBe(200);
    expect(crowd.whichChildren().map((child) => child.id)).toEqual(['worker-0', 'worker-2']);
    await crowd.stop();
  });

  it('melt, reset, isolate and restore a breaker with the token', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const act = (action: string) => request(world!.observer, 'POST', `/observer/actions/breaker/${action}`, { headers: authorized, body: JSON.stringify({ breaker: 'payments' }) });
    expect((await act('melt')).json()).toEqual({ ok: true, action: 'melt', breaker: 'payments', state: 'open' });
    expect((await act('reset')).json()).toMatchObject({ state: 'closed' });
    expect((await act('isolate')).json()).toMatchObject({ state: 'disabled' });
    await expect(world.breaker.call(() => 1)).rejects.toMatchObject({ code: 'ERR_BREAKER_OPEN' });
    expect((await act('restore')).json()).toMatchObject({ state: 'closed' });
    expect(await world.breaker.call(() => 1)).toBe(1);
  });

  it('bad requests are refused naming the fault, before anything is done', async () => {
    world = await startWorld({ actions: true, token: TOKEN });
    const post = (path: string, body: string, headers: Record<string, string> = authorized) => request(world!.observer, 'POST', `/observer/actions/${path}`, { headers, body });
    const cases: Array<[string, string, Record<string, string>, number, Record<string, unknown>]> = [
      ['child/restart', '{"supervisor":"root"}', authorized, 400, { field: 'child' }],
      ['child/restart', '{"supervisor":"root","child":42}', authorized, 400, { field: 'child' }],
      ['child/restart', '{"supervisor":"","child":"api"}', authorized, 400, { field: 'supervisor' }],
      ['child/restart', 'not json', authorized, 400, { error: 'ERR_BAD_REQUEST' }],
      ['child/restart', '["root","api"]', authorized, 400, { error: 'ERR_BAD_REQUEST' }],
      ['child/restart', '{"supervisor":"root","child":"api"}', { authorization: authorized.authorization, 'content-type': 'text/plain' }, 415, { error: 'ERR_UNSUPPORTED_MEDIA_TYPE' }],
      ['child/restart', JSON.stringify({ supervisor: 'root', child: 'x'.repeat(20_000) }), authorized, 413, { error: 'ERR_BODY_TOO_LARGE' }],
      ['child/restart', '{"supervisor":"nobody","child":"api"}', authorized, 404, { error: 'ERR_NOT_FOUND' }],
      ['child/terminate', '{"supervisor":"root","child":"nobody"}', authorized, 404, { error: 'ERR_NOT_FOUND' }],
      ['breaker/melt', '{"breaker":"nobody"}', authorized, 404, { error: 'ERR_NOT_FOUND' }],
      ['breaker/melt', '{}', authorized, 400, { field: 'breaker' }],
    ];
    for (const [path, body, headers, status, shape] of cases) {
      const answer = await post(path, body, headers);
      expect(answer.status, `${path} ${body.slice(0, 60)}`).toBe(status);
      expect(answer.json()).toMatchObject(shape);
    }
    expect(world.harness.starts.get('api')).toBe(1);
    expect(world.breaker.stats().failures).toBe(0);
    const get = await request(world.observer, 'GET', '/observer/actions/child/restart', { headers: authorized });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await post('child/reboot', '{}')).status).toBe(404);
  });
});
