/*
 * PostgreSQL for Synapse: the CloudNativePG operator, the Barman Cloud plugin, and the Cluster with
 * its ObjectStore and ScheduledBackup.
 *
 * Helm values used, each verified in the chart's values.yaml at the pinned version:
 * cloudnative-pg 0.29.0 (cloudnative-pg/charts tag cloudnative-pg-v0.29.0, charts/cloudnative-pg/values.yaml):
 *   replicaCount (1), resources ({}), crds.create (true), config.clusterWide (true),
 *   monitoring.podMonitorEnabled (false), topologySpreadConstraints ([]), affinity ({}),
 *   podSecurityContext, containerSecurityContext (defaults kept: non-root, read-only, drop ALL, RuntimeDefault).
 *   Pod labels app.kubernetes.io/name=cloudnative-pg, app.kubernetes.io/instance=<release> (templates/_helpers.tpl
 *   selectorLabels). The chart has no PodDisruptionBudget value: the PDB is ours.
 * plugin-barman-cloud 0.7.0 (tag plugin-barman-cloud-v0.7.0, charts/plugin-barman-cloud/values.yaml):
 *   replicaCount (1), resources ({}), crds.create (true), topologySpreadConstraints ([]). Its templates always
 *   create a cert-manager Issuer and Certificates, hence stage 20-platform (after cert-manager's CRDs).
 *   templates/deployment.yaml: strategy Recreate (fixed), args include --leader-elect, readinessProbe tcpSocket
 *   9090, pod labels app.kubernetes.io/name=plugin-barman-cloud + app.kubernetes.io/instance=<release>
 *   (_helpers.tpl selectorLabels). No PodDisruptionBudget value: the PDB is ours.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ObjectStore, ObjectStoreSpecConfigurationDataCompression, ObjectStoreSpecConfigurationWalCompression } from '../imports/barmancloud.cnpg.io';
import {
  Cluster,
  ClusterSpecPostgresqlSynchronousDataDurability,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ClusterSpecResourcesLimits,
  ClusterSpecResourcesRequests,
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
} from '../imports/postgresql.cnpg.io';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import type { Resources } from '../lib/config/primitives';
import { NAMESPACES, objectStorage, type Platform, POSTGRES } from '../lib/model';
import { postgresSizing } from '../lib/model/postgres-sizing';
import { SIZING } from '../lib/model/sizing';
import { charts, imageRef, images } from '../lib/versions';

/** CNPG-I name of the Barman Cloud plugin (plugin-barman-cloud README). */
export const BARMAN_PLUGIN = 'barman-cloud.cloudnative-pg.io';
/** Spec: a planned switchover waits at most 5 minutes for the primary to shut down (CNPG default 3600 s). */
export const SWITCHOVER_DELAY_SECONDS = 300;
export const OBJECT_STORE_NAME = `${POSTGRES.clusterName}-backups`;
/** Name of the restore source in externalClusters. */
const RESTORE_SOURCE = 'backup-origin';

const CNPG_RELEASE = 'cloudnative-pg';
const BARMAN_RELEASE = 'barman-cloud';
const OPERATOR_RESOURCES: Resources = { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } };
const PLUGIN_RESOURCES: Resources = SIZING.barmanCloudPlugin;
/**
 * Two plugin replicas: the chart runs the plugin with --leader-elect and its CNPG-I gRPC server is a
 * leader-only runnable (plugin-barman-cloud v0.13.0 internal/cnpgi/operator/manager.go: CNPGI has no
 * NeedLeaderElection, so controller-runtime starts it on the leader only). The readiness probe is a TCP
 * check of that port (:9090), so only the leader is Ready and behind the Service; the standby takes the
 * lease and becomes Ready about 15 s (lease duration) after the leader's node is lost.
 */
const PLUGIN_REPLICAS = 2;
const PLUGIN_POD_LABELS = { 'app.kubernetes.io/name': 'plugin-barman-cloud', 'app.kubernetes.io/instance': BARMAN_RELEASE };
/** Two operator replicas (leader election): failover of a PostgreSQL primary needs a running operator. */
const OPERATOR_REPLICAS = 2;

/** The CloudNativePG operator chart (CRDs included). */
export class CloudNativePgOperatorChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'cloudnative-pg', { platform, stage: '10-operators', namespace: NAMESPACES.cnpg.name });
    const namespace = NAMESPACES.cnpg.name;
    const podLabels = { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': CNPG_RELEASE };
    new HelmReleaseWrapper(this, 'operator', {
      releaseName: CNPG_RELEASE,
      namespace,
      chart: charts.cloudnativePg,
      gitops: platform.config.gitops,
      stage: this.stage,
      values: {
        replicaCount: OPERATOR_REPLICAS,
        resources: OPERATOR_RESOURCES,
        crds: { create: true },
        config: { clusterWide: true },
        // Scraping is declared in lib/model/metrics.ts (one place for every scrape object).
        monitoring: { podMonitorEnabled: false },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: podLabels },
          },
        ],
      },
    });
    new k8s.KubePodDisruptionBudget(this, 'operator-pdb', {
      metadata: { name: CNPG_RELEASE, namespace },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: podLabels } },
    });
  }
}

/** The Barman Cloud plugin (CNPG-I) in the operator's namespace; its chart needs cert-manager. */
export class BarmanCloudPluginChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'barman-cloud-plugin', { platform, stage: '20-platform', namespace: NAMESPACES.cnpg.name });
    new HelmReleaseWrapper(this, 'plugin', {
      releaseName: BARMAN_RELEASE,
      namespace: NAMESPACES.cnpg.name,
      chart: charts.barmanCloudPlugin,
      gitops: platform.config.gitops,
      stage: this.stage,
      values: {
        replicaCount: PLUGIN_REPLICAS,
        resources: PLUGIN_RESOURCES,
        crds: { create: true },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: PLUGIN_POD_LABELS },
          },
        ],
      },
    });
    new k8s.KubePodDisruptionBudget(this, 'plugin-pdb', {
      metadata: { name: BARMAN_RELEASE, namespace: NAMESPACES.cnpg.name },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: PLUGIN_POD_LABELS } },
    });
  }
}

function cnpgResources(resources: Resources) {
  return {
    requests: {
      cpu: ClusterSpecResourcesRequests.fromString(resources.requests.cpu),
      memory: ClusterSpecResourcesRequests.fromString(resources.requests.memory),
    },
    limits: {
      cpu: ClusterSpecResourcesLimits.fromString(resources.limits.cpu),
      memory: ClusterSpecResourcesLimits.fromString(resources.limits.memory),
    },
  };
}

/** The folder (serverName) this cluster archives WAL and base backups to. */
export function archiveServerName(platform: Platform): string {
  return platform.config.database.backup.serverName ?? POSTGRES.clusterName;
}

/** The PostgreSQL cluster, its object store and its daily backup. */
export class PostgresChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'postgres', { platform, stage: '30-data', namespace: POSTGRES.namespace });
    const { config } = platform;
    const database = config.database;
    const storage = objectStorage(config);
    const sizing = postgresSizing(config);

    new ObjectStore(this, 'object-store', {
      metadata: { name: OBJECT_STORE_NAME, namespace: POSTGRES.namespace },
      spec: {
        retentionPolicy: database.backup.retentionPolicy,
        configuration: {
          destinationPath: `s3://${storage.buckets.backups}/`,
          endpointUrl: storage.endpoint,
          ...(storage.ca ? { endpointCa: { name: storage.ca.secret, key: storage.ca.key } } : {}),
          s3Credentials: {
            accessKeyId: { name: storage.credentialsSecret, key: storage.accessKeyIdKey },
            secretAccessKey: { name: storage.credentialsSecret, key: storage.secretAccessKeyKey },
          },
          wal: { compression: ObjectStoreSpecConfigurationWalCompression.GZIP, maxParallel: 4 },
          data: { compression: ObjectStoreSpecConfigurationDataCompression.GZIP, jobs: 2 },
        },
      },
    });

    const restore = database.restore;
    const bootstrap = restore.enabled
      ? {
          recovery: { source: RESTORE_SOURCE, database: POSTGRES.database, owner: POSTGRES.owner },
        }
      : {
          initdb: {
            database: POSTGRES.database,
            owner: POSTGRES.owner,
            // Synapse refuses a database whose collation or ctype is not C (docs/postgres.md).
            encoding: 'UTF8',
            localeCollate: 'C',
            localeCType: 'C',
          },
        };

    new Cluster(this, 'cluster', {
      metadata: { name: POSTGRES.clusterName, namespace: POSTGRES.namespace },
      spec: {
        instances: database.instances,
        imageName: imageRef(database.image ?? images.postgres),
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
        switchoverDelay: SWITCHOVER_DELAY_SECONDS,
        enableSuperuserAccess: false,
        postgresql: {
          parameters: sizing.parameters,
          // Synchronous replication needs a standby: a single instance has none to wait for.
          ...(database.instances > 1
            ? {
                synchronous: {
                  method: ClusterSpecPostgresqlSynchronousMethod.ANY,
                  number: 1,
                  dataDurability: ClusterSpecPostgresqlSynchronousDataDurability.REQUIRED,
                },
              }
            : {}),
        },
        bootstrap,
        ...(restore.enabled
          ? {
              externalClusters: [
                {
                  name: RESTORE_SOURCE,
                  plugin: {
                    name: BARMAN_PLUGIN,
                    parameters: {
                      barmanObjectName: OBJECT_STORE_NAME,
                      serverName: restore.sourceServerName ?? POSTGRES.clusterName,
                    },
                  },
                },
              ],
            }
          : {}),
        plugins: [
          {
            name: BARMAN_PLUGIN,
            isWalArchiver: true,
            parameters: { barmanObjectName: OBJECT_STORE_NAME, serverName: archiveServerName(platform) },
          },
        ],
        storage: { storageClass: config.storageClasses.fast, size: database.storageSize },
        walStorage: { storageClass: config.storageClasses.fast, size: database.walStorageSize },
        resources: cnpgResources(sizing.resources),
        affinity: {
          enablePodAntiAffinity: true,
          podAntiAffinityType: 'required',
          topologyKey: 'kubernetes.io/hostname',
        },
        // Scraped by the PodMonitor from lib/model/metrics.ts (enablePodMonitor is deprecated in CNPG 1.30).
        monitoring: { enablePodMonitor: false },
      },
    });

    new ScheduledBackup(this, 'scheduled-backup', {
      metadata: { name: `${POSTGRES.clusterName}-daily`, namespace: POSTGRES.namespace },
      spec: {
        schedule: database.backup.schedule,
        cluster: { name: POSTGRES.clusterName },
        method: ScheduledBackupSpecMethod.PLUGIN,
        pluginConfiguration: { name: BARMAN_PLUGIN },
        backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
        // A base backup right after creation: a fresh cluster is recoverable before the first schedule.
        immediate: true,
      },
    });
  }
}
