import type { Clock } from '../../clock/index.js';
import { timerDelay } from '../timer-delay.js';

/** Entries examined per sweeper tick: a tick stays around a millisecond. */
export const SWEEP_CHUNK = 5000;

/**
 * Drops the entries of a set of maps that `isFresh` says can go, incrementally: a pass walks the
 * maps one after another with one iterator kept across ticks, `SWEEP_CHUNK` entries per tick, so
 * even millions of keys never stall the event loop for long. A pass starts `intervalMs` after the
 * previous one ended, and only while the maps hold entries: empty maps keep no timer.
 *
 * Deleting the entry an iterator just returned is safe in a JavaScript Map, and entries added
 * during a pass are visited by the same pass.
 */
export class Sweeper<State> {
  private timer: unknown = undefined;
  /** The map being walked, and where in it. */
  private shard = 0;
  private cursor: Iterator<[string, State]> | undefined = undefined;
  private readonly onTick = (): void => this.tick();

  constructor(
    private readonly maps: ReadonlyArray<Map<string, State>>,
    private readonly isFresh: (state: State, now: number) => boolean,
    private readonly clock: Clock,
    /** The pause between passes; a change applies from the next pass. */
    public intervalMs: number,
  ) {}

  /** Makes sure a pass is scheduled; called on every hit (a field check when one is). */
  arm(): void {
    if (this.timer === undefined) this.timer = this.clock.setTimeout(this.onTick, timerDelay(this.clock.now(), this.intervalMs));
  }

  /** Cancels the timer and forgets the pass in progress. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.cursor = undefined;
    this.shard = 0;
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.clock.now();
    let visited = 0;
    while (this.shard < this.maps.length) {
      const map = this.maps[this.shard]!;
      const cursor = this.cursor ?? map.entries();
      for (let next = cursor.next(); next.done !== true; next = cursor.next()) {
        const [key, state] = next.value;
        if (this.isFresh(state, now)) map.delete(key);
        visited += 1;
        if (visited === SWEEP_CHUNK) {
          this.cursor = cursor;
          this.timer = this.clock.setTimeout(this.onTick, 0);
          return;
        }
      }
      this.cursor = undefined;
      this.shard += 1;
    }
    this.shard = 0;
    if (this.maps.some((map) => map.size > 0)) this.arm();
  }
}
