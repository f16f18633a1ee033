import type { PlatformConfig } from '../config';

/**
 * Values derived once from the config and shared by every chart: host names, namespaces and
 * the in-cluster addresses components use to reach each other. Data flows config -> model -> charts.
 */

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

export interface NamespaceSpec {
  readonly name: string;
  /** Pod Security admission level enforced on the namespace. */
  readonly podSecurity: PodSecurityLevel;
  /** Why a namespace is not restricted (documented in docs/security.md). */
  readonly reason?: string;
}

export interface Hosts {
  readonly serverName: string;
  readonly matrix: string;
  readonly element: string;
  readonly admin: string;
  readonly livekit: string;
  readonly livekitJwt: string;
  readonly turn: string;
}

export function deriveHosts(config: PlatformConfig): Hosts {
  const server = config.serverName;
  return {
    serverName: server,
    matrix: config.hosts.matrix ?? `matrix.${server}`,
    element: config.hosts.element ?? `chat.${server}`,
    admin: config.hosts.admin ?? `admin.${server}`,
    livekit: config.hosts.livekit ?? `livekit.${server}`,
    livekitJwt: config.hosts.livekitJwt ?? `livekit-jwt.${server}`,
    turn: config.hosts.turn ?? `turn.${server}`,
  };
}

/** One namespace per component, as in the original design. */
export const NAMESPACES = {
  certManager: { name: 'cert-manager', podSecurity: 'restricted' },
  metallb: {
    name: 'metallb-system',
    podSecurity: 'privileged',
    reason: 'the MetalLB speaker runs on the host network with NET_RAW to answer ARP/NDP and speak BGP',
  },
  envoyGateway: { name: 'envoy-gateway-system', podSecurity: 'restricted' },
  ingressNginx: { name: 'ingress-nginx', podSecurity: 'restricted' },
  cnpg: { name: 'cnpg-system', podSecurity: 'restricted' },
  matrix: { name: 'matrix', podSecurity: 'restricted' },
  redisSynapse: { name: 'redis-synapse', podSecurity: 'restricted' },
  redisLivekit: { name: 'redis-livekit', podSecurity: 'restricted' },
  minioOperator: { name: 'minio-operator', podSecurity: 'restricted' },
  minio: { name: 'minio', podSecurity: 'restricted' },
  coturn: {
    name: 'coturn',
    podSecurity: 'privileged',
    reason: 'coturn relays media on the host network (hostNetwork with thousands of UDP ports)',
  },
  livekit: {
    name: 'livekit',
    podSecurity: 'privileged',
    reason: 'LiveKit serves WebRTC on the host network so each node advertises its own address',
  },
  monitoring: {
    name: 'monitoring',
    podSecurity: 'privileged',
    reason: 'node-exporter reads host namespaces and Alloy reads pod logs from hostPath /var/log',
  },
} as const satisfies Record<string, NamespaceSpec>;

export type NamespaceKey = keyof typeof NAMESPACES;

/** Namespaces that exist for the given config (edge and storage choices, calls switched off). */
export function activeNamespaces(config: PlatformConfig): NamespaceSpec[] {
  const skip = new Set<NamespaceKey>();
  skip.add(config.edge.controller === 'envoy-gateway' ? 'ingressNginx' : 'envoyGateway');
  if (config.objectStorage.provider !== 'minio') {
    skip.add('minioOperator');
    skip.add('minio');
  }
  if (!config.calls.enabled) {
    skip.add('coturn');
    skip.add('livekit');
    skip.add('redisLivekit');
  }
  return (Object.keys(NAMESPACES) as NamespaceKey[]).filter((key) => !skip.has(key)).map((key) => NAMESPACES[key]);
}

/** In-cluster DNS name of a Service. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}
