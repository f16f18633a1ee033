/**
 * Compares the pool that served each recorded request (the router's X-Synapse-Backend header) with
 * the pool the route table says (lib/model/routes.ts routeRequest, the same config synth uses).
 *
 * Usage: tsx test/integration/route-check.ts REQUESTS.jsonl
 *   each line: {"method": "GET", "url": "/_matrix/client/v3/sync?since=...", "backend": "sync"}
 * Prints one line per mismatch and exits 1 when there is any; prints a summary per pool otherwise.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile, locateConfig } from '../../lib/config';
import { type HttpMethod, resolveRoutes, routeRequest } from '../../lib/model/routes';
import { MAIN_INSTANCE, workerType } from '../../lib/model/workers';

interface Recorded {
  readonly method: HttpMethod;
  readonly url: string;
  readonly backend: string | null;
}

const file = process.argv[2];
if (!file) {
  console.error('usage: route-check.ts REQUESTS.jsonl');
  process.exit(2);
}
const root = path.resolve(__dirname, '..', '..');
const config = loadConfigFile(locateConfig(undefined, process.env, root).file);
const routes = resolveRoutes(config);
const records: Recorded[] = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as Recorded);

const mismatches: string[] = [];
const perPool = new Map<string, number>();
for (const record of records) {
  const target = routeRequest(routes, { method: record.method, url: record.url });
  const expected = target === MAIN_INSTANCE ? MAIN_INSTANCE : workerType(target).pool;
  perPool.set(expected, (perPool.get(expected) ?? 0) + 1);
  if (record.backend !== expected) {
    mismatches.push(`${record.method} ${record.url.split('?')[0]}: served by ${record.backend ?? '(no backend header)'}, route table says ${expected}`);
  }
}
if (records.length === 0) {
  console.error('no requests recorded');
  process.exit(1);
}
if (mismatches.length > 0) {
  console.error(`${mismatches.length} of ${records.length} requests were served by the wrong pool:`);
  for (const line of [...new Set(mismatches)]) console.error(`  ${line}`);
  process.exit(1);
}
console.log(
  `${records.length} requests, all served by the pool the route table names: ${[...perPool.entries()]
    .sort()
    .map(([pool, count]) => `${pool} ${count}`)
    .join(', ')}`,
);
