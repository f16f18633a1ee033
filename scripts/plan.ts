import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfigFile, locateConfig } from '../lib/config';
import { capacityReport, formatReport, type Obj } from '../lib/model/capacity';
import { renderDist, renderedObjects } from '../lib/synth';

/**
 * `npm run plan [-- --config FILE] [-- --write docs/capacity.md]`: renders dist/ in memory for the
 * config, places every pod on the node pools of config.nodes (default: the original 21 nodes) and
 * prints totals against the budget, whether everything fits, and what a single node loss takes down.
 * Output depends only on the config, so the committed docs/capacity.md can be checked for staleness.
 */
function main(argv: string[]): number {
  const root = path.resolve(__dirname, '..');
  try {
    const location = locateConfig(argv, process.env, root);
    if (location.notice) console.error(location.notice);
    const config = loadConfigFile(location.file);
    const objects: Obj[] = renderedObjects(renderDist(config));
    const report = capacityReport(config, objects);
    const text = formatReport(report, `\`${path.relative(root, location.file).split(path.sep).join('/')}\``);
    const writeIndex = argv.indexOf('--write');
    if (writeIndex >= 0) {
      const target = argv[writeIndex + 1];
      if (!target) throw new ConfigError('(command line)', ['--write: expected a file path']);
      writeFileSync(path.resolve(target), text);
      console.error(`wrote ${target}`);
    } else {
      process.stdout.write(text);
    }
    return report.fits ? 0 : 1;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
