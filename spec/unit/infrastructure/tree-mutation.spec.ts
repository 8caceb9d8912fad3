import { describe, expect, it } from 'vitest';
import { isLimiterUnavailableError, startInfrastructure, type Infrastructure, type InfrastructureOptions, type RedisLike } from '../../../src/index.js';
import { flush, recordTelemetry, type Recorded } from '../../support/supervision.js';

/** Stops the actor of a namespace's first child from outside: an exit its supervisor counts as a restart. */
async function crashFirstChild(infra: Infrastructure, namespace: string): Promise<void> {
  const ref = infra.namespace(namespace).whichChildren()[0]?.ref;
  if (!ref) throw new Error(`namespace ${namespace} has no running first child`);
  ref.stop();
  await flush();
  await flush();
}

/** How many times the supervisor `id` gave up (restart intensity exceeded). */
function gaveUp(recorded: Recorded, id: string): number {
  return recorded.named('supervisor.shutdown').filter((event) => event.metadata.supervisor === id && event.metadata.reason === 'intensity').length;
}

async function tree(options: Omit<InfrastructureOptions, 'clock' | 'telemetry'>) {
  const recorded = recordTelemetry();
  const infra = await startInfrastructure({ ...options, clock: recorded.clock, telemetry: recorded.telemetry });
  return { infra, recorded };
}

describe("a namespace's restart intensity", () => {
  it('counts restarts within 10 s by default', async () => {
    const { infra, recorded } = await tree({ namespaces: { billing: { intensity: 1, breakers: { payments: {} } } } });
    await crashFirstChild(infra, 'billing');
    recorded.clock.advance(7000);
    await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure/billing')).toBe(1);
    await infra.stop();
  });

  it('counts restarts within the period it is given', async () => {
    const { infra, recorded } = await tree({ namespaces: { billing: { intensity: 1, period: 1000, breakers: { payments: {} } } } });
    await crashFirstChild(infra, 'billing');
    recorded.clock.advance(2000);
    await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure/billing')).toBe(0);
    await infra.stop();
  });
});

describe("the root's restart intensity", () => {
  // A namespace with intensity 0 gives up at its first crash, which the root counts as a restart.
  const fragile = { intensity: 0, breakers: { payments: {} } };

  it('allows 100 restarts by default', async () => {
    const { infra, recorded } = await tree({ namespaces: { billing: fragile } });
    for (let crash = 0; crash < 5; crash += 1) await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure/billing')).toBe(5);
    expect(gaveUp(recorded, 'infrastructure')).toBe(0);
    expect(infra.namespace('billing').whichChildren()).toHaveLength(1);
    await infra.stop();
  });

  it('allows the restarts it is given', async () => {
    const { infra, recorded } = await tree({ intensity: 1, namespaces: { billing: fragile } });
    await crashFirstChild(infra, 'billing');
    await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure')).toBe(1);
    await infra.stop();
  });

  it('counts restarts within 60 s by default', async () => {
    const { infra, recorded } = await tree({ intensity: 1, namespaces: { billing: fragile } });
    await crashFirstChild(infra, 'billing');
    recorded.clock.advance(30_000);
    await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure')).toBe(1);
    await infra.stop();
  });

  it('counts restarts within the period it is given', async () => {
    const { infra, recorded } = await tree({ intensity: 1, period: 1000, namespaces: { billing: fragile } });
    await crashFirstChild(infra, 'billing');
    recorded.clock.advance(2000);
    await crashFirstChild(infra, 'billing');
    expect(gaveUp(recorded, 'infrastructure')).toBe(0);
    await infra.stop();
  });
});

describe('stop', () => {
  it('stops the root supervisor', async () => {
    const { infra } = await tree({ namespaces: { billing: { breakers: { payments: {} } } } });
    let exited: unknown = 'running';
    void infra.supervisor.exited.then((reason) => (exited = reason));
    await infra.stop();
    await flush();
    expect(exited).toBe('normal');
  });
});

/** A Redis that fails every command, recording the keys each script was run on. */
function unreachableRedis() {
  const keys: string[][] = [];
  const fail = (_script: string, numKeys: number, ...args: string[]): Promise<unknown> => {
    keys.push(args.slice(0, numKeys));
    return Promise.reject(new Error('connect ECONNREFUSED'));
  };
  const redis: RedisLike = { evalsha: fail, eval: fail, del: () => Promise.resolve(0) };
  return { redis, keys };
}

describe('limiters in Redis', () => {
  it("keep their keys under the 'overseer' prefix by default, and the insurance answers while Redis fails", async () => {
    const { redis, keys } = unreachableRedis();
    const { infra } = await tree({ redis, namespaces: { billing: { limiters: { api: { limit: 2, windowMs: 1000 } } } } });
    const limiter = infra.limiter('billing', 'api');
    const outcome = await limiter.hit('user').catch((error: unknown) => (isLimiterUnavailableError(error) ? 'unavailable' : error));
    expect(outcome).toMatchObject({ allowed: true, remaining: 1 });
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.flat().every((key) => key.startsWith('overseer:'))).toBe(true);
    await infra.stop();
  });

  it("stop cancels the insurance limiters' timers too", async () => {
    const { redis } = unreachableRedis();
    const { infra, recorded } = await tree({ redis, namespaces: { billing: { limiters: { api: { limit: 2, windowMs: 1000 } } } } });
    await infra.limiter('billing', 'api').hit('user');
    expect(recorded.clock.pendingTimers()).toBeGreaterThan(0);
    await infra.stop();
    expect(recorded.clock.pendingTimers()).toBe(0);
  });
});
