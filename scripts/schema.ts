import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandLine } from '../lib/cli';
import { configJsonSchema } from '../lib/config/json-schema';

/** `npm run schema`: regenerates docs/config.schema.json from the zod schema. */
parseCommandLine(process.argv.slice(2), {
  usage: 'npm run schema',
  description: 'Regenerates docs/config.schema.json (the JSON Schema editors use to complete and check the config) from the zod schema in lib/config/.',
  options: {},
});
const target = path.join(__dirname, '..', 'docs', 'config.schema.json');
writeFileSync(target, configJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
