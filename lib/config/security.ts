import { z } from 'zod';
import { cpuQuantity, k8sName, labelKey, labelValue, memoryQuantity, storageSize } from './primitives';

export const secretsSchema = z
  .strictObject({
    provider: z
      .enum(['manual', 'external-secrets'])
      .default('manual')
      .describe('manual: `npm run secrets` writes a git-ignored bundle; external-secrets: ExternalSecret objects in dist/.'),
    externalSecrets: z
      .strictObject({
        storeKind: z.enum(['ClusterSecretStore', 'SecretStore']).default('ClusterSecretStore'),
        storeName: k8sName,
        remoteKeyPrefix: z.string().regex(/^[A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "/" and "-"').default('matrix/'),
        refreshInterval: z.string().regex(/^[0-9]+(s|m|h)$/, 'a duration such as 1h').default('1h'),
      })
      .optional()
      .describe('Required when provider is external-secrets.'),
  })
  .prefault({})
  .describe('Where secret values come from. dist/ only ever names Secrets.');

const nodePoolSchema = z.strictObject({
  name: k8sName,
  count: z.number().int().min(0),
  cpu: cpuQuantity.describe('Allocatable CPU per node.'),
  memory: memoryQuantity.describe('Allocatable memory per node.'),
  storage: storageSize.default('0').describe('Local or attached storage per node that PersistentVolumes can use.'),
  labels: z.record(labelKey, labelValue).default({}),
  controlPlane: z.boolean().default(false).describe('Control-plane nodes take no workload pods.'),
});

export const nodesSchema = z
  .strictObject({
    pools: z.array(nodePoolSchema).min(1),
    budget: z
      .strictObject({ cpu: z.number().positive(), memoryGi: z.number().positive(), storageTi: z.number().positive() })
      .describe('The capacity budget the plan is checked against.'),
  })
  .optional()
  .describe('The node pools `npm run plan` places pods on. Default: the original design\u2019s 21 nodes.');
