import type { PlatformConfig } from '../config';
import type { Resources } from '../config/primitives';
import { SIZING } from './sizing';
import { totalDatabaseConnections } from './workers';

/**
 * PostgreSQL sizing derived from the config: the connection budget and the server parameters.
 * Nothing here is hard-coded per deployment; every number follows from the Synapse process count,
 * the pod resources and the volume sizes, so a config change cannot leave PostgreSQL too small.
 */

/**
 * Connections PostgreSQL must keep available besides Synapse's pools. max_wal_senders (streaming
 * replication) is a separate pool since PostgreSQL 12 and is not counted here.
 */
export const CONNECTION_RESERVE = {
  /** superuser_reserved_connections (CNPG default 3): the operator's instance manager connects as postgres. */
  superuser: 3,
  /** CNPG instance manager: status probes, role/database reconciliation, replication slot management. */
  instanceManager: 5,
  /** The built-in metrics exporter runs its queries on its own connections (one per scrape in flight). */
  monitoring: 3,
  /** Barman Cloud base backup (pg_backup_start/stop session) plus a manual or scheduled backup overlapping. */
  backups: 2,
  /** Operators with psql, `kubectl cnpg psql`, migrations run by hand. */
  administration: 7,
} as const;

export const CONNECTION_RESERVE_TOTAL = Object.values(CONNECTION_RESERVE).reduce((sum, count) => sum + count, 0);

/** Headroom on top of Synapse's sum: a rolling restart briefly runs an old and a new pod of one process. */
export const SYNAPSE_HEADROOM_RATIO = 0.1;

/**
 * Sum of database.args.cp_max over every Synapse process (main + every configured worker), from the
 * Synapse worker catalogue (lib/model/workers.ts totalDatabaseConnections).
 */
export function synapseConnectionBudget(config: PlatformConfig): number {
  return totalDatabaseConnections(config);
}

/**
 * max_connections: every Synapse connection, the reserve above, and headroom, rounded up to a
 * multiple of 10 so small config changes do not restart PostgreSQL for a one-connection difference.
 */
export function postgresMaxConnections(totalSynapseConnections: number): number {
  const headroom = Math.max(10, Math.ceil(totalSynapseConnections * SYNAPSE_HEADROOM_RATIO));
  const needed = totalSynapseConnections + CONNECTION_RESERVE_TOTAL + headroom;
  return Math.ceil(needed / 10) * 10;
}

/** Default PostgreSQL pod size for 20,000 concurrent users (config.database.resources overrides it). */
export const POSTGRES_SIZING: Resources = SIZING.postgres;

const UNIT_BYTES: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a Kubernetes memory/storage quantity (the forms the config schema accepts). */
export function quantityBytes(quantity: string): number {
  const match = /^\+?([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const [, amount, unit = ''] = match;
  if (unit === 'm') return Number(amount) / 1000;
  return Number(amount) * UNIT_BYTES[unit];
}

/** CPU cores of a quantity such as 500m or 2. */
export function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

const MB = 2 ** 20;

/** PostgreSQL memory setting in whole megabytes (the unit PostgreSQL accepts everywhere). */
function megabytes(bytes: number): string {
  return `${Math.max(1, Math.floor(bytes / MB))}MB`;
}

function clamp(value: number, minimum: number, maximum: number): number {
  return Math.min(maximum, Math.max(minimum, value));
}

/**
 * archive_timeout: a WAL segment is switched and archived at least this often while anything is
 * written (CNPG's default, set explicitly because the archiving-stalled alert is derived from it).
 */
export const ARCHIVE_TIMEOUT_SECONDS = 300;

export interface WalBudget {
  /** The WAL volume of each instance. */
  readonly volumeBytes: number;
  /** max_wal_size: WAL kept between checkpoints. */
  readonly maxWalSizeBytes: number;
  /**
   * max_slot_wal_keep_size: the most WAL a replication slot may hold back. PostgreSQL's default (-1)
   * lets a standby that stays down keep WAL until the volume is full and the primary stops; capped,
   * the slot is invalidated instead and the standby is re-cloned by the operator.
   */
  readonly maxSlotWalKeepBytes: number;
  /** Slot lag that raises PostgresReplicationSlotLagHigh: half the cap, well before invalidation. */
  readonly slotLagAlertBytes: number;
}

/**
 * How the WAL volume is shared: a quarter for max_wal_size (checkpoints), half at most for WAL held
 * back by replication slots, and the last quarter for WAL not yet archived while the object store is
 * slow or unreachable (WalArchivingFailing alerts long before it is used up).
 */
export function walBudget(config: PlatformConfig): WalBudget {
  const volumeBytes = quantityBytes(config.database.walStorageSize);
  const maxWalSizeBytes = clamp(volumeBytes / 4, 256 * MB, 16384 * MB);
  const maxSlotWalKeepBytes = Math.floor(volumeBytes / 2 / MB) * MB;
  return { volumeBytes, maxWalSizeBytes, maxSlotWalKeepBytes, slotLagAlertBytes: maxSlotWalKeepBytes / 2 };
}

export interface PostgresSizing {
  readonly resources: Resources;
  readonly maxConnections: number;
  readonly parameters: Record<string, string>;
}

/**
 * Server parameters from the pod's memory/CPU and the WAL volume, following the usual rules:
 * shared_buffers 25 % of memory, effective_cache_size 75 %, work_mem so that every connection can run
 * a few sorts without exceeding what shared_buffers leaves, the WAL volume shared as walBudget says,
 * SSD planner costs (fast storage class).
 */
export function postgresSizing(config: PlatformConfig, totalSynapseConnections = synapseConnectionBudget(config)): PostgresSizing {
  const resources = config.database.resources ?? POSTGRES_SIZING;
  const memory = quantityBytes(resources.limits.memory);
  const cores = Math.max(1, Math.floor(cpuCores(resources.limits.cpu)));
  const maxConnections = postgresMaxConnections(totalSynapseConnections);
  const sharedBuffers = memory * 0.25;
  const effectiveCache = memory * 0.75;
  // Up to three sort/hash nodes per connection out of what the buffers leave, 4 MB to 64 MB.
  const workMem = clamp((memory - sharedBuffers) / (maxConnections * 3), 4 * MB, 64 * MB);
  const maintenanceWorkMem = clamp(memory / 16, 64 * MB, 2048 * MB);
  const wal = walBudget(config);
  const parallelWorkers = Math.max(2, Math.min(cores, 8));
  return {
    resources,
    maxConnections,
    parameters: {
      max_connections: String(maxConnections),
      shared_buffers: megabytes(sharedBuffers),
      effective_cache_size: megabytes(effectiveCache),
      work_mem: megabytes(workMem),
      maintenance_work_mem: megabytes(maintenanceWorkMem),
      max_wal_size: megabytes(wal.maxWalSizeBytes),
      min_wal_size: megabytes(wal.maxWalSizeBytes / 4),
      max_slot_wal_keep_size: megabytes(wal.maxSlotWalKeepBytes),
      archive_timeout: `${ARCHIVE_TIMEOUT_SECONDS}s`,
      checkpoint_completion_target: '0.9',
      wal_compression: 'on',
      random_page_cost: '1.1',
      effective_io_concurrency: '200',
      max_worker_processes: String(parallelWorkers + 4),
      max_parallel_workers: String(parallelWorkers),
      max_parallel_workers_per_gather: String(Math.max(1, Math.floor(parallelWorkers / 2))),
      max_parallel_maintenance_workers: String(Math.max(1, Math.floor(parallelWorkers / 2))),
      // Vacuum and analyse large, fast-growing tables (events, state groups) before 20 % of them is dead.
      autovacuum_vacuum_scale_factor: '0.05',
      autovacuum_analyze_scale_factor: '0.02',
      log_min_duration_statement: '2000',
      log_lock_waits: 'on',
      // Setting a pg_stat_statements.* parameter makes CNPG preload the extension (query statistics).
      'pg_stat_statements.track': 'top',
      'pg_stat_statements.max': '10000',
    },
  };
}
