import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DistFiles } from '../lib/synth';
import { render } from './helpers';
import { reportSkip } from './support/skips';
import { CHECKOV_VERSION } from '../lib/versions';

/**
 * checkov (pinned in scripts/checkov.sh, cached virtualenv) over the rendered manifests of several
 * config variants: no finding without an exception annotation. And the gate is real: the same output
 * with one exception annotation removed fails, naming the check. `.ci/run` installs checkov first;
 * elsewhere `bash scripts/checkov.sh --install` does.
 */

const VENV = path.join(process.env.MATRIX_IT_CACHE ?? '/var/cache/matrix-platform-it', `checkov-${CHECKOV_VERSION}`);
const installed = existsSync(path.join(VENV, '.complete'));
if (!installed) {
  // Loud: a skipped scanner check must be visible in the test log.
  reportSkip('checkov over rendered config variants', `${VENV} is not installed (bash scripts/checkov.sh --install)`);
}
const describeIfCheckov = installed ? describe : describe.skip;

function writeDist(files: DistFiles): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'checkov-dist-'));
  for (const [file, content] of files) {
    mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
    writeFileSync(path.join(directory, file), content);
  }
  return directory;
}

function checkov(directory: string): { status: number | null; output: string } {
  const result = spawnSync('bash', [path.join(__dirname, '..', 'scripts', 'checkov.sh'), directory], { encoding: 'utf8', timeout: 240_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const VARIANTS: [string, Record<string, unknown>][] = [
  ['calls off, external S3, ingress-nginx', { calls: { enabled: false }, edge: { controller: 'ingress-nginx' }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } } }],
  [
    'bigger pools, single replicas, TURN over TLS (DNS-01)',
    {
      synapse: { workers: { sync: { count: 3 }, initialSync: { count: 2 } }, routerReplicas: 3 },
      elementWeb: { replicas: 3 },
      adminUi: { replicas: 3 },
      tls: { dns01: { cloudflare: { apiTokenSecretRef: { name: 'cloudflare-api-token', key: 'api-token' } } } },
    },
  ],
];

describeIfCheckov(`checkov ${CHECKOV_VERSION}`, () => {
  const directories: string[] = [];
  afterAll(() => directories.forEach((directory) => rmSync(directory, { recursive: true, force: true })));

  test.each(VARIANTS)('no unexplained finding: %s', (_, overrides) => {
    const directory = writeDist(render(overrides).files);
    directories.push(directory);
    const result = checkov(directory);
    expect([result.status, result.output]).toEqual([0, expect.stringMatching(/Failed checks: 0,/)]);
  }, 300_000);

  test('removing one exception annotation fails the scan and names the check', () => {
    const { files } = render();
    const file = 'stages/40-apps/coturn.yaml';
    const original = files.get(file) ?? '';
    const planted = original.replace(/^ {4}checkov\.io\/skip\d+: "?CKV_K8S_19=.*\n/m, '');
    expect(planted).not.toBe(original);
    const directory = writeDist(new Map([...files, [file, planted]]));
    directories.push(directory);
    const result = checkov(directory);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/CKV_K8S_19/);
    expect(result.output).toMatch(/Failed checks: 1,/);
  }, 300_000);
});

test('every exception annotation in the output names a check and gives a reason', () => {
  const { objects } = render();
  let count = 0;
  for (const object of objects) {
    for (const [key, value] of Object.entries(object.metadata?.annotations ?? {})) {
      if (!key.startsWith('checkov.io/skip')) continue;
      count++;
      expect([object.metadata?.name, value]).toEqual([object.metadata?.name, expect.stringMatching(/^CKV_K8S_[0-9]+=[^=\n]{20,}$/)]);
    }
  }
  expect(count).toBeGreaterThan(0);
});
