import type { Platform } from './index';
import { activeNamespaces, NAMESPACES } from './platform';
import { synapseScrapeTargets } from './metrics';
import { activeWorkerTypes, SYNAPSE_NAMESPACE, workerCount } from './workers';
import { LIVEKIT_REDIS_PROXY, POSTGRES, SYNAPSE_REDIS_PROXY, VALKEY_LIVEKIT, VALKEY_SYNAPSE } from './endpoints';
import { longestScheduleGapSeconds } from './cron-schedule';
import { ARCHIVE_TIMEOUT_SECONDS, walBudget } from './postgres-sizing';

/**
 * The platform's alerts as typed data. They show in Prometheus and Grafana, and reach a human through
 * the opt-in Alertmanager (lib/model/alert-routing.ts, monitoring.alertmanager). Every alert has a firing and
 * a quiet promtool unit test (test/promtool/cases.ts), run by scripts/promtool-check.ts.
 *
 * Annotations only template `{{ $labels.x }}` (never $value) so unit tests can state them exactly.
 * Long expressions are written over several lines (one label matcher per line where a selector is
 * long): dist/ holds them as YAML block scalars, so a diff shows which part changed.
 */

export type Severity = 'warning' | 'critical';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration the condition must hold. */
  readonly for: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
}

export interface AlertGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Regex alternative of label values, sorted for stable output. */
function anyOf(values: readonly string[]): string {
  return [...new Set(values)].sort().join('|');
}

/** `metric{...}` with one matcher per line: PromQL allows line breaks between matchers. */
function selector(metric: string, matchers: readonly string[]): string {
  return `${metric}{\n${matchers.map((matcher) => `  ${matcher}`).join(',\n')}\n}`;
}

function kubernetesRules(platform: Platform): AlertRule[] {
  const namespaces = anyOf(activeNamespaces(platform.config).map((namespace) => namespace.name));
  const inPlatform = (metric: string, ...matchers: string[]) => selector(metric, [`namespace=~"${namespaces}"`, ...matchers]);
  const sumByContainer = 'sum by (namespace, pod, container)';
  const volumeFree = `${inPlatform('kubelet_volume_stats_available_bytes')}\n/\n${inPlatform('kubelet_volume_stats_capacity_bytes')}`;
  return [
    {
      alert: 'PlatformPodRestarting',
      expr: `increase(${inPlatform('kube_pod_container_status_restarts_total')}[30m]) > 2`,
      for: '5m',
      severity: 'warning',
      summary: 'Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} keeps restarting',
      description: 'More than 2 restarts in 30 minutes. Check `kubectl describe pod` and the logs in Grafana (Loki).',
    },
    {
      alert: 'PlatformContainerHighCpu',
      expr:
        `${sumByContainer} (rate(${inPlatform('container_cpu_usage_seconds_total', 'container!=""')}[5m]))\n/\n` +
        `${sumByContainer} (${inPlatform('kube_pod_container_resource_limits', 'resource="cpu"')})\n> 0.9`,
      for: '15m',
      severity: 'warning',
      summary: 'Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} uses over 90% of its CPU limit',
      description: 'Sustained CPU near the limit means throttling; raise the limit or add replicas/workers.',
    },
    {
      alert: 'PlatformContainerHighMemory',
      expr:
        `${sumByContainer} (${inPlatform('container_memory_working_set_bytes', 'container!=""')})\n/\n` +
        `${sumByContainer} (${inPlatform('kube_pod_container_resource_limits', 'resource="memory"')})\n> 0.9`,
      for: '15m',
      severity: 'warning',
      summary: 'Container {{ $labels.namespace }}/{{ $labels.pod }}/{{ $labels.container }} uses over 90% of its memory limit',
      description: 'The container is close to being OOM-killed; raise the memory limit.',
    },
    {
      alert: 'PlatformVolumeFillingUp',
      expr: `${volumeFree}\n< 0.15`,
      for: '10m',
      severity: 'warning',
      summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 15% free space',
      description: 'Expand the PVC (the storage class must allow expansion) or reduce retention.',
    },
    {
      alert: 'PlatformVolumeAlmostFull',
      expr: `${volumeFree}\n< 0.05`,
      for: '5m',
      severity: 'critical',
      summary: 'Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has less than 5% free space',
      description: 'Writes will fail soon. Expand the PVC now.',
    },
    {
      alert: 'CertificateExpiringSoon',
      expr: 'certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400',
      for: '1h',
      severity: 'warning',
      summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 14 days',
      description: 'cert-manager renews 30 days before expiry, so renewal is failing: check the Certificate, Order and Challenge objects.',
    },
    {
      alert: 'CertificateExpiryImminent',
      expr: 'certmanager_certificate_expiration_timestamp_seconds - time() < 3 * 86400',
      for: '10m',
      severity: 'critical',
      summary: 'Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 3 days',
      description: 'Clients will soon reject the host. Fix the ACME challenge (HTTP-01 through the edge) or renew by hand.',
    },
  ];
}

function dataRules(platform: Platform): AlertRule[] {
  const valkeyNamespaces = anyOf(
    [VALKEY_SYNAPSE, ...(platform.config.calls.enabled ? [VALKEY_LIVEKIT] : [])].map((cluster) => cluster.namespace),
  );
  return [
    {
      alert: 'PostgresReplicationLagHigh',
      expr: `max by (namespace, pod) (cnpg_pg_replication_lag{namespace="${NAMESPACES.matrix.name}"}) > 30`,
      for: '5m',
      severity: 'warning',
      summary: 'PostgreSQL replica {{ $labels.pod }} is more than 30 s behind the primary',
      description: 'With synchronous replication (dataDurability required) a lagging standby slows every commit. Check disk I/O and network of the replica.',
    },
    {
      alert: 'SynapseRedisMasterUnreachable',
      expr: `sum by (namespace, proxy) (haproxy_backend_active_servers{namespace="${SYNAPSE_REDIS_PROXY.namespace}"}) < 1`,
      for: '1m',
      severity: 'critical',
      summary: 'The Redis proxy {{ $labels.namespace }}/{{ $labels.proxy }} sees no Valkey master',
      description: 'Synapse workers cannot replicate through Redis. Check the Sentinels (failover) and the HAProxy role:master health check.',
    },
    ...(platform.config.calls.enabled
      ? [
          {
            alert: 'LkJwtRedisMasterUnreachable',
            expr: `sum by (namespace, proxy) (haproxy_backend_active_servers{namespace="${LIVEKIT_REDIS_PROXY.namespace}"}) < 1`,
            for: '1m',
            severity: 'warning' as const,
            summary: 'The Redis proxy {{ $labels.namespace }}/{{ $labels.proxy }} sees no Valkey master',
            description:
              'lk-jwt-service cannot store delegated-leave jobs, so a restart of it would lose them. Check the LiveKit Sentinels and the HAProxy role:master health check.',
          },
        ]
      : []),
    {
      alert: 'ValkeyDown',
      expr: `redis_up{namespace=~"${valkeyNamespaces}"} == 0`,
      for: '2m',
      severity: 'warning',
      summary: 'Valkey {{ $labels.namespace }}/{{ $labels.pod }} does not answer its exporter',
      description: 'One Valkey data pod is down; Sentinel fails over if it was the master.',
    },
    {
      alert: 'ValkeyMasterWithoutReplicas',
      expr: `max by (namespace) (redis_connected_slaves{namespace=~"${valkeyNamespaces}"}) < 1`,
      for: '2m',
      severity: 'critical',
      summary: 'The Valkey master in {{ $labels.namespace }} has no connected replica',
      description: 'The master refuses writes while no replica is in sync (min-replicas-to-write 1), and a master failure has no failover target. Check the replica pods.',
    },
  ];
}

/** WAL archiving may lag this many archive_timeout periods before it counts as stalled. */
const ARCHIVE_STALL_PERIODS = 3;
/** A base backup of the whole data volume takes hours; its timestamp is taken when it completes. */
const BASE_BACKUP_GRACE_SECONDS = 6 * 3600;

/** Metrics of the Barman Cloud plugin, exported by each instance manager (plugin-barman-cloud docs/observability.md). */
export const LAST_BACKUP_METRIC = 'barman_cloud_cloudnative_pg_io_last_available_backup_timestamp';

/** Seconds after which the newest base backup is too old: the longest gap of the schedule plus the time a backup takes. */
export function baseBackupMaxAgeSeconds(platform: Platform): number {
  return longestScheduleGapSeconds(platform.config.database.backup.schedule) + BASE_BACKUP_GRACE_SECONDS;
}

/** Recoverability: WAL archiving, base backups and the WAL replication slots hold back (thresholds derived from the config). */
function backupRules(platform: Platform): AlertRule[] {
  const postgres = `namespace="${POSTGRES.namespace}"`;
  const wal = walBudget(platform.config);
  const maxAge = baseBackupMaxAgeSeconds(platform);
  const stalledAfter = ARCHIVE_STALL_PERIODS * ARCHIVE_TIMEOUT_SECONDS;
  const gib = (bytes: number) => `${Math.round((bytes / 2 ** 30) * 10) / 10} GiB`;
  return [
    {
      alert: 'PostgresWalArchivingFailing',
      expr: `max by (namespace, pod) (increase(cnpg_pg_stat_archiver_failed_count{${postgres}}[5m])) > 0`,
      for: '15m',
      severity: 'warning',
      summary: 'PostgreSQL {{ $labels.pod }} fails to archive WAL to the object store',
      description:
        'Point-in-time recovery stops at the last archived segment and unarchived WAL accumulates on the WAL volume. ' +
        'Check the barman-cloud plugin sidecar logs, the object store and its credentials.',
    },
    {
      alert: 'PostgresWalArchivingStalled',
      expr: `max by (namespace, pod) (cnpg_pg_stat_archiver_seconds_since_last_archival{${postgres}}) > ${stalledAfter}`,
      for: '5m',
      severity: 'critical',
      summary: 'PostgreSQL {{ $labels.pod }} has archived no WAL for a while',
      description:
        `archive_timeout (${ARCHIVE_TIMEOUT_SECONDS} s) switches segments at least that often while Synapse writes, so nothing archived for ` +
        `${stalledAfter} s means archiving is stuck: recent transactions are not recoverable from the object store.`,
    },
    {
      alert: 'PostgresBaseBackupTooOld',
      expr: `time() - max by (namespace) (\n  ${LAST_BACKUP_METRIC}{${postgres}}\n) > ${maxAge}\nor\nabsent(${LAST_BACKUP_METRIC}{${postgres}})`,
      for: '1h',
      severity: 'warning',
      summary: 'No successful PostgreSQL base backup in {{ $labels.namespace }} within the schedule',
      description:
        `The newest base backup is older than the longest gap of the schedule (${platform.config.database.backup.schedule}) plus ` +
        `${BASE_BACKUP_GRACE_SECONDS / 3600} h, or none is reported. Recovery replays ever more WAL and retention may drop the last good backup. ` +
        'Check the ScheduledBackup and Backup objects.',
    },
    {
      alert: 'PostgresReplicationSlotLagHigh',
      expr: `max by (namespace, pod, slot_name) (cnpg_pg_replication_slots_pg_wal_lsn_diff{${postgres}}) > ${wal.slotLagAlertBytes}`,
      for: '5m',
      severity: 'warning',
      summary: 'Replication slot {{ $labels.slot_name }} on {{ $labels.pod }} holds back a lot of WAL',
      description:
        `The slot's standby is down or far behind. At ${gib(wal.maxSlotWalKeepBytes)} (max_slot_wal_keep_size, half the WAL volume) ` +
        'PostgreSQL invalidates the slot and the standby must be re-cloned; fix or remove the standby before that.',
    },
  ];
}

const RESPONSE_TIME_BUCKETS = 'synapse_http_server_response_time_seconds_bucket';

function synapseRules(platform: Platform): AlertRule[] {
  const synapse = `namespace="${SYNAPSE_NAMESPACE}"`;
  const jobs = synapseScrapeTargets(platform.config).map((target) => target.jobLabel ?? target.name);
  // One term per process kind: fewer healthy processes than the config runs (or none at all).
  const expected = [
    { job: 'main', count: 1 },
    ...activeWorkerTypes(platform.config).map((type) => ({ job: type.pool, count: workerCount(platform.config, type) })),
  ];
  const missingTerms = expected.map(
    ({ job, count }) =>
      `label_replace(\n  (sum(up{${synapse}, job="${job}"}) or vector(0)) < ${count},\n  "job", "${job}", "", ""\n)`,
  );
  return [
    {
      alert: 'SynapseProcessDown',
      expr: `${selector('up', [synapse, `job=~"${anyOf(jobs)}"`])} == 0`,
      for: '3m',
      severity: 'critical',
      summary: 'Synapse {{ $labels.job }} process {{ $labels.index }} is down',
      description: 'Prometheus cannot scrape the process. Requests routed to it fail until the router marks it down.',
    },
    {
      alert: 'SynapseProcessesMissing',
      expr: missingTerms.join('\nor\n'),
      for: '5m',
      severity: 'warning',
      summary: 'Fewer healthy Synapse {{ $labels.job }} processes than configured',
      description: 'Pods are missing or unscrapeable (pending, crash-looping or not scheduled).',
    },
    {
      alert: 'SynapseEventProcessingLag',
      expr: `max by (name) (synapse_event_processing_lag{${synapse}}) > 60000`,
      for: '10m',
      severity: 'warning',
      summary: 'Synapse {{ $labels.name }} is more than a minute behind the persisted events',
      description: 'Events were persisted by the event persisters but not yet processed (federation sending or appservices are lagging).',
    },
    {
      alert: 'SynapseEventPersistenceSlow',
      expr: `histogram_quantile(0.95, sum by (le) (rate(${selector(RESPONSE_TIME_BUCKETS, [synapse, 'servlet="RoomSendEventRestServlet"'])}[5m])))\n> 5`,
      for: '10m',
      severity: 'warning',
      summary: 'Sending a message takes more than 5 s (95th percentile)',
      description: 'The event persistence queue is backing up: check the event persisters, PostgreSQL latency and replication lag.',
    },
    {
      alert: 'SynapseFederationSendQueueBacklog',
      expr: `sum by (job, index) (synapse_federation_transaction_queue_pending_pdus{${synapse}}) > 1000`,
      for: '15m',
      severity: 'warning',
      summary: 'Federation sender {{ $labels.index }} has more than 1000 PDUs queued',
      description: 'Outbound federation is not keeping up; add federation senders or check the remote servers.',
    },
    {
      alert: 'SynapseSyncLatencyHigh',
      // Clients long-poll /sync for 30 s; a median above 35 s means the server itself is slow.
      expr: `histogram_quantile(0.5, sum by (le) (rate(${selector(RESPONSE_TIME_BUCKETS, [synapse, 'servlet="SyncRestServlet"'])}[5m])))\n> 35`,
      for: '15m',
      severity: 'warning',
      summary: 'Median /sync response time is above 35 s',
      description: 'Sync workers are overloaded or their caches are cold; add sync workers or check the database.',
    },
  ];
}

export function alertRuleGroups(platform: Platform): AlertGroup[] {
  return [
    { name: 'platform.kubernetes', rules: kubernetesRules(platform) },
    { name: 'platform.data', rules: dataRules(platform) },
    { name: 'platform.backups', rules: backupRules(platform) },
    { name: 'synapse', rules: synapseRules(platform) },
  ];
}

/** Every alert name, for tests that require one firing and one quiet unit test per alert. */
export function alertNames(platform: Platform): string[] {
  return alertRuleGroups(platform).flatMap((group) => group.rules.map((rule) => rule.alert));
}
