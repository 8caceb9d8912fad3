import { startDemoTree } from './demo-tree.js';
import { telemetry, type TelemetryEvent } from '../src/index.js';

/**
 * `npm start`: runs the demo supervision tree on the real clock, logs every supervisor telemetry
 * event, and stops the tree in order on SIGINT or SIGTERM.
 * Environment: TICK_MS (default 1000), CRASH_EVERY (default 5).
 */
function describe(event: TelemetryEvent): string {
  const { supervisor, child, reason, error } = event.metadata as Record<string, unknown>;
  const restarts = event.measurements.restarts === undefined ? '' : ` restarts=${event.measurements.restarts}`;
  const cause = error instanceof Error ? ` (${error.message})` : '';
  return `[telemetry] ${event.name} supervisor=${String(supervisor)}${child ? ` child=${String(child)}` : ''}${
    reason ? ` reason=${String(reason)}` : ''
  }${restarts}${cause}`;
}

const subscription = telemetry.select('supervisor').subscribe((event) => console.log(describe(event)));
const tree = await startDemoTree({
  tickMs: Number(process.env.TICK_MS ?? 1000),
  crashEvery: Number(process.env.CRASH_EVERY ?? 5),
});
console.log(`supervision tree '${tree.id}' running: ${tree.whichChildren().map((child) => child.id).join(', ')} (Ctrl-C stops it)`);

// The tree's timers are unref'd; this keeps the process up until a signal arrives.
const keepAlive = setInterval(() => undefined, 1 << 30);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: stopping the tree in reverse start order`);
  await tree.stop();
  clearInterval(keepAlive);
  subscription.unsubscribe();
  console.log('stopped cleanly');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
void tree.exited.then((reason) => {
  if (stopping) return;
  console.error(`the tree gave up (${reason}); exiting`);
  clearInterval(keepAlive);
  process.exit(1);
});
