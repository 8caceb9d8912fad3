// The committed API report: one api-extractor report per package entry, in docs/api/.
//
//   node .ci/api/report.mjs           check (CI): fails when the public surface differs from the
//                                     committed report; run after `npm run build`
//   node .ci/api/report.mjs --update  writes the reports anew (then review and commit them)
//
// api-extractor reads the built declarations (dist/*.d.ts), so a change of the public surface,
// a renamed option or a new export, shows up as a diff of docs/api/*.api.md in review.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const update = process.argv.includes('--update');

/** Each entry of the package's `exports` map: its built declarations and its report's name. */
const entries = [
  { entry: 'index', report: 'overseer' },
  { entry: 'threads', report: 'overseer-threads' },
  { entry: 'http', report: 'overseer-http' },
  { entry: 'opentelemetry', report: 'overseer-opentelemetry' },
  { entry: 'prom-client', report: 'overseer-prom-client' },
];

const quiet = { logLevel: 'none', addToApiReportFile: false };
let failed = 0;
for (const { entry, report } of entries) {
  const declarations = join(root, 'dist', `${entry}.d.ts`);
  if (!existsSync(declarations)) {
    console.error(`api report: ${declarations} is missing; run npm run build first`);
    process.exit(2);
  }
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: declarations,
      compiler: { tsconfigFilePath: join(root, 'tsconfig.build.json') },
      apiReport: {
        enabled: true,
        reportFileName: report,
        reportFolder: join(root, 'docs', 'api'),
        reportTempFolder: join(root, '.api-tmp'),
        includeForgottenExports: false,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning', addToApiReportFile: true },
          'ae-missing-release-tag': quiet,
          'ae-internal-missing-underscore': quiet,
        },
        tsdocMessageReporting: { default: quiet },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false, messageCallback: (message) => {
    // Warnings go into the report (where a review sees them); only errors are printed here.
    if (message.logLevel !== 'error') message.handled = true;
  } });
  if (!result.succeeded || (!update && result.apiReportChanged)) {
    failed += 1;
    console.error(
      `api report: docs/api/${report}.api.md ${result.apiReportChanged ? 'differs from the public surface of dist/' + entry + '.d.ts' : 'could not be produced'}` +
        (update ? '' : ' — run `npm run build && npm run api:update`, review the diff and commit it'),
    );
  } else {
    console.log(`api report: docs/api/${report}.api.md ${update && result.apiReportChanged ? 'updated' : 'matches'}`);
  }
}
rmSync(join(root, '.api-tmp'), { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
