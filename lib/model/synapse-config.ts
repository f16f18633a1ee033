import type { Platform } from '.';
import type { Resources } from '../config/primitives';
import type { ImagePin } from '../versions';
import { parseBytes } from './capacity';
import { matrixRtcHomeserverSettings, turnUris } from './calls';
import { objectStorage, POSTGRES, SYNAPSE_REDIS_PROXY } from './endpoints';
import { streamWriters } from './streams';
import {
  activeWorkerTypes,
  type Duty,
  MAIN_INSTANCE,
  processesOf,
  SYNAPSE_PORTS,
  type SynapseProcess,
  synapseProcesses,
  type WorkerType,
} from './workers';

/**
 * Synapse configuration as plain objects: the shared homeserver.yaml, one worker file per process,
 * the logging config and the s3_media_upload database.yaml. Secrets appear only as *_path entries and
 * the libpq passfile: every path below is a file mounted from a Kubernetes Secret.
 *
 * Config keys checked against the pinned matrix-synapse (synapse/config/*.py): *_path variants of
 * registration_shared_secret, macaroon_secret_key, form_secret, worker_replication_secret,
 * turn_shared_secret and redis.password; instance_map with `main`; stream_writers with `master`
 * (lib/model/streams.ts); the duty keys in
 * workers.ts; enable_media_repo / media_instance_running_background_jobs.
 */

/** The Synapse image every Synapse pod runs: config.synapse.image, else the project image built from images/synapse. */
export function synapseImage(platform: Platform): ImagePin {
  return platform.synapseImage;
}

/** Where files live inside Synapse pods. scripts/check-synapse-config.sh rewrites the /config, /secrets and /run prefixes. */
export const SYNAPSE_PATHS = {
  configDir: '/config',
  homeserver: '/config/homeserver.yaml',
  logConfig: '/config/log.yaml',
  awsConfig: '/config/aws.conf',
  /** The object store's private CA (objectStorage(config).ca, the cluster CA), on media workers and the upload job. */
  objectStorageCaDir: '/secrets/object-storage-ca',
  objectStorageCa: '/secrets/object-storage-ca/ca.crt',
  /** Not under /config: a mount inside a ConfigMap mount would need a directory in a read-only volume. */
  workersDir: '/worker-config',
  secretsDir: '/secrets/synapse',
  registrationSharedSecret: '/secrets/synapse/registration_shared_secret',
  macaroonSecretKey: '/secrets/synapse/macaroon_secret_key',
  formSecret: '/secrets/synapse/form_secret',
  workerReplicationSecret: '/secrets/synapse/worker_replication_secret',
  signingKeyDir: '/secrets/signing',
  signingKey: '/secrets/signing/signing.key',
  redisPasswordDir: '/secrets/redis',
  redisPassword: '/secrets/redis/password',
  turnSecretDir: '/secrets/turn',
  turnSharedSecret: '/secrets/turn/secret',
  /** The CNPG `<cluster>-app` Secret as mounted (root-owned, group-readable through fsGroup). */
  postgresSecretDir: '/secrets/postgres',
  postgresSecretPgpass: '/secrets/postgres/pgpass',
  /** The copy libpq reads: owned by the Synapse uid, mode 0600 (libpq ignores a group-readable passfile). */
  runtimeDir: '/run/synapse',
  passfile: '/run/synapse/pgpass',
  dataDir: '/data',
  mediaStore: '/data/media_store',
  /** Working directory of s3_media_upload on the media volume: keeps its cache.db between runs. */
  mediaUploadDir: '/data/s3-upload',
  mediaUploadConfigDir: '/media-upload-config',
} as const;

/** Secret keys (file names) of SECRET_NAMES.synapse, as mounted under SYNAPSE_PATHS.secretsDir. */
export const SYNAPSE_SECRET_KEYS = [
  'registration_shared_secret',
  'macaroon_secret_key',
  'form_secret',
  'worker_replication_secret',
] as const;

export type YamlObject = Record<string, unknown>;

/** Settings the calls contributor merges into homeserver.yaml (top-level keys, last writer wins). */
export type HomeserverFragment = YamlObject;

/**
 * TURN settings for 1:1 calls. Contract with the calls component: one turn: URI pair (udp, tcp) per
 * coturn node at its public address, one turns: URI at the TURN host name (its certificate names
 * it), and the shared secret from the mounted SECRET_NAMES.turn Secret.
 * Calls contributor: put the MatrixRTC settings (experimental_features, matrix_rtc) into
 * `matrixRtcSettings` below or pass them as an extra fragment to buildHomeserverConfig.
 */
export function callsHomeserverSettings(platform: Platform): HomeserverFragment {
  const { config } = platform;
  if (!config.calls.enabled || !config.calls.coturn) return {};
  // One URI list for Synapse and coturn's ports: owned by the calls model (lib/model/calls.ts turnUris).
  return {
    turn_uris: turnUris(platform),
    turn_shared_secret_path: SYNAPSE_PATHS.turnSharedSecret,
    turn_user_lifetime: '1h',
    turn_allow_guests: false,
    ...matrixRtcSettings(platform),
  };
}

/** MatrixRTC (Element Call) settings: owned by the calls contributor (lib/model/calls.ts). */
export function matrixRtcSettings(platform: Platform): HomeserverFragment {
  return matrixRtcHomeserverSettings(platform);
}

const MiB = 2 ** 20;

/**
 * Cache settings of one process, derived from its memory limit (the sizing table or the per-pool
 * override). Synapse's default (global_factor 0.5, no memory bound) is sized for small servers; at
 * 20k users the event, state and membership caches decide how much reaches PostgreSQL. The factor
 * grows with the memory a process has (0.5 per GiB of limit, between 1 and 8) and cache_autotuning
 * bounds it: cache eviction starts when the jemalloc heap of the whole process passes 70 % of the
 * limit and continues down to 55 %, leaving room for request buffers and sync responses below the
 * OOM kill. Autotuning reads jemalloc statistics: the project image preloads jemalloc
 * (images/synapse/Dockerfile), which the upstream image only does in its start.py.
 */
export function cacheSettings(resources: Resources): YamlObject {
  const limit = parseBytes(resources.limits.memory);
  const mebibytes = (fraction: number) => `${Math.floor((limit * fraction) / MiB)}M`;
  const globalFactor = Math.min(8, Math.max(1, Math.round((limit / 2 ** 30) * 0.5 * 10) / 10));
  return {
    global_factor: globalFactor,
    expire_caches: true,
    cache_entry_ttl: '30m',
    cache_autotuning: {
      max_cache_memory_usage: mebibytes(0.7),
      target_cache_memory_usage: mebibytes(0.55),
      min_cache_ttl: '5m',
    },
  };
}

function databaseSection(cpMax: number): YamlObject {
  return {
    name: 'psycopg2',
    allow_unsafe_locale: false,
    args: {
      user: POSTGRES.owner,
      dbname: POSTGRES.database,
      host: POSTGRES.readWriteHost,
      port: POSTGRES.port,
      passfile: SYNAPSE_PATHS.passfile,
      cp_min: Math.min(5, cpMax),
      cp_max: cpMax,
      // Notice a dead primary within ~40 s after a CNPG failover instead of the kernel's 2 hours.
      keepalives_idle: 10,
      keepalives_interval: 10,
      keepalives_count: 3,
    },
  };
}

function httpListener(resources: readonly string[]): YamlObject {
  return {
    port: SYNAPSE_PORTS.http,
    type: 'http',
    tls: false,
    // The router (and before it the edge) sets X-Forwarded-For; nothing else reaches this port.
    x_forwarded: true,
    resources: [{ names: [...resources], compress: false }],
  };
}

const replicationListener: YamlObject = {
  port: SYNAPSE_PORTS.replication,
  type: 'http',
  tls: false,
  resources: [{ names: ['replication'] }],
};

const metricsListener: YamlObject = {
  port: SYNAPSE_PORTS.metrics,
  type: 'metrics',
  // Synapse's metrics listener does not support IPv6.
  bind_addresses: ['0.0.0.0'],
};

function instanceMap(processes: SynapseProcess[]): YamlObject {
  const map: YamlObject = {};
  for (const process of processes.filter((candidate) => candidate.inInstanceMap)) {
    map[process.instanceName] = { host: process.host, port: SYNAPSE_PORTS.replication, tls: false };
  }
  return map;
}

function duties(platform: Platform): YamlObject {
  const result: Partial<Record<Duty, string | string[]>> = {};
  for (const type of activeWorkerTypes(platform.config)) {
    const names = processesOf(platform.config, type).map((process) => process.instanceName);
    for (const duty of type.duties ?? []) result[duty] = type.dutyIsSingle ? names[0] : names;
  }
  return result;
}

function mediaStorageProviders(platform: Platform): YamlObject[] {
  const storage = objectStorage(platform.config);
  return [
    {
      module: 's3_storage_provider.S3StorageProviderBackend',
      store_local: true,
      store_remote: true,
      // Every media worker has its own local store: uploads must be in S3 before the request
      // returns so any other media worker can serve them.
      store_synchronous: true,
      config: {
        bucket: storage.buckets.media,
        region_name: storage.region,
        endpoint_url: storage.endpoint,
        // No access_key_id/secret_access_key: boto3's default chain reads AWS_ACCESS_KEY_ID and
        // AWS_SECRET_ACCESS_KEY from the environment (from the object-storage Secret).
      },
    },
  ];
}

/** The shared homeserver.yaml (also the whole config of main). */
export function buildHomeserverConfig(platform: Platform, extraFragments: HomeserverFragment[] = []): YamlObject {
  const { config, hosts } = platform;
  const processes = synapseProcesses(config);
  const main = processes[0];
  const base: YamlObject = {
    server_name: config.serverName,
    public_baseurl: `https://${hosts.matrix}/`,
    pid_file: '/tmp/homeserver.pid',
    report_stats: false,
    log_config: SYNAPSE_PATHS.logConfig,
    listeners: [httpListener(['client', 'federation']), replicationListener, metricsListener],
    enable_metrics: true,
    database: databaseSection(main.cpMax),
    // Main's caches; every worker file replaces `caches` with its own (the merge is per top-level key).
    caches: cacheSettings(main.resources),
    redis: {
      enabled: true,
      host: SYNAPSE_REDIS_PROXY.host,
      port: SYNAPSE_REDIS_PROXY.port,
      password_path: SYNAPSE_PATHS.redisPassword,
    },
    signing_key_path: SYNAPSE_PATHS.signingKey,
    trusted_key_servers: [{ server_name: 'matrix.org' }],
    // Outbound federation refuses TLS below 1.2 (Synapse's default accepts 1.0).
    federation_client_minimum_tls_version: '1.2',
    suppress_key_server_warning: true,
    registration_shared_secret_path: SYNAPSE_PATHS.registrationSharedSecret,
    macaroon_secret_key_path: SYNAPSE_PATHS.macaroonSecretKey,
    form_secret_path: SYNAPSE_PATHS.formSecret,
    worker_replication_secret_path: SYNAPSE_PATHS.workerReplicationSecret,
    enable_registration: config.synapse.enableRegistration,
    // Only media workers load the media repository (their worker files set enable_media_repo: true).
    enable_media_repo: false,
    media_store_path: SYNAPSE_PATHS.mediaStore,
    max_upload_size: config.synapse.maxUploadSize,
    media_storage_providers: mediaStorageProviders(platform),
    instance_map: instanceMap(processes),
    stream_writers: streamWriters(config),
    ...duties(platform),
    ...callsHomeserverSettings(platform),
  };
  return Object.assign(base, ...extraFragments);
}

/** The worker file of one worker process: listeners and identity; everything else comes from homeserver.yaml. */
export function buildWorkerConfig(process: SynapseProcess): YamlObject {
  const type = process.type as WorkerType;
  const listeners: YamlObject[] = [httpListener(type.httpResources)];
  if (process.inInstanceMap) listeners.push(replicationListener);
  listeners.push(metricsListener);
  return {
    worker_app: 'synapse.app.generic_worker',
    worker_name: process.instanceName,
    worker_listeners: listeners,
    worker_log_config: SYNAPSE_PATHS.logConfig,
    caches: cacheSettings(process.resources),
    ...type.workerSettings,
  };
}

/** One worker file per worker process, keyed by file name `<worker_name>.yaml`. */
export function buildWorkerConfigs(platform: Platform): Map<string, YamlObject> {
  const files = new Map<string, YamlObject>();
  for (const process of synapseProcesses(platform.config)) {
    if (process.instanceName === MAIN_INSTANCE) continue;
    files.set(`${process.instanceName}.yaml`, buildWorkerConfig(process));
  }
  return files;
}

/** Python logging config: one line per record on stdout, with the request id Synapse attaches. */
export function buildLogConfig(): YamlObject {
  return {
    version: 1,
    formatters: {
      precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s' },
    },
    handlers: {
      console: { class: 'logging.StreamHandler', formatter: 'precise', stream: 'ext://sys.stdout' },
    },
    loggers: { 'synapse.storage.SQL': { level: 'INFO' } },
    root: { level: 'INFO', handlers: ['console'] },
    disable_existing_loggers: false,
  };
}

/** database.yaml read by s3_media_upload from its working directory (passed to psycopg2.connect). */
export function buildMediaUploadDatabaseConfig(): YamlObject {
  return {
    postgres: {
      user: POSTGRES.owner,
      dbname: POSTGRES.database,
      host: POSTGRES.readWriteHost,
      port: POSTGRES.port,
      passfile: SYNAPSE_PATHS.passfile,
    },
  };
}

/** boto3 shared config for the media provider and the upload job: path-style addressing for MinIO-like endpoints. */
export function buildAwsConfig(platform: Platform): string {
  const storage = objectStorage(platform.config);
  // Checksums only when required: S3-compatible servers differ in support for the newer default.
  const lines = [
    '[default]',
    `region = ${storage.region}`,
    'request_checksum_calculation = when_required',
    'response_checksum_validation = when_required',
  ];
  // A private CA (the in-cluster MinIO tenant): without it every S3 call of the storage provider and of
  // s3_media_upload fails certificate verification.
  if (storage.ca) lines.push(`ca_bundle = ${SYNAPSE_PATHS.objectStorageCa}`);
  if (storage.forcePathStyle) lines.push('s3 =', '    addressing_style = path');
  return `${lines.join('\n')}\n`;
}
