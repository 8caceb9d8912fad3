/**
 * The observer page's script: a module of plain DOM code (no framework, no build step). It opens
 * `{base}/events`, keeps the views of the snapshot and of every delta by id, and renders them;
 * only what a message changed is rebuilt. Countdowns tick here, every 250 ms, from the "ms from
 * now" of the message that carried them. Every text is set with `textContent`, never as HTML.
 * A supervisor with more children than a page shows one page and a pager, fetching other pages
 * (and pages filtered by status) from `{base}/children`.
 *
 * Kept as a string (without template literals, so that it can sit in one) so that the package
 * ships it with its JavaScript.
 */
export const PAGE_SCRIPT = String.raw`
const base = document.querySelector('meta[name="overseer-base"]').content;
const $ = (selector) => document.querySelector(selector);
const STATUSES = ['running', 'backoff', 'restarting', 'stopped'];

// ---------------------------------------------------------------- state

const state = {
  actions: false,
  pageSize: 50,
  historyMs: 60000,
  supervisors: new Map(),
  breakers: new Map(),
  pools: new Map(),
  threadPools: new Map(),
  limiters: new Map(),
  leases: new Map(),
  events: [],
  lastMessageAt: undefined,
};
/** Per supervisor id: the page and status filter asked for, when not the first page of all. */
const paging = new Map();
/** Per supervisor id: the view fetched for that page (it replaces the live one's children). */
const pages = new Map();
/** Nested supervisors met on fetched pages (not followed live). */
const fetched = new Map();
/** Per child, the restart total last shown, and until when its row is highlighted. */
const restartTotals = new Map();
const flashUntil = new Map();
const dirty = new Set();

// ---------------------------------------------------------------- small helpers

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const key of Object.keys(props)) {
      const value = props[key];
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'data') for (const name of Object.keys(value)) node.dataset[name] = String(value[name]);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function duration(ms) {
  if (!(ms > 0)) return '0 ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
  return (ms / 3600000).toFixed(1) + ' h';
}

/** A window's length as a label: '1 min', '10 s'. */
function span(ms) {
  if (ms % 60000 === 0) return ms / 60000 + ' min';
  if (ms % 1000 === 0) return ms / 1000 + ' s';
  return duration(ms);
}

function ago(ms) {
  if (ms < 1000) return 'just now';
  if (ms < 60000) return Math.floor(ms / 1000) + ' s ago';
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ago';
  return Math.floor(ms / 3600000) + ' h ago';
}

/** A text that counts down to a local deadline; the ticker keeps it current. */
function countdown(tag, props, label, deadline) {
  const node = el(tag, props, label + duration(deadline - performance.now()));
  node.dataset.deadline = String(deadline);
  node.dataset.label = label;
  return node;
}

/** A text that says how long ago a local time was; the ticker keeps it current. */
function since(tag, props, at) {
  const node = el(tag, props, ago(performance.now() - at));
  node.dataset.since = String(at);
  return node;
}

function setChildren(parent, nodes) {
  const current = parent.children;
  if (current.length === nodes.length && nodes.every((node, index) => node === current[index])) return;
  parent.replaceChildren(...nodes);
}

function toast(text, kind) {
  const node = $('#toast');
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), 6000);
}

// ---------------------------------------------------------------- messages

/** Turns a view's "ms from now" and "ms ago" into local times, at the moment it arrived. */
function stampSupervisor(view, at) {
  for (const child of view.children) {
    if (child.restartInMs !== undefined) child.restartAt = at + child.restartInMs;
    if (child.lastExit) child.lastExit.at = at - child.lastExit.exitedAgoMs;
  }
  return view;
}

function stampComponent(view, at) {
  if (view.probeInMs !== undefined) view.probeAt = at + view.probeInMs;
  if (view.lastDeniedAgoMs !== undefined) view.lastDeniedAt = at - view.lastDeniedAgoMs;
  return view;
}

function takeEvents(events, at) {
  const known = new Set(state.events.map((event) => event.id));
  for (const event of events) {
    if (known.has(event.id)) continue;
    event.at = at - event.agoMs;
    state.events.push(event);
  }
  state.events.sort((a, b) => a.id - b.id);
  if (state.events.length > 100) state.events.splice(0, state.events.length - 100);
  dirty.add('events');
}

function takeSection(section, views, at) {
  if (!views) return;
  for (const view of views) state[section].set(view.name, stampComponent(view, at));
  dirty.add(section);
}

function applySnapshot(snapshot) {
  const at = performance.now();
  state.actions = snapshot.actions;
  state.pageSize = snapshot.pageSize;
  state.historyMs = snapshot.historyMs;
  state.supervisors = new Map(snapshot.supervisors.map((view) => [view.id, stampSupervisor(view, at)]));
  for (const section of ['breakers', 'pools', 'threadPools', 'limiters', 'leases']) {
    state[section] = new Map();
    takeSection(section, snapshot[section], at);
  }
  state.events = [];
  takeEvents(snapshot.events, at);
  for (const id of paging.keys()) refreshPage(id);
  received(at);
  ['trees', 'summary', 'header'].forEach((part) => dirty.add(part));
  render();
}

function applyDelta(delta) {
  const at = performance.now();
  for (const view of delta.supervisors || []) {
    state.supervisors.set(view.id, stampSupervisor(view, at));
    if (paging.has(view.id)) refreshPage(view.id);
  }
  for (const id of delta.removedSupervisors || []) {
    state.supervisors.delete(id);
    pages.delete(id);
    paging.delete(id);
  }
  if (delta.supervisors || delta.removedSupervisors) dirty.add('trees');
  for (const section of ['breakers', 'pools', 'threadPools', 'limiters', 'leases']) takeSection(section, delta[section], at);
  if (delta.events) takeEvents(delta.events, at);
  received(at);
  dirty.add('summary');
  render();
}

function received(at) {
  state.lastMessageAt = at;
  const updated = $('#updated');
  updated.dataset.since = String(at);
  updated.dataset.prefix = 'updated ';
  updated.textContent = 'updated just now';
}

// ---------------------------------------------------------------- the event stream

let source;
function connect() {
  source = new EventSource(base + '/events');
  source.addEventListener('snapshot', (event) => {
    applySnapshot(JSON.parse(event.data));
    setConnection('live');
  });
  source.addEventListener('delta', (event) => applyDelta(JSON.parse(event.data)));
  source.addEventListener('open', () => setConnection('live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      setConnection('closed');
      // Refused outright (e.g. 503): EventSource gives up; try again a little later.
      setTimeout(connect, 5000);
    } else {
      setConnection('reconnecting');
    }
  });
}

function setConnection(what) {
  const node = $('#connection');
  node.dataset.state = what;
  node.textContent = what === 'live' ? 'live' : what === 'reconnecting' ? 'reconnecting…' : 'disconnected';
}

// ---------------------------------------------------------------- pages of children

const lastFetch = new Map();
const pendingFetch = new Map();

/** Fetches the page asked for of a supervisor's children again, at most once a second. */
function refreshPage(id) {
  const wanted = paging.get(id);
  if (!wanted) return;
  if (pendingFetch.has(id)) return;
  const wait = Math.max(0, (lastFetch.get(id) || 0) + 1000 - performance.now());
  pendingFetch.set(id, setTimeout(() => {
    pendingFetch.delete(id);
    loadPage(id);
  }, wait));
}

async function loadPage(id) {
  const wanted = paging.get(id);
  if (!wanted) return;
  lastFetch.set(id, performance.now());
  let url = base + '/children?supervisor=' + encodeURIComponent(id) + '&page=' + wanted.index;
  if (wanted.status) url += '&status=' + wanted.status;
  try {
    const answer = await fetch(url, { cache: 'no-store' });
    if (!answer.ok) return;
    const body = await answer.json();
    const at = performance.now();
    if (paging.get(id) !== wanted) return;
    const [first, ...nested] = body.supervisors;
    pages.set(id, stampSupervisor(first, at));
    for (const view of nested) fetched.set(view.id, stampSupervisor(view, at));
    dirty.add('trees');
    render();
  } catch {
    // The next delta or click tries again.
  }
}

function goTo(id, index, status) {
  if (index === 0 && !status) {
    paging.delete(id);
    pages.delete(id);
    dirty.add('trees');
    render();
    return;
  }
  paging.set(id, { index, status });
  loadPage(id);
}

// ---------------------------------------------------------------- actions

async function act(path, body, what) {
  const token = $('#token').value.trim();
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  try {
    const answer = await fetch(base + '/actions/' + path, { method: 'POST', headers, body: JSON.stringify(body) });
    const result = await answer.json().catch(() => ({}));
    if (answer.ok) toast(what + ': done', 'ok');
    else toast(what + ': refused (' + answer.status + ') ' + (result.message || ''), 'error');
  } catch (error) {
    toast(what + ': failed, ' + error.message, 'error');
  }
}

function actionButton(label, path, body, what) {
  return el('button', { type: 'button', data: { action: path }, onclick: () => act(path, body, what) }, label);
}

// ---------------------------------------------------------------- rendering

const cards = new Map();

function supervisorView(id) {
  return pages.get(id) || state.supervisors.get(id) || fetched.get(id);
}

function childRow(supervisor, child) {
  const key = supervisor.id + '\n' + child.id;
  const now = performance.now();
  const before = restartTotals.get(key);
  if (before !== undefined && child.restarts.total > before) flashUntil.set(key, now + 2000);
  restartTotals.set(key, child.restarts.total);
  const flashing = (flashUntil.get(key) || 0) > now;
  const status =
    child.status === 'backoff' && child.restartAt !== undefined
      ? countdown('span', { class: 'pill s-backoff' }, 'backoff · ', child.restartAt)
      : el('span', { class: 'pill s-' + child.status }, child.status);
  const exit = child.lastExit
    ? el('div', { class: 'exit' },
        el('span', { class: 'reason' }, child.lastExit.reason),
        child.lastExit.error ? [': ', el('span', { class: 'message' }, child.lastExit.error)] : null,
        child.lastExit.code ? [' ', el('span', { class: 'tag' }, child.lastExit.code)] : null,
        ' · ', since('time', null, child.lastExit.at))
    : '';
  const actions = state.actions
    ? el('div', { class: 'actions' },
        supervisor.kind === 'static' ? actionButton('restart', 'child/restart', { supervisor: supervisor.id, child: child.id }, 'restart ' + child.id) : null,
        actionButton('terminate', 'child/terminate', { supervisor: supervisor.id, child: child.id }, 'terminate ' + child.id))
    : null;
  const row = el('tr', { class: flashing ? 'flash' : null, data: { child: child.id, status: child.status } },
    el('td', { class: 'id' }, child.id),
    el('td', null, child.type),
    el('td', null, child.restart),
    el('td', { class: 'status' }, status),
    el('td', { class: 'num restarts' }, String(child.restarts.total),
      child.restarts.recent > 0 ? el('span', { class: 'recent' }, '(' + child.restarts.recent + ' recent)') : null),
    el('td', { class: 'last-exit' }, exit),
    actions ? el('td', null, actions) : null);
  if (flashing) row.dataset.flashUntil = String(flashUntil.get(key));
  return row;
}

function countsLine(view) {
  const wanted = paging.get(view.id);
  const filter = wanted && wanted.status;
  const total = view.counts.total === 1 ? '1 child' : view.counts.total + ' children';
  const parts = [el('button', { type: 'button', 'aria-pressed': !filter, onclick: () => goTo(view.id, 0, undefined) }, total)];
  for (const status of STATUSES) {
    if (view.counts[status] === 0) continue;
    parts.push(' · ', el('button', { type: 'button', data: { filter: status }, 'aria-pressed': filter === status, onclick: () => goTo(view.id, 0, status) }, view.counts[status] + ' ' + status));
  }
  return el('span', { class: 'counts' }, parts);
}

function pager(view) {
  const { index, pages: count, matching, status } = view.page;
  if (count <= 1 && !status) return null;
  const from = matching === 0 ? 0 : index * view.page.size + 1;
  const to = Math.min(matching, (index + 1) * view.page.size);
  return el('div', { class: 'pager' },
    el('button', { type: 'button', disabled: index === 0, onclick: () => goTo(view.id, index - 1, status) }, '‹ previous'),
    el('span', { class: 'page' }, 'page ' + (index + 1) + ' of ' + count + ' · ' + from + '–' + to + ' of ' + matching + (status ? ' ' + status : '')),
    el('button', { type: 'button', disabled: index + 1 >= count, onclick: () => goTo(view.id, index + 1, status) }, 'next ›'));
}

function buildCard(view) {
  const nested = el('div', { class: 'nested' });
  const rows = view.children.map((child) => childRow(view, child));
  const table = view.children.length === 0
    ? el('p', { class: 'empty' }, view.page.status ? 'no child is ' + view.page.status : 'no children')
    : el('table', { class: 'children' },
        el('thead', null, el('tr', null, ['child', 'type', 'restart', 'status', 'restarts', 'last exit'].map((title) => el('th', { scope: 'col' }, title)), state.actions ? el('th', { scope: 'col' }, 'actions') : null)),
        el('tbody', null, rows));
  const card = el('div', { class: 'sup', data: { supervisor: view.id, status: view.status } },
    el('div', { class: 'sup-head' },
      el('span', { class: 'pill s-' + view.status }, view.status),
      el('span', { class: 'name' }, view.id),
      view.strategy ? el('span', { class: 'tag' }, view.strategy) : null,
      view.kind === 'dynamic' ? el('span', { class: 'tag' }, 'dynamic') : null,
      countsLine(view)),
    table,
    pager(view),
    nested);
  return { card, nested };
}

function renderTrees() {
  const container = $('#trees .body');
  const used = new Set();
  const cardOf = (id) => {
    const view = supervisorView(id);
    if (!view || used.has(id)) return null;
    used.add(id);
    let entry = cards.get(id);
    if (!entry || entry.view !== view || entry.actions !== state.actions || entry.paging !== paging.get(id)) {
      entry = { view, actions: state.actions, paging: paging.get(id), ...buildCard(view) };
      cards.set(id, entry);
    }
    const inner = view.children.filter((child) => child.supervisor).map((child) => cardOf(child.supervisor)).filter(Boolean);
    setChildren(entry.nested, inner);
    return entry.card;
  };
  const roots = [...state.supervisors.values()].filter((view) => view.parent === undefined).map((view) => cardOf(view.id)).filter(Boolean);
  for (const id of [...cards.keys()]) if (!used.has(id)) cards.delete(id);
  if (roots.length === 0) setChildren(container, [el('p', { class: 'empty' }, 'No supervisor is observed.')]);
  else setChildren(container, roots);
}

const componentCards = { breakers: new Map(), pools: new Map(), threadPools: new Map(), limiters: new Map(), leases: new Map() };

function stat(term, value, alert) {
  return [el('dt', null, term), el('dd', { class: alert ? 'alert' : null }, String(value))];
}

function breakerCard(view) {
  const tone = view.state === 'open' ? 'bad' : view.state === 'half_open' ? 'warn' : view.state === 'closed' ? 'good' : 'off';
  const stats = view.stats;
  return el('div', { class: 'card', data: { breaker: view.name, state: view.state, tone } },
    el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-' + view.state }, view.state.replace('_', '-'))),
    view.state === 'open' && view.probeAt !== undefined ? countdown('div', { class: 'countdown' }, 'probe in ', view.probeAt) : null,
    view.state === 'half_open' ? el('div', { class: 'countdown' }, 'probing') : null,
    stats ? el('dl', null, stat('successes', stats.successes), stat('failures', stats.failures, stats.failures > 0), stat('rejected', stats.rejected, stats.rejected > 0), stat('opened', stats.opened, stats.opened > 0)) : null,
    state.actions && view.state !== 'unavailable'
      ? el('div', { class: 'actions' }, ['melt', 'reset', 'isolate', 'restore'].map((action) => actionButton(action, 'breaker/' + action, { breaker: view.name }, action + ' ' + view.name)))
      : null);
}

/** A bar of a gauge; its width set through CSSOM, which the page's CSP allows (a style attribute it does not). */
function gauge(kind, fraction) {
  const bar = el('i', { class: kind });
  bar.style.width = (100 * Math.max(0, fraction)).toFixed(1) + '%';
  return bar;
}

function poolCard(view) {
  if (!view.available) return el('div', { class: 'card', data: { pool: view.name, state: 'unavailable', tone: 'off' } }, el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-unavailable' }, 'unavailable')));
  const s = view.status;
  const tone = s.state === 'full' ? 'bad' : s.state === 'overflow' ? 'warn' : 'good';
  const total = Math.max(1, s.idle + s.checkedOut);
  return el('div', { class: 'card', data: { pool: view.name, state: s.state, tone } },
    el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-' + s.state }, s.waiting > 0 ? s.state + ' · ' + s.waiting + ' waiting' : s.state)),
    el('div', { class: 'bar-gauge', title: s.checkedOut + ' checked out of ' + (s.idle + s.checkedOut) },
      gauge('used', (s.checkedOut - s.overflow) / total), gauge('over', s.overflow / total)),
    el('dl', null, stat('checked out', s.checkedOut), stat('idle', s.idle), stat('overflow', s.overflow, s.overflow > 0), stat('waiting', s.waiting, s.waiting > 0)));
}

function threadPoolCard(view) {
  if (!view.available) return el('div', { class: 'card', data: { threadPool: view.name, state: 'unavailable', tone: 'off' } }, el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-unavailable' }, 'unavailable')));
  const s = view.status;
  const tone = s.phase === 'failed' ? 'bad' : s.phase === 'running' ? (s.crashed > 0 ? 'warn' : 'good') : s.phase === 'draining' ? 'warn' : 'off';
  return el('div', { class: 'card', data: { threadPool: view.name, state: s.phase, tone } },
    el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-' + s.phase }, s.phase)),
    el('dl', null, stat('threads', s.threads), stat('running', s.running), stat('queued', s.queued, s.queued > 0), stat('crashed', s.crashed, s.crashed > 0), stat('idle', s.idle), stat('completed', s.completed)));
}

function limiterCard(view) {
  const ratio = view.hits === 0 ? 0 : view.denied / view.hits;
  const level = view.denied === 0 ? 'ok' : ratio < 0.1 ? 'limiting' : 'denying';
  const tone = level === 'ok' ? 'good' : level === 'limiting' ? 'warn' : 'bad';
  const windowText = span(view.windowMs);
  return el('div', { class: 'card', data: { limiter: view.name, state: level, tone } },
    el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill s-' + level }, view.denied > 0 ? Math.round(ratio * 100) + '% denied' : level)),
    el('dl', null,
      stat('hits / ' + windowText, view.hits), stat('denied', view.denied, view.denied > 0), stat('peak count', view.peakCount),
      view.keys !== undefined ? stat('keys', view.keys) : stat('denied total', view.deniedTotal)),
    view.lastDeniedAt !== undefined ? el('div', { class: 'exit' }, 'last denial ', since('time', null, view.lastDeniedAt)) : null);
}

function leaseCard(view) {
  return el('div', { class: 'card', data: { lease: view.name, state: view.held ? 'held' : 'standby', tone: view.held ? 'good' : 'off' } },
    el('div', { class: 'head' }, el('span', { class: 'name' }, view.name), el('span', { class: 'pill ' + (view.held ? 's-held' : 's-standby') }, view.held ? 'held · fence ' + view.fence : 'standby')),
    el('div', { class: 'exit' }, 'this instance: ', el('span', { class: 'reason' }, view.owner)));
}

const builders = { breakers: breakerCard, pools: poolCard, threadPools: threadPoolCard, limiters: limiterCard, leases: leaseCard };

function renderSection(section) {
  const holder = $('#' + section);
  const built = componentCards[section];
  const nodes = [];
  for (const view of state[section].values()) {
    let entry = built.get(view.name);
    if (!entry || entry.view !== view || entry.actions !== state.actions) {
      entry = { view, actions: state.actions, node: builders[section](view) };
      built.set(view.name, entry);
    }
    nodes.push(entry.node);
  }
  holder.hidden = nodes.length === 0;
  setChildren(holder.querySelector('.cards'), nodes);
}

function renderEvents() {
  const list = $('#events .events');
  const items = state.events.slice(-50).reverse().map((event) =>
    el('li', { class: 'sev-' + event.severity, data: { kind: event.kind } }, since('time', { class: 'ago' }, event.at), el('span', { class: 'kind' }, event.kind), el('span', { class: 'text' }, event.text)));
  if (items.length === 0) items.push(el('li', { class: 'empty' }, 'Nothing yet: error exits, restarts, backoffs, breakers moving and leases show here.'));
  list.replaceChildren(...items);
}

function tile(label, value, tone, name) {
  return el('div', { class: 'tile ' + tone, data: { tile: name } }, el('b', null, String(value)), el('span', null, label));
}

function renderSummary() {
  let children = 0, running = 0, backoff = 0, stopped = 0, recent = 0;
  for (const view of state.supervisors.values()) {
    children += view.counts.total;
    running += view.counts.running;
    backoff += view.counts.backoff + view.counts.restarting;
    stopped += view.counts.stopped;
    for (const child of view.children) recent += child.restarts.recent;
  }
  const breakers = [...state.breakers.values()];
  const open = breakers.filter((view) => view.state === 'open').length;
  const pools = [...state.pools.values()].filter((view) => view.available && view.status.state === 'full').length;
  const denied = [...state.limiters.values()].reduce((sum, view) => sum + view.denied, 0);
  const window = span(state.historyMs);
  setChildren($('#summary'), [
    tile('children running', running + ' / ' + children, running === children ? 'good' : 'warn', 'running'),
    tile('in backoff', backoff, backoff > 0 ? 'warn' : 'good', 'backoff'),
    tile('stopped', stopped, stopped > 0 ? 'warn' : 'good', 'stopped'),
    tile('restarts in ' + window, recent, recent > 0 ? 'warn' : 'good', 'restarts'),
    tile('breakers open', open + ' / ' + breakers.length, open > 0 ? 'bad' : 'good', 'breakers'),
    tile('pools full', pools, pools > 0 ? 'bad' : 'good', 'pools'),
    tile('limiter denials in ' + window, denied, denied > 0 ? 'warn' : 'good', 'denials'),
  ]);
}

function render() {
  if (dirty.has('header') || dirty.has('trees')) $('#token-field').hidden = !state.actions;
  if (dirty.has('trees')) renderTrees();
  for (const section of Object.keys(builders)) if (dirty.has(section)) renderSection(section);
  if (dirty.has('events')) renderEvents();
  if (dirty.has('summary') || dirty.has('trees')) renderSummary();
  dirty.clear();
}

// ---------------------------------------------------------------- clocks on the page

setInterval(() => {
  const now = performance.now();
  for (const node of document.querySelectorAll('[data-deadline]')) {
    const left = Number(node.dataset.deadline) - now;
    node.textContent = left > 0 ? node.dataset.label + duration(left) : node.dataset.label + 'due';
  }
  for (const node of document.querySelectorAll('[data-since]')) node.textContent = (node.dataset.prefix || '') + ago(now - Number(node.dataset.since));
  for (const node of document.querySelectorAll('tr.flash')) if (Number(node.dataset.flashUntil) <= now) node.classList.remove('flash');
}, 250);

connect();
`;
