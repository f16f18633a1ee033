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

function writeDist(files: DistFiles, directory: string): void {
  for (const [file, content] of files) {
    mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
    writeFileSync(path.join(directory, file), content);
  }
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

/** One failed check of a scan, by the scanned folder's subfolder it was found in. */
interface Finding {
  readonly check: string;
  readonly subfolder: string;
  readonly file: string;
}

/** The failed checks of checkov's compact CLI output, each with the subfolder (of the scanned folder) it lies in. */
function findingsOf(output: string): Finding[] {
  return [...output.matchAll(/^Check: (CKV\w*_\d+):.*\n\s*FAILED for resource: .*\n\s*File: \/([^/\n]+)\/([^:\n]+):/gm)].map(([, check, subfolder, file]) => ({ check, subfolder, file }));
}

/** The `Failed checks: N` of the summary, or undefined when checkov printed none (it did not finish). */
function failedCount(output: string): number | undefined {
  const match = /Failed checks: (\d+),/.exec(output);
  return match ? Number(match[1]) : undefined;
}

describeIfCheckov(`checkov ${CHECKOV_VERSION}`, () => {
  // One scan of a folder holding every variant and the planted output in subfolders: checkov's start-up
  // (about 3 s of CPU) is paid once, not per folder. Findings are attributed by subfolder, and every
  // finding of the summary must be attributed, so none can hide from the tests below. (Several
  // --directory arguments do not work for this: checkov then scans only one of two files with the same
  // relative path.)
  const PLANTED = 'planted';
  const PLANTED_FILE = 'stages/40-apps/coturn.yaml';
  const subfolderOf = (index: number) => `variant-${index + 1}`;
  let root: string | undefined;
  let scan: { status: number | null; output: string; findings: Finding[] } | undefined;

  function scanned() {
    if (scan) return scan;
    root = mkdtempSync(path.join(tmpdir(), 'checkov-dist-'));
    VARIANTS.forEach(([, overrides], index) => writeDist(render(overrides).files, path.join(root!, subfolderOf(index))));
    const { files } = render();
    writeDist(new Map([...files, [PLANTED_FILE, plantedOutput(files.get(PLANTED_FILE) ?? '')]]), path.join(root, PLANTED));
    const result = checkov(root);
    const findings = findingsOf(result.output);
    scan = { ...result, findings };
    return scan;
  }

  /** The coturn manifest without its exception for CKV_K8S_19 (host network). */
  function plantedOutput(original: string): string {
    return original.replace(/^ {4}checkov\.io\/skip\d+: "?CKV_K8S_19=.*\n/m, '');
  }

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test.each(VARIANTS.map(([name], index) => [name, index] as const))('no unexplained finding: %s', (_, index) => {
    const { status, output, findings } = scanned();
    // Exit status 1 is the planted finding; anything else (or no summary) means checkov did not finish.
    expect([status, failedCount(output)]).toEqual([1, findings.length]);
    expect(findings.filter((finding) => finding.subfolder === subfolderOf(index))).toEqual([]);
  }, 300_000);

  test('removing one exception annotation fails the scan and names the check', () => {
    const original = render().files.get(PLANTED_FILE) ?? '';
    expect(plantedOutput(original)).not.toBe(original);
    const { status, output, findings } = scanned();
    expect(status).not.toBe(0);
    expect(output).toMatch(/CKV_K8S_19/);
    expect(failedCount(output)).toBe(findings.length);
    expect(findings.filter((finding) => finding.subfolder === PLANTED)).toEqual([{ check: 'CKV_K8S_19', subfolder: PLANTED, file: PLANTED_FILE }]);
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
