import { createActor, fromPromise, setup } from 'xstate';
import type { Backoff, ChildSpec } from '../src/index.js';
import type { CrashEvent } from './http-server-child.js';

/** Options of {@link quoteRefresherChild}. */
export interface QuoteRefresherOptions {
  id: string;
  /** Fetches one quote (and keeps it); rejects when the upstream fails. Aborted through `signal` when the refresh is given up. */
  refresh: (signal: AbortSignal) => Promise<unknown>;
  /** Time between the end of one refresh and the start of the next, ms. */
  everyMs: number;
  /** A refresh not done within this is a failure, ms. */
  timeoutMs: number;
  /** How its supervisor waits before each restart. */
  backoff: Backoff;
}

/** The backoff of the example back end's quote refresher: 1 s, 2 s, 4 s … 30 s, each +0–20 %. */
export const quoteRefresherBackoff: Readonly<Backoff> = Object.freeze({ minMs: 1_000, maxMs: 30_000 });

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * A consumer of the flaky upstream that keeps the cached quote fresh: every `everyMs` it runs
 * `refresh`. It handles no failure itself — a refresh that fails or takes longer than `timeoutMs`
 * crashes it, as does a {@link CrashEvent} — and its supervisor restarts it after a `backoff`, so
 * a failing upstream is retried at 1 s, 2 s, 4 s … rather than hammered. The refresh in flight is
 * aborted when the child crashes or is stopped; it holds no timer of its own (its delays run on
 * the actor's clock, the supervisor's).
 */
export function quoteRefresherChild(options: QuoteRefresherOptions): ChildSpec {
  const machine = setup({
    types: { events: {} as CrashEvent },
    actors: { refresh: fromPromise<unknown>(({ signal }) => options.refresh(signal)) },
    delays: { every: options.everyMs, deadline: options.timeoutMs },
    actions: {
      crash: (_, error: Error) => {
        // Thrown from an action, it fails the actor: the supervisor sees an 'error' exit.
        throw error;
      },
    },
  }).createMachine({
    id: 'quote-refresher',
    initial: 'waiting',
    on: { 'overseer.crash': { actions: { type: 'crash', params: ({ event }) => event.error } } },
    states: {
      waiting: { after: { every: 'refreshing' } },
      refreshing: {
        invoke: {
          src: 'refresh',
          onDone: 'waiting',
          onError: { actions: { type: 'crash', params: ({ event }) => asError(event.error) } },
        },
        after: {
          deadline: { actions: { type: 'crash', params: () => new Error(`quote refresh took longer than ${options.timeoutMs} ms`) } },
        },
      },
    },
  });
  return {
    id: options.id,
    backoff: options.backoff,
    start: ({ clock }) => createActor(machine, { clock }),
  };
}
