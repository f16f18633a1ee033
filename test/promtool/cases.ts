import type { Platform } from '../../lib/model';
import { baseBackupMaxAgeSeconds, LAST_BACKUP_METRIC } from '../../lib/model/alert-rules';
import { walBudget } from '../../lib/model/postgres-sizing';
import { synapseProcesses } from '../../lib/model/workers';

/**
 * promtool unit tests of every alert in lib/model/alert-rules.ts: one case where synthetic series
 * fire the alert (with its exact labels) and one where it stays quiet. Series use a 1m interval.
 * scripts/promtool-check.ts turns these into a `promtool test rules` file.
 */

export interface Series {
  readonly series: string;
  readonly values: string;
}

export interface FiringCase {
  readonly series: readonly Series[];
  readonly evalTime: string;
  /** Labels of the expected alert, without severity (added from the rule). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface QuietCase {
  readonly series: readonly Series[];
  readonly evalTime: string;
}

export interface AlertCases {
  readonly fires: FiringCase;
  readonly quiet: QuietCase;
}

const container = 'namespace="matrix", pod="synapse-main", container="synapse"';
const containerLabels = { namespace: 'matrix', pod: 'synapse-main', container: 'synapse' };
const pvc = 'namespace="matrix", persistentvolumeclaim="media-synapse-media-0"';
const pvcLabels = { namespace: 'matrix', persistentvolumeclaim: 'media-synapse-media-0' };
const cert = 'certmanager_certificate_expiration_timestamp_seconds{namespace="matrix", name="matrix-tls"}';
const DAY = 86400;

function volume(availablePercent: number): Series[] {
  return [
    { series: `kubelet_volume_stats_available_bytes{${pvc}}`, values: `${availablePercent}x30` },
    { series: `kubelet_volume_stats_capacity_bytes{${pvc}}`, values: '100x30' },
  ];
}

/** Classic histogram buckets of one servlet: `count` requests per minute below each upper bound. */
function histogram(servlet: string, buckets: Readonly<Record<string, number>>): Series[] {
  return Object.entries(buckets).map(([le, perMinute]) => ({
    series: `synapse_http_server_response_time_seconds_bucket{namespace="matrix", servlet="${servlet}", le="${le}"}`,
    values: `0+${perMinute}x40`,
  }));
}

function upSeries(platform: Platform, skip?: string): Series[] {
  return synapseProcesses(platform.config)
    .filter((process) => process.podName !== skip)
    .map((process) => ({
      series: `up{namespace="matrix", job="${process.type ? process.type.pool : 'main'}", index="${process.podName}"}`,
      values: '1x20',
    }));
}

const primary = 'namespace="matrix", pod="synapse-postgres-1"';
const primaryLabels = { namespace: 'matrix', pod: 'synapse-postgres-1' };
const slot = `cnpg_pg_replication_slots_pg_wal_lsn_diff{${primary}, slot_name="_cnpg_synapse_postgres_2", slot_type="physical"}`;

/**
 * The backup-age alert: at the evaluation (past the rule's 1h `for`), the newest backup is `ageSeconds`
 * old. The timestamp may lie before the test's time 0 (a negative value), so promtool evaluates 90
 * minutes of rules instead of the whole threshold (30 h by default: minutes of CPU per run).
 */
function backupAge(ageSeconds: number): { series: Series[]; evalTime: string } {
  const evalMinutes = 90;
  const lastBackup = evalMinutes * 60 - ageSeconds;
  return {
    series: [{ series: `${LAST_BACKUP_METRIC}{${primary}}`, values: `${lastBackup}x${evalMinutes + 10}` }],
    evalTime: `${evalMinutes}m`,
  };
}

export function alertCases(platform: Platform): Record<string, AlertCases> {
  const slotLagAlert = walBudget(platform.config).slotLagAlertBytes;
  const lastProcess = synapseProcesses(platform.config).at(-1);
  const missingJob = lastProcess?.type ? lastProcess.type.pool : 'main';
  return {
    PlatformPodRestarting: {
      fires: {
        series: [{ series: `kube_pod_container_status_restarts_total{${container}}`, values: '0+1x60' }],
        evalTime: '40m',
        labels: containerLabels,
      },
      quiet: { series: [{ series: `kube_pod_container_status_restarts_total{${container}}`, values: '3x60' }], evalTime: '40m' },
    },
    PlatformContainerHighCpu: {
      fires: {
        series: [
          { series: `container_cpu_usage_seconds_total{${container}}`, values: '0+57x60' },
          { series: `kube_pod_container_resource_limits{${container}, resource="cpu"}`, values: '1x60' },
        ],
        evalTime: '30m',
        labels: containerLabels,
      },
      quiet: {
        series: [
          { series: `container_cpu_usage_seconds_total{${container}}`, values: '0+30x60' },
          { series: `kube_pod_container_resource_limits{${container}, resource="cpu"}`, values: '1x60' },
        ],
        evalTime: '30m',
      },
    },
    PlatformContainerHighMemory: {
      fires: {
        series: [
          { series: `container_memory_working_set_bytes{${container}}`, values: '950x30' },
          { series: `kube_pod_container_resource_limits{${container}, resource="memory"}`, values: '1000x30' },
        ],
        evalTime: '20m',
        labels: containerLabels,
      },
      quiet: {
        series: [
          { series: `container_memory_working_set_bytes{${container}}`, values: '500x30' },
          { series: `kube_pod_container_resource_limits{${container}, resource="memory"}`, values: '1000x30' },
        ],
        evalTime: '20m',
      },
    },
    PlatformVolumeFillingUp: {
      fires: { series: volume(10), evalTime: '20m', labels: pvcLabels },
      quiet: { series: volume(50), evalTime: '20m' },
    },
    PlatformVolumeAlmostFull: {
      fires: { series: volume(3), evalTime: '20m', labels: pvcLabels },
      quiet: { series: volume(10), evalTime: '20m' },
    },
    CertificateExpiringSoon: {
      fires: { series: [{ series: cert, values: `${10 * DAY}x120` }], evalTime: '90m', labels: { namespace: 'matrix', name: 'matrix-tls' } },
      quiet: { series: [{ series: cert, values: `${30 * DAY}x120` }], evalTime: '90m' },
    },
    CertificateExpiryImminent: {
      fires: { series: [{ series: cert, values: `${1 * DAY}x30` }], evalTime: '20m', labels: { namespace: 'matrix', name: 'matrix-tls' } },
      quiet: { series: [{ series: cert, values: `${10 * DAY}x30` }], evalTime: '20m' },
    },
    PostgresReplicationLagHigh: {
      fires: {
        series: [{ series: 'cnpg_pg_replication_lag{namespace="matrix", pod="synapse-postgres-2"}', values: '60x20' }],
        evalTime: '10m',
        labels: { namespace: 'matrix', pod: 'synapse-postgres-2' },
      },
      quiet: { series: [{ series: 'cnpg_pg_replication_lag{namespace="matrix", pod="synapse-postgres-2"}', values: '1x20' }], evalTime: '10m' },
    },
    PostgresWalArchivingFailing: {
      fires: { series: [{ series: `cnpg_pg_stat_archiver_failed_count{${primary}}`, values: '0+1x40' }], evalTime: '30m', labels: primaryLabels },
      // Failures long ago (the counter no longer grows) are history, not an alert.
      quiet: { series: [{ series: `cnpg_pg_stat_archiver_failed_count{${primary}}`, values: '5x40' }], evalTime: '30m' },
    },
    PostgresWalArchivingStalled: {
      fires: { series: [{ series: `cnpg_pg_stat_archiver_seconds_since_last_archival{${primary}}`, values: '0+60x30' }], evalTime: '25m', labels: primaryLabels },
      // -1: nothing archived yet (fresh cluster); a segment every minute is normal.
      quiet: {
        series: [
          { series: `cnpg_pg_stat_archiver_seconds_since_last_archival{${primary}}`, values: '30x30' },
          { series: 'cnpg_pg_stat_archiver_seconds_since_last_archival{namespace="matrix", pod="synapse-postgres-2"}', values: '-1x30' },
        ],
        evalTime: '25m',
      },
    },
    PostgresBaseBackupTooOld: {
      fires: { ...backupAge(baseBackupMaxAgeSeconds(platform) + 2 * 3600), labels: { namespace: 'matrix' } },
      quiet: backupAge(3600),
    },
    PostgresReplicationSlotLagHigh: {
      fires: {
        series: [{ series: slot, values: `${slotLagAlert * 1.5}x20` }],
        evalTime: '10m',
        labels: { ...primaryLabels, slot_name: '_cnpg_synapse_postgres_2' },
      },
      quiet: { series: [{ series: slot, values: `${16 * 2 ** 20}x20` }], evalTime: '10m' },
    },
    SynapseRedisMasterUnreachable: {
      fires: {
        series: [{ series: 'haproxy_backend_active_servers{namespace="redis-synapse", proxy="valkey_master"}', values: '0x10' }],
        evalTime: '5m',
        labels: { namespace: 'redis-synapse', proxy: 'valkey_master' },
      },
      quiet: { series: [{ series: 'haproxy_backend_active_servers{namespace="redis-synapse", proxy="valkey_master"}', values: '1x10' }], evalTime: '5m' },
    },
    // Only with calls: the LiveKit Valkey and its proxy exist only then.
    ...(platform.config.calls.enabled
      ? {
          LkJwtRedisMasterUnreachable: {
            fires: {
              series: [{ series: 'haproxy_backend_active_servers{namespace="redis-livekit", proxy="valkey_master"}', values: '0x10' }],
              evalTime: '5m',
              labels: { namespace: 'redis-livekit', proxy: 'valkey_master' },
            },
            quiet: { series: [{ series: 'haproxy_backend_active_servers{namespace="redis-livekit", proxy="valkey_master"}', values: '1x10' }], evalTime: '5m' },
          },
        }
      : {}),
    ValkeyDown: {
      fires: { series: [{ series: 'redis_up{namespace="redis-synapse", pod="valkey-1"}', values: '0x10' }], evalTime: '5m', labels: { namespace: 'redis-synapse', pod: 'valkey-1' } },
      quiet: { series: [{ series: 'redis_up{namespace="redis-synapse", pod="valkey-1"}', values: '1x10' }], evalTime: '5m' },
    },
    ValkeyMasterWithoutReplicas: {
      fires: {
        series: [{ series: 'redis_connected_slaves{namespace="redis-synapse", pod="valkey-0"}', values: '0x20' }],
        evalTime: '15m',
        labels: { namespace: 'redis-synapse' },
      },
      quiet: { series: [{ series: 'redis_connected_slaves{namespace="redis-synapse", pod="valkey-0"}', values: '2x20' }], evalTime: '15m' },
    },
    SynapseProcessDown: {
      fires: {
        series: [{ series: 'up{namespace="matrix", job="main", index="synapse-main"}', values: '0x10' }],
        evalTime: '5m',
        labels: { namespace: 'matrix', job: 'main', index: 'synapse-main' },
      },
      quiet: { series: [{ series: 'up{namespace="matrix", job="main", index="synapse-main"}', values: '1x10' }], evalTime: '5m' },
    },
    SynapseProcessesMissing: {
      fires: { series: upSeries(platform, lastProcess?.podName), evalTime: '10m', labels: { job: missingJob } },
      quiet: { series: upSeries(platform), evalTime: '10m' },
    },
    SynapseEventProcessingLag: {
      fires: {
        series: [{ series: 'synapse_event_processing_lag{namespace="matrix", name="federation_sender", index="synapse-federation-sender-0"}', values: '120000x20' }],
        evalTime: '15m',
        labels: { name: 'federation_sender' },
      },
      quiet: {
        series: [{ series: 'synapse_event_processing_lag{namespace="matrix", name="federation_sender", index="synapse-federation-sender-0"}', values: '1000x20' }],
        evalTime: '15m',
      },
    },
    SynapseEventPersistenceSlow: {
      fires: { series: histogram('RoomSendEventRestServlet', { '1': 0, '10': 10, '+Inf': 10 }), evalTime: '20m', labels: {} },
      quiet: { series: histogram('RoomSendEventRestServlet', { '1': 10, '10': 10, '+Inf': 10 }), evalTime: '20m' },
    },
    SynapseFederationSendQueueBacklog: {
      fires: {
        series: [{ series: 'synapse_federation_transaction_queue_pending_pdus{namespace="matrix", job="federation-sender", index="synapse-federation-sender-0"}', values: '5000x30' }],
        evalTime: '20m',
        labels: { job: 'federation-sender', index: 'synapse-federation-sender-0' },
      },
      quiet: {
        series: [{ series: 'synapse_federation_transaction_queue_pending_pdus{namespace="matrix", job="federation-sender", index="synapse-federation-sender-0"}', values: '10x30' }],
        evalTime: '20m',
      },
    },
    SynapseSyncLatencyHigh: {
      fires: { series: histogram('SyncRestServlet', { '30': 0, '60': 10, '+Inf': 10 }), evalTime: '25m', labels: {} },
      quiet: { series: histogram('SyncRestServlet', { '30': 10, '60': 10, '+Inf': 10 }), evalTime: '25m' },
    },
  };
}
