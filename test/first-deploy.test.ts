import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { CommandLineError, parseArguments } from '../lib/cli';
import { ConfigError, parseConfig } from '../lib/config';
import { credentialProblems, placeholdersIn } from '../lib/config/guards';
import { configPlaceholders } from '../lib/notices';
import { images, S3_STORAGE_PROVIDER_VERSION, SYNAPSE_IMAGE_PLACEHOLDER, SYNAPSE_VERSION } from '../lib/versions';
import { deepMerge, exampleInput, ROOT, runEntry } from './helpers';

const REALISTIC = path.join(ROOT, 'test/fixtures/realistic.yaml');
const realisticInput = () => yaml.load(readFileSync(REALISTIC, 'utf8')) as Record<string, unknown>;

function problemsOf(input: Record<string, unknown>): string[] {
  try {
    parseConfig(input, '(test)');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('credentials never pass through the config', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a token in the GitOps URL', { gitops: { repository: { url: 'https://deploy:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/matrix.git' } } }, 'gitops.repository.url'],
    ['a bare token as the URL user', { gitops: { repository: { url: 'https://glpat-abcdefghij0123456789@gitlab.com/acme/matrix.git' } } }, 'gitops.repository.url'],
    [
      'S3 keys in the endpoint URL',
      { objectStorage: { provider: 'external', external: { endpoint: 'https://AKIAABCDEFGHIJKLMNOP:s3cr3tvalue@s3.eu-central-1.amazonaws.com' } } },
      'objectStorage.external.endpoint',
    ],
    ['a Slack token anywhere', { elementWeb: { brand: 'xoxb-1234567890-abcdefghij' } }, 'elementWeb.brand'],
  ];
  test.each(cases)('%s is a config error naming the field, without repeating the value', (_name, overrides, field) => {
    const problems = problemsOf(deepMerge(exampleInput(), overrides));
    expect(problems.some((problem) => problem.startsWith(`${field}:`))).toBe(true);
    const text = problems.join('\n');
    for (const secret of ['ghp_abcdefghij', 'glpat-abcdefghij', 's3cr3tvalue', 'AKIAABCDEFGHIJKLMNOP', 'xoxb-1234567890']) expect(text).not.toContain(secret);
  });

  test('ssh URLs name a user, not a secret; plain https URLs pass', () => {
    expect(credentialProblems({ url: 'ssh://git@github.com/acme/matrix.git' })).toEqual([]);
    expect(credentialProblems({ url: 'git@github.com:acme/matrix.git' })).toEqual([]);
    expect(credentialProblems({ url: 'https://github.com/acme/matrix.git' })).toEqual([]);
    expect(credentialProblems({ url: 'ssh://git:hunter2@github.com/acme/matrix.git' })).toHaveLength(1);
  });
});

describe('placeholders', () => {
  test('every example value of the example config is found, by field path', () => {
    const paths = configPlaceholders(parseConfig(exampleInput())).map((placeholder) => placeholder.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'serverName',
        'hosts.matrix',
        'hosts.element',
        'hosts.turn',
        'gitops.repository.url',
        'tls.acmeEmail',
        'calls.coturn.nodes.0.externalIp',
        'calls.coturn.nodes.1.externalIp',
        'synapse.image',
      ]),
    );
  });

  test('documentation ranges and example domains of every kind are caught; real ones are not', () => {
    const found = placeholdersIn({
      a: '192.0.2.10',
      b: '198.51.100.0/24',
      c: '203.0.113.5-203.0.113.9',
      d: '2001:db8::1',
      e: 'ops@example.com',
      f: 'matrix.example.net',
      g: 'host.test',
      h: '94.130.17.41',
      i: 'matrix.oakharbour.net',
      j: '2a01:4f8::1',
      k: '10.0.0.0/8',
    }).map((placeholder) => placeholder.path);
    expect(found).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  test('the realistic fixture has no placeholder, and its image is not the placeholder image', () => {
    const config = parseConfig(realisticInput());
    expect(configPlaceholders(config)).toEqual([]);
    expect(config.synapse.image?.repository).not.toBe(SYNAPSE_IMAGE_PLACEHOLDER);
  });
});

describe('command lines', () => {
  const spec = {
    usage: 'x',
    description: 'x',
    options: { config: { takesValue: true, help: 'x' }, strict: { help: 'x' }, rotate: { takesValue: true, repeatable: true, help: 'x' } },
  };
  test('a mistyped flag is an error naming the known ones', () => {
    expect(() => parseArguments(['--confg', 'x.yaml'], spec)).toThrow(CommandLineError);
    expect(() => parseArguments(['--confg', 'x.yaml'], spec)).toThrow('unknown option "--confg"; expected one of --config, --strict, --rotate, --help');
  });
  test('values, switches, repeats, and their mistakes', () => {
    const parsed = parseArguments(['--config=a.yaml', '--strict', '--rotate', 'x', '--rotate', 'y'], spec);
    expect(parsed.options).toMatchObject({ config: 'a.yaml', strict: 'true' });
    expect(parsed.lists.rotate).toEqual(['x', 'y']);
    expect(() => parseArguments(['--config'], spec)).toThrow('--config needs a value');
    expect(() => parseArguments(['--strict=yes'], spec)).toThrow('--strict takes no value');
    expect(() => parseArguments(['extra'], spec)).toThrow('unexpected argument "extra"');
  });
});

/** The npm scripts as a user runs them (synth, secrets and plan from the fresh bundle, the others through tsx). */
function run(script: string, args: string[]) {
  const viaBundle = ['main.ts', 'scripts/secrets.ts', 'scripts/plan.ts'].includes(script);
  const result = viaBundle
    ? runEntry(script, args)
    : spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, script), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MATRIX_CONFIG: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe('npm run synth as a user runs it', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'synth-'));
  writeFileSync(path.join(out, 'marker'), 'untouched');

  test('every script answers --help; the ones that write refuse an unknown flag without writing anything', () => {
    for (const script of ['main.ts', 'scripts/plan.ts', 'scripts/secrets.ts', 'scripts/validate.ts', 'scripts/schema.ts', 'scripts/bench.ts', 'scripts/capacity-measured.ts', 'scripts/vendor-schemas.ts']) {
      const help = run(script, ['--help']);
      expect({ script, status: help.status }).toEqual({ script, status: 0 });
      expect(help.stdout).toContain('usage:');
    }
    // The parser itself is unit-tested above; these prove each writing command goes through it.
    for (const script of ['main.ts', 'scripts/secrets.ts', 'scripts/plan.ts']) {
      const wrong = run(script, ['--confg', 'x.yaml', '--out', out]);
      expect({ script, status: wrong.status }).toEqual({ script, status: 2 });
      expect(wrong.stderr).toContain('unknown option "--confg"');
    }
    expect(listing(out)).toEqual(['marker']);
  }, 120_000);

  test('--strict on the example fails listing every placeholder and leaves the output folder as it was', () => {
    const result = run('main.ts', ['--strict', '--out', out, '--config', path.join(ROOT, 'config/deployment.example.yaml')]);
    expect(result.status).toBe(2);
    for (const field of ['serverName', 'tls.acmeEmail', 'gitops.repository.url', 'calls.coturn.nodes.0.externalIp', 'synapse.image']) {
      expect(result.stderr).toContain(`  - ${field}: `);
    }
    expect(result.stderr).toContain('dist/ was left unchanged.');
    expect(listing(out)).toEqual(['marker']);
  }, 60_000);

  test('without --strict the example synthesizes and warns for each placeholder, naming the image field', () => {
    const target = mkdtempSync(path.join(tmpdir(), 'synth-'));
    const result = run('main.ts', ['--out', target, '--config', path.join(ROOT, 'config/deployment.example.yaml')]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/warning: example value at synapse\.image: .*build-synapse-image\.sh/);
    expect(result.stderr).toContain('warning: example value at tls.acmeEmail: "ops@example.org"');
  }, 60_000);

  test('a realistic config passes --strict with no warning', () => {
    const target = mkdtempSync(path.join(tmpdir(), 'synth-'));
    const result = run('main.ts', ['--strict', '--out', target, '--config', REALISTIC]);
    expect(result.stderr).not.toContain('warning');
    expect(result.status).toBe(0);
  }, 60_000);

  test('a token in the GitOps URL exits non-zero naming the field; the output folder is unchanged', () => {
    const config = path.join(out, '..', `leaky-${process.pid}.yaml`);
    writeFileSync(config, yaml.dump(deepMerge(realisticInput(), { gitops: { repository: { url: 'https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b.git' } } })));
    const result = run('main.ts', ['--out', out, '--config', config]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('gitops.repository.url: found a URL with a user name and password');
    expect(result.stderr).not.toContain('ghp_abcdefghij');
    expect(listing(out)).toEqual(['marker']);
  }, 60_000);
});

test('self-contained: no file of the repository reads or names anything beside it', () => {
  // Built from parts so this file does not match itself.
  const outside = ['..', 'shared'].join('/');
  const result = spawnSync('git', ['grep', '-l', '-F', outside, '--', '.', ':!package-lock.json'], { cwd: ROOT, encoding: 'utf8' });
  expect(result.error).toBeUndefined();
  expect(result.stdout.trim()).toBe('');
});

test('one requirements list: the image installs what the integration venv runs, at the pinned versions', () => {
  const requirements = readFileSync(path.join(ROOT, 'images/synapse/requirements.txt'), 'utf8');
  expect(requirements).toMatch(new RegExp(`^synapse-s3-storage-provider==${S3_STORAGE_PROVIDER_VERSION.replace(/\./g, '\\.')}$`, 'm'));
  for (const line of requirements.split('\n').filter((entry) => entry && !entry.startsWith('#'))) expect(line).toMatch(/^[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*$/);
  const dockerfile = readFileSync(path.join(ROOT, 'images/synapse/Dockerfile'), 'utf8');
  expect(dockerfile).toContain(`ARG SYNAPSE_VERSION=${SYNAPSE_VERSION}\n`);
  expect(dockerfile).toContain(`FROM ${images.synapseUpstream.repository}:v\${SYNAPSE_VERSION}\n`);
  expect(dockerfile).toMatch(/pip install --no-cache-dir -r \/tmp\/synapse-s3-requirements\.txt/);
  expect(readFileSync(path.join(ROOT, 'test/integration/venv.sh'), 'utf8')).toContain('images/synapse/requirements.txt');
  expect(images.synapse.tag).toBe(`v${SYNAPSE_VERSION}-s3-${S3_STORAGE_PROVIDER_VERSION}`);
});
