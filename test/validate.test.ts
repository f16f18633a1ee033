import * as yaml from 'js-yaml';
import { validateFiles } from '../lib/validate';
import { objectsOf, render } from './helpers';
import { reportCoverage } from './support/skips';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    },
  },
};

const kustomization = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name: 'apps', namespace: 'flux-system' },
  spec: { interval: '10m', prune: true, sourceRef: { kind: 'GitRepository', name: 'repo' } },
};

function check(objects: unknown[]) {
  return validateFiles(new Map([['planted.yaml', objects.map((object) => yaml.dump(object)).join('---\n')]]));
}

describe('schema validation', () => {
  test('a correct Deployment and a correct custom resource pass', () => {
    const report = check([deployment, kustomization]);
    expect(report.problems).toEqual([]);
    expect(report.checkedObjects).toBe(2);
  });

  test('an unknown field in a Deployment is caught', () => {
    const planted = structuredClone(deployment) as typeof deployment & { spec: Record<string, unknown> };
    (planted.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolicyy = 'Always';
    const report = check([planted]);
    expect(report.problems.map((problem) => problem.message)).toContainEqual(expect.stringContaining('unknown field "imagePullPolicyy"'));
  });

  test('an unknown field in metadata of a custom resource is caught', () => {
    const planted = structuredClone(kustomization) as Record<string, unknown>;
    (planted.metadata as Record<string, unknown>).label = { a: 'b' };
    expect(check([planted]).problems.map((problem) => problem.message)).toContainEqual(expect.stringContaining('unknown field "label"'));
  });

  test('a wrong enum value in a custom resource is caught', () => {
    const planted = structuredClone(kustomization);
    planted.spec.sourceRef.kind = 'GitRepo';
    const messages = check([planted]).problems.map((problem) => problem.message);
    expect(messages).toContainEqual(expect.stringContaining('/spec/sourceRef/kind'));
  });

  test('a wrong type is caught', () => {
    const planted = structuredClone(deployment) as unknown as { spec: Record<string, unknown> };
    planted.spec.replicas = 'three';
    expect(check([planted]).problems.map((problem) => problem.message)).toContainEqual(expect.stringContaining('/spec/replicas'));
  });

  test('an unknown kind and an unserved version are caught', () => {
    const unknownKind = { apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'x' } };
    const messages = check([unknownKind]).problems.map((problem) => problem.message);
    expect(messages).toContainEqual(expect.stringContaining('no schema for example.org/v1 Widget'));
  });

  test('IntOrString fields accept numbers and names', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }] },
    };
    expect(check([service]).problems).toEqual([]);
  });

  const variants: [string, Record<string, unknown>][] = [
    ['flux engine', { gitops: { engine: 'flux' } }],
    ['argocd engine', { gitops: { engine: 'argocd' } }],
    ['helm-controller engine', { gitops: { engine: 'helm-controller' } }],
    ['ingress-nginx edge', { edge: { controller: 'ingress-nginx' } }],
    [
      'external S3, external-secrets, BGP, no calls',
      {
        objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net', region: 'eu-west-1' } },
        secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'vault', storeKind: 'SecretStore' } },
        loadBalancer: { mode: 'bgp', bgp: { myAsn: 64512, peers: [{ address: '192.168.1.1', asn: 64513 }] } },
        calls: { enabled: false },
      },
    ],
    ['restore from backup', { database: { restore: { enabled: true }, backup: { serverName: 'synapse-postgres-2' } } }],
    // The DNS-01 providers whose config names differ most from the imported types' (ID/DNS suffixes).
    [
      'TURN over TLS, DNS-01 through Route53',
      { tls: { dns01: { route53: { region: 'eu-west-1', hostedZoneID: 'Z1', accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' } } } } },
    ],
    [
      'TURN over TLS, DNS-01 through Azure DNS',
      { tls: { dns01: { azureDNS: { subscriptionID: 's', resourceGroupName: 'rg', clientID: 'c', tenantID: 't', clientSecretSecretRef: { name: 'az', key: 'p' } } } } },
    ],
  ];

  let validated = 0;
  test.each(variants)('the whole rendered platform validates: %s', (_name, overrides) => {
    const { files } = render(overrides);
    const report = validateFiles(files);
    expect(report.problems.map((problem) => `${problem.file}: ${problem.object}: ${problem.message}`)).toEqual([]);
    // Every object applied to the cluster was checked (kustomization.yaml files are build input).
    const applied = [...files].filter(([file]) => file.endsWith('.yaml') && !file.endsWith('kustomization.yaml'));
    expect(report.checkedObjects).toBe(objectsOf(new Map(applied)).length);
    expect(report.checkedObjects).toBeGreaterThan(100);
    validated += report.checkedObjects;
  });

  afterAll(() => {
    reportCoverage('schema validation (Kubernetes 1.33 and 1.35, vendored CRDs, unknown fields rejected)', `${validated} objects of ${variants.length} config variants, 0 problems`);
  });
});

test('a missing schema folder is an error, never a pass', () => {
  expect(() => validateFiles(new Map([['x.yaml', yaml.dump(deployment)]]), { schemasDir: '/nonexistent/schemas' })).toThrow(
    '/nonexistent/schemas/kubernetes-openapi/1.33 is missing',
  );
});
