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
    turn: dnsName.optional().describe('TURN over TLS host name (with tls.dns01); must resolve to the coturn nodes. Default: turn.<serverName>.'),
  })
  .prefault({})
  .describe('Public host names. Every host gets a certificate and a route at the edge.');

/**
 * A key of a Secret the operator creates in the cert-manager namespace (where cert-manager looks up
 * the Secrets of a ClusterIssuer). The platform only names it; the value never enters the config.
 */
const secretKeyRef = z
  .strictObject({
    name: k8sName.describe('Secret name (in the cert-manager namespace).'),
    key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a Secret data key (letters, digits, "-", "_", ".")').describe('Key inside the Secret.'),
  })
  .describe('Reference to one key of a Secret in the cert-manager namespace.');

/**
 * DNS-01 solvers maintained in cert-manager itself (the field names are cert-manager's, so its
 * documentation applies). Credentials are Secret references only; providers without a Secret
 * reference use the controller's ambient identity (cloud workload identity, instance role).
 */
const dns01Providers = {
  cloudflare: z
    .strictObject({ apiTokenSecretRef: secretKeyRef.describe('API token with Zone:DNS:Edit on the zone of hosts.turn.') })
    .describe('Cloudflare (API token).'),
  route53: z
    .strictObject({
      region: z.string().min(1).describe('The AWS region of the Route53 API calls (cert-manager recommends always setting it).'),
      hostedZoneID: z.string().min(1).optional().describe('Manage only this hosted zone (skips ListHostedZonesByName).'),
      role: z.string().regex(/^arn:/, 'an IAM role ARN').optional().describe('Role to assume.'),
      accessKeyID: z.string().min(1).optional().describe('Access key id (not secret); or accessKeyIDSecretRef.'),
      accessKeyIDSecretRef: secretKeyRef.optional(),
      secretAccessKeySecretRef: secretKeyRef.optional(),
    })
    .superRefine((route53, context) => {
      if (route53.accessKeyID !== undefined && route53.accessKeyIDSecretRef !== undefined) {
        context.addIssue({ code: 'custom', path: ['accessKeyIDSecretRef'], message: 'either accessKeyID or accessKeyIDSecretRef, not both' });
      }
      const hasKeyId = route53.accessKeyID !== undefined || route53.accessKeyIDSecretRef !== undefined;
      if (hasKeyId !== (route53.secretAccessKeySecretRef !== undefined)) {
        context.addIssue({
          code: 'custom',
          path: [hasKeyId ? 'secretAccessKeySecretRef' : 'accessKeyIDSecretRef'],
          message: 'an access key id and secretAccessKeySecretRef together, or neither (ambient AWS credentials)',
        });
      }
    })
    .describe('AWS Route53: static keys by Secret reference, or ambient credentials (IRSA, instance role) when none is given.'),
  rfc2136: z
    .strictObject({
      nameserver: z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/, 'host or host:port ([IPv6]:port)')
        .describe('Authoritative DNS server accepting dynamic updates.'),
      tsigKeyName: z.string().min(1),
      tsigAlgorithm: z.enum(['HMACSHA256', 'HMACSHA512', 'HMACSHA1', 'HMACMD5']).default('HMACSHA256'),
      tsigSecretSecretRef: secretKeyRef,
      protocol: z.enum(['UDP', 'TCP']).optional(),
    })
    .describe('RFC 2136 dynamic DNS updates, authenticated with TSIG (required: unauthenticated updates are not offered).'),
  cloudDNS: z
    .strictObject({
      project: z.string().min(1),
      hostedZoneName: z.string().min(1).optional(),
      serviceAccountSecretRef: secretKeyRef.optional().describe('Service account JSON key; omit for Workload Identity.'),
    })
    .describe('Google Cloud DNS.'),
  azureDNS: z
    .strictObject({
      subscriptionID: z.string().min(1),
      resourceGroupName: z.string().min(1),
      hostedZoneName: z.string().min(1).optional(),
      environment: z.enum(['AzurePublicCloud', 'AzureChinaCloud', 'AzureGermanCloud', 'AzureUSGovernmentCloud']).optional(),
      clientID: z.string().min(1).optional().describe('Service principal (with tenantID and clientSecretSecretRef).'),
      tenantID: z.string().min(1).optional(),
      clientSecretSecretRef: secretKeyRef.optional(),
      managedIdentity: z.strictObject({ clientID: z.string().min(1).optional() }).optional().describe('Workload or managed identity instead of a service principal.'),
    })
    .superRefine((azure, context) => {
      const principal = [azure.clientID, azure.tenantID, azure.clientSecretSecretRef].filter((value) => value !== undefined).length;
      if (principal !== 0 && principal !== 3) {
        context.addIssue({ code: 'custom', path: ['clientSecretSecretRef'], message: 'clientID, tenantID and clientSecretSecretRef together (a service principal), or none of them' });
      }
      if ((principal === 3) === (azure.managedIdentity !== undefined)) {
        context.addIssue({ code: 'custom', path: ['managedIdentity'], message: 'exactly one way to sign in: a service principal (clientID, tenantID, clientSecretSecretRef) or managedIdentity' });
      }
    })
    .describe('Azure DNS.'),
  digitalocean: z.strictObject({ tokenSecretRef: secretKeyRef }).describe('DigitalOcean DNS (API token).'),
  acmeDNS: z
    .strictObject({
      host: z.string().regex(/^https:\/\/\S+$/, 'an https URL').describe('The acme-dns server.'),
      accountSecretRef: secretKeyRef.describe('acme-dns account JSON.'),
    })
    .describe('acme-dns (a CNAME from _acme-challenge.<hosts.turn> to the acme-dns zone).'),
} as const;

export type Dns01Provider = keyof typeof dns01Providers;
export const DNS01_PROVIDERS = Object.keys(dns01Providers) as Dns01Provider[];

export const dns01Schema = z
  .strictObject(Object.fromEntries(Object.entries(dns01Providers).map(([name, schema]) => [name, schema.optional()])) as {
    [Name in Dns01Provider]: z.ZodOptional<(typeof dns01Providers)[Name]>;
  })
  .superRefine((dns01, context) => {
    const chosen = DNS01_PROVIDERS.filter((name) => dns01[name] !== undefined);
    if (chosen.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: chosen.length > 1 ? [chosen[1]] : [],
        message: `exactly one provider block (${DNS01_PROVIDERS.join(', ')})${chosen.length > 1 ? `, not ${chosen.join(' and ')}` : ''}`,
      });
    }
  })
  .describe(
    'ACME DNS-01 solver for the TURN host\u2019s certificate. hosts.turn resolves to the coturn nodes, which serve no HTTP, so HTTP-01 ' +
      'cannot validate it; without this block coturn serves no TURN over TLS and no turns: URI is advertised.',
  );

export const tlsSchema = z
  .strictObject({
    acmeEmail: email.describe('Contact address for Let\u2019s Encrypt (ACME) registration.'),
    issuer: z
      .enum(['letsencrypt-production', 'letsencrypt-staging'])
      .default('letsencrypt-production')
      .describe('Which ClusterIssuer signs the certificates. Use staging while testing to avoid rate limits.'),
    dns01: dns01Schema.optional(),
  })
  .describe('Certificates through cert-manager and Let\u2019s Encrypt (HTTP-01 through the edge; DNS-01 for the TURN host when tls.dns01 is set).');

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
