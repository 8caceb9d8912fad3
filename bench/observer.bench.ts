/**
 * The observer's cost on the components' hot paths, in one process.
 *
 * observer.idle.breaker_success (peer no-observer)
 *   median ns per awaited successful call through a closed breaker (`breaker.call(fn)`, default
 *   options) whose telemetry an observer watches, created and never connected to (ours), against an
 *   identical breaker on its own telemetry with no observer at all (peer). Each batch is 1,000
 *   sequential `await breaker.call(fn)`; after a warm-up the two take turns batch by batch (who
 *   goes first rotates each round); the figure is the median of the batch means. After every batch
 *   the bench checks that the function ran once per call and every call returned 1, and that the
 *   observed telemetry has no subscriber. Target: ratio ≤ 1.05 (the observer subscribes to
 *   telemetry only while a client is connected, so an idle one must cost nothing).
 * observer.after_client.breaker_success (peer no-observer)
 *   the same with an observer a client connected to and left (its stream closed and the linger
 *   after the last client passed): the subscription must be gone again. Target: ratio ≤ 1.05.
 * Context: the same breaker while a client is connected (its telemetry then has a subscriber, so
 * the breaker reports every call); what a page left open costs.
 *
 * The overseer measured is the tsc build of src/ unless `--source` is given (see
 * bench/support/target.ts); the observer comes from the same build (its `observer.js`).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Breaker } from '../src/index.js';
import type * as ObserverModule from '../src/observer.js';
import { formatCount, formatNs, formatRatio } from './support/format.js';
import { median, quantile } from './support/stats.js';
import { defineSuite } from './support/suite.js';
import { builtModule, loadOverseer, type Overseer } from './support/target.js';
import { interleavedRounds, nowNs } from './support/timing.js';

/** Sequential awaited calls per timed batch. */
const BATCH = 1_000;
const TARGET_RATIO = 1.05;

const FULL = { warmupBatches: 50, rounds: 800, connectedRounds: 200 };
const QUICK = { warmupBatches: 20, rounds: 150, connectedRounds: 50 };

let invocations = 0;
let returnedOne = 0;
const work = async (): Promise<number> => {
  invocations += 1;
  return 1;
};

/** One breaker measured, with what must hold after each of its batches. */
interface Contender {
  name: string;
  breaker: Breaker;
  check: () => void;
}

async function timeBatch(contender: Contender): Promise<number> {
  const breaker = contender.breaker;
  const started = nowNs();
  for (let step = 0; step < BATCH; step += 1) if ((await breaker.call(work)) === 1) returnedOne += 1;
  const ns = (nowNs() - started) / BATCH;
  if (invocations !== BATCH || returnedOne !== BATCH) {
    throw new Error(`${contender.name}: a batch of ${BATCH} calls ran the function ${invocations} times and returned 1 ${returnedOne} times`);
  }
  invocations = 0;
  returnedOne = 0;
  contender.check();
  return ns;
}

/** The observer module of the build being measured (or of src/ under --source). */
async function loadObserver(): Promise<{ module: typeof ObserverModule; from: string }> {
  const built = builtModule('src/observer.ts');
  if (built === undefined) return { module: await import('../src/observer.js'), from: 'src/observer.ts through tsx' };
  return { module: (await import(pathToFileURL(built).href)) as typeof ObserverModule, from: 'the same build' };
}

/** A response that takes whatever is written, as a client reading fast would. */
function sink(): ServerResponse & { hangUp(): void } {
  const response = Object.assign(new EventEmitter(), {
    writableLength: 0,
    headersSent: false,
    writeHead: () => response,
    write: () => true,
    end: () => response.emit('close'),
    destroy: () => response.emit('close'),
    hangUp: () => response.emit('close'),
  });
  return response as unknown as ServerResponse & { hangUp(): void };
}

const eventsRequest = (base: string): IncomingMessage => ({ method: 'GET', url: `${base}/events`, headers: {} }) as unknown as IncomingMessage;

function describeSamples(samples: readonly number[]): string {
  return `median ${formatNs(median(samples))} (p10 ${formatNs(quantile(samples, 0.1))}, p90 ${formatNs(quantile(samples, 0.9))}, ${formatCount(samples.length)} batches of ${formatCount(BATCH)})`;
}

export default defineSuite({
  name: 'observer',
  description: 'breaker.success with an idle observer (never connected, and after a client left) vs no observer; a connected page as context',
  async run(context) {
    const plan = context.quick ? QUICK : FULL;
    const { overseer, description } = (await loadOverseer()) as { overseer: Overseer; description: string };
    const observerModule = await loadObserver();
    const { createObserver } = observerModule.module;
    context.note(`measuring ${description}; the observer from ${observerModule.from}`);

    const quiet = overseer.createTelemetry();
    const plain = overseer.createBreaker({ name: 'no-observer', telemetry: quiet });

    const idleTelemetry = overseer.createTelemetry();
    const idleBreaker = overseer.createBreaker({ name: 'observed-idle', telemetry: idleTelemetry });
    const idleObserver = createObserver({ breakers: [idleBreaker], telemetry: idleTelemetry });

    const leftTelemetry = overseer.createTelemetry();
    const leftBreaker = overseer.createBreaker({ name: 'observed-after-client', telemetry: leftTelemetry });
    const leftClock = overseer.createTestClock();
    const leftObserver = createObserver({ breakers: [leftBreaker], telemetry: leftTelemetry, clock: leftClock });
    const visitor = sink();
    leftObserver(eventsRequest(leftObserver.base), visitor);
    if (!leftTelemetry.observed) throw new Error('a connected client did not subscribe the observer to telemetry');
    visitor.hangUp();
    leftClock.advance(60_000);

    const unobserved = (telemetry: { observed: boolean }, name: string) => () => {
      if (telemetry.observed) throw new Error(`${name}: the idle observer's telemetry has a subscriber`);
    };
    const contenders: Contender[] = [
      { name: 'no-observer', breaker: plain, check: unobserved(quiet, 'no-observer') },
      { name: 'idle', breaker: idleBreaker, check: unobserved(idleTelemetry, 'idle') },
      { name: 'after-client', breaker: leftBreaker, check: unobserved(leftTelemetry, 'after-client') },
    ];
    const samples = await interleavedRounds(contenders, plan.rounds, plan.warmupBatches, timeBatch);
    for (const [name, values] of samples) context.note(`${name.padEnd(12)} ${describeSamples(values)}`);
    const figure = (name: string): number => median(samples.get(name)!);
    const peer = figure('no-observer');
    for (const [name, label] of [
      ['idle', 'observer.idle.breaker_success'],
      ['after-client', 'observer.after_client.breaker_success'],
    ] as const) {
      const ours = figure(name);
      context.bench({ case: label, ours, peer, peerName: 'no-observer', unit: 'ns' });
      context.note(`${label}: ${formatRatio(ours / peer)} of no observer (target ≤ ${TARGET_RATIO}: ${ours / peer <= TARGET_RATIO ? 'met' : 'MISSED'})`);
    }

    // Context: a page left open. The breaker then reports every call to the observer.
    const connected = sink();
    idleObserver(eventsRequest(idleObserver.base), connected);
    if (!idleTelemetry.observed) throw new Error('a connected client did not subscribe the observer to telemetry');
    const open: Contender[] = [
      { name: 'no-observer', breaker: plain, check: unobserved(quiet, 'no-observer') },
      { name: 'connected', breaker: idleBreaker, check: () => undefined },
    ];
    const withClient = await interleavedRounds(open, plan.connectedRounds, plan.warmupBatches, timeBatch);
    const connectedNs = median(withClient.get('connected')!);
    const baseline = median(withClient.get('no-observer')!);
    context.note(`a client connected: ${describeSamples(withClient.get('connected')!)}, ${formatRatio(connectedNs / baseline)} of no observer (context: a subscriber makes the breaker report each call)`);
    connected.hangUp();

    await idleObserver.stop();
    await leftObserver.stop();
    for (const breaker of [plain, idleBreaker, leftBreaker]) breaker.actor.stop();
  },
});
