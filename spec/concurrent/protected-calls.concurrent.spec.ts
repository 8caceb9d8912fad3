import { describe, expect, it } from 'vitest';
import { protect, startInfrastructure, stageOf, type ProtectCall, type ProtectedFunction } from '../../src/index.js';
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

/**
 * 3,000 protected calls through one namespace of the real tree on a test clock, the pool far too
 * small (2 workers) so that calls wait for a worker many times longer than the breaker's
 * callTimeoutMs, a limiter that refuses often, a fallback for its refusals that answers, throws or
 * never settles, and a fifth of the callers aborting at a random moment (before the limiter, while
 * waiting for a worker, while fn runs, while the fallback is pending).
 */
describe('3,000 concurrent protected calls with aborts, slow pools and failing fallbacks', () => {
  it('no wait for a worker times a call out, fn never starts for an abandoned call, every call settles once and reports once', async () => {
    const { clock, telemetry, events } = recordTelemetry();
    const infra = await startInfrastructure({
      clock,
      telemetry,
      namespaces: {
        api: {
          breakers: { upstream: { tolerance: { failures: 10_000, windowMs: 1000 }, callTimeoutMs: 50, resetMs: 100 } },
          limiters: { tenants: { limit: 40, windowMs: 100 } },
          pools: { conns: { size: 2, maxOverflow: 0, checkoutTimeoutMs: 1_000_000, worker: { create: () => ({ busy: false }) } } },
        },
      },
    });
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    type Call = ProtectCall & { index: number };
    const settledAt = new Array<number | undefined>(3000).fill(undefined);
    const fnStarts = new Array<number>(3000).fill(0);
    const violations: string[] = [];
    const upstream = (worker: { busy: boolean }, signal: AbortSignal, input: Call): Promise<string> => {
      fnStarts[input.index]! += 1;
      // Recorded, not asserted: an assertion thrown here would only reject this one call.
      if (settledAt[input.index] !== undefined) violations.push(`call ${input.index}: fn started after the call settled`);
      if (signal.aborted) violations.push(`call ${input.index}: fn started with its signal aborted`);
      if (worker.busy) violations.push(`call ${input.index}: fn got a busy worker`);
      worker.busy = true;
      return new Promise<string>((resolve) =>
        clock.setTimeout(() => {
          worker.busy = false;
          resolve('ok');
        }, 1 + Math.floor(random() * 40)),
      );
    };
    const stages = {
      limiter: infra.limiter('api', 'tenants'),
      breaker: infra.breaker('api', 'upstream'),
      pool: infra.pool<{ busy: boolean }>('api', 'conns'),
      telemetry,
      clock,
    };
    // Two chains over the same stages: one whose fallback answers, one whose fallback rejects or never settles.
    const answering = protect<{ busy: boolean }, string, Call>({ ...stages, name: 'api', fallback: () => 'fallback' }, upstream);
    const failing = protect<{ busy: boolean }, string, Call>(
      {
        ...stages,
        name: 'api-failing-fallback',
        fallback: () => (random() < 0.5 ? Promise.reject(new Error('cache down')) : new Promise<string>(() => undefined)),
      },
      upstream,
    );
    const outcomes = new Map<string, number>();
    const all: Array<Promise<void>> = [];
    for (let index = 0; index < 3000; index += 1) {
      const controller = new AbortController();
      const aborts = random() < 0.2;
      if (aborts) {
        const delay = Math.floor(random() * 300);
        if (delay === 0) controller.abort(new Error('gone at once'));
        else clock.setTimeout(() => controller.abort(new Error('gone')), delay);
      }
      // Only a call that will be aborted may get a fallback that can hang: its abort ends the wait.
      const chain = aborts ? failing : answering;
      all.push(
        chain({ key: 'tenant', index, signal: controller.signal }).then(
          (value) => {
            settledAt[index] = clock.now();
            outcomes.set(value, (outcomes.get(value) ?? 0) + 1);
          },
          (error: { code?: string; message?: string }) => {
            settledAt[index] = clock.now();
            const outcome = error.code ?? error.message ?? 'unknown';
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          },
        ),
      );
      if (index % 20 === 19) {
        clock.advance(Math.floor(random() * 10));
        await flush();
      }
    }
    for (let round = 0; round < 2000 && settledAt.some((at) => at === undefined); round += 1) {
      clock.advance(10);
      await flush();
    }
    // Waits for a worker lasted far longer than callTimeoutMs, and no call timed out: fn always took < 50 ms.
    expect(outcomes.get('ERR_BREAKER_TIMEOUT')).toBeUndefined();
    expect(violations).toEqual([]);
    expect(settledAt.filter((at) => at === undefined), 'calls that never settled').toHaveLength(0);
    await Promise.all(all);
    expect(outcomes.get('ok')).toBeGreaterThan(100);
    expect(outcomes.get('fallback')).toBeGreaterThan(0);
    expect(outcomes.get('cache down')).toBeGreaterThan(0);
    expect((outcomes.get('ERR_CALL_ABORTED') ?? 0) + (outcomes.get('ERR_POOL_ABORTED') ?? 0)).toBeGreaterThan(0);
    expect(fnStarts.every((count) => count <= 1)).toBe(true);
    expect(infra.breaker('api', 'upstream').stats().failures).toBe(0);
    // One report per call, and a fallback that failed is an error.
    const reports = events.filter((event) => event.name === 'protect.call.stop' || event.name === 'protect.call.exception');
    expect(reports).toHaveLength(3000);
    for (const report of reports.filter((event) => (event.metadata.error as Error | undefined)?.message === 'cache down')) {
      expect(report.metadata.outcome).toBe('error');
    }
    expect(infra.pool('api', 'conns').status()).toMatchObject({ checkedOut: 0, waiting: 0 });
    await infra.stop();
  }, 60_000);
});
