import { supervisorOf, type ChildInfo, type DynamicSupervisor, type Strategy, type Supervisor } from '../supervisor/index.js';
import type { ChildHistory } from './child-history.js';
import type { ChildCountsView, ChildStatus, ChildView, SupervisorView } from './views.js';

/** A supervisor the observer can show: static or dynamic. */
export type ObservedSupervisor = Supervisor | DynamicSupervisor;

/** The statuses a page can be filtered by. */
export const CHILD_STATUSES: readonly ChildStatus[] = Object.freeze(['running', 'backoff', 'restarting', 'stopped']);

const STRATEGIES: readonly string[] = ['one_for_one', 'one_for_all', 'rest_for_one'];

/** Which page of a supervisor's children to read. */
export interface PageRequest {
  /** 0-based; a page past the last reads as the last. */
  index: number;
  status?: ChildStatus;
}

/** What reading a supervisor needs besides the supervisor. */
export interface ReadContext {
  readonly history: ChildHistory;
  readonly now: number;
  readonly pageSize: number;
  /** Whether a supervisor has exited (its `exited` settled). */
  readonly hasExited: (supervisor: ObservedSupervisor) => boolean;
}

/** A supervisor read: its view, and the running nested supervisors of the children on that page. */
export interface SupervisorReading {
  view: SupervisorView;
  nested: ObservedSupervisor[];
}

/** The status of one `whichChildren()` entry. */
export function childStatus(child: ChildInfo): ChildStatus {
  if (child.ref !== undefined) return 'running';
  if (child.restarting !== true) return 'stopped';
  return child.nextRestartAt !== undefined ? 'backoff' : 'restarting';
}

/** A dynamic supervisor has neither `restartChild` nor `deleteChild`. */
export function isDynamic(supervisor: ObservedSupervisor): supervisor is DynamicSupervisor {
  return typeof (supervisor as Partial<Supervisor>).restartChild !== 'function';
}

/**
 * Its restart strategy: `one_for_one` for a dynamic supervisor; for a static one, its `strategy`
 * when the handle carries one, else undefined (the page then shows none).
 */
export function strategyOf(supervisor: ObservedSupervisor): Strategy | undefined {
  if (isDynamic(supervisor)) return 'one_for_one';
  const strategy = (supervisor as { strategy?: unknown }).strategy;
  return typeof strategy === 'string' && STRATEGIES.includes(strategy) ? (strategy as Strategy) : undefined;
}

/** The nested supervisor a child runs, when it is one and running. */
export function nestedSupervisor(child: ChildInfo): ObservedSupervisor | undefined {
  if (child.type !== 'supervisor' || child.ref === undefined) return undefined;
  const handle = supervisorOf(child.ref) as Partial<ObservedSupervisor> | undefined;
  return typeof handle?.whichChildren === 'function' && typeof handle.id === 'string' ? (handle as ObservedSupervisor) : undefined;
}

/** Its children now; none when it cannot say (a supervisor that throws is shown empty, not fatal). */
export function childrenOf(supervisor: ObservedSupervisor): ChildInfo[] {
  try {
    const children = supervisor.whichChildren();
    return Array.isArray(children) ? children : [];
  } catch {
    return [];
  }
}

/**
 * Reads one supervisor: counts by status over all its children, and one page of them (the
 * children passing `page.status`, `pageSize` at a time, in start order), each with its restarts
 * and last exit from `history`. The hot part for a supervisor with many children is one pass over
 * `whichChildren()`; only the page's children are turned into views.
 */
export function readSupervisor(
  supervisor: ObservedSupervisor,
  parent: string | undefined,
  page: PageRequest,
  context: ReadContext,
): SupervisorReading {
  const children = childrenOf(supervisor);
  const counts: ChildCountsView = { total: children.length, running: 0, backoff: 0, restarting: 0, stopped: 0 };
  const statuses: ChildStatus[] = new Array(children.length);
  for (let index = 0; index < children.length; index += 1) {
    const status = childStatus(children[index]!);
    statuses[index] = status;
    counts[status] += 1;
  }
  const matching = page.status === undefined ? counts.total : counts[page.status];
  const pages = Math.max(1, Math.ceil(matching / context.pageSize));
  const index = Math.min(Math.max(0, page.index), pages - 1);
  const first = index * context.pageSize;
  const views: ChildView[] = [];
  const nested: ObservedSupervisor[] = [];
  let seen = 0;
  for (let position = 0; position < children.length && views.length < context.pageSize; position += 1) {
    if (page.status !== undefined && statuses[position] !== page.status) continue;
    if (seen++ < first) continue;
    const child = children[position]!;
    const view = childView(supervisor.id, child, statuses[position]!, context);
    const inner = nestedSupervisor(child);
    if (inner !== undefined) {
      view.supervisor = inner.id;
      nested.push(inner);
    }
    views.push(view);
  }
  const view: SupervisorView = {
    id: supervisor.id,
    kind: isDynamic(supervisor) ? 'dynamic' : 'static',
    status: context.hasExited(supervisor) ? 'stopped' : 'running',
    counts,
    page: { index, size: context.pageSize, pages, matching, ...(page.status === undefined ? {} : { status: page.status }) },
    children: views,
  };
  if (parent !== undefined) view.parent = parent;
  const strategy = strategyOf(supervisor);
  if (strategy !== undefined) view.strategy = strategy;
  return { view, nested };
}

function childView(supervisor: string, child: ChildInfo, status: ChildStatus, context: ReadContext): ChildView {
  const known = context.history.read(supervisor, child.id, context.now);
  const view: ChildView = { id: child.id, type: child.type, restart: child.restart, status, restarts: known.restarts };
  if (status === 'backoff') view.restartInMs = Math.max(0, Math.ceil(child.nextRestartAt! - context.now));
  if (known.lastExit !== undefined) view.lastExit = known.lastExit;
  return view;
}

/**
 * Reads a tree: `root` (under `parent`, if nested) and, depth first, every running nested
 * supervisor of the children on each supervisor's first page. Returns the views in that order
 * and each supervisor read, by id; a supervisor whose id is already in `seen` is skipped (ids
 * name supervisors in telemetry, so two with one id cannot be told apart).
 */
export function readTree(
  root: ObservedSupervisor,
  parent: string | undefined,
  context: ReadContext,
  seen: Map<string, { handle: ObservedSupervisor; parent: string | undefined }>,
): SupervisorView[] {
  const views: SupervisorView[] = [];
  const visit = (supervisor: ObservedSupervisor, above: string | undefined): void => {
    if (seen.has(supervisor.id)) return;
    seen.set(supervisor.id, { handle: supervisor, parent: above });
    const reading = readSupervisor(supervisor, above, { index: 0 }, context);
    views.push(reading.view);
    for (const inner of reading.nested) visit(inner, supervisor.id);
  };
  visit(root, parent);
  return views;
}
