import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    // Many spec files spend their time waiting on processes, sockets, Redis and PostgreSQL rather
    // than on a core: one worker more than the cores (at least 3) keeps the suite under 5 minutes on
    // two cores (measured: 344 s with 2 workers, 210 s with 3, coverage on).
    maxWorkers: Math.max(3, availableParallelism()),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Under CI a JSON report is written too, so that .ci/run can print the plain closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    // Coverage of src/ is measured by `npm test` (`--coverage`) and enforced: a run below the
    // thresholds fails. Runs of single spec files (`npx vitest run spec/…`) leave it off.
    // Code that runs only inside worker threads or forked processes is not seen by v8 here.
    coverage: {
      enabled: false,
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', ['json-summary', { file: 'coverage-summary.json' }]],
      reportsDirectory: '.coverage',
      reportOnFailure: true,
      thresholds: { lines: 95, branches: 90 },
    },
  },
});
