/*
 * Loki (grafana-community chart `loki` 18.11.0, Monolithic) and Grafana Alloy (grafana chart `alloy`
 * 1.11.1, DaemonSet). Values keys used, verified in the charts' values.yaml/templates at those versions
 * (grafana-community/helm-charts tag loki-18.11.0, grafana/helm-charts tag alloy-1.11.1):
 *   loki: deploymentMode, singleBinary.{replicas, resources, persistence.{size, storageClass}, extraEnvFrom,
 *     extraVolumes, extraVolumeMounts (templates/_pod.tpl), podDisruptionBudget.{enabled, maxUnavailable}},
 *     backend/read/write.replicas (default 3: must be 0 with a single binary, templates/validate.yaml),
 *     loki.{auth_enabled, commonConfig.replication_factor, schemaConfig, limits_config, compactor,
 *     storage.{type, bucketNames.{chunks, ruler}, s3.{endpoint, region, accessKeyId, secretAccessKey,
 *     s3ForcePathStyle, insecure, http_config}}}, chunksCache.enabled, resultsCache.enabled, gateway.enabled,
 *     lokiCanary.enabled, test.enabled (must be false without the canary), minio.enabled, sidecar.rules.enabled.
 *     The chart always passes -config.expand-env=true, so ${AWS_ACCESS_KEY_ID} is read from the environment.
 *   alloy: controller.type, alloy.{configMap.content (passed through tpl: no `{{` in the config),
 *     mounts.varlog, securityContext, resources}.
 */
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import { LOKI, objectStorage, type Platform } from '../lib/model';
import { SIZING } from '../lib/model/sizing';
import { charts } from '../lib/versions';

/** Where Loki reads the object store's CA (the Secret cert-manager writes in its namespace). */
const OBJECT_STORAGE_CA_DIR = '/etc/loki/object-storage-ca';

/** Quorum writes need three copies; fewer replicas keep one copy (the objects are in S3 anyway). */
export function lokiReplicationFactor(replicas: number): number {
  return replicas >= 3 ? 3 : 1;
}

export function lokiValues(platform: Platform): Record<string, unknown> {
  const { config } = platform;
  const loki = config.monitoring.loki;
  const storage = objectStorage(config);
  const url = new URL(storage.endpoint.includes('://') ? storage.endpoint : `https://${storage.endpoint}`);
  const ca = storage.ca;
  return {
    deploymentMode: 'Monolithic',
    loki: {
      // One tenant: Alloy pushes without X-Scope-OrgID and Grafana queries without it.
      auth_enabled: false,
      commonConfig: { replication_factor: lokiReplicationFactor(loki.replicas) },
      schemaConfig: {
        configs: [
          { from: '2024-04-01', store: 'tsdb', object_store: 's3', schema: 'v13', index: { prefix: 'loki_index_', period: '24h' } },
        ],
      },
      // Replaces the chart's default map, so its defaults are repeated here.
      limits_config: {
        reject_old_samples: true,
        reject_old_samples_max_age: '168h',
        max_cache_freshness_per_query: '10m',
        split_queries_by_interval: '15m',
        query_timeout: '300s',
        volume_enabled: true,
        retention_period: loki.retention,
      },
      compactor: { retention_enabled: true, delete_request_store: 's3' },
      storage: {
        type: 's3',
        bucketNames: { chunks: storage.buckets.logs, ruler: storage.buckets.logs },
        s3: {
          endpoint: url.host,
          insecure: url.protocol === 'http:',
          region: storage.region,
          s3ForcePathStyle: storage.forcePathStyle,
          // Expanded by Loki at start from the object-storage Secret (extraEnvFrom below).
          accessKeyId: `\${${storage.accessKeyIdKey}}`,
          secretAccessKey: `\${${storage.secretAccessKeyKey}}`,
          ...(ca ? { http_config: { ca_file: `${OBJECT_STORAGE_CA_DIR}/ca.crt` } } : {}),
        },
      },
    },
    singleBinary: {
      replicas: loki.replicas,
      resources: SIZING.loki,
      persistence: { size: loki.storageSize, storageClass: config.storageClasses.general },
      extraEnvFrom: [{ secretRef: { name: storage.credentialsSecret } }],
      ...(ca
        ? {
            extraVolumes: [{ name: 'object-storage-ca', secret: { secretName: ca.secret, items: [{ key: ca.key, path: 'ca.crt' }] } }],
            extraVolumeMounts: [{ name: 'object-storage-ca', mountPath: OBJECT_STORAGE_CA_DIR, readOnly: true }],
          }
        : {}),
      // templates/_pdb.tpl renders the PDB only with minAvailable or maxUnavailable set (both null by
      // default). One at a time: quorum writes (replication factor 3) still reach two of three.
      podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    },
    backend: { replicas: 0 },
    read: { replicas: 0 },
    write: { replicas: 0 },
    // The caches default to 8 GiB of memcached; a single binary keeps its own in-process caches.
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    // Alloy and Grafana talk to the single-binary Service directly.
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    minio: { enabled: false },
    sidecar: { rules: { enabled: false } },
  };
}

/** Alloy tails every pod's logs through the Kubernetes API (no hostPath) on its own node only. */
export function alloyConfig(): string {
  return `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
    target_label  = "component"
  }
  rule {
    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    target_label  = "job"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${LOKI.url}/loki/api/v1/push"
  }
}
`;
}

export function alloyValues(): Record<string, unknown> {
  return {
    controller: { type: 'daemonset' },
    alloy: {
      configMap: { content: alloyConfig() },
      // loki.source.kubernetes reads logs through the API: no hostPath, no root.
      mounts: { varlog: false },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 473,
        runAsGroup: 473,
        allowPrivilegeEscalation: false,
        // Alloy keeps its WAL and read positions under alloy.storagePath (/tmp/alloy) in the container.
        readOnlyRootFilesystem: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    },
  };
}

export class LoggingChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'logging', { platform, stage: '50-observability', namespace: LOKI.namespace });
    new HelmReleaseWrapper(this, 'loki', {
      releaseName: LOKI.name,
      namespace: LOKI.namespace,
      chart: charts.loki,
      values: lokiValues(platform),
      gitops: platform.config.gitops,
      stage: '50-observability',
    });
    new HelmReleaseWrapper(this, 'alloy', {
      releaseName: 'alloy',
      namespace: LOKI.namespace,
      chart: charts.alloy,
      values: alloyValues(),
      gitops: platform.config.gitops,
      stage: '50-observability',
    });
  }
}
