/**
 * Prints the deployment config (config/deployment.yaml, else the example) with every stream-writer
 * pool that the config schema lets be empty set to count 0, so those streams stay on main. Used by
 * scripts/check-synapse-config.sh to check the route table against stream_writers in that case too.
 * The first line names the pools: `# zero: typing, toDevice, ...`.
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { parseCommandLine } from '../lib/cli';
import { CONFIG_OPTION, locateConfig, parseConfig } from '../lib/config';
import { WORKER_TYPES } from '../lib/model/workers';

const { options } = parseCommandLine(process.argv.slice(2), {
  usage: 'npx tsx scripts/writer-pools-at-zero.ts [--config PATH]',
  description: 'Prints the config with every stream-writer pool that may be empty set to count 0 (for scripts/check-synapse-config.sh).',
  options: CONFIG_OPTION,
});
const root = path.resolve(__dirname, '..');
const input = yaml.load(readFileSync(locateConfig(options.config, process.env, root).file, 'utf8')) as Record<string, unknown>;
const synapse = ((input.synapse ??= {}) as Record<string, unknown>);
const workers = ((synapse.workers ??= {}) as Record<string, Record<string, unknown>>);
const zeroed: string[] = [];
for (const type of WORKER_TYPES.filter((candidate) => candidate.streams.length > 0)) {
  const previous = workers[type.id];
  workers[type.id] = { ...previous, count: 0 };
  try {
    parseConfig(input);
    zeroed.push(type.id);
  } catch {
    // The schema requires this pool (its stream cannot stay on main here): keep its count.
    if (previous === undefined) delete workers[type.id];
    else workers[type.id] = previous;
  }
}
process.stdout.write(`# zero: ${zeroed.join(', ')}\n${yaml.dump(input, { lineWidth: -1 })}`);
