import { z } from 'zod';
import { replicas, resources, storageSize } from './primitives';

const workerPool = (defaultCount: number, minimum: number, what: string, maximum = 64) =>
  z
    .strictObject({
      count: z
        .number()
        .int()
        .min(minimum)
        .max(maximum)
        .default(defaultCount)
        .describe(`Number of ${what} processes${maximum === 1 ? ' (Synapse allows at most one)' : ''}.`),
      resources: resources.optional().describe('Override the sizing table for this pool.'),
    })
    .prefault({})
    .describe(what);

/**
 * Worker pools by type. Defaults: 24 sync workers of one core each (the original design had 8 of two: the
 * load measurement, docs/capacity-measured.md, finds 8 sync processes would each need 2.5-4 Python cores at
 * 20k users, more than the GIL gives one process), 4 generic, 4 federation readers and 2 event persisters, plus the pools a 20k-user
 * server needs (see docs/synapse-workers.md).
 * typing, to_device, account_data and presence accept exactly one writer in Synapse (0 keeps the stream on main);
 * events and receipts accept several. run_background_tasks_on and update_user_directory_from_worker name one process.
 * Those single processes share Synapse main's node (one failure domain); pushers and receipts writers (2 each) spread.
 */
export const workersSchema = z
  .strictObject({
    sync: workerPool(24, 1, 'sync workers (/sync, sticky per user)'),
    initialSync: workerPool(0, 0, 'initial-sync workers (sync requests without a since token); 0 sends them to the sync pool'),
    generic: workerPool(4, 1, 'generic client-API workers'),
    federationReader: workerPool(4, 1, 'inbound federation readers'),
    federationSender: workerPool(2, 1, 'outbound federation senders'),
    eventPersister: workerPool(2, 1, 'event persisters (events stream writers)'),
    mediaRepository: workerPool(2, 1, 'media repository workers'),
    pusher: workerPool(2, 1, 'pushers (pusher_instances, sharded by user)'),
    background: workerPool(1, 1, 'background-task workers', 1),
    userDirectory: workerPool(1, 0, 'user directory workers', 1),
    typing: workerPool(1, 0, 'typing stream writers', 1),
    toDevice: workerPool(1, 0, 'to-device stream writers', 1),
    accountData: workerPool(1, 0, 'account-data stream writers', 1),
    receipts: workerPool(2, 0, 'receipts stream writers'),
    presence: workerPool(1, 0, 'presence stream writers', 1),
  })
  .prefault({});

export const synapseSchema = z
  .strictObject({
    image: z
      .strictObject({
        repository: z.string().min(1).describe('Image with synapse-s3-storage-provider built in (images/synapse/Dockerfile).'),
        tag: z
          .string()
          .min(1)
          .refine((tag) => tag !== 'latest', { message: 'a pinned tag, never "latest"' }),
      })
      .optional()
      .describe('Defaults to the project image pinned in lib/versions.ts.'),
    workers: workersSchema,
    mainResources: resources.optional().describe('Override the sizing table for the main process.'),
    routerReplicas: replicas(2, 'Internal HAProxy router replicas.').default(2),
    databaseConnectionsPerProcess: z
      .number()
      .int()
      .min(2)
      .max(50)
      .default(10)
      .describe('database.args.cp_max of every Synapse process; PostgreSQL max_connections is derived from the sum.'),
    mediaStoreSize: storageSize.default('50Gi').describe('Local media store (a cache in front of S3) per media worker.'),
    maxUploadSize: z.string().regex(/^[0-9]+[KMG]$/, 'a size such as 100M').default('100M'),
    enableRegistration: z.boolean().default(false).describe('Open self-service registration.'),
    mediaUploadAfterDays: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('The S3 upload CronJob moves local media not accessed for this many days to S3 and deletes the local copy.'),
    mediaUploadSchedule: z
      .string()
      .refine((value) => value.trim().split(/\s+/).length === 5, { message: 'a five-field cron expression' })
      .default('30 * * * *'),
  })
  .prefault({})
  .describe('Synapse: main process, workers, router and media.');

export const elementWebSchema = z
  .strictObject({
    replicas: replicas(2, 'Element Web replicas.').default(2),
    brand: z.string().min(1).default('Element'),
  })
  .prefault({});

export const adminUiSchema = z
  .strictObject({
    replicas: replicas(1, 'Admin UI (Ketesa) replicas.').default(2),
  })
  .prefault({});
