import { operatorCreatedSecrets, secretCatalogue } from '../lib/model';
import type { KubeObject } from '../lib/synth';
import { render } from './helpers';
import { danglingReferences, walkSecrets } from './support/secret-references';

type Any = any;

const EXTERNAL_S3 = { objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net' } } };
const VARIANTS: [string, Record<string, unknown>][] = [
  ['the example config (in-cluster MinIO)', {}],
  ['external object storage', EXTERNAL_S3],
  ['ingress-nginx edge', { edge: { controller: 'ingress-nginx' } }],
  ['calls disabled', { calls: { enabled: false } }],
  ['Argo CD', { gitops: { engine: 'argocd' } }],
  ['k3s helm-controller', { gitops: { engine: 'helm-controller' } }],
  ['External Secrets', { secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'vault' } } }],
];

/** What creates Secrets besides cert-manager: the catalogue (npm run secrets / External Secrets) and operators. */
function createdOutsideDist(config: Parameters<typeof secretCatalogue>[0]) {
  return [...secretCatalogue(config), ...operatorCreatedSecrets()];
}

function dangling(objects: KubeObject[], config: Parameters<typeof secretCatalogue>[0]): string[] {
  return danglingReferences(walkSecrets(objects), createdOutsideDist(config));
}

describe('every Secret a manifest refers to is created by something', () => {
  test.each(VARIANTS)('%s: no dangling reference, no unrecognised secret field', (_name, overrides) => {
    const { objects, config } = render(overrides);
    const walk = walkSecrets(objects);
    expect(walk.unrecognised).toEqual([]);
    expect(walk.references.length).toBeGreaterThan(20);
    expect(danglingReferences(walk, createdOutsideDist(config))).toEqual([]);
  });

  test('the walker sees each kind of reference the in-cluster object store uses', () => {
    const references = walkSecrets(render().objects).references.map((ref) => `${ref.namespace}/${ref.name} ${ref.where}`);
    const expected = [
      /^matrix\/object-storage-ca ObjectStore matrix\/synapse-postgres-backups spec\.configuration\.endpointCA$/,
      /^matrix\/object-storage-credentials ObjectStore .* spec\.configuration\.s3Credentials$/,
      /^matrix\/object-storage-ca StatefulSet matrix\/synapse-media .*volumes\[\d+\]\.secret$/,
      /^monitoring\/object-storage-ca HelmRelease .*loki values\.singleBinary\.extraVolumes\[0\]\.secret$/,
      /^monitoring\/object-storage-credentials HelmRelease .*loki values\.singleBinary\.extraEnvFrom\[0\]\.secretRef$/,
      /^minio\/minio-config-env Tenant minio\/matrix-storage spec\.configuration$/,
      /^minio\/matrix-storage-tls Tenant minio\/matrix-storage spec\.externalCertSecret$/,
      /^minio\/matrix-storage-tls PodMonitor minio\/matrix-storage .*tlsConfig\.ca\.secret$/,
      /^cert-manager\/platform-internal-ca ClusterIssuer platform-internal-ca spec\.ca\.secretName$/,
      /^matrix\/synapse-postgres-app Deployment matrix\/synapse-main .*volumes\[\d+\]\.secret$/,
    ];
    for (const pattern of expected) expect([pattern, references.some((reference) => pattern.test(reference))]).toEqual([pattern, true]);
  });

  test('a planted reference to a Secret nobody creates fails', () => {
    const { objects, config } = render();
    const planted = structuredClone(objects) as Any[];
    const store = planted.find((object) => object.kind === 'ObjectStore');
    store.spec.configuration.endpointCA = { name: 'hand-made-ca', key: 'ca.crt' };
    expect(dangling(planted, config)).toEqual(['matrix/hand-made-ca (ObjectStore matrix/synapse-postgres-backups spec.configuration.endpointCA)']);
  });

  test('without the CA carrier Certificate of a namespace, its readers dangle (the former manual step)', () => {
    const { objects, config } = render();
    const withoutCarrier = objects.filter((object) => !(object.kind === 'Certificate' && object.metadata?.name === 'object-storage-ca' && object.metadata?.namespace === 'matrix'));
    const missing = dangling(withoutCarrier, config);
    expect(missing.length).toBeGreaterThan(1);
    for (const entry of missing) expect(entry).toMatch(/^matrix\/object-storage-ca /);
    expect(missing.some((entry) => entry.includes('ObjectStore'))).toBe(true);
  });

  test('a reference in the wrong namespace fails, as does an unknown secret-like field', () => {
    const { objects, config } = render();
    const planted = structuredClone(objects) as Any[];
    const loki = planted.find((object) => object.kind === 'HelmRelease' && object.metadata.name === 'loki');
    loki.spec.values.singleBinary.extraVolumes[0].secret.secretName = 'minio-config-env'; // exists, but in minio
    loki.spec.values.singleBinary.tokenSecretFile = { name: 'x' };
    const walk = walkSecrets(planted);
    expect(danglingReferences(walk, createdOutsideDist(config))).toEqual([
      'monitoring/minio-config-env (HelmRelease monitoring/loki values.singleBinary.extraVolumes[0].secret)',
    ]);
    expect(walk.unrecognised).toEqual(['HelmRelease monitoring/loki values.singleBinary.tokenSecretFile']);
  });
});
