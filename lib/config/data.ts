import { z } from 'zod';
import { images } from '../versions';
import { cnpgSchedule, dnsName, k8sName, replicas, resources, storageSize } from './primitives';

/** The CNPG cluster name (lib/model/endpoints.ts POSTGRES.clusterName), the default backup serverName. */
export const DEFAULT_POSTGRES_SERVER_NAME = 'synapse-postgres';

/**
 * The PostgreSQL major version CloudNativePG reads from an operand image tag: the tag starts with
 * MAJOR[.MINOR] (CNPG docs, container_images.md "Image Tag Requirements").
 */
export function postgresMajor(tag: string): number {
  return Number(/^([0-9]+)/.exec(tag)?.[1]);
}

/** `<version>-<flavour>-<distribution>` of the official CNPG operand images, for example 18.4-standard-trixie. */
function operandVariant(tag: string): string {
  return tag.replace(/^[0-9.]+-?/, '');
}

export const databaseSchema = z
  .strictObject({
    image: z
      .strictObject({
        repository: z.string().min(1),
        tag: z
          .string()
          .regex(/^[0-9]+(\.[0-9]+)*([._-][A-Za-z0-9._-]+)?$/, 'a tag starting with the PostgreSQL version, such as 18.4-standard-trixie'),
      })
      .optional()
      .describe(
        'PostgreSQL operand image; defaults to the one pinned in lib/versions.ts. A newer minor version rolls the instances (replicas first, then a switchover); a newer major version is an offline in-place pg_upgrade and needs a new backup.serverName (docs/operations.md).',
      ),
    instances: replicas(1, 'PostgreSQL instances (one primary, the rest synchronous-capable replicas).').default(3),
    storageSize: storageSize.default('500Gi').describe('Data volume per instance, on the fast storage class.'),
    walStorageSize: storageSize.default('100Gi').describe('WAL volume per instance, on the fast storage class.'),
    resources: resources.optional().describe('Override the sizing table for PostgreSQL pods.'),
    backup: z
      .strictObject({
        schedule: cnpgSchedule.default('0 0 3 * * *').describe('Daily base backup (six-field cron, seconds first).'),
        retentionPolicy: z
          .string()
          .regex(/^[1-9][0-9]*[dwm]$/, 'a Barman retention such as 30d, 4w or 6m')
          .default('30d')
          .describe('Recovery window kept in the object store (ObjectStore spec.retentionPolicy).'),
        serverName: k8sName
          .optional()
          .describe(
            'Folder of this cluster in the backups bucket (defaults to the cluster name). After a restore it must differ from restore.sourceServerName: a new timeline never archives over the backup it came from.',
          ),
      })
      .prefault({}),
    restore: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Bootstrap the cluster from the object-store backup instead of initdb (disaster recovery).'),
        sourceServerName: k8sName
          .optional()
          .describe('serverName of the backup to restore (defaults to the cluster name).'),
      })
      .prefault({}),
  })
  .prefault({})
  .superRefine((database, ctx) => {
    const image = database.image;
    if (image && image.repository === images.postgres.repository && operandVariant(image.tag) !== operandVariant(images.postgres.tag)) {
      ctx.addIssue({
        code: 'custom',
        path: ['image', 'tag'],
        message: `the flavour and distribution of the pinned image ("${operandVariant(images.postgres.tag)}"), found "${operandVariant(image.tag)}": CloudNativePG upgrades in place only between images of the same distribution`,
      });
    }
    // pg_upgrade starts a new system at timeline 1: archived into the old folder it would overwrite
    // the old major's timeline-1 WAL (CNPG docs, postgres_upgrades.md; the plugin does not separate them).
    if (image && postgresMajor(image.tag) !== postgresMajor(images.postgres.tag) && !database.backup.serverName) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'serverName'],
        message: `a new archive folder for PostgreSQL ${postgresMajor(image.tag)} (for example ${DEFAULT_POSTGRES_SERVER_NAME}-pg${postgresMajor(image.tag)}), found none: a major upgrade restarts the WAL timeline at 1`,
      });
    }
    if (!database.restore.enabled) return;
    // Both default to the cluster name, so a restore must name at least one of them.
    const archiveTo = database.backup.serverName ?? DEFAULT_POSTGRES_SERVER_NAME;
    const restoreFrom = database.restore.sourceServerName ?? DEFAULT_POSTGRES_SERVER_NAME;
    if (archiveTo === restoreFrom) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'serverName'],
        message: `a serverName other than the restore source "${restoreFrom}" (for example ${restoreFrom}-2): the restored cluster archives a new timeline`,
      });
    }
  })
  .describe('CloudNativePG PostgreSQL cluster for Synapse.');

const valkeyClusterSchema = z
  .strictObject({
    replicas: replicas(3, 'Valkey data pods (one master, the rest replicas).').default(3),
    sentinels: replicas(3, 'Sentinel pods (quorum is a majority).').default(3),
    storageSize: storageSize.default('10Gi'),
    resources: resources.optional(),
  })
  .prefault({});

export const valkeySchema = z
  .strictObject({
    synapse: valkeyClusterSchema.describe('Valkey for Synapse replication (reached through HAProxy).'),
    livekit: valkeyClusterSchema.describe('Valkey for LiveKit (reached through Sentinel) and lk-jwt-service (through HAProxy).'),
    haproxyReplicas: replicas(2, 'HAProxy replicas in front of each Valkey master (one proxy per cluster).').default(2),
  })
  .prefault({})
  .describe('The two isolated Valkey Sentinel clusters.');

export const objectStorageSchema = z
  .strictObject({
    provider: z
      .enum(['minio', 'external'])
      .default('minio')
      .describe('minio: the MinIO operator and a Tenant in the cluster (source-only upstream since October 2025); external: any S3 endpoint.'),
    buckets: z
      .strictObject({
        media: k8sName.default('synapse-media'),
        backups: k8sName.default('postgres-backups'),
        logs: k8sName.default('loki-logs'),
      })
      .prefault({}),
    minio: z
      .strictObject({
        servers: replicas(4, 'MinIO servers in the pool.').default(4),
        volumesPerServer: replicas(1, 'Volumes per MinIO server.').default(4),
        volumeSize: storageSize
          .default('768Gi')
          .describe('Size of each MinIO volume (servers x volumesPerServer volumes); the default keeps every PVC within the 15.2 TiB budget.'),
        parity: z
          .string()
          .regex(/^EC:[0-9]+$/, 'an erasure-code parity such as EC:4')
          .default('EC:4'),
        resources: resources.optional(),
      })
      .prefault({}),
    external: z
      .strictObject({
        endpoint: z.string().regex(/^https?:\/\/\S+$/, 'an http(s) URL'),
        region: z.string().min(1).default('us-east-1'),
        forcePathStyle: z.boolean().default(true),
      })
      .optional()
      .describe('Required when provider is external. Credentials come from the object-storage Secret.'),
    region: z.string().min(1).default('us-east-1').describe('Region name given to S3 clients of the in-cluster MinIO.'),
    host: dnsName.optional().describe('Optional public S3 host; not exposed at the edge when unset.'),
  })
  .prefault({})
  .describe('One object-storage description for every S3 consumer: Synapse media, database backups, Loki.');
