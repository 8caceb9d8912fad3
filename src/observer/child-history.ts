import type { ExitReason } from '../supervisor/index.js';
import type { ExitView } from './views.js';

/** Restart times kept per child: the recent count is exact up to this many within the window. */
const MAX_RESTART_TIMES = 64;
/** The longest error message kept. */
const MAX_MESSAGE_LENGTH = 300;

/** What is remembered of one child. */
interface ChildRecord {
  total: number;
  /** Clock times of its latest restarts, oldest first, at most {@link MAX_RESTART_TIMES}. */
  times: number[];
  lastExit?: { reason: ExitReason; error?: string; code?: string; at: number };
}

/** An error's message, cut to {@link MAX_MESSAGE_LENGTH} characters; what was thrown, as text, for a non-Error. */
export function errorMessage(error: unknown): string {
  let message: string;
  try {
    message = error instanceof Error ? error.message : String(error);
  } catch {
    message = 'an error that cannot be shown';
  }
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}

/** The error's string `code`, if any. */
function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code.slice(0, 64) : undefined;
}

/**
 * Restarts and last exits per child, from the supervisors' telemetry: what the observer shows as
 * restart counts (all and recent) and last exit reasons. Bounded: at most `maxChildren` children
 * are remembered, the one heard from least recently forgotten first (a dynamic supervisor's
 * children come and go under fresh ids).
 */
export class ChildHistory {
  private readonly records = new Map<string, ChildRecord>();

  constructor(
    private readonly windowMs: number,
    private readonly maxChildren = 10_000,
  ) {}

  /** A child of `supervisor` exited. */
  exited(supervisor: string, child: string, reason: ExitReason, error: unknown, now: number): void {
    const record = this.touch(supervisor, child);
    record.lastExit = { reason, at: now };
    if (error !== undefined) {
      record.lastExit.error = errorMessage(error);
      const code = errorCode(error);
      if (code !== undefined) record.lastExit.code = code;
    }
  }

  /** A child of `supervisor` was restarted. */
  restarted(supervisor: string, child: string, now: number): void {
    const record = this.touch(supervisor, child);
    record.total += 1;
    record.times.push(now);
    if (record.times.length > MAX_RESTART_TIMES) record.times.shift();
  }

  /** What is known of a child at `now`: its restart counts and last exit. */
  read(supervisor: string, child: string, now: number): { restarts: { total: number; recent: number }; lastExit?: ExitView } {
    const record = this.records.get(key(supervisor, child));
    if (record === undefined) return { restarts: { total: 0, recent: 0 } };
    const since = now - this.windowMs;
    let recent = 0;
    for (let index = record.times.length - 1; index >= 0 && record.times[index]! > since; index -= 1) recent += 1;
    const restarts = { total: record.total, recent };
    if (record.lastExit === undefined) return { restarts };
    const { at, ...exit } = record.lastExit;
    return { restarts, lastExit: { ...exit, exitedAgoMs: Math.max(0, Math.round(now - at)) } };
  }

  /** Children remembered now. */
  get size(): number {
    return this.records.size;
  }

  private touch(supervisor: string, child: string): ChildRecord {
    const id = key(supervisor, child);
    let record = this.records.get(id);
    if (record === undefined) {
      record = { total: 0, times: [] };
      if (this.records.size >= this.maxChildren) this.records.delete(this.records.keys().next().value!);
    } else {
      // Re-inserted: the map's order is the order children were last heard from.
      this.records.delete(id);
    }
    this.records.set(id, record);
    return record;
  }
}

/** One key per (supervisor, child) pair: the supervisor id is length-prefixed, so no two pairs share a key whatever their characters. */
function key(supervisor: string, child: string): string {
  return `${supervisor.length}:${supervisor}/${child}`;
}
