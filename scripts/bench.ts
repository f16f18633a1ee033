import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from '../lib/cli';
import { readDist } from '../lib/dist-files';
import { TIMINGS_ENV, TIMINGS_PREFIX } from '../lib/phases';
import { renderedObjects } from '../lib/synth';

/**
 * `npm run bench`: median wall time of `npm run synth` over 5 runs (a fresh process each time, as a
 * user runs it), the median of each phase the program reports, CPU time, and the objects and bytes
 * written. One warm-up run first: after a source change the first synth also rebuilds the bundle
 * (scripts/run-fresh.cjs), which the table shows separately.
 */
parseCommandLine(process.argv.slice(2), {
  usage: 'npm run bench',
  description: 'Times `npm run synth` of the full stack over 5 fresh processes (BENCH_RUNS=N for another count) and prints the median, objects and bytes written.',
  options: {},
});
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = path.join(__dirname, '..');
const out = mkdtempSync(path.join(tmpdir(), 'bench-dist-'));

/** User+system CPU seconds of all waited-for children so far (Linux /proc; undefined elsewhere). */
function childrenCpuSeconds(): number | undefined {
  try {
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17 (clock ticks).
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const ticksPerSecond = 100;
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

interface Run {
  wallMs: number;
  cpuMs?: number;
  phases: { name: string; ms: number }[];
}

function runSynth(): Run {
  const cpuBefore = childrenCpuSeconds();
  const started = process.hrtime.bigint();
  const result = spawnSync('npm', ['run', '-s', 'synth', '--', '--out', path.join(out, 'dist')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, [TIMINGS_ENV]: '1' },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpuAfter = childrenCpuSeconds();
  if (result.status !== 0) {
    console.error(result.stderr);
    process.exit(1);
  }
  const line = result.stderr.split('\n').find((entry) => entry.startsWith(TIMINGS_PREFIX));
  if (!line) throw new Error(`npm run synth printed no ${TIMINGS_PREFIX.trim()} line with ${TIMINGS_ENV}=1`);
  const phases = JSON.parse(line.slice(TIMINGS_PREFIX.length)) as Run['phases'];
  const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) * 1000;
  return { wallMs, cpuMs, phases };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

const warmUp = runSynth();
const runs = Array.from({ length: RUNS }, runSynth);
const files = readDist(path.join(out, 'dist'));
const bytes = [...files.values()].reduce((sum, content) => sum + Buffer.byteLength(content), 0);
rmSync(out, { recursive: true, force: true });

const walls = runs.map((run) => run.wallMs);
const phaseNames = runs[0].phases.map((phase) => phase.name);
const phaseMedian = (name: string) => median(runs.map((run) => run.phases.find((phase) => phase.name === name)?.ms ?? 0));
const insideNode = (run: Run) => run.phases.reduce((sum, phase) => sum + phase.ms, 0);
const cpuTimes = runs.map((run) => run.cpuMs).filter((value): value is number => value !== undefined);

const rows: [string, string][] = [
  ['runs', `${RUNS} (after 1 warm-up run)`],
  ['median wall time (npm run synth)', seconds(median(walls))],
  ['min / max', `${seconds(Math.min(...walls))} / ${seconds(Math.max(...walls))}`],
  ...(cpuTimes.length === runs.length ? [['median CPU time (user+sys, all processes)', seconds(median(cpuTimes))] as [string, string]] : []),
  ['phase: npm and shell before node starts, exit', seconds(median(runs.map((run) => run.wallMs - insideNode(run))))],
  ...phaseNames.map((name) => [`phase: ${name}`, seconds(phaseMedian(name))] as [string, string]),
  ['warm-up run (rebuilds the bundle if a source changed)', seconds(warmUp.wallMs)],
  ['files written', String(files.size)],
  ['objects written', String(renderedObjects(files).length)],
  ['bytes written', String(bytes)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`| ${'metric'.padEnd(width)} | value |`);
console.log(`| ${'-'.repeat(width)} | ----- |`);
for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
