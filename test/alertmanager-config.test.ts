import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { alertmanagerConfig } from '../lib/model/alert-routing';
import { AMTOOL_VERSION } from '../lib/versions';
import { configWith } from './helpers';
import { reportSkip } from './support/skips';

/**
 * The generated alertmanager.yaml loaded by the real `amtool check-config`. Needs amtool 0.26 or newer
 * (webhook url_file): Debian bookworm ships 0.25, so `bash scripts/build-amtool.sh` installs the pinned
 * release (AMTOOL_VERSION) into the cache, where this test finds it. Skipped loudly without it.
 */

const CACHED_AMTOOL = path.join(process.env.MATRIX_IT_CACHE ?? '/var/cache/matrix-platform-it', `amtool-${AMTOOL_VERSION}`, 'amtool');
const AMTOOL = existsSync(CACHED_AMTOOL) ? CACHED_AMTOOL : 'amtool';

const RECEIVER_VARIANTS: Record<string, Record<string, unknown>> = {
  'e-mail with SMTP auth and webhook': {
    enabled: true,
    email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'smtp.example.org:587', username: 'alerts' },
    webhook: {},
  },
  // undefined removes what the example config sets.
  'unauthenticated relay only': {
    enabled: true,
    email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'relay.example.org:25', username: undefined, requireTls: false },
    webhook: undefined,
  },
  'webhook only': { enabled: true, email: undefined, webhook: { sendResolved: false } },
};

function checkConfig(document: Record<string, unknown>): { ok: boolean; output: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'amtool-')), 'alertmanager.yaml');
  writeFileSync(file, yaml.dump(document, { lineWidth: -1, noRefs: true }));
  const result = spawnSync(AMTOOL, ['check-config', file], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** amtool runs and knows webhook url_file (0.26+; `go install` builds report no version, so the feature is probed). */
function amtoolUsable(): 'ok' | 'missing' | 'too old' {
  if (spawnSync(AMTOOL, ['--version'], { encoding: 'utf8' }).status !== 0) return 'missing';
  const probe = checkConfig({ route: { receiver: 'r' }, receivers: [{ name: 'r', webhook_configs: [{ url_file: '/dev/null' }] }] });
  return probe.ok ? 'ok' : 'too old';
}

const availability = amtoolUsable();
const usable = availability === 'ok';
if (!usable) {
  reportSkip(
    'amtool check-config of the generated Alertmanager configuration',
    availability === 'missing' ? 'amtool not installed (bash scripts/build-amtool.sh)' : 'amtool older than 0.26: no webhook url_file (bash scripts/build-amtool.sh)',
  );
}
const amtoolTest = usable ? test : test.skip;

describe('Alertmanager configuration', () => {
  for (const [name, alertmanager] of Object.entries(RECEIVER_VARIANTS)) {
    amtoolTest(`amtool check-config accepts it (${name})`, () => {
      const result = checkConfig(alertmanagerConfig(configWith({ monitoring: { alertmanager } })));
      if (!result.ok) console.error(result.output);
      expect(result.ok).toBe(true);
    });
  }

  amtoolTest('amtool refuses a planted mistake: a webhook with both url and url_file', () => {
    const document = alertmanagerConfig(configWith({ monitoring: { alertmanager: RECEIVER_VARIANTS['webhook only'] } })) as { receivers: { webhook_configs?: Record<string, unknown>[] }[] };
    const webhook = document.receivers.find((receiver) => receiver.webhook_configs)?.webhook_configs?.[0];
    if (webhook) webhook.url = 'https://hooks.example.org/x';
    const result = checkConfig(document);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/url/);
  });
});
