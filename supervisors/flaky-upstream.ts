import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../src/core/index.js';
import { finiteNumber, record } from '../src/core/validate.js';

/** How the upstream behaves; change it live with {@link FlakyUpstream.set}. */
export interface UpstreamBehaviour {
  /** Share of requests answered with 500, in [0, 1]. */
  failureRate: number;
  /** Delay before each answer, in ms. */
  latencyMs: number;
}

/** A running flaky upstream. */
export interface FlakyUpstream {
  readonly origin: string;
  readonly server: Server;
  behaviour(): UpstreamBehaviour;
  /** Changes the behaviour live; throws `ConfigError` and changes nothing on a bad patch. */
  set(patch: Partial<UpstreamBehaviour>): void;
  /** Requests answered so far, by status. */
  counts(): { ok: number; failed: number };
  close(): Promise<void>;
}

/** `patch` over `current`, validated: `failureRate` in [0, 1], `latencyMs` ≥ 0 (finite); throws `ConfigError`. */
function behaviourOf(current: UpstreamBehaviour, patch: unknown): UpstreamBehaviour {
  const fields = record('upstream', patch);
  const failureRate = finiteNumber('upstream.failureRate', fields.failureRate, current.failureRate);
  if (failureRate > 1) throw new ConfigError('upstream.failureRate', fields.failureRate, 'a number in [0, 1]');
  return { failureRate, latencyMs: finiteNumber('upstream.latencyMs', fields.latencyMs, current.latencyMs) };
}

/**
 * A second local HTTP service standing for an unreliable dependency: `GET /quote` answers a JSON
 * quote after `latencyMs`, or fails with 500 for a `failureRate` share of requests (deterministic:
 * every n-th request fails, so runs are repeatable). It listens on 127.0.0.1 only. Bad options
 * reject with a `ConfigError` naming them.
 */
export async function startFlakyUpstream(initial: Partial<UpstreamBehaviour> = {}): Promise<FlakyUpstream> {
  const behaviour: UpstreamBehaviour = behaviourOf({ failureRate: 0, latencyMs: 0 }, initial);
  let served = 0;
  let failureDebt = 0;
  const counts = { ok: 0, failed: 0 };
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/quote') !== true) {
      response.writeHead(404).end();
      return;
    }
    served += 1;
    failureDebt += behaviour.failureRate;
    const fail = failureDebt >= 1;
    if (fail) failureDebt -= 1;
    const answer = (): void => {
      if (fail) {
        counts.failed += 1;
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"upstream failure"}');
        return;
      }
      counts.ok += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ quote: served, price: 100 + (served % 7) }));
    };
    if (behaviour.latencyMs > 0) setTimeout(answer, behaviour.latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    behaviour: () => ({ ...behaviour }),
    set: (patch) => void Object.assign(behaviour, behaviourOf(behaviour, patch)),
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
