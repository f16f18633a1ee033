import { z } from 'zod';
import { cidr, dnsName, email, ipRange, ipAddress, k8sName, port, replicas } from './primitives';

export const gitopsSchema = z
  .strictObject({
    engine: z
      .enum(['flux', 'argocd', 'helm-controller'])
      .default('flux')
      .describe('Which controller installs the Helm charts and applies dist/: Flux, Argo CD or the k3s/RKE2 helm-controller.'),
    repository: z
      .strictObject({
        url: z.string().regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, 'a Git URL (https://, ssh:// or git@host:path)'),
        branch: z.string().min(1).default('main'),
        path: z
          .string()
          .regex(/^[A-Za-z0-9._/-]*$/, 'a relative folder path inside the repository')
          .refine((value) => !value.startsWith('/') && !value.split('/').includes('..'), {
            message: 'a relative path without ".."',
          })
          .default('dist')
          .describe('Where dist/ lives inside the repository GitOps pulls from.'),
        credentials: z
          .strictObject({
            secretName: k8sName.default('gitops-repository').describe('The Secret holding the credentials, in the GitOps controller\u2019s namespace.'),
            type: z
              .enum(['https', 'ssh'])
              .default('https')
              .describe('https: user name and password (or token); ssh: private key and known_hosts. Must match the URL scheme.'),
          })
          .optional()
          .describe(
            'For a private repository: the Secret the controller reads (Flux GitRepository secretRef; an Argo CD repository Secret). Its values come from `npm run secrets` (from a file or the environment) or your secret store, never from this file.',
          ),
      })
      .describe('The Git repository the GitOps controller pulls dist/ from.'),
    interval: z
      .string()
      .regex(/^[0-9]+(s|m|h)$/, 'a duration such as 5m or 1h')
      .default('10m')
      .describe('How often the GitOps controller reconciles.'),
    argocd: z
      .strictObject({
        namespace: k8sName.default('argocd'),
        project: k8sName.default('default'),
      })
      .prefault({}),
    flux: z.strictObject({ namespace: k8sName.default('flux-system') }).prefault({}),
  })
  .describe('How dist/ reaches the cluster.');

export const storageClassesSchema = z
  .strictObject({
    general: k8sName.describe('General purpose storage (STORAGE_CLASS_GENERAL).'),
    fast: k8sName.describe('Fast NVMe/SSD storage for PostgreSQL (STORAGE_CLASS_FAST).'),
    large: k8sName.describe('Large storage for object storage (STORAGE_CLASS_LARGE).'),
  })
  .describe('StorageClass names of the cluster.');

export const hostsSchema = z
  .strictObject({
    matrix: dnsName.optional().describe('Client-server and federation API host. Default: matrix.<serverName>.'),
    element: dnsName.optional().describe('Element Web host. Default: chat.<serverName>.'),
    admin: dnsName.optional().describe('Admin UI (Ketesa) host. Default: admin.<serverName>.'),
    livekit: dnsName.optional().describe('LiveKit SFU signalling host. Default: livekit.<serverName>.'),
    livekitJwt: dnsName.optional().describe('lk-jwt-service host. Default: livekit-jwt.<serverName>.'),
    turn: dnsName.optional().describe('TURN host name in the TLS certificate. Default: turn.<serverName>.'),
  })
  .prefault({})
  .describe('Public host names. Every host gets a certificate and a route at the edge.');

export const tlsSchema = z
  .strictObject({
    acmeEmail: email.describe('Contact address for Let\u2019s Encrypt (ACME) registration.'),
    issuer: z
      .enum(['letsencrypt-production', 'letsencrypt-staging'])
      .default('letsencrypt-production')
      .describe('Which ClusterIssuer signs the certificates. Use staging while testing to avoid rate limits.'),
  })
  .describe('Certificates through cert-manager and Let\u2019s Encrypt (HTTP-01 through the edge).');

const bgpPeerSchema = z.strictObject({
  address: ipAddress.describe('Router address.'),
  asn: z.number().int().min(1).max(4294967295).describe('The router\u2019s AS number.'),
  port: port.optional(),
});

export const loadBalancerSchema = z
  .strictObject({
    addresses: z
      .array(ipRange)
      .min(1)
      .describe('Address ranges MetalLB may hand out (METALLB_IP_RANGE): CIDRs or first-last ranges.'),
    mode: z.enum(['l2', 'bgp']).default('l2').describe('Announce addresses by ARP/NDP (l2) or BGP.'),
    bgp: z
      .strictObject({
        myAsn: z.number().int().min(1).max(4294967295),
        peers: z.array(bgpPeerSchema).min(1),
      })
      .optional()
      .describe('Required when mode is bgp.'),
    edgeAddress: ipAddress.optional().describe('A fixed address for the edge LoadBalancer, inside one of the ranges.'),
  })
  .describe('MetalLB: where LoadBalancer Services get their addresses.');

export const edgeSchema = z
  .strictObject({
    controller: z
      .enum(['envoy-gateway', 'ingress-nginx'])
      .default('envoy-gateway')
      .describe('envoy-gateway (maintained) or ingress-nginx (the original design; retired upstream in March 2026).'),
    replicas: replicas(2, 'Edge proxy replicas.').default(3),
    federationPort: port
      .refine((value) => value !== 80, { message: 'a port other than 80 (the plain-HTTP listener for redirects and ACME)' })
      .default(8448)
      .describe('Public federation port (TLS, matrix host). 443 means no separate federation port.'),
  })
  .prefault({})
  .describe('The edge proxy in front of every public host.');

export const adminSchema = z
  .strictObject({
    allowedCidrs: z
      .array(cidr)
      .min(1)
      .describe('Client networks allowed to reach the admin UI and the Synapse admin API (ADMIN_IP_WHITELIST).'),
  })
  .describe('Access to administration interfaces.');
