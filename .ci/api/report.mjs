// The committed API report: one api-extractor report per package entry, in docs/api/.
//
//   node .ci/api/report.mjs           check (CI): fails when the public surface differs from the
//                                     committed report; run after `npm run build`
//   node .ci/api/report.mjs --update  writes the reports anew (then review and commit them)
//
// api-extractor reads the built declarations (dist/*.d.ts), so a change of the public surface,
// a renamed option or a new export, shows up as a diff of docs/api/*.api.md in review.
//
// The surface must also be documented and self-contained, in both modes: every api-extractor
// message is an error that fails the run (printed with its place in dist/ and the src/ file it
// comes from), among them
//   ae-undocumented      an exported item or a member of one without a TSDoc comment
//   ae-forgotten-export  a type a public signature uses that its entry does not export
//   ae-unresolved-link   a {@link X} whose X the entry does not export
// and every TSDoc syntax message (a malformed {@link} would otherwise go unchecked). Only the
// release-tag messages are off: overseer does not tag its API @public/@beta.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
  { entry: 'observer', report: 'overseer-observer' },
];

const quiet = { logLevel: 'none', addToApiReportFile: false };
const fatal = { logLevel: 'error', addToApiReportFile: false };
let failed = 0;
/** Every message that failed the run, by message id, over all entries. */
const failures = new Map();
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
        compilerMessageReporting: { default: fatal },
        extractorMessageReporting: {
          default: fatal,
          'ae-undocumented': fatal,
          'ae-forgotten-export': fatal,
          'ae-unresolved-link': fatal,
          'ae-missing-release-tag': quiet,
          'ae-internal-missing-underscore': quiet,
        },
        tsdocMessageReporting: { default: fatal },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false, messageCallback: (message) => {
    message.handled = true;
    if (message.logLevel !== 'error') return;
    failures.set(message.messageId, (failures.get(message.messageId) ?? 0) + 1);
    console.error(`api report (${entry}): ${message.messageId}: ${message.text}${placeOf(message)}`);
  } });
  if (result.errorCount > 0) {
    failed += 1;
    console.error(
      `api report: the public surface of dist/${entry}.d.ts has ${result.errorCount} error(s) above` +
        (update ? ` (docs/api/${report}.api.md ${result.apiReportChanged ? 'was updated anyway' : 'is unchanged'})` : ''),
    );
  }
  if (!update && result.apiReportChanged) {
    failed += 1;
    console.error(
      `api report: docs/api/${report}.api.md differs from the public surface of dist/${entry}.d.ts` +
        ' — run `npm run build && npm run api:update`, review the diff and commit it',
    );
  } else if (!result.succeeded && result.errorCount === 0) {
    failed += 1;
    console.error(`api report: docs/api/${report}.api.md could not be produced`);
  } else if (result.errorCount === 0) {
    console.log(`api report: docs/api/${report}.api.md ${update && result.apiReportChanged ? 'updated' : 'matches'}`);
  }
}
rmSync(join(root, '.api-tmp'), { recursive: true, force: true });
if (failures.size > 0) {
  console.error(`api report: failed on ${[...failures].map(([id, count]) => `${count} ${id}`).join(', ')}`);
}
process.exit(failed === 0 ? 0 : 1);

/** Where a message points: the built declaration file and line, and the source file it was built from. */
function placeOf(message) {
  if (message.sourceFilePath === undefined) return '';
  const built = relative(root, message.sourceFilePath);
  const source = built.replace(/^dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
  return ` (${source}; ${built}:${message.sourceFileLine})`;
}
