import type { Subscription } from 'rxjs';
import type { TelemetryEvent } from '../telemetry/index.js';
import { EventStream, sseComment, sseMessage, STREAM_HEADERS, type StreamEnd, type StreamResponse } from './event-stream.js';
import type { ResolvedObserverOptions } from './options.js';
import type { ObserverState } from './observer-state.js';

/** How long an EventSource waits before reconnecting, told in the stream's first line. */
const RETRY_MS = 2_000;

/**
 * How long the telemetry subscription outlives the last client: long enough for an EventSource
 * to reconnect (a dropped stream, a restarted server child, a page reload), so that the restarts
 * and events of the gap are in the history it gets back.
 */
export const LINGER_MS = 5 * RETRY_MS;

/** How the feed is doing: streams open, streams dropped for being slow, deltas broadcast. */
export interface FeedCounts {
  clients: number;
  dropped: number;
  messages: number;
}

/**
 * The event streams and what feeds them. While at least one client is connected — and only then —
 * it subscribes to telemetry and keeps three timers on the observer's clock:
 *
 * - the flush: telemetry marks what changed; the first mark after a message arms one timer for
 *   the earliest moment the next message may go (`1000 / maxUpdatesPerSecond` after the last), and
 *   that message carries every change since, read at that moment. However fast events come, each
 *   client gets at most `maxUpdatesPerSecond` messages a second, and each component at most once
 *   in a message.
 * - the heartbeat, a comment every `heartbeatMs`, so that proxies and the browser see a live
 *   stream;
 * - the sample, every `sampleMs`, which reads again the gauges that change without telemetry
 *   (a thread pool's queue, a breaker's counters) and sends those that changed.
 *
 * The last client gone, the timers end at once and the subscription {@link LINGER_MS} later (so
 * that a client reconnecting finds the events of the gap): an observer no client has used for
 * that long costs nothing on the components' hot paths (their `telemetry.observed` stays as it
 * was without it), and one no client ever connected to never subscribed.
 */
export class LiveFeed {
  private readonly streams = new Set<EventStream>();
  private subscription: Subscription | undefined;
  private flushTimer: unknown;
  private heartbeatTimer: unknown;
  private sampleTimer: unknown;
  private lingerTimer: unknown;
  private lastMessageAt = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private stopped = false;
  private readonly counts = { dropped: 0, messages: 0 };

  constructor(
    private readonly options: ResolvedObserverOptions,
    private readonly state: ObserverState,
    private readonly actions: boolean,
  ) {
    state.onSupervisorExit = (id) => {
      if (this.streams.size === 0) return;
      state.dirty.supervisors.add(id);
      this.scheduleFlush();
    };
  }

  /** The id of the last message sent (what a snapshot includes). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Streams open, streams dropped for being slow, and messages broadcast. */
  stats(): FeedCounts {
    return { clients: this.streams.size, ...this.counts };
  }

  /**
   * Serves one event stream on `response`: headers, the retry hint, a snapshot (also for a client
   * resuming with `Last-Event-ID`: it gets the world as it is now, not a replay), then deltas
   * until the client goes, is dropped for being slow, or the observer stops. Answers 503 when
   * `maxClients` streams are open, or after `stop()`.
   */
  connect(response: StreamResponse, resumedFrom: string | undefined): void {
    if (this.stopped || this.streams.size >= this.options.maxClients) {
      const body = this.stopped
        ? { error: 'ERR_OBSERVER_STOPPED', message: 'the observer has stopped' }
        : { error: 'ERR_OBSERVER_BUSY', message: `${this.options.maxClients} event streams are open already` };
      response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
      return;
    }
    response.writeHead(200, { ...STREAM_HEADERS });
    const stream = new EventStream(response, this.options.maxBufferedBytes, (ended, why) => this.ended(ended, why));
    const first = this.streams.size === 0;
    this.streams.add(stream);
    if (first) this.start();
    const snapshot = this.state.snapshot(this.seq, this.actions);
    stream.send(`retry: ${RETRY_MS}\n${sseMessage(this.seq, 'snapshot', resumedFrom === undefined ? snapshot : { ...snapshot, resumedFrom })}`);
  }

  /**
   * Ends every stream open now (gracefully: what was written is delivered), as their clients
   * going would; the feed keeps serving, and pages reconnect by themselves with a fresh snapshot.
   */
  disconnectAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }

  /** Ends every stream (gracefully: what was written is delivered) and every timer; later connects get 503. */
  stop(): void {
    this.stopped = true;
    for (const stream of [...this.streams]) stream.close();
    this.finish();
  }

  /** The first client: subscribed (unless still lingering from the last one), followed, timers armed. */
  private start(): void {
    if (this.lingerTimer !== undefined) {
      this.options.clock.clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.subscription ??= this.options.telemetry.events$.subscribe((event: TelemetryEvent) => {
      if (this.state.intake.take(event, this.options.clock.now())) this.scheduleFlush();
    });
    this.state.follow();
    this.armHeartbeat();
    this.armSample();
  }

  /** The last client gone: no timer but the linger, nothing followed; the subscription ends when the linger does. */
  private idle(): void {
    this.clearTimers();
    this.state.unfollow();
    this.lingerTimer = this.options.clock.setTimeout(() => {
      this.lingerTimer = undefined;
      if (this.streams.size > 0) return;
      this.subscription?.unsubscribe();
      this.subscription = undefined;
    }, LINGER_MS);
  }

  /** The observer stopped: no subscription, no timer, nothing followed. */
  private finish(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.clearTimers();
    if (this.lingerTimer !== undefined) this.options.clock.clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.state.unfollow();
  }

  private clearTimers(): void {
    const clock = this.options.clock;
    for (const timer of [this.flushTimer, this.heartbeatTimer, this.sampleTimer]) if (timer !== undefined) clock.clearTimeout(timer);
    this.flushTimer = this.heartbeatTimer = this.sampleTimer = undefined;
  }

  private ended(stream: EventStream, why: StreamEnd): void {
    if (!this.streams.delete(stream)) return;
    if (why === 'slow') this.counts.dropped += 1;
    if (this.streams.size === 0 && !this.stopped) this.idle();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.streams.size === 0) return;
    const clock = this.options.clock;
    const wait = Math.max(0, this.lastMessageAt + this.options.minIntervalMs - clock.now());
    this.flushTimer = clock.setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.streams.size === 0) return;
    const delta = this.state.delta(this.seq + 1);
    if (delta === undefined) return;
    this.seq = delta.seq;
    this.lastMessageAt = this.options.clock.now();
    this.counts.messages += 1;
    this.broadcast(sseMessage(this.seq, 'delta', delta));
  }

  private broadcast(chunk: string): void {
    for (const stream of [...this.streams]) stream.send(chunk);
  }

  private armHeartbeat(): void {
    this.heartbeatTimer = this.options.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      if (this.streams.size === 0) return;
      this.broadcast(sseComment('heartbeat'));
      this.armHeartbeat();
    }, this.options.heartbeatMs);
  }

  private armSample(): void {
    this.sampleTimer = this.options.clock.setTimeout(() => {
      this.sampleTimer = undefined;
      if (this.streams.size === 0) return;
      this.state.dirty.components = true;
      this.scheduleFlush();
      this.armSample();
    }, this.options.sampleMs);
  }
}
