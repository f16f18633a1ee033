import { RUN_AS } from '../lib/model/run-as';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import * as yaml from 'js-yaml';
import { ComponentChart } from '../constructs/component-chart';
import { HaproxyRouter } from '../constructs/haproxy-router';
import {
  componentLabels,
  configMap,
  container,
  contentHash,
  fastEvictionTolerations,
  httpProbe,
  service,
  Workload,
  withEphemeralStorage,
  withImageDigests,
  imageDigestExceptions,
  scannerAnnotations,
} from '../constructs/workload';
import { type Platform, objectStorage, POSTGRES, SECRET_NAMES } from '../lib/model';
import {
  buildAwsConfig,
  buildHomeserverConfig,
  buildLogConfig,
  buildMediaUploadDatabaseConfig,
  buildWorkerConfig,
  SYNAPSE_PATHS,
  synapseImage,
} from '../lib/model/synapse-config';
import {
  activeWorkerTypes,
  MAIN_NAME,
  poolName,
  processesOf,
  SYNAPSE_NAMESPACE,
  SYNAPSE_PORTS,
  type SynapseProcess,
  synapseProcesses,
  type WorkerType,
  workerCount,
  workerKind,
  workerResources,
} from '../lib/model/workers';
import { PROCESS_POD_LABEL } from '../lib/model/metrics';
import { MEDIA_UPLOAD_COMPONENT } from '../lib/model/network-policies';

/**
 * Synapse: the main process (SynapseMainChart, applied first) and the workers with their router and
 * media jobs (SynapseChart).
 */

export const SYNAPSE_UID = RUN_AS.synapse;
export const CONFIG_MAP = 'synapse-config';
export const WORKERS_CONFIG_MAP = 'synapse-workers';
export const MEDIA_UPLOAD_CONFIG_MAP = 'synapse-media-upload';
export const MEDIA_VOLUME = 'media-store';
/** How late a media upload run may still start (seconds). */
export const MEDIA_UPLOAD_STARTING_DEADLINE_SECONDS = 600;

export const toYamlText = (value: unknown): string => yaml.dump(value, { lineWidth: -1, noRefs: true, sortKeys: false });

/** Labels of the main pod; the single-writer workers' pod affinity selects them. */
export const MAIN_SELECTOR = { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': 'main' } as const;

/**
 * Processes Synapse allows only once share main's node (required pod affinity): a node loss then
 * takes them down only together with main, one failure domain instead of one per process. The
 * scheduler places them after main; they follow main when it moves (docs/synapse-workers.md).
 */
function colocateWithMain(type: WorkerType): k8s.PodAffinity | undefined {
  if (!type.singleWriter) return undefined;
  return {
    requiredDuringSchedulingIgnoredDuringExecution: [
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...MAIN_SELECTOR } } },
    ],
  };
}

const SMALL = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } };

interface PodFiles {
  volumes: k8s.Volume[];
  mounts: k8s.VolumeMount[];
}

/** Secret and config volumes every Synapse process mounts. */
function synapseFiles(platform: Platform, withWorkerConfig: boolean): PodFiles {
  const volumes: k8s.Volume[] = [
    { name: 'config', configMap: { name: CONFIG_MAP } },
    { name: 'secrets', secret: { secretName: SECRET_NAMES.synapse, defaultMode: 0o440 } },
    { name: 'signing-key', secret: { secretName: SECRET_NAMES.synapseSigningKey, defaultMode: 0o440 } },
    { name: 'redis-password', secret: { secretName: SECRET_NAMES.synapseRedis, defaultMode: 0o440 } },
    postgresSecretVolume(),
    { name: 'runtime', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
    { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('2Gi') } },
  ];
  const mounts: k8s.VolumeMount[] = [
    { name: 'config', mountPath: SYNAPSE_PATHS.configDir, readOnly: true },
    { name: 'secrets', mountPath: SYNAPSE_PATHS.secretsDir, readOnly: true },
    { name: 'signing-key', mountPath: SYNAPSE_PATHS.signingKeyDir, readOnly: true },
    { name: 'redis-password', mountPath: SYNAPSE_PATHS.redisPasswordDir, readOnly: true },
    { name: 'runtime', mountPath: SYNAPSE_PATHS.runtimeDir, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (platform.config.calls.enabled) {
    volumes.push({ name: 'turn-secret', secret: { secretName: SECRET_NAMES.turn, defaultMode: 0o440 } });
    mounts.push({ name: 'turn-secret', mountPath: SYNAPSE_PATHS.turnSecretDir, readOnly: true });
  }
  if (withWorkerConfig) {
    volumes.push({ name: 'worker-config', configMap: { name: WORKERS_CONFIG_MAP } });
    mounts.push({ name: 'worker-config', mountPath: SYNAPSE_PATHS.workersDir, readOnly: true });
  }
  return { volumes, mounts };
}

function postgresSecretVolume(): k8s.Volume {
  return {
    name: 'postgres-app',
    secret: { secretName: POSTGRES.appSecret, defaultMode: 0o600, items: [{ key: 'pgpass', path: 'pgpass' }] },
  };
}

/**
 * libpq ignores a passfile with group or world access, and fsGroup makes every Secret file
 * group-readable (0640), owned by root. This init container writes the copy libpq reads: owned by the
 * Synapse uid, mode 0600, host field `*` so the line matches the fully qualified host we connect to
 * (CNPG writes the short Service name).
 */
function passfileInit(platform: Platform): k8s.Container {
  return container({
    name: 'passfile',
    image: synapseImage(platform),
    resources: SMALL,
    command: [
      'sh',
      '-c',
      `umask 077 && sed 's/^[^:]*:/*:/' ${SYNAPSE_PATHS.postgresSecretPgpass} > ${SYNAPSE_PATHS.passfile} && chmod 0600 ${SYNAPSE_PATHS.passfile}`,
    ],
    volumeMounts: [
      { name: 'postgres-app', mountPath: SYNAPSE_PATHS.postgresSecretDir, readOnly: true },
      { name: 'runtime', mountPath: SYNAPSE_PATHS.runtimeDir },
    ],
  });
}

/**
 * Seconds main may take to start: schema migrations run before it listens (its startup probe allows
 * this long), so a version bump with a long migration is not mistaken for a hung process.
 */
export const MAIN_STARTUP_SECONDS = 30 * 60;
/**
 * Seconds a worker of a new Synapse version waits for main to migrate the schema before its init
 * container gives up (then the kubelet retries it with back-off): main's start-up budget plus the time
 * the old main takes to stop and the new one to be scheduled and pull its image.
 */
export const SCHEMA_WAIT_SECONDS = MAIN_STARTUP_SECONDS + 5 * 60;
const SCHEMA_POLL_SECONDS = 10;

/**
 * Synapse refuses to start a worker while the database lacks a schema delta its code ships
 * (synapse/storage/prepare_database.py: "Expected database schema version ..." when schema_version is
 * older than SCHEMA_VERSION, "Database schema delta ... has not been applied" when a delta of the same
 * version is missing); only main applies them. This init container runs that same check
 * (prepare_database with the worker's own config, which on a worker only reads and refuses) until it
 * passes: a worker of a new version waits in Init, without a crash loop, while main migrates.
 */
function waitForSchemaInit(platform: Platform, worker: k8s.Container): k8s.Container {
  const script = [
    'import sys, time',
    'from synapse.config.homeserver import HomeServerConfig',
    'from synapse.storage.database import make_conn',
    'from synapse.storage.engines import create_engine',
    'from synapse.storage.prepare_database import prepare_database',
    'from synapse.storage.schema import SCHEMA_VERSION',
    'config = HomeServerConfig.load_config("wait-for-schema", sys.argv[1:])',
    `deadline = time.monotonic() + ${SCHEMA_WAIT_SECONDS}`,
    'while True:',
    '    try:',
    '        for database in config.database.databases:',
    '            engine = create_engine(database.config)',
    '            with make_conn(db_config=database, engine=engine, default_txn_name="wait_for_schema", server_name=config.server.server_name) as connection:',
    '                prepare_database(connection, engine, config, databases=database.databases)',
    '        print(f"database schema is ready for this Synapse (schema version {SCHEMA_VERSION})", flush=True)',
    '        break',
    '    except Exception as error:',
    '        reason = error',
    '    if time.monotonic() > deadline:',
    `        sys.exit(f"gave up after ${SCHEMA_WAIT_SECONDS} s: synapse main has not migrated the database schema: {reason}")`,
    '    print(f"waiting for synapse main to migrate the database schema (this image needs schema version {SCHEMA_VERSION}): {reason}", flush=True)',
    `    time.sleep(${SCHEMA_POLL_SECONDS})`,
  ].join('\n');
  // The worker's own command line, config files, mounts and environment: the check reads exactly
  // the configuration the worker starts with.
  const configArgs = (worker.command ?? []).slice((worker.command ?? []).indexOf('--config-path'));
  return container({
    name: 'wait-for-schema',
    image: synapseImage(platform),
    resources: SMALL,
    command: ['python', '-c', script, ...configArgs],
    env: worker.env,
    volumeMounts: worker.volumeMounts,
  });
}

/** Workers start only after main answers /health: replication and instance_map need the main process. */
function waitForMainInit(platform: Platform): k8s.Container {
  const url = `http://${MAIN_NAME}.${SYNAPSE_NAMESPACE}.svc.cluster.local:${SYNAPSE_PORTS.http}/health`;
  const script = [
    'import time, urllib.request',
    'while True:',
    '    try:',
    `        if urllib.request.urlopen("${url}", timeout=5).status == 200: break`,
    '    except Exception as error:',
    '        print("waiting for synapse main:", error, flush=True)',
    '    time.sleep(5)',
  ].join('\n');
  return container({
    name: 'wait-for-main',
    image: synapseImage(platform),
    resources: SMALL,
    command: ['python', '-c', script],
  });
}

const S3_CREDENTIALS_VOLUME = 's3-credentials';
const S3_CREDENTIALS_DIR = '/secrets/s3';

/** boto3's settings: aws.conf from the ConfigMap, the keys from the Secret's shared credentials file. */
function s3Env(): k8s.EnvVar[] {
  return [
    { name: 'AWS_CONFIG_FILE', value: SYNAPSE_PATHS.awsConfig },
    { name: 'AWS_SHARED_CREDENTIALS_FILE', value: `${S3_CREDENTIALS_DIR}/credentials` },
  ];
}

function s3CredentialsVolume(platform: Platform): k8s.Volume {
  const storage = objectStorage(platform.config);
  return {
    name: S3_CREDENTIALS_VOLUME,
    secret: { secretName: storage.credentialsSecret, defaultMode: 0o440, items: [{ key: storage.credentialsFileKey, path: 'credentials' }] },
  };
}

const S3_CREDENTIALS_MOUNT: k8s.VolumeMount = { name: S3_CREDENTIALS_VOLUME, mountPath: S3_CREDENTIALS_DIR, readOnly: true };

/**
 * The object store's CA, mounted where boto3 runs (aws.conf names it as ca_bundle), from the Secret
 * cert-manager writes in this namespace (lib/model/internal-ca.ts): nothing to create by hand.
 */
function objectStorageCaFiles(platform: Platform): PodFiles {
  const ca = objectStorage(platform.config).ca;
  if (!ca) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: 'object-storage-ca', secret: { secretName: ca.secret, items: [{ key: ca.key, path: 'ca.crt' }] } }],
    mounts: [{ name: 'object-storage-ca', mountPath: SYNAPSE_PATHS.objectStorageCaDir, readOnly: true }],
  };
}

const STARTUP_PROBE_PERIOD_SECONDS = 5;
/** Seconds a worker may take to start once its init containers are done (no migrations on workers). */
const WORKER_STARTUP_SECONDS = 5 * 60;

function synapseProbes(startupSeconds: number): Pick<k8s.Container, 'livenessProbe' | 'readinessProbe' | 'startupProbe'> {
  return {
    startupProbe: httpProbe('/health', 'http', {
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      failureThreshold: startupSeconds / STARTUP_PROBE_PERIOD_SECONDS,
    }),
    livenessProbe: httpProbe('/health', 'http', { periodSeconds: 15, failureThreshold: 4 }),
    readinessProbe: httpProbe('/health', 'http', { periodSeconds: 5, failureThreshold: 2 }),
  };
}

function containerPorts(replication: boolean): k8s.ContainerPort[] {
  return [
    { name: 'http', containerPort: SYNAPSE_PORTS.http },
    ...(replication ? [{ name: 'replication', containerPort: SYNAPSE_PORTS.replication }] : []),
    { name: 'metrics', containerPort: SYNAPSE_PORTS.metrics },
  ];
}

/** homeserver.yaml, log.yaml and aws.conf: the files main and every worker read (the synapse-config ConfigMap). */
function sharedSynapseFiles(platform: Platform): Record<string, string> {
  return {
    'homeserver.yaml': toYamlText(buildHomeserverConfig(platform)),
    'log.yaml': toYamlText(buildLogConfig()),
    'aws.conf': buildAwsConfig(platform),
  };
}

/**
 * Synapse main with the shared configuration, one stage before the workers: GitOps applies the
 * workers only once main's rollout is complete, that is once main has migrated the database schema
 * and answers /health. A version bump therefore rolls main first while the old workers keep serving
 * (docs/operations.md, upgrade Synapse).
 */
export class SynapseMainChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'synapse-main', { platform, stage: '35-synapse-main', namespace: SYNAPSE_NAMESPACE });
    const sharedConfig = sharedSynapseFiles(platform);
    configMap(this, 'config', {
      name: CONFIG_MAP,
      namespace: SYNAPSE_NAMESPACE,
      data: sharedConfig,
      labels: componentLabels('synapse', 'config'),
    });
    this.addMain(platform, synapseProcesses(platform.config)[0], contentHash(...Object.values(sharedConfig)));
  }

  private addMain(platform: Platform, main: SynapseProcess, configHash: string): void {
    const selector = { ...MAIN_SELECTOR };
    const files = synapseFiles(platform, false);
    // The one single instance: a Deployment (not a StatefulSet) so a lost node is replaced as soon as
    // the pod is evicted, Recreate so two mains never run at once, short not-ready tolerations.
    new Workload(this, 'main', {
      kind: 'Deployment',
      name: MAIN_NAME,
      namespace: SYNAPSE_NAMESPACE,
      selector,
      labels: { ...componentLabels('synapse', 'main'), [PROCESS_POD_LABEL]: MAIN_NAME },
      replicas: 1,
      strategy: { type: 'Recreate' },
      identity: { runAsUser: SYNAPSE_UID },
      configHash,
      // Fast failover off a dead node: evicted after 30 s instead of the default 300 s.
      tolerations: fastEvictionTolerations(),
      terminationGracePeriodSeconds: 60,
      initContainers: [passfileInit(platform)],
      containers: [
        container({
          name: 'synapse',
          image: synapseImage(platform),
          resources: main.resources,
          command: ['python', '-m', 'synapse.app.homeserver', '--config-path', SYNAPSE_PATHS.homeserver],
          ports: containerPorts(true),
          volumeMounts: files.mounts,
          ...synapseProbes(MAIN_STARTUP_SECONDS),
        }),
      ],
      volumes: files.volumes,
    });
    service(this, 'main-service', {
      name: MAIN_NAME,
      namespace: SYNAPSE_NAMESPACE,
      selector,
      ports: [
        { name: 'http', port: SYNAPSE_PORTS.http },
        { name: 'replication', port: SYNAPSE_PORTS.replication },
        { name: 'metrics', port: SYNAPSE_PORTS.metrics },
      ],
    });
  }
}

/**
 * The Synapse workers: one StatefulSet per replicated pool (stable per-process host names for
 * instance_map and unique worker_name), a Deployment per single writer, their Services and PDBs, the
 * media stores and their S3 upload CronJobs, and the internal HAProxy router the edge sends all
 * Matrix traffic to.
 */
export class SynapseChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'synapse', { platform, stage: '40-apps', namespace: SYNAPSE_NAMESPACE });
    const { config } = platform;
    const processes = synapseProcesses(config);
    const workerFiles = new Map<string, string>();
    for (const process of processes.filter((candidate) => candidate.type)) {
      workerFiles.set(`${process.instanceName}.yaml`, toYamlText(buildWorkerConfig(process)));
    }
    configMap(this, 'workers', {
      name: WORKERS_CONFIG_MAP,
      namespace: SYNAPSE_NAMESPACE,
      data: Object.fromEntries(workerFiles),
      labels: componentLabels('synapse', 'config'),
    });
    const sharedHash = contentHash(...Object.values(sharedSynapseFiles(platform)));
    for (const type of activeWorkerTypes(config)) {
      const poolFiles = processesOf(config, type).map((process) => workerFiles.get(`${process.instanceName}.yaml`) ?? '');
      this.addPool(platform, type, contentHash(sharedHash, ...poolFiles));
    }
    this.addMediaUpload(platform);
    new HaproxyRouter(this, 'router', { platform });
  }

  private addPool(platform: Platform, type: WorkerType, configHash: string): void {
    const { config } = platform;
    const name = poolName(type);
    const selector = { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': type.pool };
    const files = synapseFiles(platform, true);
    const replication = type.streams.length > 0;
    const mounts = [...files.mounts];
    const volumes = [...files.volumes];
    if (type.mediaStore) {
      const ca = objectStorageCaFiles(platform);
      mounts.push({ name: MEDIA_VOLUME, mountPath: SYNAPSE_PATHS.dataDir }, S3_CREDENTIALS_MOUNT, ...ca.mounts);
      volumes.push(s3CredentialsVolume(platform), ...ca.volumes);
    }
    const kind = workerKind(type);
    service(this, `${type.id}-service`, {
      name,
      namespace: SYNAPSE_NAMESPACE,
      selector,
      // Replicated pools: instance_map and the router resolve per-pod names, which must exist while a
      // pod starts. A single writer is addressed through this Service itself (workerKind).
      ...(kind === 'StatefulSet' ? { headless: true, publishNotReadyAddresses: true } : {}),
      ports: [
        { name: 'http', port: SYNAPSE_PORTS.http },
        ...(replication ? [{ name: 'replication', port: SYNAPSE_PORTS.replication }] : []),
        { name: 'metrics', port: SYNAPSE_PORTS.metrics },
      ],
    });
    // A single writer: one pod, never two at once (Recreate), replaced 30 s after its node is lost,
    // its process name fixed (workerKind in lib/model/workers.ts).
    const singlePod = kind === 'Deployment' ? processesOf(config, type)[0].podName : undefined;
    const worker = container({
      name: 'synapse',
      image: synapseImage(platform),
      resources: workerResources(config, type),
      command: [
        'python',
        '-m',
        'synapse.app.generic_worker',
        '--config-path',
        SYNAPSE_PATHS.homeserver,
        '--config-path',
        `${SYNAPSE_PATHS.workersDir}/$(POD_NAME).yaml`,
      ],
      env: [
        singlePod ? { name: 'POD_NAME', value: singlePod } : { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ...(type.mediaStore ? s3Env() : []),
      ],
      ports: containerPorts(replication),
      volumeMounts: mounts,
      ...synapseProbes(WORKER_STARTUP_SECONDS),
    });
    new Workload(this, type.id, {
      kind,
      name,
      namespace: SYNAPSE_NAMESPACE,
      ...(singlePod
        ? { strategy: { type: 'Recreate' }, tolerations: fastEvictionTolerations() }
        : { serviceName: name, podManagementPolicy: 'Parallel' as const }),
      selector,
      labels: { ...componentLabels('synapse', type.pool), ...(singlePod ? { [PROCESS_POD_LABEL]: singlePod } : {}) },
      replicas: workerCount(config, type),
      podAffinity: colocateWithMain(type),
      identity: { runAsUser: SYNAPSE_UID },
      configHash,
      terminationGracePeriodSeconds: 60,
      initContainers: [passfileInit(platform), waitForSchemaInit(platform, worker), waitForMainInit(platform)],
      containers: [worker],
      volumes,
      ...(type.mediaStore
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: MEDIA_VOLUME },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  storageClassName: config.storageClasses.general,
                  resources: { requests: { storage: k8s.Quantity.fromString(config.synapse.mediaStoreSize) } },
                },
              },
            ],
          }
        : {}),
    });
  }

  /**
   * One CronJob per media worker: its media store is a ReadWriteOnce volume, so the job runs on the
   * same node as that worker (required pod affinity) and mounts the same claim. It records media not
   * accessed for mediaUploadAfterDays, uploads it and deletes the local copy.
   */
  private addMediaUpload(platform: Platform): void {
    const { config } = platform;
    const storage = objectStorage(config);
    configMap(this, 'media-upload-config', {
      name: MEDIA_UPLOAD_CONFIG_MAP,
      namespace: SYNAPSE_NAMESPACE,
      data: { 'database.yaml': toYamlText(buildMediaUploadDatabaseConfig()) },
      labels: componentLabels('synapse', MEDIA_UPLOAD_COMPONENT),
    });
    const mediaType = activeWorkerTypes(config).find((type) => type.mediaStore);
    if (!mediaType) return;
    const script = [
      'set -eu',
      `mkdir -p ${SYNAPSE_PATHS.mediaUploadDir}`,
      `cd ${SYNAPSE_PATHS.mediaUploadDir}`,
      `cp ${SYNAPSE_PATHS.mediaUploadConfigDir}/database.yaml database.yaml`,
      `s3_media_upload --no-progress update ${SYNAPSE_PATHS.mediaStore} ${config.synapse.mediaUploadAfterDays}d`,
      `s3_media_upload --no-progress upload ${SYNAPSE_PATHS.mediaStore} ${storage.buckets.media} --delete --endpoint-url ${storage.endpoint}`,
    ].join('\n');
    for (const process of processesOf(config, mediaType)) {
      const jobName = `synapse-media-upload-${process.podName.split('-').pop()}`;
      const labels = { ...componentLabels('synapse', MEDIA_UPLOAD_COMPONENT), 'matrix-platform/media-worker': process.podName };
      const mediaUploadVolumes: k8s.Volume[] = [
        { name: 'config', configMap: { name: CONFIG_MAP } },
        { name: 'upload-config', configMap: { name: MEDIA_UPLOAD_CONFIG_MAP } },
        { name: MEDIA_VOLUME, persistentVolumeClaim: { claimName: `${MEDIA_VOLUME}-${process.podName}` } },
        postgresSecretVolume(),
        { name: 'runtime', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
        { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } },
        s3CredentialsVolume(platform),
        ...objectStorageCaFiles(platform).volumes,
      ];
      const digests = config.images.digests;
      const initContainers = withEphemeralStorage(withImageDigests([passfileInit(platform)], digests));
      const containers = withEphemeralStorage(withImageDigests([
        container({
          name: 's3-media-upload',
          image: synapseImage(platform),
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
          command: ['sh', '-c', script],
          env: s3Env(),
          volumeMounts: [
            { name: 'config', mountPath: SYNAPSE_PATHS.configDir, readOnly: true },
            { name: 'upload-config', mountPath: SYNAPSE_PATHS.mediaUploadConfigDir, readOnly: true },
            { name: MEDIA_VOLUME, mountPath: SYNAPSE_PATHS.dataDir },
            { name: 'runtime', mountPath: SYNAPSE_PATHS.runtimeDir, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            S3_CREDENTIALS_MOUNT,
            ...objectStorageCaFiles(platform).mounts,
          ],
        }),
      ], digests), mediaUploadVolumes);
      const annotations = scannerAnnotations(imageDigestExceptions([...initContainers, ...containers]));
      new k8s.KubeCronJob(this, jobName, {
        metadata: { name: jobName, namespace: SYNAPSE_NAMESPACE, labels, annotations },
        spec: {
          schedule: config.synapse.mediaUploadSchedule,
          concurrencyPolicy: 'Forbid',
          // A run that could not start within this window is skipped; the next one uploads the backlog.
          // Without it, a controller that missed more than 100 schedules stops scheduling the job.
          startingDeadlineSeconds: MEDIA_UPLOAD_STARTING_DEADLINE_SECONDS,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 6 * 3600,
              template: {
                metadata: { labels },
                spec: {
                  restartPolicy: 'OnFailure',
                  automountServiceAccountToken: false,
                  enableServiceLinks: false,
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: SYNAPSE_UID,
                    runAsGroup: SYNAPSE_UID,
                    fsGroup: SYNAPSE_UID,
                    fsGroupChangePolicy: 'OnRootMismatch',
                    seccompProfile: { type: 'RuntimeDefault' },
                  },
                  affinity: {
                    podAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: [
                        {
                          topologyKey: 'kubernetes.io/hostname',
                          labelSelector: { matchLabels: { 'statefulset.kubernetes.io/pod-name': process.podName } },
                        },
                      ],
                    },
                  },
                  initContainers,
                  containers,
                  volumes: mediaUploadVolumes,
                },
              },
            },
          },
        },
      });
    }
  }
}


