import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readDist } from '../lib/dist-files';
import { DEFAULT_CRDS_DIR, formatProblem, KUBERNETES_VERSIONS, validateFiles } from '../lib/validate';

/**
 * `npm run validate [-- DIST_DIR]`: every object in dist/ against the Kubernetes OpenAPI documents
 * and the upstream CRD schemas (../shared/crds or CRDS_DIR), unknown fields rejected.
 */
const distDir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist'));
const crdsDir = path.resolve(process.env.CRDS_DIR ?? DEFAULT_CRDS_DIR);
if (!existsSync(distDir)) {
  console.error(`error: ${distDir} does not exist; run npm run synth first`);
  process.exit(2);
}
const report = validateFiles(readDist(distDir), { crdsDir, kubernetesVersions: KUBERNETES_VERSIONS });
for (const skipped of report.skipped) console.warn(`SKIPPED: ${skipped}`);
for (const problem of report.problems) console.error(formatProblem(problem));
console.log(
  `validated ${report.checkedObjects} objects against Kubernetes ${KUBERNETES_VERSIONS.join(' and ')} and the CRDs in ${crdsDir}: ${report.problems.length} problem(s)` +
    (report.skipped.length > 0 ? `, ${report.skipped.length} check(s) SKIPPED` : ''),
);
process.exitCode = report.problems.length > 0 ? 1 : 0;
