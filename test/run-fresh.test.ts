import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readDist } from '../lib/dist-files';
import { ROOT } from './helpers';

/**
 * scripts/run-fresh.cjs runs `npm run synth` from a bundle in .build/. These tests prove it never runs
 * old code: each one works in a throw-away project with its own copy of the launcher and .build/.
 */
const LAUNCHER = path.join(ROOT, 'scripts', 'run-fresh.cjs');

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'run-fresh-'));
  mkdirSync(path.join(dir, 'scripts'));
  cpSync(LAUNCHER, path.join(dir, 'scripts', 'run-fresh.cjs'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  for (const [file, content] of Object.entries(files)) write(dir, file, content);
  return dir;
}

function write(dir: string, file: string, content: string): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), content);
}

function run(dir: string, entry: string, args: string[] = []) {
  const result = spawnSync(process.execPath, [path.join(dir, 'scripts', 'run-fresh.cjs'), entry, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RUN_FRESH_VERBOSE: '1' },
  });
  return { ...result, rebuilt: result.stderr.includes('run-fresh: rebuilt') };
}

const PROGRAM = {
  'main.ts': "import { greeting } from './lib/greeting';\nconsole.log(greeting(process.argv.slice(2)));\n",
  'lib/greeting.ts': "export function greeting(args: string[]): string {\n  return `hello ${args.join(' ')}`;\n}\n",
};

describe('run-fresh', () => {
  test('builds once, then runs the cached bundle as the main module, with the arguments, __filename and __dirname of the entry', () => {
    const dir = project({ ...PROGRAM, 'main.ts': `${PROGRAM['main.ts']}console.log(__filename, __dirname, require.main === module);\n` });
    const first = run(dir, 'main.ts', ['a', 'b']);
    expect(first.status).toBe(0);
    expect(first.rebuilt).toBe(true);
    expect(first.stdout).toBe(`hello a b\n${path.join(dir, 'main.ts')} ${dir} true\n`);
    const second = run(dir, 'main.ts', ['c']);
    expect(second.rebuilt).toBe(false);
    expect(second.stdout).toBe(`hello c\n${path.join(dir, 'main.ts')} ${dir} true\n`);
    // The code cache sits beside the bundle and both carry the bundle's hash.
    const built = readdirSync(path.join(dir, '.build')).sort();
    expect(built).toEqual([expect.stringMatching(/^main-[0-9a-f]{16}\.js$/), expect.stringMatching(/^main-[0-9a-f]{16}\.js\.cache$/), 'main.json']);
    expect(built[1]).toBe(`${built[0]}.cache`);
  });

  test('an edit to an imported module is seen, even one that keeps size and modification time', () => {
    const dir = project(PROGRAM);
    const file = path.join(dir, 'lib/greeting.ts');
    // A whole second, so that restoring it is exact to the nanosecond.
    const stamp = new Date('2024-01-01T00:00:00Z');
    utimesSync(file, stamp, stamp);
    expect(run(dir, 'main.ts').stdout).toBe('hello \n');
    writeFileSync(file, PROGRAM['lib/greeting.ts'].replace('hello', 'HELLO'));
    utimesSync(file, stamp, stamp);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(BigInt(stamp.getTime()) * 1_000_000n);
    const edited = run(dir, 'main.ts');
    expect(edited.rebuilt).toBe(true);
    expect(edited.stdout).toBe('HELLO \n');
    // The old bundle and its cache are gone: .build/ holds one bundle per entry.
    expect(readdirSync(path.join(dir, '.build')).filter((name) => name.endsWith('.js'))).toHaveLength(1);
  });

  test('a new import, tsconfig.json and a deleted input each rebuild', () => {
    const dir = project({ ...PROGRAM, 'tsconfig.json': '{}' });
    run(dir, 'main.ts');
    write(dir, 'lib/name.ts', "export const NAME = 'world';\n");
    write(dir, 'main.ts', "import { greeting } from './lib/greeting';\nimport { NAME } from './lib/name';\nconsole.log(greeting([NAME]));\n");
    expect(run(dir, 'main.ts').stdout).toBe('hello world\n');
    write(dir, 'tsconfig.json', '{ }');
    expect(run(dir, 'main.ts').rebuilt).toBe(true);
    write(dir, 'main.ts', PROGRAM['main.ts']);
    run(dir, 'main.ts');
    rmSync(path.join(dir, 'lib/greeting.ts'));
    const missing = run(dir, 'main.ts');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('lib/greeting');
  });

  test('a module other than the entry keeps its own __dirname and __filename inside the bundle', () => {
    const dir = project({
      'main.ts': "import { where } from './lib/deep/where';\nconsole.log(where(), __dirname);\n",
      'lib/deep/where.ts': "export const where = () => `${__dirname} ${__filename}`;\n",
    });
    const result = run(dir, 'main.ts');
    expect(result.stdout).toBe(`${path.join(dir, 'lib/deep')} ${path.join(dir, 'lib/deep/where.ts')} ${dir}\n`);
  });

  test('a syntax error fails the run with the file named; the fixed source runs', () => {
    const dir = project(PROGRAM);
    run(dir, 'main.ts');
    write(dir, 'lib/greeting.ts', 'export function greeting(: string {');
    const broken = run(dir, 'main.ts');
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain('lib/greeting.ts');
    write(dir, 'lib/greeting.ts', PROGRAM['lib/greeting.ts'].replace('hello', 'fixed'));
    expect(run(dir, 'main.ts').stdout).toBe('fixed \n');
  });

  test('a code cache of another bundle is never used: a rebuilt bundle starts without one', () => {
    const dir = project(PROGRAM);
    run(dir, 'main.ts');
    const manifest = JSON.parse(readFileSync(path.join(dir, '.build/main.json'), 'utf8')) as { bundle: string };
    // Same length, different code: V8 alone would accept the old cache for it.
    write(dir, 'lib/greeting.ts', PROGRAM['lib/greeting.ts'].replace('hello', 'hallo'));
    run(dir, 'main.ts');
    const rebuilt = JSON.parse(readFileSync(path.join(dir, '.build/main.json'), 'utf8')) as { bundle: string };
    expect(rebuilt.bundle).not.toBe(manifest.bundle);
    expect(existsSync(path.join(dir, '.build', `${manifest.bundle}.cache`))).toBe(false);
    expect(run(dir, 'main.ts').stdout).toBe('hallo \n');
  });
});

describe('npm run synth through run-fresh', () => {
  test('is the synth script', () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.synth).toBe('node scripts/run-fresh.cjs main.ts');
  });

  test('after an edit to a chart source, synth writes the changed output', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'run-fresh-synth-'));
    for (const entry of ['main.ts', 'lib', 'charts', 'constructs', 'imports', 'config', 'scripts/run-fresh.cjs', 'package.json', 'tsconfig.json']) {
      cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const synth = () => spawnSync(process.execPath, ['scripts/run-fresh.cjs', 'main.ts'], { cwd: dir, encoding: 'utf8', env: { ...process.env, MATRIX_CONFIG: '' } });
    expect(synth().status).toBe(0);
    const before = readDist(path.join(dir, 'dist'));
    const versions = path.join(dir, 'lib', 'versions.ts');
    const source = readFileSync(versions, 'utf8');
    const pinned = source.match(/SYNAPSE_VERSION = '([^']+)'/);
    expect(pinned).not.toBeNull();
    writeFileSync(versions, source.replace(`SYNAPSE_VERSION = '${pinned?.[1]}'`, "SYNAPSE_VERSION = '9.99.0'"));
    expect(synth().status).toBe(0);
    const after = readDist(path.join(dir, 'dist'));
    const changed = [...after].filter(([file, content]) => before.get(file) !== content).map(([file]) => file);
    expect(changed.length).toBeGreaterThan(0);
    expect([...after.values()].some((content) => content.includes('9.99.0'))).toBe(true);
  });
});
