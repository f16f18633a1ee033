import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { readDist } from '../lib/dist-files';
import { catalogueValueIds, externalValueSources, POSTGRES, SECRET_VALUES, secretCatalogue } from '../lib/model';
import { generateValue, providedValues, readExistingSecrets, SYNAPSE_SIGNING_KEY_FORMAT, synapseSigningKey, writeSecrets } from '../scripts/secrets';
import { configWith, find, objectsOf, render, ROOT, runEntry } from './helpers';
import { type Finding, referencedSecretNames, type ScannedObject, scanObjects, scanText } from './support/secret-scanner';

const EXTERNAL = { secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'vault-backend' } } };

describe('ExternalSecret objects (secrets.provider: external-secrets)', () => {
  test('manual (the default) renders no ExternalSecret and no Secret', () => {
    const { objects } = render();
    expect(find(objects, 'ExternalSecret')).toHaveLength(0);
    expect(find(objects, 'Secret')).toHaveLength(0);
  });

  test('one ExternalSecret per catalogue Secret, remote keys prefixed by value id, in stage 20-platform', () => {
    const { objects, config, files } = render(EXTERNAL);
    const catalogue = secretCatalogue(config);
    const externalSecrets = find(objects, 'ExternalSecret');
    expect(externalSecrets).toHaveLength(catalogue.length);
    expect([...files.keys()]).toContain('stages/20-platform/secrets.yaml');
    for (const spec of catalogue) {
      const [object] = find(objects, 'ExternalSecret', spec.name, spec.namespace);
      const body = object.spec as { secretStoreRef: { kind: string; name: string }; target: { name: string }; data: { secretKey: string; remoteRef: { key: string } }[] };
      expect(body.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'vault-backend' });
      expect(body.target.name).toBe(spec.name);
      if (!spec.templates) {
        expect(body.data).toEqual(Object.entries(spec.data).map(([secretKey, id]) => ({ secretKey, remoteRef: { key: `matrix/${id}` } })));
      }
    }
  });

  test('shared values use one remote key everywhere (Valkey password in Synapse and Valkey namespaces)', () => {
    const { objects } = render(EXTERNAL);
    const keys = find(objects, 'ExternalSecret').flatMap((object) =>
      (object.spec as { data: { remoteRef: { key: string } }[] }).data.map((entry) => entry.remoteRef.key),
    );
    expect(keys.filter((key) => key === `matrix/${SECRET_VALUES.valkeySynapsePassword.id}`)).toHaveLength(2);
  });

  test('template keys become target.template with Go-template lookups (MinIO config.env)', () => {
    const { objects } = render(EXTERNAL);
    const [minio] = find(objects, 'ExternalSecret', 'minio-config-env', 'minio');
    const spec = minio.spec as { data: { secretKey: string }[]; target: { template: { engineVersion: string; data: Record<string, string> } } };
    expect(spec.target.template.engineVersion).toBe('v2');
    expect(spec.target.template.data['config.env']).toContain(`MINIO_ROOT_PASSWORD="{{ index . "${SECRET_VALUES.objectStorageSecretKey.id}" }}"`);
    expect(spec.data.map((entry) => entry.secretKey).sort()).toEqual([SECRET_VALUES.objectStorageAccessKey.id, SECRET_VALUES.objectStorageSecretKey.id]);
  });

  test('store kind, prefix and refresh interval follow the config; calls off and external S3 drop their Secrets', () => {
    const { objects } = render({
      secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'team-store', storeKind: 'SecretStore', remoteKeyPrefix: 'prod/matrix-', refreshInterval: '15m' } },
      calls: { enabled: false },
      objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } },
    });
    const all = find(objects, 'ExternalSecret');
    expect(all.length).toBeGreaterThan(0);
    for (const object of all) {
      const spec = object.spec as { refreshInterval: string; secretStoreRef: { kind: string; name: string }; data: { remoteRef: { key: string } }[] };
      expect(spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'team-store' });
      expect(spec.refreshInterval).toBe('15m');
      for (const entry of spec.data) expect(entry.remoteRef.key.startsWith('prod/matrix-')).toBe(true);
    }
    const namespaces = new Set(all.map((object) => object.metadata.namespace));
    expect(namespaces.has('livekit')).toBe(false);
    expect(namespaces.has('minio')).toBe(false);
  });
});

/**
 * Values issued elsewhere already in the folder (as an operator may write them, or as a previous run
 * left them): a re-run keeps them like any other value.
 */
function seedSupplied(dir: string, config: ReturnType<typeof configWith>): void {
  const supplied = new Set(Object.values(SECRET_VALUES).filter((value) => value.generator === 'external').map((value) => value.id as string));
  const manifests = secretCatalogue(config)
    .map((spec) => ({ spec, keys: Object.entries(spec.data).filter(([, id]) => supplied.has(id)) }))
    .filter(({ keys }) => keys.length > 0)
    .map(({ spec, keys }) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: spec.name, namespace: spec.namespace },
      stringData: Object.fromEntries(keys.map(([key, id]) => [key, `supplied-${id}-Zx81`])),
    }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'supplied.yaml'), manifests.map((manifest) => yaml.dump(manifest)).join('---\n'));
}

describe('npm run secrets', () => {
  const config = configWith();
  const quiet = () => undefined;

  function decodedSecrets(dir: string): Map<string, Record<string, string>> {
    const result = new Map<string, Record<string, string>>();
    for (const secret of readExistingSecrets(dir)) {
      const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
      result.set(`${secret.metadata.namespace}/${secret.metadata.name}`, data);
    }
    return result;
  }

  test('generators: random values are distinct, identifiers alphanumeric, the signing key is a valid ed25519 seed', () => {
    expect(generateValue('random')).not.toBe(generateValue('random'));
    expect(Buffer.from(generateValue('random'), 'base64url')).toHaveLength(32);
    expect(generateValue('identifier')).toMatch(/^[A-Za-z0-9]{20}$/);
    const key = synapseSigningKey();
    expect(key).toMatch(SYNAPSE_SIGNING_KEY_FORMAT);
    const seed = Buffer.from(key.split(' ')[2], 'base64');
    expect(seed).toHaveLength(32);
    // The seed must rebuild a usable key: PKCS#8 prefix for ed25519 + the 32-byte seed.
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    expect(createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).asymmetricKeyType).toBe('ed25519');
  });

  test('writes one file per namespace with every catalogue Secret; shared values are identical; files are private', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'out');
    seedSupplied(dir, config);
    writeSecrets({ outDir: dir, config, rotate: [], bundle: false, log: quiet });
    rmSync(path.join(dir, 'supplied.yaml'));
    const catalogue = secretCatalogue(config);
    const secrets = decodedSecrets(dir);
    expect(secrets.size).toBe(catalogue.length);
    expect(readdirSync(dir).sort()).toEqual([...new Set(catalogue.map((spec) => `${spec.namespace}.yaml`)), 'README.md'].sort());
    expect(statSync(path.join(dir, 'matrix.yaml')).mode & 0o077).toBe(0);
    for (const spec of catalogue) {
      for (const [key] of Object.entries(spec.data)) expect(secrets.get(`${spec.namespace}/${spec.name}`)?.[key]).toBeTruthy();
    }
    expect(secrets.get('redis-synapse/valkey-auth')?.password).toBe(secrets.get('matrix/synapse-redis-password')?.password);
    expect(secrets.get('coturn/coturn-shared-secret')?.secret).toBe(secrets.get('matrix/coturn-shared-secret')?.secret);
    const s3 = secrets.get(`${POSTGRES.namespace}/object-storage-credentials`);
    const minio = secrets.get('minio/minio-config-env')?.['config.env'];
    expect(minio).toContain(`MINIO_ROOT_PASSWORD="${s3?.AWS_SECRET_ACCESS_KEY}"`);
    expect(minio).toContain(`MINIO_ROOT_USER="${s3?.AWS_ACCESS_KEY_ID}"`);
    expect(secrets.get('matrix/synapse-signing-key')?.['signing.key']).toMatch(SYNAPSE_SIGNING_KEY_FORMAT);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('kubectl apply -f');
  });

  test('values only the operator has (alert receivers) are never generated: missing ones are named, supplied ones kept', () => {
    const alerting = configWith({
      monitoring: { alertmanager: { enabled: true, email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'smtp.example.org:587', username: 'alerts' }, webhook: {} } },
    });
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'out');
    expect(() => writeSecrets({ outDir: dir, config: alerting, rotate: [], bundle: false, log: quiet })).toThrow(
      'values issued elsewhere are missing: alertmanager-smtp-password (MATRIX_ALERT_SMTP_PASSWORD), alertmanager-webhook-url (MATRIX_ALERT_WEBHOOK_URL)',
    );
    expect(existsSync(path.join(dir, 'monitoring.yaml'))).toBe(false);
    const supplied = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'alertmanager-receivers', namespace: 'monitoring' }, stringData: { 'smtp-password': 'smtp-pass', 'webhook-url': 'https://hooks.example.org/T0KEN' } };
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'supplied.yaml'), yaml.dump(supplied));
    const plan = writeSecrets({ outDir: dir, config: alerting, rotate: [], bundle: false, log: quiet });
    expect(plan.actions.get(SECRET_VALUES.alertSmtpPassword.id)).toBe('kept');
    // The hand-written file can go: the values now live in the generated monitoring.yaml and are kept from there.
    rmSync(path.join(dir, 'supplied.yaml'));
    expect(decodedSecrets(dir).get('monitoring/alertmanager-receivers')).toEqual({ 'smtp-password': 'smtp-pass', 'webhook-url': 'https://hooks.example.org/T0KEN' });
    expect(writeSecrets({ outDir: dir, config: alerting, rotate: [], bundle: false, log: quiet }).actions.get(SECRET_VALUES.alertWebhookUrl.id)).toBe('kept');
    expect(() => writeSecrets({ outDir: dir, config: alerting, rotate: [SECRET_VALUES.alertWebhookUrl.id], bundle: false, log: quiet })).toThrow(/issued elsewhere; give the new one as MATRIX_ALERT_WEBHOOK_URL/);
    expect(() => generateValue('external')).toThrow();
  });

  test('re-running keeps every value; --rotate replaces exactly one value in every Secret carrying it; unknown ids fail', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'out');
    seedSupplied(dir, config);
    writeSecrets({ outDir: dir, config, rotate: [], bundle: true, log: quiet });
    rmSync(path.join(dir, 'supplied.yaml'));
    const first = decodedSecrets(dir);
    const plan = writeSecrets({ outDir: dir, config, rotate: [], bundle: true, log: quiet });
    expect([...plan.actions.values()].every((action) => action === 'kept')).toBe(true);
    expect(decodedSecrets(dir)).toEqual(first);

    const rotated = writeSecrets({ outDir: dir, config, rotate: [SECRET_VALUES.valkeySynapsePassword.id], bundle: true, log: quiet });
    expect(rotated.actions.get(SECRET_VALUES.valkeySynapsePassword.id)).toBe('rotated');
    const after = decodedSecrets(dir);
    expect(after.get('redis-synapse/valkey-auth')?.password).not.toBe(first.get('redis-synapse/valkey-auth')?.password);
    expect(after.get('matrix/synapse-redis-password')?.password).toBe(after.get('redis-synapse/valkey-auth')?.password);
    expect(after.get('matrix/synapse-secrets')).toEqual(first.get('matrix/synapse-secrets'));
    expect(() => writeSecrets({ outDir: dir, config, rotate: ['no-such-value'], bundle: true, log: quiet })).toThrow(/not a secret value/);
  });

  test('adds values missing after a config change (calls enabled later) and refuses copies that disagree', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'out');
    seedSupplied(dir, config);
    writeSecrets({ outDir: dir, config: configWith({ calls: { enabled: false } }), rotate: [], bundle: false, log: quiet });
    rmSync(path.join(dir, 'supplied.yaml'));
    const before = decodedSecrets(dir);
    const plan = writeSecrets({ outDir: dir, config, rotate: [], bundle: false, log: quiet });
    expect(plan.actions.get(SECRET_VALUES.livekitApiSecret.id)).toBe('generated');
    expect(plan.actions.get(SECRET_VALUES.macaroonSecretKey.id)).toBe('kept');
    expect(decodedSecrets(dir).get('matrix/synapse-secrets')).toEqual(before.get('matrix/synapse-secrets'));

    const file = path.join(dir, 'redis-synapse.yaml');
    const tampered = (yaml.loadAll(readFileSync(file, 'utf8')) as { data: Record<string, string> }[]).map((secret) => ({
      ...secret,
      data: { ...secret.data, password: Buffer.from('different').toString('base64') },
    }));
    writeFileSync(file, tampered.map((doc) => yaml.dump(doc)).join('---\n'));
    expect(() => writeSecrets({ outDir: dir, config, rotate: [], bundle: false, log: quiet })).toThrow(/disagree on valkey-synapse-password/);
  });

  test('the CLI never prints a value and refuses a folder Git would track', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'secrets-cli-'));
    const out = path.join(work, 'out');
    // The example config (a fork's own config/deployment.yaml may need no value from outside).
    const example = ['--config', path.join(ROOT, 'config/deployment.example.yaml')];
    const refused = runEntry('scripts/secrets.ts', ['--out', out, ...example]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('values issued elsewhere are missing: alertmanager-smtp-password (MATRIX_ALERT_SMTP_PASSWORD)');
    seedSupplied(out, configWith());
    const result = runEntry('scripts/secrets.ts', ['--out', out, ...example]);
    expect(result.status).toBe(0);
    rmSync(path.join(out, 'supplied.yaml'));
    const values = [...decodedSecrets(out).values()].flatMap((data) => Object.values(data)).filter((value) => value !== 'admin');
    expect(values.length).toBeGreaterThan(10);
    for (const value of values) {
      expect(result.stdout).not.toContain(value);
      expect(result.stderr).not.toContain(value);
    }
    expect(result.stdout).toContain('generated synapse-signing-key');

    expect(spawnSync('git', ['init', '-q', work]).status).toBe(0);
    const tracked = runEntry('scripts/secrets.ts', ['--out', path.join(work, 'tracked')]);
    expect(tracked.status).toBe(2);
    expect(tracked.stderr).toMatch(/not ignored/);
    expect(existsSync(path.join(work, 'tracked'))).toBe(false);
  });

  test('every catalogue value has a generator', () => {
    const ids = new Set(Object.values(SECRET_VALUES).map((value) => value.id));
    for (const id of catalogueValueIds(secretCatalogue(config))) expect(ids.has(id as (typeof SECRET_VALUES)[keyof typeof SECRET_VALUES]["id"])).toBe(true);
  });
});

describe('no secret value in dist/ or synth logs', () => {
  function scanRendered(objects: ScannedObject[], extraSecretNames: string[] = []): Finding[] {
    const secretNames = new Set([...referencedSecretNames(objects), ...extraSecretNames]);
    return scanObjects(objects, { secretNames });
  }

  const catalogueNames = (overrides: Record<string, unknown>) => secretCatalogue(configWith(overrides)).map((spec) => spec.name);

  test.each([
    ['the example config', {}],
    ['external-secrets, calls off, external S3, argocd', { ...EXTERNAL, calls: { enabled: false }, gitops: { engine: 'argocd' }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } } }],
    ['helm-controller and ingress-nginx', { gitops: { engine: 'helm-controller' }, edge: { controller: 'ingress-nginx' } }],
    [
      'Alertmanager with e-mail and webhook receivers, external-secrets',
      { ...EXTERNAL, monitoring: { alertmanager: { enabled: true, email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'smtp.example.org:587', username: 'alerts' }, webhook: {} } } },
    ],
  ])('%s', (_, overrides) => {
    const { files } = render(overrides);
    expect(scanRendered(objectsOf(files) as unknown as ScannedObject[], catalogueNames(overrides))).toEqual([]);
  });

  test('npm run synth (child process): all of the written dist/ and its stdout/stderr are clean', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'synth-scan-')), 'dist');
    const result = runEntry('main.ts', ['--out', out]);
    expect(result.status).toBe(0);
    const files = readDist(out);
    expect(files.size).toBeGreaterThan(2);
    expect(scanRendered(objectsOf(files) as unknown as ScannedObject[], catalogueNames({}))).toEqual([]);
    expect([...scanText(result.stdout, 'stdout'), ...scanText(result.stderr, 'stderr')]).toEqual([]);
  });
});

describe('the scanner catches planted secrets', () => {
  const planted = (object: Record<string, unknown>): Finding[] => scanObjects([{ file: 'planted.yaml', object }], { secretNames: new Set(['synapse-secrets']) });
  const configMap = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'matrix' }, data });
  const deployment = (env: unknown[]) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'matrix' },
    spec: { template: { spec: { containers: [{ name: 'x', image: 'x:1', env }] } } },
  });

  test.each<[string, Record<string, unknown>, Finding['rule']]>([
    ['a Secret with data', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'aGVsbG8=' } }, 'secret-with-data'],
    ['a Secret with stringData', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: 'b' } }, 'secret-with-data'],
    ['a generated random value in a ConfigMap', configMap({ 'app.conf': `listen 8080\nopaque ${generateValue('random')}\n` }), 'high-entropy'],
    ['a literal key inside a credentials file template', { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'e' }, spec: { target: { template: { data: { credentials: '[default]\naws_access_key_id = {{ index . "id" }}\naws_secret_access_key = hunter2hunter2\n' } } } } }, 'password-literal'],
    ['a random value behind a checkov check id', configMap({ 'note.txt': `CKV_K8S_15=${generateValue('random')}\n` }), 'high-entropy'],
    ['a generated identifier+secret pair', configMap({ 'keys.yaml': `keys:\n  ${generateValue('identifier')}: ${generateValue('random')}\n` }), 'high-entropy'],
    ['a Synapse signing key', configMap({ 'signing.key': synapseSigningKey() }), 'signing-key'],
    ['a PEM private key', configMap({ 'tls.key': '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' }), 'pem-block'],
    ['an EC PEM key', configMap({ k: '-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----' }), 'pem-block'],
    ['a password literal in homeserver.yaml', configMap({ 'homeserver.yaml': 'server_name: example.org\nmacaroon_secret_key: hunter2\n' }), 'password-literal'],
    ['a password literal in key=value text', configMap({ 'config.env': 'MINIO_ROOT_USER=admin\nexport MINIO_ROOT_PASSWORD="letmein"\n' }), 'password-literal'],
    ['a password literal in redis.conf style', configMap({ 'valkey.conf': 'port 6379\nrequirepass: swordfish\n' }), 'password-literal'],
    ['a literal password env var', deployment([{ name: 'DB_PASSWORD', value: 'postgres' }]), 'password-literal'],
    ['a literal API secret env var', deployment([{ name: 'LIVEKIT_API_SECRET', value: 'devsecret' }]), 'password-literal'],
    ['a Helm value with a literal admin password', { apiVersion: 'x/v1', kind: 'HelmRelease', metadata: { name: 'g' }, spec: { values: { grafana: { adminPassword: 'prom-operator' } } } }, 'password-literal'],
    ['a password inside a Redis URL env var', deployment([{ name: 'LIVEKIT_REDIS_URL', value: 'redis://default:hunter2@valkey:6379/1' }]), 'url-credentials'],
    ['a password inside a URL in a config file', configMap({ 'app.yaml': 'database: postgres://synapse:letmein@db:5432/synapse\n' }), 'url-credentials'],
    ['a literal in helm-controller valuesContent', { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'g' }, spec: { valuesContent: 'auth:\n  rootPassword: minio123\n' } }, 'password-literal'],
  ])('%s', (_, object, rule) => {
    expect(planted(object).map((finding) => finding.rule)).toContain(rule);
  });

  test('references to secrets are not findings (paths, Secret names, secretKeyRef, templates, hex digests)', () => {
    const clean = [
      configMap({ 'homeserver.yaml': 'macaroon_secret_key_path: /secrets/macaroon\nregistration_shared_secret_path: /secrets/reg\nredis:\n  password_path: /secrets/redis\n' }),
      configMap({ 'haproxy.cfg': 'backend valkey\n  server a valkey-0:6379 check\n', image: 'sha256:0f5a2b0c3d2e1f00112233445566778899aabbccddeeff00112233445566778899' }),
      deployment([
        { name: 'LIVEKIT_SECRET_FROM_FILE', value: '/secrets/api-secret' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'synapse-redis-password', key: 'password' } } },
        { name: 'POSTGRES_PASSWORD_SECRET', value: 'synapse-secrets' },
        // Expanded by Kubernetes from the variable above it: the manifest holds only the reference.
        { name: 'REDIS_URL', value: 'redis://default:$(REDIS_PASSWORD)@valkey-master-proxy:6379/1' },
        { name: 'PLAIN_URL', value: 'https://matrix.example.org:8448/_matrix/key/v2/server' },
      ]),
      { apiVersion: 'x/v1', kind: 'HelmRelease', metadata: { name: 'g' }, spec: { values: { admin: { existingSecret: 'grafana-admin', passwordKey: 'admin-password' } } } },
    ];
    expect(clean.flatMap((object) => planted(object))).toEqual([]);
  });

  test('findings never contain the value', () => {
    const value = generateValue('random');
    const findings = planted(configMap({ a: `token ${value}` }));
    expect(findings.length).toBeGreaterThan(0);
    expect(JSON.stringify(findings)).not.toContain(value);
  });
});

describe('values issued elsewhere (external S3 keys, Git credentials)', () => {
  const quiet = () => undefined;
  // Without alert receivers, so that only the values under test come from outside.
  const NO_RECEIVERS = { monitoring: { alertmanager: { enabled: false } } };
  const S3 = { ...NO_RECEIVERS, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.eu-central-1.amazonaws.com', region: 'eu-central-1' } } };
  const GIT_HTTPS = { ...NO_RECEIVERS, gitops: { repository: { url: 'https://gitlab.com/acme/matrix.git', credentials: { secretName: 'matrix-git' } } } };
  const outDir = () => path.join(mkdtempSync(path.join(tmpdir(), 'secrets-')), 'out');
  const decoded = (dir: string, namespace: string, name: string) => {
    const secret = readExistingSecrets(dir).find((candidate) => candidate.metadata.namespace === namespace && candidate.metadata.name === name);
    return { labels: secret?.metadata.labels ?? {}, data: Object.fromEntries(Object.entries(secret?.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])) };
  };

  test('the S3 provider\'s keys are taken as given (file, then environment), never invented; missing ones stop everything', () => {
    const config = configWith(S3);
    expect([...externalValueSources(config).values()]).toEqual(['MATRIX_S3_ACCESS_KEY_ID', 'MATRIX_S3_SECRET_ACCESS_KEY']);
    const dir = outDir();
    expect(() => writeSecrets({ outDir: dir, config, rotate: [], bundle: false, log: quiet })).toThrow(
      'values issued elsewhere are missing: object-storage-access-key (MATRIX_S3_ACCESS_KEY_ID), object-storage-secret-key (MATRIX_S3_SECRET_ACCESS_KEY)',
    );
    expect(existsSync(dir)).toBe(false);
    const provided = providedValues(externalValueSources(config).values(), { MATRIX_S3_SECRET_ACCESS_KEY: 'from-env' }, 'MATRIX_S3_ACCESS_KEY_ID=AKIDFROMFILE\nMATRIX_S3_SECRET_ACCESS_KEY="from-file"\n');
    writeSecrets({ outDir: dir, config, rotate: [], bundle: false, provided, log: quiet });
    expect(decoded(dir, POSTGRES.namespace, 'object-storage-credentials').data).toEqual({
      AWS_ACCESS_KEY_ID: 'AKIDFROMFILE',
      AWS_SECRET_ACCESS_KEY: 'from-env',
      // The shared credentials file Synapse's S3 clients read is derived from the same two values.
      credentials: '[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = from-env\n',
    });
    expect(decoded(dir, 'monitoring', 'object-storage-credentials').data.AWS_ACCESS_KEY_ID).toBe('AKIDFROMFILE');
    // A re-run without them keeps them; rotating one is refused (it is not ours to generate).
    writeSecrets({ outDir: dir, config, rotate: [], bundle: false, log: quiet });
    expect(decoded(dir, POSTGRES.namespace, 'object-storage-credentials').data.AWS_ACCESS_KEY_ID).toBe('AKIDFROMFILE');
    expect(() => writeSecrets({ outDir: dir, config, rotate: ['object-storage-access-key'], bundle: false, log: quiet })).toThrow('give the new one as MATRIX_S3_ACCESS_KEY_ID');
  });

  test('Git credentials for Flux: the Secret the GitRepository names, with Flux\'s keys', () => {
    const config = configWith(GIT_HTTPS);
    const dir = outDir();
    const provided = providedValues(externalValueSources(config).values(), { MATRIX_GIT_USERNAME: 'deploy-bot', MATRIX_GIT_PASSWORD: 'token-value' });
    writeSecrets({ outDir: dir, config, rotate: [], bundle: false, provided, log: quiet });
    expect(decoded(dir, 'flux-system', 'matrix-git').data).toEqual({ username: 'deploy-bot', password: 'token-value' });
    const repository = find(render(GIT_HTTPS).objects, 'GitRepository')[0] as unknown as { spec: { secretRef?: { name: string } } };
    expect(repository.spec.secretRef).toEqual({ name: 'matrix-git' });
    expect(find(render().objects, 'GitRepository')[0]).not.toHaveProperty('spec.secretRef');
  });

  test('Git credentials for Argo CD: a labelled repository Secret matched by URL; ssh keys for an ssh URL', () => {
    const https = configWith({ ...GIT_HTTPS, gitops: { ...GIT_HTTPS.gitops, engine: 'argocd' } });
    const spec = secretCatalogue(https).find((candidate) => candidate.name === 'matrix-git');
    expect(spec).toMatchObject({ namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': 'repository' }, templates: { type: 'git', url: 'https://gitlab.com/acme/matrix.git' } });
    const ssh = configWith({ ...NO_RECEIVERS, gitops: { engine: 'argocd', repository: { url: 'git@gitlab.com:acme/matrix.git', credentials: { type: 'ssh' } } } });
    const dir = outDir();
    writeSecrets({ outDir: dir, config: ssh, rotate: [], bundle: false, provided: new Map([['MATRIX_GIT_SSH_PRIVATE_KEY', 'KEY\nLINES']]), log: quiet });
    const secret = decoded(dir, 'argocd', 'gitops-repository');
    expect(secret.labels['argocd.argoproj.io/secret-type']).toBe('repository');
    expect(secret.data).toEqual({ sshPrivateKey: 'KEY\nLINES', type: 'git', url: 'git@gitlab.com:acme/matrix.git' });
  });

  test('external-secrets mode names them as remote keys and labels the Argo CD Secret', () => {
    const { objects } = render({ ...EXTERNAL, ...S3, gitops: { ...GIT_HTTPS.gitops, engine: 'argocd' } });
    const remoteKeys = (find(objects, 'ExternalSecret') as unknown as { spec: { data: { remoteRef: { key: string } }[] } }[]).flatMap((secret) => secret.spec.data.map((entry) => entry.remoteRef.key));
    expect(remoteKeys).toEqual(expect.arrayContaining(['matrix/object-storage-access-key', 'matrix/object-storage-secret-key', 'matrix/git-username', 'matrix/git-password']));
    const git = find(objects, 'ExternalSecret', 'matrix-git', 'argocd')[0] as unknown as { spec: { target: { template: { metadata: { labels: Record<string, string> } } } } };
    expect(git.spec.target.template.metadata.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'repository' });
  });

  test('credentials that do not fit the config are config errors', () => {
    expect(() => configWith({ gitops: { engine: 'helm-controller', repository: { credentials: {} } } })).toThrow('gitops.repository.credentials: ');
    expect(() => configWith({ gitops: { repository: { url: 'ssh://git@gitlab.com/acme/matrix.git', credentials: { type: 'https' } } } })).toThrow('gitops.repository.credentials.type: ');
  });

  test('the command line never takes a value: no flag exists for one, and --help names the variables', () => {
    const help = runEntry('scripts/secrets.ts', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('MATRIX_S3_ACCESS_KEY_ID');
    expect(help.stdout).toContain('--credentials-file');
    const refused = runEntry('scripts/secrets.ts', ['--out', outDir(), '--s3-secret-key', 'x']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('unknown option "--s3-secret-key"');
  });
});
