import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from '../lib/cli';
import { readDist } from '../lib/dist-files';
import { countObjects } from '../lib/synth';

/**
 * `npm run bench`: median wall time of `npm run synth` over 5 runs (a fresh process each time, as a
 * user runs it), plus the number of objects and bytes written.
 */
parseCommandLine(process.argv.slice(2), {
  usage: 'npm run bench',
  description: 'Times `npm run synth` of the full stack over 5 fresh processes (BENCH_RUNS=N for another count) and prints the median, objects and bytes written.',
  options: {},
});
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = path.join(__dirname, '..');
const out = mkdtempSync(path.join(tmpdir(), 'bench-dist-'));
const durations: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const started = process.hrtime.bigint();
  const result = spawnSync('npm', ['run', '-s', 'synth', '--', '--out', path.join(out, 'dist')], { cwd: root, encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    console.error(result.stderr);
    process.exit(1);
  }
  durations.push(elapsed);
}
const files = readDist(path.join(out, 'dist'));
const bytes = [...files.values()].reduce((sum, content) => sum + Buffer.byteLength(content), 0);
const sorted = [...durations].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
rmSync(out, { recursive: true, force: true });
const rows: [string, string][] = [
  ['runs', String(RUNS)],
  ['median wall time (npm run synth)', `${(median / 1000).toFixed(2)} s`],
  ['min / max', `${(sorted[0] / 1000).toFixed(2)} s / ${(sorted[sorted.length - 1] / 1000).toFixed(2)} s`],
  ['files written', String(files.size)],
  ['objects written', String(countObjects(files))],
  ['bytes written', String(bytes)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`| ${'metric'.padEnd(width)} | value |`);
console.log(`| ${'-'.repeat(width)} | ----- |`);
for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
