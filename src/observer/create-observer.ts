import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACTION_PATHS, bearerMatches, breakerAction, childAction, readJsonBody, UNAUTHORIZED, type Answer } from './actions.js';
import { LiveFeed } from './live-feed.js';
import { ObserverState } from './observer-state.js';
import { resolveObserverOptions, type ObserverOptions } from './options.js';
import { PAGE_HEADERS, PAGE_SCRIPT, PAGE_STYLE, pageHtml } from './page.js';
import { CHILD_STATUSES } from './read-supervisors.js';
import type { ChildStatus, ObserverSnapshot } from './views.js';

/**
 * A running observer: an HTTP handler with the `(request, response)` signature of `node:http`,
 * which also takes Express's `next`. Requests outside its `base` are passed to `next` when there
 * is one, else answered 404.
 */
export interface Observer {
  /**
   * Serves one request: the page, its script and style, `snapshot`, `children` (another page of a
   * supervisor's children), the `events` stream, and the action routes when `actions` is on.
   */
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  /** The path it serves under (`''` for the root). */
  readonly base: string;
  /** Event streams open now. */
  readonly clients: number;
  /** Everything it sees now, as `GET {base}/snapshot` answers. */
  snapshot(): ObserverSnapshot;
  /**
   * Ends every event stream open now and keeps serving: the pages reconnect by themselves and get
   * a fresh snapshot. For a server that drains: an open event stream is a request that never ends.
   */
  disconnectClients(): void;
  /** Ends every event stream and timer; later requests are answered 503. Idempotent. */
  stop(): Promise<void>;
  /** Stops it (see `stop`), so that `await using` ends it with the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** The routes under `base` and the method each answers. */
const GET_ROUTES = new Set(['', '/', '/app.js', '/app.css', '/events', '/snapshot', '/children']);

function send(response: ServerResponse, answer: Answer): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(answer.status, { ...JSON_HEADERS, ...answer.headers }).end(JSON.stringify(answer.body));
}

const notFound = (path: string): Answer => ({ status: 404, body: { error: 'ERR_NOT_FOUND', message: `no route ${path.slice(0, 128)}` } });

/** `?page=` and `?status=` of `GET {base}/children`, or the 400 naming the bad one. */
function pageQuery(query: URLSearchParams): { ok: true; supervisor: string; index: number; status: ChildStatus | undefined } | { ok: false; answer: Answer } {
  const bad = (parameter: string, message: string): { ok: false; answer: Answer } => ({
    ok: false,
    answer: { status: 400, body: { error: 'ERR_BAD_REQUEST', parameter, message } },
  });
  const supervisor = query.get('supervisor');
  if (supervisor === null || supervisor === '') return bad('supervisor', 'supervisor must name a supervisor');
  const pageText = query.get('page') ?? '0';
  if (!/^\d{1,9}$/.test(pageText)) return bad('page', 'page must be a page number from 0');
  const status = query.get('status');
  if (status !== null && status !== '' && !CHILD_STATUSES.includes(status as ChildStatus)) return bad('status', `status must be one of ${CHILD_STATUSES.join(', ')}`);
  return { ok: true, supervisor, index: Number(pageText), status: status === null || status === '' ? undefined : (status as ChildStatus) };
}

/**
 * Creates an observer: a live page of the supervision trees and the components around them, as
 * Erlang's observer shows a running system. It serves, under `base` (default `/observer`):
 *
 * - `GET {base}/`: the page (HTML, its script and stylesheet, all served from the package);
 * - `GET {base}/events`: Server-Sent Events, a `snapshot` then `delta`s, at most
 *   `maxUpdatesPerSecond` a second however many events happen, heartbeat comments in between;
 *   a client reconnecting with `Last-Event-ID` gets a fresh snapshot; a client that reads slower
 *   than it is written to is dropped once `maxBufferedBytes` wait for it;
 * - `GET {base}/snapshot`: the snapshot as JSON; `GET {base}/children?supervisor=&page=&status=`:
 *   one page of a supervisor's children, for supervisors with many;
 * - with `actions: true` and a `token`: `POST {base}/actions/child/restart`, `child/terminate`
 *   (`{ supervisor, child }`) and `breaker/melt`, `breaker/reset`, `breaker/isolate`,
 *   `breaker/restore` (`{ breaker }`), each checking `Authorization: Bearer <token>`. Without
 *   them those routes do not exist (404).
 *
 * It reads the components through their public API and follows their telemetry only while an
 * event stream is open: with no client connected it costs nothing on their hot paths. Throws
 * `ConfigError` naming a bad option.
 *
 * @example
 * ```ts
 * const observer = createObserver({ supervisors: [root], breakers: [payments] });
 * createServer((req, res) => (req.url?.startsWith('/observer') ? observer(req, res) : app(req, res))).listen(3000, '127.0.0.1');
 * ```
 */
export function createObserver(options: ObserverOptions = {}): Observer {
  const resolved = resolveObserverOptions(options);
  const { base, token } = resolved;
  const actions = token !== undefined;
  const state = new ObserverState(resolved);
  const feed = new LiveFeed(resolved, state, actions);
  let stopped = false;

  const act = async (action: string, request: IncomingMessage): Promise<Answer> => {
    if (!bearerMatches(request.headers.authorization, token!)) {
      request.resume();
      return UNAUTHORIZED;
    }
    const body = await readJsonBody(request);
    if (!body.ok) return body.answer;
    const named = ACTION_PATHS[action as keyof typeof ACTION_PATHS];
    if (named === 'restart' || named === 'terminate') {
      const answer = await childAction(named, body.value, (id) => state.find(id)?.handle);
      if (answer.status === 200) state.log.add({ kind: 'action', subject: `${String(body.value.supervisor)}/${String(body.value.child)}`, severity: 'info', text: `${named} ${String(body.value.child)} (observer action)` }, resolved.clock.now());
      return answer;
    }
    const answer = breakerAction(named, body.value, (name) => state.breaker(name));
    if (answer.status === 200) state.log.add({ kind: 'action', subject: String(body.value.breaker), severity: 'info', text: `${named} ${String(body.value.breaker)} (observer action)` }, resolved.clock.now());
    return answer;
  };

  const handle = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void => {
    const target = (request as { originalUrl?: unknown }).originalUrl ?? request.url ?? '/';
    let url: URL;
    try {
      url = new URL(String(target), 'http://observer.invalid');
    } catch {
      return send(response, { status: 400, body: { error: 'ERR_BAD_REQUEST', message: 'the request target is not a URL' } });
    }
    const path = url.pathname;
    if (path !== base && !path.startsWith(`${base}/`)) {
      if (typeof next === 'function') return next();
      return send(response, notFound(path));
    }
    if (stopped) return send(response, { status: 503, body: { error: 'ERR_OBSERVER_STOPPED', message: 'the observer has stopped' } });
    const route = path.slice(base.length);
    const method = request.method ?? 'GET';

    if (route.startsWith('/actions/') && actions && Object.hasOwn(ACTION_PATHS, route.slice('/actions/'.length))) {
      if (method !== 'POST') return send(response, { status: 405, body: { error: 'ERR_METHOD_NOT_ALLOWED', message: `${route} answers POST only` }, headers: { allow: 'POST' } });
      act(route.slice('/actions/'.length), request).then(
        (answer) => send(response, answer),
        (error: unknown) => send(response, { status: 500, body: { error: 'ERR_ACTION_FAILED', message: error instanceof Error ? error.message : String(error) } }),
      );
      return;
    }
    if (!GET_ROUTES.has(route)) return send(response, notFound(path));
    if (method !== 'GET' && method !== 'HEAD') {
      return send(response, { status: 405, body: { error: 'ERR_METHOD_NOT_ALLOWED', message: `${path} answers GET only` }, headers: { allow: 'GET, HEAD' } });
    }
    switch (route) {
      case '':
      case '/':
        response.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(method === 'HEAD' ? undefined : pageHtml(base));
        return;
      case '/app.js':
        response.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }).end(method === 'HEAD' ? undefined : PAGE_SCRIPT);
        return;
      case '/app.css':
        response.writeHead(200, { ...PAGE_HEADERS, 'content-type': 'text/css; charset=utf-8' }).end(method === 'HEAD' ? undefined : PAGE_STYLE);
        return;
      case '/events': {
        if (method === 'HEAD') {
          response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }).end();
          return;
        }
        const lastEventId = request.headers['last-event-id'];
        feed.connect(response, typeof lastEventId === 'string' ? lastEventId.slice(0, 32) : undefined);
        return;
      }
      case '/snapshot':
        return send(response, { status: 200, body: state.snapshot(feed.lastSeq, actions) as unknown as Record<string, unknown> });
      case '/children': {
        const query = pageQuery(url.searchParams);
        if (!query.ok) return send(response, query.answer);
        const views = state.children(query.supervisor, { index: query.index, ...(query.status === undefined ? {} : { status: query.status }) });
        if (views === undefined) {
          return send(response, { status: 404, body: { error: 'ERR_NOT_FOUND', message: `no supervisor '${query.supervisor.slice(0, 64)}' in the observed trees` } });
        }
        return send(response, { status: 200, body: { supervisors: views } });
      }
    }
  };

  const stop = (): Promise<void> => {
    stopped = true;
    feed.stop();
    return Promise.resolve();
  };
  Object.defineProperties(handle, {
    base: { value: base, enumerable: true },
    clients: { get: () => feed.stats().clients, enumerable: true },
    snapshot: { value: () => state.snapshot(feed.lastSeq, actions) },
    disconnectClients: { value: () => feed.disconnectAll() },
    stop: { value: stop },
    [Symbol.asyncDispose]: { value: stop },
  });
  return handle as Observer;
}
