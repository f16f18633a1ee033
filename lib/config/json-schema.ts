import { z } from 'zod';
import { configSchema } from './index';

/** JSON Schema of the config file, for editor completion and checking (yaml-language-server). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, title: 'Matrix platform deployment config' }, null, 2)}\n`;
}
