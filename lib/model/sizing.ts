import type { Resources } from '../config/primitives';

/**
 * Pod sizes for 20,000 concurrent users of every platform component outside Synapse (Synapse's own
 * table is lib/model/workers.ts), in one place so the capacity plan (`npm run plan`, docs/capacity.md)
 * can be read against one table. Where the config has a `resources` override it wins; these are the
 * defaults. Limits are never below requests.
 *
 * How the figures add up on the spec's 21 nodes (340 vCPU, 936 GiB): PostgreSQL takes half of each
 * database node, MinIO half of each storage node, and the general pool keeps room to reschedule the
 * pods of any one lost node (docs/capacity.md, "Rescheduling after a node loss"). The LiveKit and
 * coturn pools are left to the calls components.
 */

const size = (requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): Resources => ({
  requests: { cpu: requestCpu, memory: requestMemory },
  limits: { cpu: limitCpu, memory: limitMemory },
});

export const SIZING = {
  /**
   * One CNPG instance (config.database.resources overrides it). Requests equal limits (Guaranteed QoS:
   * the primary is never the first pod the kubelet evicts); shared_buffers, effective_cache_size and
   * work_mem are derived from the memory limit (lib/model/postgres-sizing.ts).
   */
  postgres: size('16', '64Gi', '16', '64Gi'),
  /** One MinIO server of the Tenant pool (config.objectStorage.minio.resources overrides it): erasure coding and TLS are CPU work. */
  minio: size('4', '16Gi', '8', '24Gi'),
  /** One Prometheus replica: every Synapse process and exporter, 15 days of head and WAL replay. */
  prometheus: size('4', '16Gi', '8', '32Gi'),
  /** prometheus-operator: reconciles Prometheus objects and rules; no traffic. */
  prometheusOperator: size('200m', '256Mi', '1', '1Gi'),
  /** Config reloader sidecar of each Prometheus pod (values prometheusOperator.prometheusConfigReloader.resources). */
  prometheusConfigReloader: size('10m', '32Mi', '100m', '64Mi'),
  grafana: size('500m', '1Gi', '2', '2Gi'),
  /** Alertmanager (opt-in): groups and sends notifications; a few MB of silences and notification log. */
  alertmanager: size('50m', '128Mi', '500m', '256Mi'),
  grafanaSidecar: size('10m', '64Mi', '200m', '256Mi'),
  /** kube-state-metrics: objects of a 21-node cluster with a few hundred pods. */
  kubeStateMetrics: size('200m', '512Mi', '1', '1Gi'),
  /** One Loki single binary: ingest of every pod's logs, queries, compaction. */
  loki: size('2', '4Gi', '4', '8Gi'),
  /** One HAProxy of the Synapse router: every client and federation request, TLS terminated at the edge. */
  synapseRouter: size('2', '1Gi', '4', '2Gi'),
  /** Barman Cloud plugin: WAL archiving and backups run in the instance pods' sidecars, not here. */
  barmanCloudPlugin: size('50m', '64Mi', '500m', '256Mi'),
} as const satisfies Record<string, Resources>;
