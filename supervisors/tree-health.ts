import {
  lastValue,
  supervisorOf,
  TelemetryEvents,
  type ChildInfo,
  type MetricSnapshot,
  type Supervisor,
  type Telemetry,
} from '../src/index.js';

/**
 * What the example back end tells of its supervision tree: `GET /health`'s tree (each child's
 * state, restarts and last exit) and the scrape-time gauge of children in backoff.
 */

/**
 * Where a child is: `running`; in `backoff`, waiting for its restart's due time; `restarting`, a
 * restart that failed to start waiting to be tried again; `stopped` (terminated, or a transient
 * or temporary child that ended).
 */
export type ChildState = 'running' | 'backoff' | 'restarting' | 'stopped';

/** The state of one `whichChildren()` entry. */
export function childState(child: ChildInfo): ChildState {
  if (child.ref !== undefined) return 'running';
  if (child.restarting !== true) return 'stopped';
  return child.nextRestartAt !== undefined ? 'backoff' : 'restarting';
}

/** What `GET /health` says of a child's restarts, from the supervisors' telemetry. */
export interface ChildRestarts {
  /** Times its supervisor restarted it. */
  restarts: number;
  /** How it last exited, and the error's message for an `'error'` exit. */
  lastExit?: { reason: string; error?: string };
}

/** One child in `GET /health`; a nested supervisor also lists its `children`. */
export interface ChildHealth extends ChildRestarts {
  id: string;
  type: 'worker' | 'supervisor';
  restart: string;
  state: ChildState;
  /** `state === 'running'`. */
  running: boolean;
  /** In backoff: ms until its restart is due (`nextRestartAt − clock.now()`, the supervisor's clock), ≥ 0. */
  restartInMs?: number;
  /** A running nested supervisor's children. */
  children?: ChildHealth[];
}

/** A supervisor in `GET /health`: its id and its children in start order. */
export interface TreeHealth {
  id: string;
  children: ChildHealth[];
}

/**
 * The supervision tree under `supervisor` as `GET /health` shows it, nested supervisors expanded
 * (a nested one is named by its own id, e.g. `infrastructure/quotes`). `now` is the supervisors'
 * clock time, which `nextRestartAt` is in.
 */
export function describeTree(supervisor: Supervisor, restarts: ReadonlyMap<string, ChildRestarts>, now: number): TreeHealth {
  return {
    id: supervisor.id,
    children: supervisor.whichChildren().map((child): ChildHealth => {
      const state = childState(child);
      const history = restarts.get(`${supervisor.id}/${child.id}`) ?? { restarts: 0 };
      const nested = child.type === 'supervisor' ? (supervisorOf(child.ref) as Supervisor | undefined) : undefined;
      const health: ChildHealth = { id: child.id, type: child.type, restart: child.restart, state, running: state === 'running', ...history };
      if (state === 'backoff') health.restartInMs = Math.max(0, Math.ceil(child.nextRestartAt! - now));
      if (nested === undefined) return health;
      const tree = describeTree(nested, restarts, now);
      return { ...health, id: tree.id, children: tree.children };
    }),
  };
}

/**
 * Keeps, per child (`<supervisor id>/<child id>`), how often it was restarted and how it last
 * exited, from the supervisors' telemetry. Unsubscribe with `stop`.
 */
export function trackRestarts(telemetry: Telemetry): { restarts: Map<string, ChildRestarts>; stop: () => void } {
  const restarts = new Map<string, ChildRestarts>();
  const entry = (metadata: Record<string, unknown>): ChildRestarts => {
    const key = `${String(metadata.supervisor)}/${String(metadata.child)}`;
    let found = restarts.get(key);
    if (found === undefined) restarts.set(key, (found = { restarts: 0 }));
    return found;
  };
  const subscription = telemetry.select('supervisor.child').subscribe((event) => {
    if (event.name === TelemetryEvents.supervisorChildRestarted) entry(event.metadata).restarts += 1;
    if (event.name === TelemetryEvents.supervisorChildExited) {
      const { reason, error } = event.metadata;
      entry(event.metadata).lastExit = error instanceof Error ? { reason: String(reason), error: error.message } : { reason: String(reason) };
    }
  });
  return { restarts, stop: () => subscription.unsubscribe() };
}

/**
 * The gauge `supervisor_children_in_backoff{supervisor}`: per supervisor of the tree, its children
 * waiting out a backoff. Read from `whichChildren()` at scrape time rather than counted from
 * events, so it cannot drift; one series per supervisor (never per child).
 */
const childrenInBackoff = lastValue('supervisor.children.in_backoff', {
  tags: ['supervisor'],
  description: 'Children waiting out a restart backoff, per supervisor, read at scrape time',
});

/** The {@link childrenInBackoff} gauge now, for every running supervisor under (and including) `root`. */
export function childrenInBackoffSnapshot(root: Supervisor): MetricSnapshot {
  const series: Array<MetricSnapshot['series'][number]> = [];
  const visit = (supervisor: Supervisor): void => {
    const children = supervisor.whichChildren();
    const waiting = children.filter((child) => childState(child) === 'backoff').length;
    series.push({ tags: { supervisor: supervisor.id }, value: { kind: 'scalar', value: waiting } });
    for (const child of children) {
      const nested = child.type === 'supervisor' ? (supervisorOf(child.ref) as Supervisor | undefined) : undefined;
      if (nested !== undefined) visit(nested);
    }
  };
  visit(root);
  return { definition: childrenInBackoff.definition, series };
}
