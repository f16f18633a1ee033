import { MINIO_SERVER_TLS_SECRET, MINIO_TENANT, NAMESPACES, SECRET_NAMES } from '../lib/model';
import { charts, imageRef, images } from '../lib/versions';
import { find, findOne, render } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function tenant(overrides: Record<string, unknown> = {}): Any {
  return findOne(render(overrides).objects, 'Tenant', MINIO_TENANT.name, MINIO_TENANT.namespace);
}

function envValue(spec: Any, name: string): string | undefined {
  return spec.env.find((entry: Any) => entry.name === name)?.value;
}

describe('MinIO (provider minio, the default)', () => {
  test('Tenant minio.min.io/v2 with 4 servers and EC:4 by default', () => {
    const object = tenant();
    expect(object.apiVersion).toBe('minio.min.io/v2');
    expect(object.spec.pools).toHaveLength(1);
    expect(object.spec.pools[0].servers).toBe(4);
    expect(envValue(object.spec, 'MINIO_STORAGE_CLASS_STANDARD')).toBe('EC:4');
  });

  test('servers, volumes, size, parity and storage class follow config', () => {
    const object = tenant({
      storageClasses: { large: 'big-hdd' },
      objectStorage: { minio: { servers: 6, volumesPerServer: 2, volumeSize: '4Ti', parity: 'EC:3' } },
    });
    const pool = object.spec.pools[0];
    expect(pool.servers).toBe(6);
    expect(pool.volumesPerServer).toBe(2);
    expect(pool.volumeClaimTemplate.spec).toMatchObject({ storageClassName: 'big-hdd', resources: { requests: { storage: '4Ti' } } });
    expect(envValue(object.spec, 'MINIO_STORAGE_CLASS_STANDARD')).toBe('EC:3');
  });

  test('root credentials from the config Secret, pinned image, TLS, metrics, buckets', () => {
    const object = tenant({ objectStorage: { buckets: { media: 'm1', backups: 'b1', logs: 'l1' } } });
    expect(object.spec.configuration).toEqual({ name: SECRET_NAMES.minioConfig });
    expect(object.spec.image).toBe(imageRef(images.minio));
    // TLS from the internal CA's certificate (test/certificates.test.ts), not the operator's CSR-API one.
    expect(object.spec.requestAutoCert).toBe(false);
    expect(object.spec.externalCertSecret).toEqual([{ name: MINIO_SERVER_TLS_SECRET, type: 'cert-manager.io/v1' }]);
    // Off: the operator (v7.1.1) would look for a Prometheus to patch in PROMETHEUS_NAMESPACE (default
    // `default`), fail every reconcile before the buckets are created, and fight GitOps over the
    // Prometheus resource if it found ours. Our PodMonitor scrapes the tenant (lib/model/metrics.ts).
    expect(object.spec.prometheusOperator).toBe(false);
    expect(envValue(object.spec, 'MINIO_PROMETHEUS_AUTH_TYPE')).toBe('public');
    expect(object.spec.buckets.map((bucket: Any) => bucket.name)).toEqual(['m1', 'b1', 'l1']);
  });

  test('one server per node, non-root, locked down', () => {
    const pool = tenant().spec.pools[0];
    const term = pool.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(term).toEqual({ labelSelector: { matchLabels: { 'v1.min.io/tenant': MINIO_TENANT.name } }, topologyKey: 'kubernetes.io/hostname' });
    expect(pool.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pool.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  test('operator chart in its namespace, stage 10-operators; Tenant in 30-data', () => {
    const { files, objects } = render();
    const release = findOne(objects, 'HelmRelease', 'minio-operator', NAMESPACES.minioOperator.name) as Any;
    expect(release.spec.chart.spec.version).toBe(charts.minioOperator.version);
    expect(release.spec.values.operator.replicaCount).toBe(2);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['stages/10-operators/minio-operator.yaml', 'stages/30-data/minio-tenant.yaml']));
  });
});

describe('provider external', () => {
  test('nothing of MinIO is deployed', () => {
    const { objects } = render({ objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net' } } });
    expect(find(objects, 'Tenant')).toHaveLength(0);
    expect(find(objects, 'HelmRelease', 'minio-operator')).toHaveLength(0);
    expect(objects.filter((object) => object.metadata?.namespace === NAMESPACES.minio.name)).toHaveLength(0);
    expect(objects.filter((object) => object.metadata?.namespace === NAMESPACES.minioOperator.name)).toHaveLength(0);
  });
});
