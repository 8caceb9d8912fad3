import { describe, expect, it, vi } from 'vitest';
import { createTestClock, type TestClock } from '../../../src/index.js';
import { HttpTimeoutError } from '../../../src/pool/http-errors.js';
import { exchange, type ExchangeContext, type HttpRequestOptions } from '../../../src/pool/http-request.js';

/**
 * `exchange` (the body of `HttpPool.request`) against a fake client and lease, on a test clock:
 * what it hands undici, how it settles, and what becomes of the lease.
 */

interface Pending {
  options: Record<string, unknown>;
  resolve: (response: unknown) => void;
  reject: (error: unknown) => void;
}

function setup(overrides: Partial<ExchangeContext> = {}, clock: TestClock = createTestClock()) {
  const sent: Pending[] = [];
  const client = {
    request: (options: Record<string, unknown>) =>
      new Promise((resolve, reject) => {
        sent.push({ options, resolve, reject });
      }),
  };
  const lease = { worker: client, release: vi.fn(), destroy: vi.fn(), [Symbol.dispose]: vi.fn() };
  let handOut: (value: unknown) => void = () => undefined;
  const checkout = vi.fn(() => new Promise((resolve) => (handOut = resolve)));
  const context = { pool: 'api', origin: 'http://127.0.0.1:1', clock, checkout, headersTimeoutMs: undefined, bodyTimeoutMs: undefined, ...overrides } as unknown as ExchangeContext;
  const run = (options: HttpRequestOptions, timeoutMs = 1000) => exchange(context, options, timeoutMs);
  const giveLease = async () => {
    handOut(lease);
    await flush();
  };
  return { sent, lease, checkout, clock, run, giveLease };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

const response = (text: string) => ({ statusCode: 200, headers: { 'x-a': '1' }, body: { arrayBuffer: async () => new TextEncoder().encode(text).buffer } });

async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('what a request hands undici', () => {
  it('GET, no headers, no body, no query key, and no undici timeouts by default', async () => {
    const { sent, run, giveLease } = setup();
    void run({ path: '/a' }).catch(() => undefined);
    await giveLease();
    expect(sent[0]!.options).toEqual({ path: '/a', method: 'GET', headers: null, body: null, headersTimeout: 0, bodyTimeout: 0 });
    expect('query' in sent[0]!.options).toBe(false);
  });

  it('passes method, headers, body, query and the pool`s undici timeouts through', async () => {
    const { sent, run, giveLease } = setup({ headersTimeoutMs: 7, bodyTimeoutMs: 9 });
    const body = new Uint8Array([1, 2]);
    void run({ path: '/b', method: 'POST', headers: { 'x-test': 'y' }, body, query: { q: 1 } }).catch(() => undefined);
    await giveLease();
    expect(sent[0]!.options).toEqual({ path: '/b', method: 'POST', headers: { 'x-test': 'y' }, body, query: { q: 1 }, headersTimeout: 7, bodyTimeout: 9 });
  });

  it('resolves with the status, headers and whole body, readable as text and JSON, and releases the client', async () => {
    const { sent, lease, run, giveLease } = setup();
    const result = run({ path: '/j' });
    await giveLease();
    sent[0]!.resolve(response('{"a":[1,2]}'));
    const answer = await result;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toEqual({ 'x-a': '1' });
    expect(answer.text()).toBe('{"a":[1,2]}');
    expect(answer.json()).toEqual({ a: [1, 2] });
    expect(lease.release).toHaveBeenCalledTimes(1);
    expect(lease.destroy).not.toHaveBeenCalled();
  });
});

describe('giving up', () => {
  it('a signal aborted already rejects with its reason without checking a client out', async () => {
    const { checkout, run } = setup();
    const reason = new Error('stop');
    const outcome = await settle(run({ path: '/x', signal: AbortSignal.abort(reason) }));
    expect(outcome.error).toBe(reason);
    expect(checkout).not.toHaveBeenCalled();
  });

  it('past the deadline destroys the client as timeout; a response arriving later is ignored', async () => {
    const { sent, lease, clock, run, giveLease } = setup();
    const result = settle(run({ path: '/slow' }, 250));
    await giveLease();
    clock.advance(250);
    const outcome = await result;
    expect(outcome.error).toBeInstanceOf(HttpTimeoutError);
    expect(outcome.error).toMatchObject({ phase: 'request', timeoutMs: 250, elapsedMs: 250 });
    expect(lease.destroy).toHaveBeenCalledWith('timeout');
    sent[0]!.resolve(response('late'));
    await flush();
    expect(lease.release).not.toHaveBeenCalled();
    expect(lease.destroy).toHaveBeenCalledTimes(1);
  });

  it('an abort in flight destroys the client as aborted, and the listener is registered once and removed', async () => {
    const { lease, run, giveLease } = setup();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const result = settle(run({ path: '/slow', signal: controller.signal }));
    await giveLease();
    const reason = new Error('cancelled');
    controller.abort(reason);
    expect((await result).error).toBe(reason);
    expect(lease.destroy).toHaveBeenCalledWith('aborted');
    expect(add).toHaveBeenCalledWith('abort', expect.any(Function), { once: true });
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]![1]);
  });

  it('removes its abort listener once answered', async () => {
    const { sent, run, giveLease } = setup();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const result = run({ path: '/ok', signal: controller.signal });
    await giveLease();
    sent[0]!.resolve(response('ok'));
    await result;
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('a signal that turned aborted without an event while the client was on its way sends nothing and releases the client', async () => {
    const { sent, lease, run, giveLease } = setup();
    const reason = new Error('flipped');
    const signal = { aborted: false, reason, addEventListener: vi.fn(), removeEventListener: vi.fn() };
    const result = settle(run({ path: '/x', signal: signal as unknown as AbortSignal }));
    signal.aborted = true;
    await giveLease();
    expect((await result).error).toBe(reason);
    expect(sent).toHaveLength(0);
    expect(lease.release).toHaveBeenCalledTimes(1);
    expect(lease.destroy).not.toHaveBeenCalled();
  });
});

describe('undici`s errors', () => {
  it('a connection error passes unchanged and destroys the client with its exit reason', async () => {
    const { sent, lease, run, giveLease } = setup();
    const result = settle(run({ path: '/x' }));
    await giveLease();
    const error = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    sent[0]!.reject(error);
    expect((await result).error).toBe(error);
    expect(lease.destroy).toHaveBeenCalledWith('reset');
    expect(lease.release).not.toHaveBeenCalled();
  });

  it('a rejection with undefined or null passes unchanged', async () => {
    for (const value of [undefined, null]) {
      const { sent, lease, run, giveLease } = setup();
      const result = settle(run({ path: '/x' }));
      await giveLease();
      sent[0]!.reject(value);
      const outcome = await result;
      expect('error' in outcome && outcome.error).toBe(value);
      expect(lease.destroy).toHaveBeenCalledWith('request_failed');
    }
  });

  it('a refusal of bad arguments becomes a ConfigError naming options, with undici`s message and error as cause, and keeps the client', async () => {
    const { sent, lease, run, giveLease } = setup();
    const options = { path: 'no-slash' };
    const result = settle(run(options));
    await giveLease();
    const refusal = Object.assign(new Error('path must start with /'), { code: 'UND_ERR_INVALID_ARG' });
    sent[0]!.reject(refusal);
    const error = (await result).error as Error & { option: string; value: unknown };
    expect(error).toMatchObject({ code: 'ERR_CONFIG', option: 'options', cause: refusal });
    expect(error.value).toBe(options);
    expect(error.message).toMatch(/^Invalid option options: expected request options undici accepts \(path must start with \/\), got /);
    expect(lease.release).toHaveBeenCalledTimes(1);
    expect(lease.destroy).not.toHaveBeenCalled();
  });

  it('a refusal without a message says only what was expected', async () => {
    const { sent, run, giveLease } = setup();
    const result = settle(run({ path: 'x' }));
    await giveLease();
    sent[0]!.reject({ code: 'UND_ERR_INVALID_ARG' });
    expect(((await result).error as Error).message).toMatch(/^Invalid option options: expected request options undici accepts, got /);
  });

  it.each([
    ['UND_ERR_HEADERS_TIMEOUT', 'headers', { headersTimeoutMs: 40 }, 40],
    ['UND_ERR_BODY_TIMEOUT', 'body', { bodyTimeoutMs: 60 }, 60],
    ['UND_ERR_HEADERS_TIMEOUT', 'headers', {}, 0],
    ['UND_ERR_BODY_TIMEOUT', 'body', {}, 0],
  ] as const)('%s becomes an HttpTimeoutError of phase %s with the limit and the time since the call', async (code, phase, limits, timeoutMs) => {
    const { sent, lease, clock, run, giveLease } = setup(limits, createTestClock(1000));
    const result = settle(run({ path: '/x' }, 5000));
    await giveLease();
    clock.advance(30);
    const cause = Object.assign(new Error('undici timeout'), { code });
    sent[0]!.reject(cause);
    const error = (await result).error;
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect(error).toMatchObject({ pool: 'api', origin: 'http://127.0.0.1:1', phase, timeoutMs, elapsedMs: 30, cause });
    expect(lease.destroy).toHaveBeenCalledWith('timeout');
  });
});

describe('HttpTimeoutError', () => {
  it('has no cause property when built without one, and keeps one given', () => {
    expect('cause' in new HttpTimeoutError('p', 'http://h', 'request', 10, 12)).toBe(false);
    expect(new HttpTimeoutError('p', 'http://h', 'request', 10, 12, 'why').cause).toBe('why');
  });
});
