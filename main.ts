import * as path from 'node:path';
import { ConfigError, loadConfigFile, locateConfig } from './lib/config';
import { PhaseClock, TIMINGS_ENV, TIMINGS_PREFIX } from './lib/phases';
import { renderDist, writeDist } from './lib/synth';

/**
 * `npm run synth [-- --config PATH] [-- --out DIR]`: validates the config, renders every manifest in
 * memory, then swaps the result into dist/. An invalid config exits non-zero and leaves dist/ untouched.
 */
function main(argv: string[]): number {
  const root = __dirname;
  const clock = new PhaseClock();
  clock.mark('start-up');
  try {
    const location = locateConfig(argv, process.env, root);
    if (location.notice) console.error(location.notice);
    const config = loadConfigFile(location.file);
    clock.mark('config');
    const files = renderDist(config, clock);
    const outIndex = argv.indexOf('--out');
    const distDir = outIndex >= 0 && argv[outIndex + 1] ? path.resolve(argv[outIndex + 1]) : path.join(root, 'dist');
    writeDist(files, distDir);
    clock.mark('writing');
    if (process.env[TIMINGS_ENV]) console.error(`${TIMINGS_PREFIX}${JSON.stringify(clock.phases)}`);
    for (const notice of synthNotices(config)) console.error(notice);
    console.log(`synthesized ${files.size} files from ${path.relative(process.cwd(), location.file) || location.file} into ${path.relative(process.cwd(), distDir) || distDir}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: ${error.message}`);
      console.error('dist/ was left unchanged.');
      return 2;
    }
    throw error;
  }
}

function synthNotices(config: ReturnType<typeof loadConfigFile>): string[] {
  const notices: string[] = [];
  if (config.objectStorage.provider === 'minio') {
    notices.push(
      'notice: objectStorage.provider is minio. The MinIO community server is source-only since October 2025 and its repository was archived in early 2026; plan a move to objectStorage.provider: external.',
    );
  }
  if (config.edge.controller === 'ingress-nginx') {
    notices.push('notice: edge.controller is ingress-nginx, which was retired upstream in March 2026 (no releases or CVE fixes). Prefer envoy-gateway.');
  }
  return notices;
}

process.exitCode = main(process.argv.slice(2));
