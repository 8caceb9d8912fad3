import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The specs a mutation run may use: those that run in-process on the test clock or on loopback
 * within seconds (unit, property, contract, concurrent). Scenario, chaos, cluster, browser and
 * package specs start processes, browsers or builds of `dist/`; they would make every mutant
 * take minutes and they test nothing the others do not reach first.
 */
export default defineConfig({
  resolve: {
    // Properties capped at OVERSEER_MUTATE_NUM_RUNS runs each (see fast-check-capped.ts).
    alias: [{ find: /^fast-check$/, replacement: fileURLToPath(new URL('./fast-check-capped.ts', import.meta.url)) }],
  },
  test: {
    include: ['spec/unit/**/*.spec.ts', 'spec/property/**/*.spec.ts', 'spec/contract/**/*.spec.ts', 'spec/concurrent/**/*.spec.ts'],
    // It reads dist/ and docs/api, which a mutated sandbox does not rebuild.
    exclude: ['spec/contract/api-report.spec.ts'],
    // Spec files share a worker's module cache: a mutant reruns a handful of spec files, and
    // importing src/ again for each of them costs more than the specs themselves.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
