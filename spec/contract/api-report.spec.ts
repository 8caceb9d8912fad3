import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The public surface is pinned by the committed API report (docs/api/*.api.md, written by
// api-extractor from the built declarations; `npm run api:check` in CI fails when they differ).
// This spec closes the other gap: every name a module exports at run time is one its report
// declares, so nothing leaves the package without appearing in the report a review reads.

/** The value names (classes, functions, constants) a report declares. */
function reportedValues(report: string): string[] {
  const text = readFileSync(new URL(`../../docs/api/${report}.api.md`, import.meta.url), 'utf8');
  const names = [...text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|function|const|let|var|enum) (\w+)/gm)].map((match) => match[1]!);
  return [...new Set(names)].sort();
}

const entries = [
  { report: 'overseer', load: () => import('../../src/index.js') },
  { report: 'overseer-threads', load: () => import('../../src/threads.js') },
  { report: 'overseer-http', load: () => import('../../src/http.js') },
  { report: 'overseer-opentelemetry', load: () => import('../../src/opentelemetry.js') },
  { report: 'overseer-prom-client', load: () => import('../../src/prom-client.js') },
  { report: 'overseer-observer', load: () => import('../../src/observer.js') },
];

describe('every name a package entry exports at run time is declared in its committed API report, and no other', () => {
  for (const { report, load } of entries) {
    it(report, async () => {
      const exported = Object.keys(await load()).sort();
      expect(exported).toEqual(reportedValues(report));
    });
  }
});

describe('the API report of the root names everything ../shared/API.md names', () => {
  // The contract's value names (types are checked by spec/contract/public-api.spec.ts).
  const contract = [
    'systemClock', 'createTestClock', 'Telemetry', 'createTelemetry', 'telemetry',
    'startSupervisor', 'supervisorChild', 'startDynamicSupervisor', 'SupervisorError',
    'createBreaker', 'breakerChild', 'BreakerOpenError',
    'createRateLimiter', 'createRedisRateLimiter',
    'createPool', 'poolChild', 'PoolFullError', 'PoolTimeoutError',
    'ConfigError', 'OverseerError',
    'createThreadPool', 'threadPoolChild', 'WorkerCrashedError', 'createHttpPool', 'isHttpTimeoutError',
    'PoolAbortedError', 'BreakerTimeoutError', 'LimiterUnavailableError', 'protect', 'startInfrastructure',
    'startMetrics', 'overseerMetrics', 'toPrometheus', 'counter', 'sum', 'lastValue', 'summary', 'distribution',
    'bridgeToOpenTelemetry',
  ];
  it.each(contract)('%s', (name) => {
    expect(reportedValues('overseer')).toContain(name);
  });
});
