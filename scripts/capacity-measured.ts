import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { emitReport, parseCommandLine, withConfig, WRITE_OPTION } from '../lib/cli';
import { CONFIG_OPTION } from '../lib/config';
import { formatMeasuredCapacity, type Measurement } from '../lib/model/measured-capacity';
import { renderDist, renderedObjects } from '../lib/synth';

/**
 * `npx tsx scripts/capacity-measured.ts [--measurement FILE] [--config FILE] [--write FILE]`: the measured
 * capacity report (lib/model/measured-capacity.ts) for a stored load measurement against the platform the
 * config renders. `npm run load -- measure` produces the measurement and calls this.
 */
function main(argv: string[]): number {
  const root = path.resolve(__dirname, '..');
  const { options } = parseCommandLine(argv, {
    usage: 'npx tsx scripts/capacity-measured.ts [--measurement FILE] [--config PATH] [--write FILE]',
    description:
      'Per pool: CPU seconds per 1,000 requests measured by the load phase, extrapolated to 20,000 users and compared with the requests and limits of the rendered platform.',
    options: {
      ...CONFIG_OPTION,
      measurement: { takesValue: true, help: 'measurement file of test/integration/load_phase.py (default docs/capacity-measured.json)' },
      ...WRITE_OPTION,
    },
    epilog: 'docs/capacity-measured.md: npx tsx scripts/capacity-measured.ts --config config/deployment.example.yaml --write docs/capacity-measured.md',
  });
  return withConfig(options.config, root, (config) => {
    const measurementFile = options.measurement ?? path.join(root, 'docs', 'capacity-measured.json');
    const measurement = JSON.parse(readFileSync(measurementFile, 'utf8')) as Measurement;
    emitReport(formatMeasuredCapacity(measurement, renderedObjects(renderDist(config))), options.write);
    return 0;
  });
}

process.exitCode = main(process.argv.slice(2));
