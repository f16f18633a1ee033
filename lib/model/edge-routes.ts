import type { PlatformConfig } from '../config';
import { turnTlsEnabled } from './calls';
import { ADMIN_UI, ELEMENT_WEB, LIVEKIT, LK_JWT, SYNAPSE_ROUTER, WELL_KNOWN } from './endpoints';
import type { Platform } from './index';
import { NAMESPACES } from './platform';
import { WELL_KNOWN_PATH_PREFIX } from './well-known';

/**
 * The edge's routing table: public host -> path prefixes -> in-cluster Service. Both edge
 * implementations (Envoy Gateway HTTPRoutes and ingress-nginx Ingresses) render exactly this table,
 * and the certificates are derived from it, so hosts, routes and TLS names cannot drift apart.
 */

export interface EdgeBackend {
  readonly service: string;
  readonly namespace: string;
  readonly port: number;
}

/** `admin`: reachable only from admin.allowedCidrs. */
export type EdgeAccess = 'public' | 'admin';

export interface EdgePath {
  /** Path prefix (matched on whole segments). */
  readonly prefix: string;
  readonly backend: EdgeBackend;
  readonly access: EdgeAccess;
  /** Upper bound of one request in seconds; 0 = no limit (long-lived WebSocket signalling). Unset: the edge default. */
  readonly timeoutSeconds?: number;
}

export interface EdgeHost {
  readonly host: string;
  /** Namespace of every backend of the host; the routes (and with ingress-nginx the TLS Secret) live here. */
  readonly namespace: string;
  readonly paths: readonly EdgePath[];
  /** Paths also served on the federation port (edge.federationPort); empty for all hosts but the matrix host. */
  readonly federationPaths: readonly EdgePath[];
  /** Secret with the host's certificate (cert-manager Certificate of the same name). */
  readonly tlsSecret: string;
}

/** Long enough for /sync long-polls, large media up- and downloads and slow remote federation fetches. */
export const MATRIX_REQUEST_TIMEOUT_SECONDS = 300;

const router: EdgeBackend = { service: SYNAPSE_ROUTER.name, namespace: SYNAPSE_ROUTER.namespace, port: SYNAPSE_ROUTER.port };
const backend = (target: { name: string; namespace: string; port: number }): EdgeBackend => ({
  service: target.name,
  namespace: target.namespace,
  port: target.port,
});

function publicPath(prefix: string, target: EdgeBackend, timeoutSeconds?: number): EdgePath {
  return { prefix, backend: target, access: 'public', ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) };
}

export function tlsSecretName(host: string): string {
  return `${host}-tls`;
}

interface HostEntry {
  readonly host: string;
  readonly paths: EdgePath[];
  readonly federationPaths?: EdgePath[];
}

function tableEntries(platform: Platform): HostEntry[] {
  const { hosts, config } = platform;
  const matrixTimeout = MATRIX_REQUEST_TIMEOUT_SECONDS;
  const entries: HostEntry[] = [
    {
      host: hosts.matrix,
      paths: [
        // Client-server and federation APIs (federation also answers on 443: well-known delegates to :443).
        publicPath('/_matrix', router, matrixTimeout),
        publicPath('/_synapse/client', router, matrixTimeout),
        { prefix: '/_synapse/admin', backend: router, access: 'admin', timeoutSeconds: matrixTimeout },
      ],
      federationPaths: [publicPath('/_matrix/federation', router, matrixTimeout), publicPath('/_matrix/key', router, matrixTimeout)],
    },
    // Discovery documents on the server name's host; the rest of that host is not ours to serve.
    { host: hosts.serverName, paths: [publicPath(WELL_KNOWN_PATH_PREFIX, backend(WELL_KNOWN))] },
    { host: hosts.element, paths: [publicPath('/', backend(ELEMENT_WEB))] },
    { host: hosts.admin, paths: [{ prefix: '/', backend: backend(ADMIN_UI), access: 'admin' }] },
  ];
  if (config.calls.enabled) {
    entries.push(
      { host: hosts.livekitJwt, paths: [publicPath('/', backend(LK_JWT))] },
      {
        host: hosts.livekit,
        // The calls chart's Service `livekit` names its signalling port `signal` = calls.livekit.signalPort.
        paths: [publicPath('/', { service: LIVEKIT.name, namespace: LIVEKIT.namespace, port: config.calls.livekit.signalPort }, 0)],
      },
    );
  }
  return entries;
}

/**
 * The table with hosts that share a name merged (e.g. serverName = matrix host serves the APIs and
 * the well-known documents). Two owners of the same path on one host, or backends in two namespaces
 * on one host, are configuration errors.
 */
export function edgeHosts(platform: Platform): EdgeHost[] {
  const merged = new Map<string, { paths: EdgePath[]; federationPaths: EdgePath[] }>();
  for (const entry of tableEntries(platform)) {
    const current = merged.get(entry.host) ?? { paths: [], federationPaths: [] };
    for (const candidate of entry.paths) {
      if (current.paths.some((existing) => existing.prefix === candidate.prefix)) {
        throw new Error(
          `hosts: ${entry.host} is configured for two components that both serve ${candidate.prefix}; give them different host names`,
        );
      }
      current.paths.push(candidate);
    }
    current.federationPaths.push(...(entry.federationPaths ?? []));
    merged.set(entry.host, current);
  }
  return [...merged.entries()].map(([host, { paths, federationPaths }]) => {
    const namespaces = [...new Set(paths.map((path) => path.backend.namespace))];
    if (namespaces.length !== 1) {
      throw new Error(`hosts: ${host} would mix backends of namespaces ${namespaces.join(', ')}; give them different host names`);
    }
    return { host, namespace: namespaces[0], paths, federationPaths, tlsSecret: tlsSecretName(host) };
  });
}

export const EDGE_GATEWAY = {
  name: 'matrix-edge',
  namespace: NAMESPACES.envoyGateway.name,
  className: 'matrix-edge',
  releaseName: 'envoy-gateway',
} as const;
/** Listener names of the Gateway (HTTPS listeners are named after their host, which always contains a dot). */
export const GATEWAY_LISTENERS = { http: 'http', federation: 'federation' } as const;

export const INGRESS_NGINX = {
  releaseName: 'ingress-nginx',
  namespace: NAMESPACES.ingressNginx.name,
  className: 'nginx',
  /** = the chart's controller fullname, so `--publish-service` (publishService.enabled) finds it. */
  serviceName: 'ingress-nginx-controller',
} as const;

/** The edge's fixed public ports: plain HTTP (HTTPS redirects and ACME HTTP-01 challenges) and HTTPS. */
export const EDGE_PORTS = { http: 80, https: 443 } as const;

/** True when federation needs its own listener/port (federationPort 443 is served by the HTTPS listeners). */
export function separateFederationPort(config: PlatformConfig): boolean {
  return config.edge.federationPort !== EDGE_PORTS.https;
}

export interface EdgePublicPort {
  readonly port: number;
  readonly purpose: string;
}

/** Every TCP port the edge's LoadBalancer address answers on, for either edge implementation. */
export function edgePublicPorts(config: PlatformConfig): EdgePublicPort[] {
  return [
    { port: EDGE_PORTS.http, purpose: "HTTP: redirects to HTTPS and Let's Encrypt HTTP-01 challenges" },
    { port: EDGE_PORTS.https, purpose: 'HTTPS for every public host' },
    ...(separateFederationPort(config) ? [{ port: config.edge.federationPort, purpose: 'Matrix federation (TLS, matrix host)' }] : []),
  ];
}

/**
 * How Let's Encrypt validates a certificate's names: `http01` through the edge's port-80 listener
 * (the name resolves to the edge), `dns01` through tls.dns01 (the name resolves elsewhere).
 */
export type AcmeChallenge = 'http01' | 'dns01';

export interface PublicCertificate {
  readonly name: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly dnsNames: readonly string[];
  readonly challenge: AcmeChallenge;
}

export const COTURN_TLS = { secretName: 'coturn-tls', namespace: NAMESPACES.coturn.name } as const;

/** Where a host's TLS Secret must live: with the Gateway (Envoy) or with the host's Ingresses (nginx). */
export function certificateNamespace(config: PlatformConfig, host: EdgeHost): string {
  return config.edge.controller === 'envoy-gateway' ? EDGE_GATEWAY.namespace : host.namespace;
}

/**
 * One Certificate per public host (HTTP-01 through the edge), plus coturn's for hosts.turn when
 * TURN over TLS is on (DNS-01 only: that name resolves to the coturn nodes, see turnTlsEnabled).
 */
export function publicCertificates(platform: Platform): PublicCertificate[] {
  const certificates: PublicCertificate[] = edgeHosts(platform).map((host) => ({
    name: host.tlsSecret,
    namespace: certificateNamespace(platform.config, host),
    secretName: host.tlsSecret,
    dnsNames: [host.host],
    challenge: 'http01',
  }));
  if (turnTlsEnabled(platform.config)) {
    certificates.push({ name: COTURN_TLS.secretName, ...COTURN_TLS, dnsNames: [platform.hosts.turn], challenge: 'dns01' });
  }
  return certificates;
}

/** The names the DNS-01 solver answers for (its ClusterIssuer solver selector). */
export function dns01Names(platform: Platform): string[] {
  return publicCertificates(platform)
    .filter((certificate) => certificate.challenge === 'dns01')
    .flatMap((certificate) => certificate.dnsNames);
}

/** Namespaces whose HTTPRoutes may attach to the Gateway: route namespaces and HTTP-01 solver namespaces. */
export function routeNamespaces(platform: Platform): string[] {
  const namespaces = new Set<string>([EDGE_GATEWAY.namespace]);
  for (const host of edgeHosts(platform)) namespaces.add(host.namespace);
  for (const certificate of publicCertificates(platform).filter((entry) => entry.challenge === 'http01')) namespaces.add(certificate.namespace);
  return [...namespaces].sort();
}
