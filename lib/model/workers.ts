import type { PlatformConfig } from '../config';
import type { Resources } from '../config/primitives';
import { NAMESPACES } from './platform';

/**
 * The Synapse process catalogue as typed data: the main process and every worker type, with the
 * Synapse settings each needs, its listeners, its sizing and the way the router balances it.
 * Counts come from config.synapse.workers; everything else about a process is derived from here
 * (config files, StatefulSets, Services, instance_map, the router, the database connection budget).
 *
 * Facts checked against matrix-synapse (see lib/versions.ts SYNAPSE_VERSION):
 * - synapse/config/workers.py: typing, to_device, account_data, presence and push_rules accept exactly
 *   one writer; events, receipts, device_lists, thread_subscriptions and quarantined_media_changes accept
 *   several. push_rules, device_lists and thread_subscriptions have no worker type here: main writes them.
 * - synapse/config/server.py KNOWN_RESOURCES: client, consent, federation, health, keys, media,
 *   metrics, openid, replication, static.
 * - synapse/config/repository.py: a process loads the media repository unless enable_media_repo is false.
 */

/** Every port a Synapse process opens. The only place these numbers live. */
export const SYNAPSE_PORTS = {
  /** Client/federation/media HTTP listener (also serves /health). */
  http: 8008,
  /** HTTP replication listener: main and every process in instance_map. Never exposed outside the namespace. */
  replication: 9093,
  /** Prometheus metrics listener on every process. */
  metrics: 9000,
} as const;

export const SYNAPSE_NAMESPACE = NAMESPACES.matrix.name;

/** The streams of Synapse's WriterLocations (synapse/config/workers.py); lib/model/streams.ts describes each. */
export type StreamName =
  | 'events'
  | 'typing'
  | 'to_device'
  | 'account_data'
  | 'receipts'
  | 'presence'
  | 'push_rules'
  | 'device_lists'
  | 'thread_subscriptions'
  | 'quarantined_media_changes';

/** Listener resource names (synapse/config/server.py KNOWN_RESOURCES). */
export type ListenerResource = 'client' | 'federation' | 'media' | 'health';

export type WorkerTypeId = keyof PlatformConfig['synapse']['workers'];

/** How the router spreads requests over a pool's processes. */
export type Balance =
  /** Consistent hash of the access token (Authorization header or access_token query parameter). */
  | 'access-token'
  /** Consistent hash of the real client address: the last X-Forwarded-For entry, set by the edge. */
  | 'client-address'
  | 'roundrobin';

/** Shared-config duties that name worker processes (the keys are Synapse config keys). */
export type Duty =
  | 'federation_sender_instances'
  | 'pusher_instances'
  | 'run_background_tasks_on'
  | 'update_user_directory_from_worker'
  | 'notify_appservices_from_worker'
  | 'media_instance_running_background_jobs';

export interface WorkerType {
  readonly id: WorkerTypeId;
  /** Kubernetes name part: StatefulSet and Service `synapse-<pool>`, processes `synapse-<pool>-<n>`. */
  readonly pool: string;
  readonly description: string;
  /** Resources of the HTTP listener on SYNAPSE_PORTS.http. `health` alone: no routed traffic. */
  readonly httpResources: readonly ListenerResource[];
  /** Streams this type writes; implies a replication listener and an instance_map entry. */
  readonly streams: readonly StreamName[];
  /** Synapse accepts one writer only for these streams (WorkerConfig validation). */
  readonly maxCount?: number;
  /**
   * Synapse allows exactly one instance of this process (a single-writer stream, the background-task
   * process, the user-directory updater), so it cannot be replicated. It is pinned to Synapse main's
   * node (required pod affinity): a node loss takes these down only together with main, one failure
   * domain instead of several (docs/synapse-workers.md).
   */
  readonly singleWriter?: boolean;
  readonly duties?: readonly Duty[];
  /** True when the duties take a single instance name rather than a list. */
  readonly dutyIsSingle?: boolean;
  /** Settings in this type's worker files that override the shared homeserver.yaml. */
  readonly workerSettings?: Readonly<Record<string, unknown>>;
  /** Gets a local media store PVC (a cache in front of S3). */
  readonly mediaStore?: boolean;
  readonly balance: Balance;
  readonly sizing: Resources;
}

const size = (requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): Resources => ({
  requests: { cpu: requestCpu, memory: requestMemory },
  limits: { cpu: limitCpu, memory: limitMemory },
});

/**
 * Sizing table for 20,000 concurrent users (overridable per pool in config: synapse.mainResources,
 * synapse.workers.<type>.resources). A Synapse process runs Python code on one core at a time (GIL),
 * so requests stay near 1-2 cores and limits leave room for bursts and the database thread pool;
 * memory is what grows with users (sync and state caches). Sync and initial sync hold the largest
 * caches; presence of 20k users and the event persisters are the heaviest writers; the other stream
 * writers are light. Main keeps what nothing else can do (replication hub, admin API, migrations).
 */
export const MAIN_SIZING: Resources = size('4', '8Gi', '8', '16Gi');

/** Worker types in a fixed order (output order, instance_map order). */
export const WORKER_TYPES: readonly WorkerType[] = [
  {
    id: 'sync',
    pool: 'sync',
    description: 'Incremental /sync and /events; sticky per user so caches stay warm.',
    httpResources: ['client'],
    streams: [],
    balance: 'access-token',
    // Measured (docs/capacity-measured.md): incremental /sync and sliding sync cost about 10 ms of Python
    // CPU each, so the pool needs many processes of about one core (GIL), not few large ones.
    sizing: size('1', '4Gi', '2', '8Gi'),
  },
  {
    id: 'initialSync',
    pool: 'initial-sync',
    description: 'Initial syncs (no since token) and /initialSync, isolated because they are very expensive.',
    httpResources: ['client'],
    streams: [],
    balance: 'access-token',
    sizing: size('2', '8Gi', '4', '16Gi'),
  },
  {
    id: 'generic',
    pool: 'generic',
    description: 'Client API reads, event creation, keys, login/registration, room state.',
    httpResources: ['client'],
    streams: [],
    balance: 'roundrobin',
    sizing: size('1', '2Gi', '2', '4Gi'),
  },
  {
    id: 'federationReader',
    pool: 'federation-reader',
    description: 'Inbound federation requests and transactions, balanced by remote server address.',
    httpResources: ['federation'],
    streams: [],
    balance: 'client-address',
    sizing: size('1', '2Gi', '2', '4Gi'),
  },
  {
    id: 'federationSender',
    pool: 'federation-sender',
    description: 'Outbound federation; main stops sending once federation_sender_instances is set.',
    httpResources: ['health'],
    streams: [],
    duties: ['federation_sender_instances'],
    balance: 'roundrobin',
    sizing: size('1', '2Gi', '2', '4Gi'),
  },
  {
    id: 'eventPersister',
    pool: 'event-persister',
    description: 'Writers of the events stream, sharded by room.',
    httpResources: ['health'],
    streams: ['events'],
    balance: 'roundrobin',
    sizing: size('2', '4Gi', '4', '8Gi'),
  },
  {
    id: 'mediaRepository',
    pool: 'media',
    description: 'Media upload, download and thumbnails, backed by S3 (synapse-s3-storage-provider).',
    httpResources: ['media'],
    // The quarantine admin APIs are registered only where the media repository runs, and write the
    // quarantined_media_changes stream: since Synapse 1.152 a process that is not one of its writers
    // fails them (an assertion in RoomStore). docs/upgrade.md: "Workers which quarantine media must be
    // stream writers".
    streams: ['quarantined_media_changes'],
    duties: ['media_instance_running_background_jobs'],
    dutyIsSingle: true,
    // homeserver.yaml sets enable_media_repo: false so main and other workers do not load it.
    workerSettings: { enable_media_repo: true },
    mediaStore: true,
    balance: 'roundrobin',
    sizing: size('1', '2Gi', '4', '4Gi'),
  },
  {
    id: 'pusher',
    pool: 'pusher',
    description: 'Push notifications to push gateways.',
    httpResources: ['health'],
    streams: [],
    duties: ['pusher_instances'],
    balance: 'roundrobin',
    sizing: size('500m', '1Gi', '1', '2Gi'),
  },
  {
    id: 'background',
    pool: 'background',
    description: 'Periodic and replication-triggered background tasks and application-service notifications, off main.',
    httpResources: ['health'],
    streams: [],
    maxCount: 1,
    // Application-service notifications (bridges, the MatrixRTC authorisation service) off main too.
    duties: ['run_background_tasks_on', 'notify_appservices_from_worker'],
    dutyIsSingle: true,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('1', '2Gi', '2', '4Gi'),
  },
  {
    id: 'userDirectory',
    pool: 'user-directory',
    description: 'Keeps the user directory up to date and answers user directory searches.',
    httpResources: ['client'],
    streams: [],
    maxCount: 1,
    duties: ['update_user_directory_from_worker'],
    dutyIsSingle: true,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('500m', '2Gi', '1', '4Gi'),
  },
  {
    id: 'typing',
    pool: 'typing',
    description: 'Writer of the typing stream.',
    httpResources: ['client'],
    streams: ['typing'],
    maxCount: 1,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('500m', '1Gi', '1', '2Gi'),
  },
  {
    id: 'toDevice',
    pool: 'to-device',
    description: 'Writer of the to_device stream (E2EE key sharing, call signalling).',
    httpResources: ['client'],
    streams: ['to_device'],
    maxCount: 1,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('1', '2Gi', '2', '4Gi'),
  },
  {
    id: 'accountData',
    pool: 'account-data',
    description: 'Writer of the account_data stream (tags, account data).',
    httpResources: ['client'],
    streams: ['account_data'],
    maxCount: 1,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('500m', '1Gi', '1', '2Gi'),
  },
  {
    id: 'receipts',
    pool: 'receipts',
    description: 'Writers of the receipts stream (read receipts, read markers).',
    httpResources: ['client'],
    streams: ['receipts'],
    balance: 'roundrobin',
    sizing: size('500m', '1Gi', '1', '2Gi'),
  },
  {
    id: 'presence',
    pool: 'presence',
    description: 'Writer of the presence stream; presence of 20k users is a steady write load.',
    httpResources: ['client'],
    streams: ['presence'],
    maxCount: 1,
    singleWriter: true,
    balance: 'roundrobin',
    sizing: size('2', '4Gi', '4', '8Gi'),
  },
];

/** Worker types Synapse allows only once, pinned to main's node (see WorkerType.singleWriter). */
export const SINGLE_WRITER_TYPES: readonly WorkerType[] = WORKER_TYPES.filter((type) => type.singleWriter);

export function workerType(id: WorkerTypeId): WorkerType {
  const found = WORKER_TYPES.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`unknown Synapse worker type ${id}`);
  return found;
}

/** Name of the main process in instance_map and in routes. */
export const MAIN_INSTANCE = 'main';
export const MAIN_NAME = 'synapse-main';

export interface SynapseProcess {
  /** worker_name, pod name and instance_map key (main: `main`). */
  readonly instanceName: string;
  /** Kubernetes pod name; for main and single writers the process name (their Deployments name the pods). */
  readonly podName: string;
  /** undefined for main. */
  readonly type?: WorkerType;
  /** Stable in-cluster host name: `<pod>.<pool>` behind a replicated pool's headless Service; main and single writers: their Service. */
  readonly host: string;
  readonly inInstanceMap: boolean;
  readonly resources: Resources;
  /** database.args.cp_max of this process. */
  readonly cpMax: number;
}

/**
 * Kubernetes kind of a worker pool. Single writers run exactly one process, `<pool>-0`: a Deployment
 * (Recreate, fast eviction like main) behind a ClusterIP Service, so a node loss replaces it without
 * operator action; a StatefulSet would keep the lost pod `Terminating` until the node is deleted.
 * The Service, not a pod DNS name, is their address (singleWriterHost): a pod left `Terminating` on a
 * lost node drops out of a ClusterIP Service, while a headless Service that publishes not-ready
 * addresses would keep resolving its name to the dead pod too. Replicated pools stay StatefulSets
 * (stable names per ordinal, media volumes).
 */
export function workerKind(type: WorkerType): 'Deployment' | 'StatefulSet' {
  return type.singleWriter ? 'Deployment' : 'StatefulSet';
}

export function poolName(type: WorkerType): string {
  return `synapse-${type.pool}`;
}

export function workerCount(config: PlatformConfig, type: WorkerType): number {
  return config.synapse.workers[type.id].count;
}

/** Worker types with at least one process in this config. */
export function activeWorkerTypes(config: PlatformConfig): WorkerType[] {
  return WORKER_TYPES.filter((type) => workerCount(config, type) > 0);
}

function podHost(pod: string, service: string): string {
  return `${pod}.${service}.${SYNAPSE_NAMESPACE}.svc.cluster.local`;
}

function serviceHostOf(service: string): string {
  return `${service}.${SYNAPSE_NAMESPACE}.svc.cluster.local`;
}

export function workerResources(config: PlatformConfig, type: WorkerType): Resources {
  return config.synapse.workers[type.id].resources ?? type.sizing;
}

/** Every Synapse process of this config: main first, then workers in catalogue order. */
export function synapseProcesses(config: PlatformConfig): SynapseProcess[] {
  const cpMax = config.synapse.databaseConnectionsPerProcess;
  const processes: SynapseProcess[] = [
    {
      instanceName: MAIN_INSTANCE,
      podName: MAIN_NAME,
      host: `${MAIN_NAME}.${SYNAPSE_NAMESPACE}.svc.cluster.local`,
      inInstanceMap: true,
      resources: config.synapse.mainResources ?? MAIN_SIZING,
      cpMax,
    },
  ];
  for (const type of activeWorkerTypes(config)) {
    const pool = poolName(type);
    for (let ordinal = 0; ordinal < workerCount(config, type); ordinal++) {
      const podName = `${pool}-${ordinal}`;
      processes.push({
        instanceName: podName,
        podName,
        type,
        host: type.singleWriter ? serviceHostOf(pool) : podHost(podName, pool),
        inInstanceMap: type.streams.length > 0,
        resources: workerResources(config, type),
        cpMax,
      });
    }
  }
  return processes;
}

export function processesOf(config: PlatformConfig, type: WorkerType): SynapseProcess[] {
  return synapseProcesses(config).filter((process) => process.type?.id === type.id);
}

/**
 * The sum of database.args.cp_max over every Synapse process: the most connections Synapse can
 * open. PostgreSQL max_connections is derived from it (lib/model/postgres-sizing.ts).
 */
export function totalDatabaseConnections(config: PlatformConfig): number {
  return synapseProcesses(config).reduce((sum, process) => sum + process.cpMax, 0);
}
