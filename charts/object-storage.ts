/*
 * Object storage: with `objectStorage.provider: minio` the MinIO operator chart and one Tenant;
 * with `external` nothing at all (every consumer reads objectStorage(config) in lib/model/endpoints.ts).
 *
 * Helm values used, each verified in minio/operator tag v7.1.1 helm/operator/values.yaml (chart 7.1.1):
 *   operator.replicaCount (2), operator.resources (requests cpu 200m, memory 256Mi, ephemeral-storage 500Mi),
 *   operator.affinity (default anti-affinity matches a `name: minio-operator` label the pods do not carry,
 *   so we set one on the real selector labels app.kubernetes.io/name=operator + app.kubernetes.io/instance
 *   from templates/_helpers.tpl). securityContext/containerSecurityContext defaults kept (non-root 1000,
 *   drop ALL, RuntimeDefault). The chart has no PodDisruptionBudget value: the PDB is ours.
 *
 * MinIO's community edition went source-only in October 2025 and the repository is archived: the
 * image is the last published community release, pinned in lib/versions.ts (docs/data-layer.md).
 */
import { RUN_AS } from '../lib/model/run-as';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import {
  Tenant,
  TenantSpecPoolsResourcesLimits,
  TenantSpecPoolsResourcesRequests,
  TenantSpecPoolsVolumeClaimTemplateSpecResourcesRequests,
} from '../imports/minio.min.io';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import type { Resources } from '../lib/config/primitives';
import { SIZING } from '../lib/model/sizing';
import { MINIO_SERVER_TLS_SECRET, MINIO_TENANT, NAMESPACES, objectStorage, type Platform, SECRET_NAMES } from '../lib/model';
import { charts, imageRef, images } from '../lib/versions';

const OPERATOR_RELEASE = 'minio-operator';
const OPERATOR_RESOURCES = {
  requests: { cpu: '200m', memory: '256Mi', 'ephemeral-storage': '500Mi' },
  limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' },
};
const MINIO_UID = RUN_AS.minio;
const POOL_NAME = 'pool-0';

/** Default MinIO server size (config.objectStorage.minio.resources overrides it). */
export const MINIO_SIZING: Resources = SIZING.minio;

export class MinioOperatorChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'minio-operator', { platform, stage: '10-operators', namespace: NAMESPACES.minioOperator.name });
    const namespace = NAMESPACES.minioOperator.name;
    const podLabels = { 'app.kubernetes.io/name': 'operator', 'app.kubernetes.io/instance': OPERATOR_RELEASE };
    new HelmReleaseWrapper(this, 'operator', {
      releaseName: OPERATOR_RELEASE,
      namespace,
      chart: charts.minioOperator,
      gitops: platform.config.gitops,
      stage: this.stage,
      values: {
        operator: {
          replicaCount: 2,
          resources: OPERATOR_RESOURCES,
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: podLabels }, topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
        },
      },
    });
    new k8s.KubePodDisruptionBudget(this, 'operator-pdb', {
      metadata: { name: OPERATOR_RELEASE, namespace },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });
  }
}

export class MinioTenantChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'minio-tenant', { platform, stage: '30-data', namespace: MINIO_TENANT.namespace });
    const minio = platform.config.objectStorage.minio;
    const storage = objectStorage(platform.config);
    const resources = minio.resources ?? MINIO_SIZING;
    const tenantSelector = { 'v1.min.io/tenant': MINIO_TENANT.name };
    // Labels the MinIO operator puts on every server pod of the pool (pkg/apis/minio.min.io/v2 TenantLabel, PoolLabel).
    const poolSelector = { ...tenantSelector, 'v1.min.io/pool': POOL_NAME };
    new Tenant(this, 'tenant', {
      metadata: { name: MINIO_TENANT.name, namespace: MINIO_TENANT.namespace },
      spec: {
        image: imageRef(images.minio),
        // Root credentials (config.env) from the Secret catalogue; never in dist/.
        configuration: { name: SECRET_NAMES.minioConfig },
        env: [
          { name: 'MINIO_STORAGE_CLASS_STANDARD', value: minio.parity },
          // Prometheus scrapes without a bearer token (no token in dist/); the port is cluster-internal.
          { name: 'MINIO_PROMETHEUS_AUTH_TYPE', value: 'public' },
          { name: 'MINIO_BROWSER', value: 'off' },
        ],
        // TLS with the internal CA's certificate (cert-manager, stage 20) instead of the operator's own,
        // which the Kubernetes CSR API signs with a CA the clients cannot read from a Secret. The
        // cert-manager type makes the operator mount the Secret's ca.crt as MinIO's trusted CA too.
        requestAutoCert: false,
        externalCertSecret: [{ name: MINIO_SERVER_TLS_SECRET, type: 'cert-manager.io/v1' }],
        // The operator's own Prometheus integration patches a Prometheus resource in PROMETHEUS_NAMESPACE
        // (`default` unless set) and fails the tenant's reconcile, before bucket creation, when there is
        // none (minio/operator v7.1.1 pkg/controller/main-controller.go). Our PodMonitor scrapes MinIO.
        prometheusOperator: false,
        features: { bucketDns: false, enableSftp: false },
        exposeServices: { minio: false, console: false },
        buckets: [storage.buckets.media, storage.buckets.backups, storage.buckets.logs].map((name) => ({ name })),
        podManagementPolicy: 'Parallel',
        mountPath: '/export',
        pools: [
          {
            name: POOL_NAME,
            servers: minio.servers,
            volumesPerServer: minio.volumesPerServer,
            volumeClaimTemplate: {
              metadata: { name: 'data' },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: platform.config.storageClasses.large,
                resources: { requests: { storage: TenantSpecPoolsVolumeClaimTemplateSpecResourcesRequests.fromString(minio.volumeSize) } },
              },
            },
            resources: {
              requests: {
                cpu: TenantSpecPoolsResourcesRequests.fromString(resources.requests.cpu),
                memory: TenantSpecPoolsResourcesRequests.fromString(resources.requests.memory),
              },
              limits: {
                cpu: TenantSpecPoolsResourcesLimits.fromString(resources.limits.cpu),
                memory: TenantSpecPoolsResourcesLimits.fromString(resources.limits.memory),
              },
            },
            // One server per node: a node loss costs one server's drives, within the parity.
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: tenantSelector }, topologyKey: 'kubernetes.io/hostname' },
                ],
              },
            },
            securityContext: {
              runAsUser: MINIO_UID,
              runAsGroup: MINIO_UID,
              runAsNonRoot: true,
              fsGroup: MINIO_UID,
              fsGroupChangePolicy: 'OnRootMismatch',
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containerSecurityContext: {
              runAsUser: MINIO_UID,
              runAsGroup: MINIO_UID,
              runAsNonRoot: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
          },
        ],
      },
    });
    // The operator (7.1.1) creates no PodDisruptionBudget for a pool: a drain takes one server at a
    // time, as a node loss does, which the erasure-code parity tolerates.
    new k8s.KubePodDisruptionBudget(this, 'pool-pdb', {
      metadata: { name: `${MINIO_TENANT.name}-${POOL_NAME}`, namespace: MINIO_TENANT.namespace },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: poolSelector } },
    });
  }
}

/** Nothing is deployed for an external S3 endpoint. */
export function addObjectStorageCharts(scope: Construct, platform: Platform): void {
  if (platform.config.objectStorage.provider !== 'minio') return;
  new MinioOperatorChart(scope, platform);
  new MinioTenantChart(scope, platform);
}
