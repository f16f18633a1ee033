import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandLine } from '../lib/cli';
import { readDist } from '../lib/dist-files';
import { DEFAULT_SCHEMAS_DIR, formatProblem, KUBERNETES_VERSIONS, validateFiles } from '../lib/validate';

const { options, positionals } = parseCommandLine(process.argv.slice(2), {
  usage: 'npm run validate [-- [--schemas DIR] [DIST_DIR]]',
  description:
    'Validates every object in dist/ (or DIST_DIR) against the Kubernetes OpenAPI documents and the upstream CRD schemas vendored in schemas/, unknown fields rejected. Exits 1 on any problem.',
  options: { schemas: { takesValue: true, help: `schema folder (default: ${path.relative(process.cwd(), DEFAULT_SCHEMAS_DIR) || DEFAULT_SCHEMAS_DIR})` } },
  positionals: 'DIST_DIR (default: dist/)',
});
if (positionals.length > 1) {
  console.error('error: at most one DIST_DIR');
  process.exit(2);
}
const distDir = path.resolve(positionals[0] ?? path.join(__dirname, '..', 'dist'));
const schemasDir = path.resolve(options.schemas ?? DEFAULT_SCHEMAS_DIR);
if (!existsSync(distDir)) {
  console.error(`error: ${distDir} does not exist; run npm run synth first`);
  process.exit(2);
}
const report = validateFiles(readDist(distDir), { schemasDir, kubernetesVersions: KUBERNETES_VERSIONS });
for (const problem of report.problems) console.error(formatProblem(problem));
console.log(
  `validated ${report.checkedObjects} objects against Kubernetes ${KUBERNETES_VERSIONS.join(' and ')} and the CRDs in ${path.relative(process.cwd(), schemasDir) || schemasDir}: ${report.problems.length} problem(s)`,
);
process.exitCode = report.problems.length > 0 || report.checkedObjects === 0 ? 1 : 0;
