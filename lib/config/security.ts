import { z } from 'zod';
import { cidr, cpuQuantity, k8sName, labelKey, labelValue, memoryQuantity, port, storageSize } from './primitives';

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

export const networkSchema = z
  .strictObject({
    apiServer: z
      .strictObject({
        cidrs: z
          .array(cidr)
          .min(1)
          .default(['0.0.0.0/0', '::/0'])
          .describe('Addresses of the Kubernetes API server endpoints (the `kubernetes` Service forwards to them). Narrow this to the control-plane addresses.'),
        ports: z.array(port).min(1).default([443, 6443]).describe('Ports the API server endpoints listen on.'),
      })
      .prefault({})
      .describe('Egress to the Kubernetes API, for the pods that call it (the operators and controllers, Prometheus, Grafana\'s and Alloy\'s discovery, CloudNativePG instances, MinIO servers).'),
    nodes: z
      .strictObject({
        cidrs: z
          .array(cidr)
          .min(1)
          .default(['0.0.0.0/0', '::/0'])
          .describe('Addresses of the cluster nodes. Narrow this to the node networks.'),
      })
      .prefault({})
      .describe('Egress to node addresses, on the listed ports only: Prometheus to the kubelets, node-exporter, control-plane components and the call pods; the edge to LiveKit\'s signalling (host network).'),
    internet: z
      .strictObject({
        ports: z
          .array(port)
          .min(1)
          .optional()
          .describe('Restrict to these ports (for example [443, 8448]). Absent: every port, since a homeserver\'s delegation (.well-known or SRV) and a push gateway\'s URL may name any port.'),
      })
      .prefault({})
      .describe('Egress to public addresses of the processes that reach other servers: the Synapse federation senders, readers, pushers, media and the rest of SYNAPSE_OUTBOUND, and lk-jwt-service\'s OpenID checks.'),
    dns: z
      .strictObject({
        namespace: k8sName.default('kube-system'),
        podLabels: z.record(labelKey, labelValue).default({ 'k8s-app': 'kube-dns' }).describe('Labels of the cluster DNS pods (CoreDNS keeps k8s-app: kube-dns).'),
        addresses: z
          .array(cidr)
          .default([])
          .describe('Resolver addresses outside those pods that pods query: NodeLocal DNSCache (for example 169.254.25.10/32), a metadata-server resolver.'),
      })
      .prefault({})
      .describe('The cluster DNS every pod of our namespaces may query on port 53.'),
  })
  .prefault({})
  .describe('Facts about the cluster the egress NetworkPolicies need (docs/security.md).');

const imageDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a digest such as sha256:<64 hex digits>');

export const imagesSchema = z
  .strictObject({
    digests: z
      .record(
        z.string().regex(/^[^\s@]+:[^\s@/:]+$/, 'an image reference repository:tag as rendered, such as docker.io/library/haproxy:3.4.3-alpine'),
        imageDigest,
      )
      .default({})
      .describe('Digests you resolved for the images we render, keyed by `repository:tag`: the image becomes `repository:tag@digest`. An entry for another tag matches nothing.'),
  })
  .prefault({})
  .describe('Image pinning beyond the tags of lib/versions.ts.');
