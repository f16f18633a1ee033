import * as path from 'node:path';
import { parseCommandLine } from './lib/cli';
import { CONFIG_OPTION, ConfigError, loadConfigFile, locateConfig } from './lib/config';
import { configPlaceholders, formatPlaceholder, upstreamNotices } from './lib/notices';
import { PhaseClock, TIMINGS_ENV, TIMINGS_PREFIX } from './lib/phases';
import { renderDist, writeDist } from './lib/synth';

/**
 * `npm run synth [-- --config PATH] [-- --out DIR] [-- --strict]`: validates the config, renders every
 * manifest in memory, then swaps the result into dist/. An invalid config exits non-zero and leaves
 * dist/ untouched; so does any example value left in the config under --strict.
 */
function main(argv: string[]): number {
  const root = __dirname;
  const clock = new PhaseClock();
  clock.mark('start-up');
  const { options } = parseCommandLine(argv, {
    usage: 'npm run synth [-- [--config PATH] [--out DIR] [--strict]]',
    description: 'Validates the config and writes every manifest of the platform into dist/ (atomically: on any error dist/ is left as it was).',
    options: {
      ...CONFIG_OPTION,
      out: { takesValue: true, help: 'output folder (default: dist/)' },
      strict: { help: 'fail, writing nothing, while any config value is still an example or documentation value' },
    },
    epilog: 'Exit codes: 0 written, 2 invalid config or command line (dist/ unchanged).',
  });
  try {
    const location = locateConfig(options.config, process.env, root);
    if (location.notice) console.error(location.notice);
    const config = loadConfigFile(location.file);
    clock.mark('config');
    const placeholders = configPlaceholders(config);
    if (options.strict && placeholders.length > 0) {
      throw new ConfigError(
        location.file,
        placeholders.map((placeholder) => `${formatPlaceholder(placeholder)}; expected a value of your own (--strict)`),
      );
    }
    const files = renderDist(config, clock);
    const distDir = options.out ? path.resolve(options.out) : path.join(root, 'dist');
    writeDist(files, distDir);
    clock.mark('writing');
    if (process.env[TIMINGS_ENV]) console.error(`${TIMINGS_PREFIX}${JSON.stringify(clock.phases)}`);
    for (const placeholder of placeholders) console.error(`warning: example value at ${formatPlaceholder(placeholder)}`);
    if (placeholders.length > 0) console.error(`warning: ${placeholders.length} example value(s) left in the config; set them before deploying (npm run synth -- --strict fails on them)`);
    for (const notice of upstreamNotices(config)) console.error(notice);
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

process.exitCode = main(process.argv.slice(2));
