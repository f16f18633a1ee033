import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configJsonSchema } from '../lib/config/json-schema';

/** `npm run schema`: regenerates docs/config.schema.json from the zod schema. */
const target = path.join(__dirname, '..', 'docs', 'config.schema.json');
writeFileSync(target, configJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
