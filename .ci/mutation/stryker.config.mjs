// @ts-check
// StrykerJS configuration for one concept of src/, chosen by OVERSEER_MUTATE (set by run.mjs).
// Equivalent mutants are listed in docs/verification.md and marked in the source with
// `// Stryker disable next-line <mutator>: <reason>` comments, never by excluding a file.
const concept = process.env.OVERSEER_MUTATE;
if (!concept) throw new Error('OVERSEER_MUTATE is not set: run `npm run mutate -- <concept>`');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: '.ci/mutation/vitest.config.ts', related: true },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [`src/${concept}/**/*.ts`],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  incremental: true,
  incrementalFile: `.ci/mutation/incremental/${concept}.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `.stryker-tmp/reports/${concept}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  concurrency: Number(process.env.OVERSEER_MUTATE_CONCURRENCY ?? 2),
  // A mutant that hangs a spec on the test clock hangs it for good: waiting 2 × the tests' own time
  // plus 5 s (plus the measured start-up overhead) tells a hang from a slow run without spending
  // 20 s on each one.
  timeoutMS: 5_000,
  timeoutFactor: 2,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
