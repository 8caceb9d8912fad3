#!/usr/bin/env node
// `npm run mutate -- <concept> [stryker options…]`: StrykerJS on one concept's folder of src/.
// Per-test coverage (each mutant runs only the specs that reach it), static mutants ignored,
// incremental: the result of the last run is kept in .ci/mutation/incremental/<concept>.json
// (committed), so a rerun after a small change tests only what changed. Not part of CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const CONCEPTS = ['supervisor', 'breaker', 'limiter', 'pool', 'protect', 'infrastructure', 'telemetry', 'clock', 'cluster', 'observer'];
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const [concept, ...rest] = process.argv.slice(2);

if (concept === undefined || !CONCEPTS.includes(concept)) {
  console.error(`usage: npm run mutate -- <concept> [stryker options]\n  concept: one of ${CONCEPTS.join(', ')}`);
  process.exit(2);
}
if (!existsSync(join(root, 'src', concept))) {
  console.error(`mutate: src/${concept} does not exist`);
  process.exit(2);
}

const config = relative(root, join(here, 'stryker.config.mjs'));
const result = spawnSync('npx', ['stryker', 'run', config, ...rest], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, OVERSEER_MUTATE: concept },
});
process.exit(result.status ?? 1);
