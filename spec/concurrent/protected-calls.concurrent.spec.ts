import { describe, expect, it } from 'vitest';
import { protect, startInfrastructure, stageOf, type ProtectedFunction } from '../../src/index.js';
import { flush, recordTelemetry } from '../support/supervision.js';

/**
 * 10,000 protected calls in flight across three namespaces of the real infrastructure tree, on a
 * test clock, while breaker, limiter and pool options are hot-reloaded every thousand calls: every
 * call settles exactly once, no worker is left out, and no limiter admits more than the largest
 * limit it had in any of its windows.
 */
describe('10,000 concurrent protected calls during hot reloads', () => {
  it('each call settles exactly once and the limiters never admit more than their limit', async () => {
    const { clock, telemetry, events } = recordTelemetry();
    const windowMs = 1000;
    const maxLimit = 400;
    const namespaces = ['alpha', 'beta', 'gamma'];
    const infra = await startInfrastructure({
      clock,
      telemetry,
      namespaces: Object.fromEntries(
        namespaces.map((name) => [
          name,
          {
            breakers: { upstream: { tolerance: { failures: 20, windowMs: 500 }, resetMs: 200 } },
            limiters: { tenants: { limit: maxLimit, windowMs } },
            pools: { conns: { size: 4, maxOverflow: 4, checkoutTimeoutMs: 10_000, worker: { create: () => ({ busy: false }) } } },
          },
        ]),
      ),
    });
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const calls = new Map<string, ProtectedFunction<string>>();
    for (const name of namespaces) {
      calls.set(
        name,
        protect<{ busy: boolean }, string>(
          {
            name,
            limiter: infra.limiter(name, 'tenants'),
            breaker: infra.breaker(name, 'upstream'),
            pool: infra.pool<{ busy: boolean }>(name, 'conns'),
            telemetry,
          },
          (worker) => {
            expect(worker.busy).toBe(false);
            worker.busy = true;
            const fails = random() < 0.05;
            return new Promise<string>((resolve, reject) =>
              clock.setTimeout(() => {
                worker.busy = false;
                if (fails) reject(new Error('upstream hiccup'));
                else resolve('ok');
              }, Math.floor(random() * 40)),
            );
          },
        ),
      );
    }
    const settlements = new Array<number>(10_000).fill(0);
    const outcomes = new Map<string, number>();
    const all: Array<Promise<void>> = [];
    for (let index = 0; index < 10_000; index += 1) {
      const namespace = namespaces[index % namespaces.length]!;
      all.push(
        calls
          .get(namespace)!({ key: 'tenant' })
          .then(
            () => 'ok',
            (error: unknown) => stageOf(error),
          )
          .then((outcome) => {
            settlements[index]! += 1;
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }),
      );
      if (index % 50 === 49) {
        clock.advance(Math.floor(random() * 30));
        await flush();
      }
      if (index % 1000 === 500) {
        const target = namespaces[Math.floor(random() * namespaces.length)]!;
        infra.configure({
          [target]: {
            breakers: { upstream: { resetMs: 100 + Math.floor(random() * 300) } },
            limiters: { tenants: { limit: maxLimit / 2 + Math.floor(random() * (maxLimit / 2)) } },
            pools: { conns: { size: 2 + Math.floor(random() * 4), maxOverflow: Math.floor(random() * 4) } },
          },
        });
      }
    }
    for (let round = 0; round < 200 && settlements.some((count) => count === 0); round += 1) {
      clock.advance(100);
      await flush();
    }
    await Promise.all(all);
    expect(settlements.every((count) => count === 1)).toBe(true);
    expect([...outcomes.values()].reduce((sum, count) => sum + count, 0)).toBe(10_000);
    expect(outcomes.get('ok')).toBeGreaterThan(1000);
    expect(outcomes.get('limiter')).toBeGreaterThan(0);

    const admitted = new Map<string, number>();
    for (const event of events) {
      if (event.name !== 'limiter.hit' || event.metadata.allowed !== true) continue;
      const window = `${String(event.metadata.limiter)}@${Math.floor(event.time / windowMs)}`;
      admitted.set(window, (admitted.get(window) ?? 0) + Number(event.measurements.cost));
    }
    expect(Math.max(...admitted.values())).toBeLessThanOrEqual(maxLimit);
    for (const name of namespaces) expect(infra.pool(name, 'conns').status()).toMatchObject({ checkedOut: 0, waiting: 0 });
    await infra.stop();
  }, 60_000);
});
