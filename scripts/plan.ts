import * as path from 'node:path';
import { emitReport, parseCommandLine, withConfig, WRITE_OPTION } from '../lib/cli';
import { CONFIG_OPTION } from '../lib/config';
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
  const { options } = parseCommandLine(argv, {
    usage: 'npm run plan [-- [--config PATH] [--write FILE]]',
    description:
      'Places every pod of the rendered platform on the node pools of config.nodes and reports totals against the budget, whether everything fits, and what a single node loss takes down. Exit 1 when it does not fit.',
    options: { ...CONFIG_OPTION, ...WRITE_OPTION },
    epilog: 'docs/capacity.md is this report for the example config: npm run plan -- --config config/deployment.example.yaml --write docs/capacity.md',
  });
  return withConfig(options.config, root, (config, file) => {
    const objects: Obj[] = renderedObjects(renderDist(config));
    const report = capacityReport(config, objects);
    emitReport(formatReport(report, `\`${path.relative(root, file).split(path.sep).join('/')}\``), options.write);
    return report.fits ? 0 : 1;
  });
}

process.exitCode = main(process.argv.slice(2));
