import { isIPv4, isIPv6 } from 'node:net';
import type { PlatformConfig } from '../config';
import { callHostPorts, COTURN, type InternalPortClient, rangeToCidrs } from './calls';
import {
  ALERTMANAGER_MESH_PORT,
  ALERTMANAGER_PORT,
  BARMAN_PLUGIN_PORT,
  CERT_MANAGER_PODS,
  CERT_MANAGER_WEBHOOK_PORT,
  type ChartPod,
  CNPG_PODS,
  CNPG_WEBHOOK_PORT,
  edgeContainerPort,
  edgeContainerPorts,
  edgeProxyPod,
  ENVOY_GATEWAY_PODS,
  ENVOY_GATEWAY_WEBHOOK_PORT,
  ENVOY_GATEWAY_XDS_PORT,
  INGRESS_NGINX_PODS,
  INGRESS_NGINX_WEBHOOK_PORT,
  type Labels,
  LOKI_GRPC_PORT,
  LOKI_MEMBERLIST_PORT,
  METALLB_PODS,
  METALLB_WEBHOOK_PORT,
  MINIO_OPERATOR_PODS,
  MINIO_OPERATOR_UPGRADE_PORT,
  MINIO_S3_PORT,
  CNPG_STATUS_PORT,
  MONITORING_PODS,
  OPERATOR_MADE_PODS,
  PROMETHEUS_OPERATOR_WEBHOOK_PORT,
} from './chart-pods';
import { ADMIN_UI, CERT_MANAGER, ELEMENT_WEB, LIVEKIT_REDIS_PROXY, LK_JWT, LOKI, MINIO_TENANT, POSTGRES, SYNAPSE_REDIS_PROXY, SYNAPSE_ROUTER, VALKEY_LIVEKIT, VALKEY_SYNAPSE } from './endpoints';
import { EDGE_PORTS, edgePublicPorts, publicCertificates } from './edge-routes';
import { buildPlatform } from './index';
import { METRICS_PORTS } from './metrics';
import { activeNamespaces, NAMESPACES } from './platform';
import { SYNAPSE_NAMESPACE, SYNAPSE_PORTS, workerType, type WorkerTypeId } from './workers';

/**
 * Who may open a connection to whom, as a typed table. charts/network-policies.ts turns it into
 * default-deny ingress and egress NetworkPolicies in every namespace we own, one ingress allow policy
 * per flow at its destination and one egress allow policy per rule at its source;
 * test/network-policies.test.ts evaluates the rendered policies against the rendered pods and the
 * pods the charts and operators create (lib/model/chart-pods.ts).
 *
 * Host-network pods (coturn, LiveKit, the MetalLB speaker, node-exporter) are subject to no
 * NetworkPolicy: flows to them are allowed at the client by node address (network.nodes), and the
 * node firewall guards them (lib/model/calls.ts callHostPorts, docs/security.md).
 */

export type { Labels } from './chart-pods';

export interface PodRef {
  /** Namespace name; undefined = any namespace. */
  readonly namespace?: string;
  /** Pod labels to match; empty = every pod of the namespace. */
  readonly pods: Labels;
  /** Additionally: the pod's app.kubernetes.io/component is one of these. */
  readonly componentIn?: readonly string[];
}

export interface Flow {
  /** Stable id; names the allow policy. */
  readonly id: string;
  readonly description: string;
  /** undefined: from anywhere (including host-network pods and outside the cluster). */
  readonly from?: readonly PodRef[];
  readonly to: PodRef & { readonly namespace: string };
  readonly ports: readonly { readonly port: number; readonly protocol?: 'TCP' | 'UDP' }[];
  /**
   * The destination listens on the host network (node addresses): no NetworkPolicy selects it, the
   * node firewall guards it (lib/model/calls.ts callHostPorts), and a client's egress rule needs the
   * node addresses rather than a pod selector.
   */
  readonly hostNetwork?: true;
}

const byName = (name: string): Labels => ({ 'app.kubernetes.io/name': name });

/** Pod labels of the components, as their charts set them (constructs/workload.ts componentLabels). */
export const POD_LABELS = {
  synapse: byName('synapse'),
  router: { 'app.kubernetes.io/name': SYNAPSE_ROUTER.name },
  elementWeb: byName(ELEMENT_WEB.name),
  adminUi: byName(ADMIN_UI.name),
  lkJwt: byName(LK_JWT.name),
  wellKnown: { 'app.kubernetes.io/instance': 'matrix-well-known' },
  postgres: OPERATOR_MADE_PODS.postgres.labels,
  valkeyData: { 'app.kubernetes.io/name': VALKEY_SYNAPSE.name, 'app.kubernetes.io/component': 'data' },
  valkeySentinel: { 'app.kubernetes.io/name': VALKEY_SYNAPSE.name, 'app.kubernetes.io/component': 'sentinel' },
  /** The master proxy of either Valkey cluster (same name and labels in both namespaces). */
  redisProxy: { 'app.kubernetes.io/name': SYNAPSE_REDIS_PROXY.name, 'app.kubernetes.io/component': SYNAPSE_REDIS_PROXY.component },
  minio: OPERATOR_MADE_PODS.minioTenant.labels,
  prometheus: MONITORING_PODS.prometheus.labels,
} as const;

/**
 * cert-manager's HTTP-01 solver pods: label and listen port (cert-manager v1.21.1
 * pkg/apis/acme/v1/types.go SolverIdentificationLabelKey, pkg/issuer/acme/http/http.go acmeSolverListenPort).
 * cert-manager creates them in the Certificate's namespace.
 */
export const ACME_SOLVER = { labels: { 'acme.cert-manager.io/http01-solver': 'true' }, port: 8089 } as const;


/**
 * Namespaces that get default-deny ingress and egress: every namespace we create, so every listener
 * and client inside is ours or a chart's, and each of their connections is a flow or rule below.
 */
export function guardedNamespaces(config: PlatformConfig): string[] {
  return activeNamespaces(config).map((namespace) => namespace.name);
}

const podRef = (pod: ChartPod): PodRef & { readonly namespace: string } => ({ namespace: pod.namespace, pods: pod.labels });


export function flows(config: PlatformConfig): Flow[] {
  const matrix = SYNAPSE_NAMESPACE;
  const edge: PodRef = podRef(edgeProxyPod(config));
  const synapse: PodRef = { namespace: matrix, pods: POD_LABELS.synapse };
  const prometheus: PodRef = { namespace: NAMESPACES.monitoring.name, pods: POD_LABELS.prometheus };
  const result: Flow[] = [
    { id: 'edge-to-router', description: 'edge -> Synapse router (client and federation API)', from: [edge], to: { namespace: matrix, pods: POD_LABELS.router }, ports: [{ port: SYNAPSE_ROUTER.port }] },
    { id: 'edge-to-element-web', description: 'edge -> Element Web', from: [edge], to: { namespace: matrix, pods: POD_LABELS.elementWeb }, ports: [{ port: ELEMENT_WEB.port }] },
    { id: 'edge-to-admin-ui', description: 'edge -> Ketesa admin UI (client CIDRs are checked at the edge)', from: [edge], to: { namespace: matrix, pods: POD_LABELS.adminUi }, ports: [{ port: ADMIN_UI.port }] },
    { id: 'edge-to-well-known', description: 'edge -> .well-known server', from: [edge], to: { namespace: matrix, pods: POD_LABELS.wellKnown }, ports: [{ port: 8080 }] },
    { id: 'router-to-synapse', description: 'router -> every Synapse process HTTP listener', from: [{ namespace: matrix, pods: POD_LABELS.router }], to: { namespace: matrix, pods: POD_LABELS.synapse }, ports: [{ port: SYNAPSE_PORTS.http }] },
    {
      id: 'synapse-internal',
      description: 'Synapse processes -> each other: replication (only from Synapse pods) and HTTP health/instance calls',
      from: [synapse],
      to: { namespace: matrix, pods: POD_LABELS.synapse },
      ports: [{ port: SYNAPSE_PORTS.replication }, { port: SYNAPSE_PORTS.http }],
    },
    {
      id: 'synapse-to-postgres',
      description: 'Synapse (and the media upload jobs) -> PostgreSQL',
      from: [synapse],
      to: { namespace: POSTGRES.namespace, pods: POD_LABELS.postgres },
      ports: [{ port: POSTGRES.port }],
    },
    {
      id: 'postgres-replication',
      description: 'PostgreSQL instances among themselves: streaming replication and the instance managers\' status',
      from: [{ namespace: matrix, pods: POD_LABELS.postgres }],
      to: { namespace: POSTGRES.namespace, pods: POD_LABELS.postgres },
      ports: [{ port: POSTGRES.port }, { port: CNPG_STATUS_PORT }],
    },
    {
      id: 'cnpg-operator-to-postgres',
      description: 'CloudNativePG operator -> the instance managers\' status endpoint',
      from: [podRef(CNPG_PODS.operator)],
      to: { namespace: POSTGRES.namespace, pods: POD_LABELS.postgres },
      ports: [{ port: CNPG_STATUS_PORT }],
    },
    {
      id: 'synapse-to-redis-proxy',
      description: 'Synapse -> the Redis HAProxy (its only Redis address)',
      from: [synapse],
      to: { namespace: SYNAPSE_REDIS_PROXY.namespace, pods: POD_LABELS.redisProxy },
      ports: [{ port: SYNAPSE_REDIS_PROXY.port }],
    },
    ...valkeyInternalFlows('synapse', VALKEY_SYNAPSE.namespace),
    // Prometheus scrapes the metrics ports of every guarded component.
    { id: 'prometheus-to-synapse', description: 'Prometheus -> Synapse metrics', from: [prometheus], to: { namespace: matrix, pods: POD_LABELS.synapse }, ports: [{ port: SYNAPSE_PORTS.metrics }] },
    { id: 'prometheus-to-router', description: 'Prometheus -> router status/metrics', from: [prometheus], to: { namespace: matrix, pods: POD_LABELS.router }, ports: [{ port: METRICS_PORTS.synapseRouter }] },
    { id: 'prometheus-to-postgres', description: 'Prometheus -> CNPG exporter', from: [prometheus], to: { namespace: POSTGRES.namespace, pods: POD_LABELS.postgres }, ports: [{ port: METRICS_PORTS.cnpg }] },
    { id: 'prometheus-to-redis-synapse', description: 'Prometheus -> redis_exporter and HAProxy metrics', from: [prometheus], to: { namespace: VALKEY_SYNAPSE.namespace, pods: {} }, ports: [{ port: METRICS_PORTS.redisExporter }, { port: METRICS_PORTS.haproxy }] },
  ];
  if (config.calls.enabled) {
    result.push(
      { id: 'edge-to-lk-jwt', description: 'edge -> lk-jwt-service', from: [edge], to: { namespace: matrix, pods: POD_LABELS.lkJwt }, ports: [{ port: LK_JWT.port }] },
      // LiveKit (host network, node addresses) posts its webhooks to lk-jwt-service's /sfu_webhook (signed with the API key).
      { id: 'livekit-to-lk-jwt', description: 'LiveKit (host network) -> lk-jwt-service /sfu_webhook', to: { namespace: matrix, pods: POD_LABELS.lkJwt }, ports: [{ port: LK_JWT.port }] },
      // LiveKit runs on the host network: its connections come from node addresses, which no pod or
      // namespace selector matches, so the LiveKit Valkey accepts its ports from anywhere (password-protected).
      {
        id: 'livekit-to-valkey',
        description: 'LiveKit (host network) -> its Valkey and sentinels',
        to: { namespace: VALKEY_LIVEKIT.namespace, pods: { 'app.kubernetes.io/name': VALKEY_LIVEKIT.name } },
        ports: [{ port: VALKEY_LIVEKIT.port }, { port: VALKEY_LIVEKIT.sentinelPort }],
      },
      {
        id: 'lk-jwt-to-redis-proxy',
        description: 'lk-jwt-service -> the LiveKit Valkey master proxy (delegated-leave jobs)',
        from: [{ namespace: matrix, pods: POD_LABELS.lkJwt }],
        to: { namespace: LIVEKIT_REDIS_PROXY.namespace, pods: POD_LABELS.redisProxy },
        ports: [{ port: LIVEKIT_REDIS_PROXY.port }],
      },
      { id: 'prometheus-to-redis-livekit', description: 'Prometheus -> redis_exporter and HAProxy metrics', from: [prometheus], to: { namespace: VALKEY_LIVEKIT.namespace, pods: {} }, ports: [{ port: METRICS_PORTS.redisExporter }, { port: METRICS_PORTS.haproxy }] },
      ...callInternalFlows(config, { edge, prometheus }),
    );
  }
  // cert-manager starts the HTTP-01 solver pods in each certificate's namespace (edge-routes.ts
  // certificateNamespace: the Gateway's with Envoy Gateway, the hosts' with ingress-nginx).
  const certificateNamespaces = new Set(
    publicCertificates(buildPlatform(config))
      .filter((certificate) => certificate.challenge === 'http01')
      .map((certificate) => certificate.namespace),
  );
  for (const namespace of [...certificateNamespaces].sort()) {
    result.push({
      id: `edge-to-acme-solver-${namespace}`,
      description: 'edge -> cert-manager HTTP-01 solver pods (Let\'s Encrypt challenges through the edge)',
      from: [edge],
      to: { namespace, pods: ACME_SOLVER.labels },
      ports: [{ port: ACME_SOLVER.port }],
    });
  }
  if (config.objectStorage.provider === 'minio') {
    result.push({
      id: 'clients-to-minio',
      description: 'S3 clients (Synapse media and its upload jobs, CNPG backups, Loki), MinIO servers among themselves, the MinIO operator, Prometheus',
      from: [
        { namespace: matrix, pods: POD_LABELS.synapse, componentIn: [workerType('mediaRepository').pool, MEDIA_UPLOAD_COMPONENT] },
        { namespace: matrix, pods: POD_LABELS.postgres },
        podRef(MONITORING_PODS.loki),
        { namespace: MINIO_TENANT.namespace, pods: POD_LABELS.minio },
        podRef(MINIO_OPERATOR_PODS.operator),
        prometheus,
      ],
      to: { namespace: MINIO_TENANT.namespace, pods: POD_LABELS.minio },
      ports: [{ port: MINIO_S3_PORT }],
    });
  }
  result.push(...chartFlows(config, prometheus));
  return result;
}

/** A webhook the API server calls: from its own address, which no selector names and which differs per cluster. */
function webhookFlow(pod: ChartPod, port: number, what: string): Flow {
  return { id: `api-server-to-${pod.id}`, description: `API server -> ${what} (from the API server's address: any source, this port only)`, to: podRef(pod), ports: [{ port }] };
}

/** The flows of the pods that Helm charts and operators create in our namespaces (lib/model/chart-pods.ts). */
function chartFlows(config: PlatformConfig, prometheus: PodRef): Flow[] {
  const monitoring = MONITORING_PODS;
  const edgeProxy = edgeProxyPod(config);
  const alertmanager = config.monitoring.alertmanager.enabled;
  const flows: Flow[] = [
    {
      id: 'internet-to-edge',
      description: 'clients and other homeservers (the internet, through the LoadBalancer with the client address kept) -> the edge proxies',
      to: podRef(edgeProxy),
      ports: edgeContainerPorts(config).map((port) => ({ port })),
    },
    webhookFlow(CERT_MANAGER_PODS.webhook, CERT_MANAGER_WEBHOOK_PORT, 'cert-manager webhook'),
    webhookFlow(CNPG_PODS.operator, CNPG_WEBHOOK_PORT, 'CloudNativePG webhooks'),
    webhookFlow(METALLB_PODS.controller, METALLB_WEBHOOK_PORT, 'MetalLB webhooks'),
    webhookFlow(monitoring.operator, PROMETHEUS_OPERATOR_WEBHOOK_PORT, 'prometheus-operator admission webhook'),
    config.edge.controller === 'envoy-gateway'
      ? webhookFlow(ENVOY_GATEWAY_PODS.controller, ENVOY_GATEWAY_WEBHOOK_PORT, 'Envoy Gateway topology injector webhook')
      : webhookFlow(INGRESS_NGINX_PODS.controller, INGRESS_NGINX_WEBHOOK_PORT, 'ingress-nginx admission webhook'),
    {
      id: 'cnpg-to-barman-plugin',
      description: 'CloudNativePG operator -> Barman Cloud plugin (gRPC over mTLS)',
      from: [podRef(CNPG_PODS.operator)],
      to: podRef(CNPG_PODS.barmanPlugin),
      ports: [{ port: BARMAN_PLUGIN_PORT }],
    },
    { id: 'prometheus-to-cert-manager', description: 'Prometheus -> cert-manager controller metrics', from: [prometheus], to: podRef(CERT_MANAGER_PODS.controller), ports: [{ port: METRICS_PORTS.certManager }] },
    {
      id: 'prometheus-to-edge',
      description: 'Prometheus -> edge proxy metrics',
      from: [prometheus],
      to: podRef(edgeProxy),
      ports: [{ port: config.edge.controller === 'envoy-gateway' ? METRICS_PORTS.envoyProxy : METRICS_PORTS.ingressNginx }],
    },
    // kube-prometheus-stack's own ServiceMonitors (selfMonitor defaults): Prometheus, the operator, Grafana, kube-state-metrics.
    { id: 'prometheus-self', description: 'Prometheus -> Prometheus and its config reloader (self-monitoring)', from: [prometheus], to: podRef(monitoring.prometheus), ports: monitoring.prometheus.ports },
    { id: 'prometheus-to-operator', description: 'Prometheus -> prometheus-operator metrics', from: [prometheus], to: podRef(monitoring.operator), ports: monitoring.operator.ports },
    { id: 'prometheus-to-kube-state-metrics', description: 'Prometheus -> kube-state-metrics', from: [prometheus], to: podRef(monitoring.kubeStateMetrics), ports: monitoring.kubeStateMetrics.ports },
    {
      id: 'grafana-to-prometheus',
      description: 'Grafana -> Prometheus (datasource)',
      from: [podRef(monitoring.grafana)],
      to: podRef(monitoring.prometheus),
      ports: [{ port: 9090 }],
    },
    {
      id: 'prometheus-to-grafana',
      description: 'Prometheus -> Grafana metrics',
      from: [prometheus],
      to: podRef(monitoring.grafana),
      ports: monitoring.grafana.ports,
    },
    {
      id: 'logs-to-loki',
      description: 'Alloy -> Loki (push), Grafana -> Loki (queries)',
      from: [podRef(monitoring.alloy), podRef(monitoring.grafana)],
      to: podRef(monitoring.loki),
      ports: [{ port: LOKI.port }],
    },
    {
      id: 'loki-internal',
      description: 'Loki replicas among themselves (gRPC, memberlist ring over TCP)',
      from: [podRef(monitoring.loki)],
      to: podRef(monitoring.loki),
      ports: [{ port: LOKI_GRPC_PORT }, { port: LOKI_MEMBERLIST_PORT }],
    },
  ];
  if (config.objectStorage.provider === 'minio') {
    flows.push({
      id: 'minio-to-operator-upgrade',
      description: 'MinIO servers -> the MinIO operator\'s upgrade server (new binary during an image upgrade)',
      from: [{ namespace: MINIO_TENANT.namespace, pods: POD_LABELS.minio }],
      to: podRef(MINIO_OPERATOR_PODS.operator),
      ports: [{ port: MINIO_OPERATOR_UPGRADE_PORT }],
    });
  }
  if (config.edge.controller === 'envoy-gateway') {
    flows.push({
      id: 'envoy-to-xds',
      description: 'Envoy proxies -> Envoy Gateway xDS (their configuration)',
      from: [podRef(ENVOY_GATEWAY_PODS.proxy)],
      to: podRef(ENVOY_GATEWAY_PODS.controller),
      ports: [{ port: ENVOY_GATEWAY_XDS_PORT }],
    });
  }
  if (alertmanager) {
    flows.push(
      {
        id: 'alerts-to-alertmanager',
        description: 'Prometheus -> Alertmanager (alerts) and its config reloader (metrics)',
        from: [prometheus],
        to: podRef(monitoring.alertmanager),
        ports: [{ port: ALERTMANAGER_PORT }, { port: 8080 }],
      },
      {
        id: 'grafana-to-alertmanager',
        description: 'Grafana -> Alertmanager (datasource)',
        from: [podRef(monitoring.grafana)],
        to: podRef(monitoring.alertmanager),
        ports: [{ port: ALERTMANAGER_PORT }],
      },
      {
        id: 'alertmanager-mesh',
        description: 'Alertmanager replicas among themselves (silences, notification log)',
        from: [podRef(monitoring.alertmanager)],
        to: podRef(monitoring.alertmanager),
        ports: [{ port: ALERTMANAGER_MESH_PORT }, { port: ALERTMANAGER_MESH_PORT, protocol: 'UDP' }],
      },
    );
  }
  return flows;
}

/**
 * The call stack's internal host ports (callHostPorts, exposure internal: bound to the node's
 * internal address), as flows from the in-cluster clients that reach them: the edge -> LiveKit
 * signalling, Prometheus -> coturn and LiveKit metrics. One flow per client and node role.
 */
function callInternalFlows(config: PlatformConfig, clients: Record<InternalPortClient, PodRef>): Flow[] {
  const namespaces = { coturn: COTURN.namespace, livekit: NAMESPACES.livekit.name } as const;
  const groups = new Map<string, { client: InternalPortClient; role: keyof typeof namespaces; claims: { owner: string; port: number; protocol: 'TCP' | 'UDP' }[] }>();
  for (const claim of callHostPorts(config)) {
    if (claim.exposure !== 'internal') continue;
    const id = `${claim.reachedFrom}-to-${claim.role}`;
    const group = groups.get(id) ?? { client: claim.reachedFrom, role: claim.role, claims: [] };
    group.claims.push({ owner: claim.owner, port: claim.start, protocol: claim.protocol });
    groups.set(id, group);
  }
  return [...groups.entries()].map(([id, group]) => ({
    id,
    description: `${group.client} -> ${group.claims.map((claim) => claim.owner).join(', ')} (host network, node internal address)`,
    from: [clients[group.client]],
    to: { namespace: namespaces[group.role], pods: byName(group.role) },
    ports: group.claims.map((claim) => ({ port: claim.port, protocol: claim.protocol })),
    hostNetwork: true,
  }));
}

/** Data pods replicate from each other; sentinels watch data pods and each other; the proxy checks data pods. */
function valkeyInternalFlows(id: string, namespace: string): Flow[] {
  const cluster = VALKEY_SYNAPSE.namespace === namespace ? VALKEY_SYNAPSE : VALKEY_LIVEKIT;
  const inNamespace = (pods: Labels): PodRef => ({ namespace, pods });
  return [
    {
      id: `valkey-${id}-data`,
      description: `Valkey (${namespace}): data <- data replicas, sentinels, Redis proxy`,
      from: [inNamespace(POD_LABELS.valkeyData), inNamespace(POD_LABELS.valkeySentinel), inNamespace(POD_LABELS.redisProxy)],
      to: { namespace, pods: POD_LABELS.valkeyData },
      ports: [{ port: cluster.port }],
    },
    {
      id: `valkey-${id}-sentinel`,
      description: `Valkey (${namespace}): sentinels <- sentinels, data pods (announce), Redis proxy`,
      from: [inNamespace(POD_LABELS.valkeySentinel), inNamespace(POD_LABELS.valkeyData), inNamespace(POD_LABELS.redisProxy)],
      to: { namespace, pods: POD_LABELS.valkeySentinel },
      ports: [{ port: cluster.sentinelPort }],
    },
  ];
}



/**
 * The flows that get an ingress allow policy: destination namespace guarded and not on the host
 * network (no NetworkPolicy selects a host-network pod; the client's egress rule names node addresses).
 */
export function guardedFlows(config: PlatformConfig): Flow[] {
  const guarded = new Set(guardedNamespaces(config));
  const all = flows(config).filter((flow) => guarded.has(flow.to.namespace) && !flow.hostNetwork);
  if (config.calls.enabled) all.push(...valkeyInternalFlows('livekit', VALKEY_LIVEKIT.namespace).filter(() => guarded.has(VALKEY_LIVEKIT.namespace)));
  return all;
}

/** A destination outside every pod selector: an address block with the private and special ranges cut out. */
export interface AddressBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

/**
 * One egress allowance of a guarded namespace's pods. charts/network-policies.ts renders one
 * `allow-egress-<id>` policy per rule in the source namespace, beside `default-deny-egress`.
 */
export interface EgressRule {
  readonly id: string;
  readonly description: string;
  readonly from: PodRef & { readonly namespace: string };
  /** Pod destinations (in-cluster). */
  readonly toPods?: readonly PodRef[];
  /** Address destinations (the API server, the internet, an external S3 endpoint). */
  readonly toAddresses?: readonly AddressBlock[];
  /** undefined: every port of the destination. */
  readonly ports?: readonly { readonly port: number; readonly protocol?: 'TCP' | 'UDP' }[];
}

/**
 * The internet as Synapse's federation and push traffic sees it: every address except the private,
 * shared, loopback, link-local (cloud metadata) and multicast ranges, so these allowances never open
 * a path into the cluster or the provider's network (Synapse's own ip_range_blacklist is the second guard).
 */
export const PUBLIC_INTERNET: readonly AddressBlock[] = [
  { cidr: '0.0.0.0/0', except: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '224.0.0.0/4', '240.0.0.0/4'] },
  { cidr: '::/0', except: ['::1/128', '::ffff:0:0/96', '64:ff9b::/96', 'fc00::/7', 'fe80::/10', 'ff00::/8'] },
];

/** Any address but link-local (cloud metadata services): for an S3 endpoint, which may sit on private addresses on premises. */
const ANY_BUT_LINK_LOCAL: readonly AddressBlock[] = [
  { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] },
  { cidr: '::/0', except: ['fe80::/10'] },
];

/** Component label of the media upload CronJobs' pods (charts/synapse.ts). */
export const MEDIA_UPLOAD_COMPONENT = 'media-upload';

/**
 * Ports of the processes that reach other servers on public addresses: network.internet.ports, or
 * every port (undefined), since a homeserver's delegation (.well-known m.server or SRV) and a push
 * gateway's URL may name any port.
 */
export function internetPorts(config: PlatformConfig): EgressRule['ports'] {
  return config.network.internet.ports?.map((port) => ({ port }));
}

/**
 * Where the cloud providers' metadata services hand out instance or workload credentials: AWS IMDS
 * (IPv4 and IPv6) and EKS Pod Identity, GKE's metadata server (and 169.254.169.252:988 under
 * Dataplane V2), Azure IMDS. cert-manager needs them for DNS-01 with ambient credentials.
 */
const CLOUD_METADATA: { readonly addresses: readonly AddressBlock[]; readonly ports: readonly { port: number }[] } = {
  addresses: [{ cidr: '169.254.169.254/32' }, { cidr: '169.254.170.23/32' }, { cidr: '169.254.169.252/32' }, { cidr: 'fd00:ec2::254/128' }, { cidr: 'fd00:ec2::23/128' }],
  ports: [{ port: 80 }, { port: 988 }],
};

/** True when the DNS-01 solver takes its credentials from the platform (instance role, workload identity) rather than a Secret. */
export function dns01UsesAmbientCredentials(config: PlatformConfig): boolean {
  const dns01 = config.tls.dns01;
  if (!dns01) return false;
  if (dns01.route53) return dns01.route53.secretAccessKeySecretRef === undefined;
  if (dns01.cloudDNS) return dns01.cloudDNS.serviceAccountSecretRef === undefined;
  if (dns01.azureDNS) return dns01.azureDNS.managedIdentity !== undefined;
  return false;
}

/** The edge's LoadBalancer addresses as ipBlocks: the fixed edge address, or every MetalLB pool. */
/** The edge's public TLS ports: HTTPS and the federation port. */
function edgeTlsPorts(config: PlatformConfig): number[] {
  return edgePublicPorts(config).map(({ port }) => port).filter((port) => port !== EDGE_PORTS.http);
}

export function edgeLoadBalancerBlocks(config: PlatformConfig): AddressBlock[] {
  const { edgeAddress, addresses } = config.loadBalancer;
  if (edgeAddress) return [{ cidr: `${edgeAddress}/${isIPv4(edgeAddress) ? 32 : 128}` }];
  return addresses.flatMap(rangeToCidrs).map((cidr) => ({ cidr }));
}

/**
 * Synapse process types that open connections to other homeservers or web services, and why. The
 * others (sync, event persisters, the stream writers for typing, to-device, account data, receipts,
 * presence, the user directory) only talk to PostgreSQL, Redis and other Synapse processes: what
 * they produce for other servers is sent by the federation senders.
 */
export const SYNAPSE_OUTBOUND: Readonly<Partial<Record<WorkerTypeId | 'main', string>>> = {
  main: 'everything no worker takes: joins, invites, key queries, admin API lookups',
  generic: 'client requests that reach other servers: joins, profile and directory queries, E2EE key claims',
  federationReader: 'signing keys of remote servers, missing events and state while accepting transactions',
  federationSender: 'sends every event and EDU to other servers',
  mediaRepository: 'downloads remote media',
  pusher: 'posts notifications to push gateways',
  background: 'application-service transactions',
};

function synapseOutboundPods(): PodRef {
  const pools = Object.keys(SYNAPSE_OUTBOUND).map((id) => (id === 'main' ? 'main' : workerType(id as WorkerTypeId).pool));
  return { namespace: SYNAPSE_NAMESPACE, pods: POD_LABELS.synapse, componentIn: pools };
}

const DNS_PORT = 53;

/** Host and port of a DNS server address as config tls.dns01.rfc2136.nameserver allows it: `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function parseDnsServer(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(address);
  if (!match) return { host: address, port: DNS_PORT };
  return { host: match[1] ?? match[2], port: match[3] ? Number(match[3]) : DNS_PORT };
}

function endpointPort(url: string): number {
  const parsed = new URL(url);
  if (parsed.port) return Number(parsed.port);
  return parsed.protocol === 'http:' ? 80 : 443;
}

/**
 * Every egress a guarded namespace's pods need. Derived: each flow of the ingress table whose source
 * is in a guarded namespace is allowed at its source too, so both ends agree. Added: DNS for every
 * pod; the API server for the pods that call it; the internet on 443/8448 for the Synapse processes
 * of SYNAPSE_OUTBOUND; an external S3 endpoint; lk-jwt-service to LiveKit and to homeservers.
 */
export function egressRules(config: PlatformConfig): EgressRule[] {
  const guarded = new Set(guardedNamespaces(config));
  const nodes = config.network.nodes.cidrs.map((cidr) => ({ cidr }));
  const rules: EgressRule[] = [];
  const hostNetworkFlows = flows(config).filter((flow) => flow.hostNetwork);
  for (const flow of [...guardedFlows(config), ...hostNetworkFlows]) {
    (flow.from ?? []).forEach((source, index) => {
      if (source.namespace === undefined || !guarded.has(source.namespace)) return;
      rules.push({
        id: flow.from!.length > 1 ? `${flow.id}-${index + 1}` : flow.id,
        description: flow.description,
        from: { ...source, namespace: source.namespace },
        ...(flow.hostNetwork ? { toAddresses: nodes } : { toPods: [flow.to] }),
        ports: flow.ports,
      });
    });
  }
  const dns: PodRef = { namespace: config.network.dns.namespace, pods: config.network.dns.podLabels };
  for (const namespace of guardedNamespaces(config)) {
    rules.push({
      id: 'dns',
      description: 'every pod -> cluster DNS',
      from: { namespace, pods: {} },
      toPods: [dns],
      ...(config.network.dns.addresses.length > 0 ? { toAddresses: config.network.dns.addresses.map((cidr) => ({ cidr })) } : {}),
      ports: [{ port: DNS_PORT, protocol: 'UDP' }, { port: DNS_PORT, protocol: 'TCP' }],
    });
  }
  const apiServer = (namespace: string, pods: Labels, who: string, id = 'api-server'): EgressRule => ({
    id,
    description: `${who} -> Kubernetes API`,
    from: { namespace, pods },
    toAddresses: config.network.apiServer.cidrs.map((cidr) => ({ cidr })),
    ports: config.network.apiServer.ports.map((port) => ({ port })),
  });
  rules.push(apiServer(POSTGRES.namespace, POD_LABELS.postgres, 'CloudNativePG instance managers (status, leader election, backups)'));
  rules.push(apiServer(CERT_MANAGER.namespace, {}, 'cert-manager controller, webhook, cainjector and start-up check'));
  rules.push(
    {
      id: 'acme',
      description: "cert-manager controller -> Let's Encrypt (ACME over HTTPS)",
      from: podRef(CERT_MANAGER_PODS.controller),
      toAddresses: PUBLIC_INTERNET,
      ports: [{ port: 443 }],
    },
    {
      // Before it asks Let's Encrypt to validate, the controller fetches the challenge itself from
      // http://<host>/.well-known/acme-challenge/: our hosts resolve to the edge's LoadBalancer address
      // (a MetalLB pool address, public or private, or a public address in front of it), which kube-proxy
      // may forward to the edge pods before the policy sees it (the next rule) or not.
      id: 'acme-http01-self-check',
      description: 'cert-manager controller -> our hosts on port 80 (HTTP-01 self-check): public addresses and the edge LoadBalancer addresses',
      from: podRef(CERT_MANAGER_PODS.controller),
      toAddresses: [...PUBLIC_INTERNET, ...edgeLoadBalancerBlocks(config)],
      ports: [{ port: 80 }],
    },
    {
      id: 'acme-http01-self-check-edge',
      description: 'cert-manager controller -> the edge pods (HTTP-01 self-check after kube-proxy forwards the LoadBalancer address)',
      from: podRef(CERT_MANAGER_PODS.controller),
      toPods: [podRef(edgeProxyPod(config))],
      ports: [{ port: edgeContainerPort(config, EDGE_PORTS.http) }],
    },
  );
  if (config.tls.dns01) {
    // DNS-01: before it asks Let's Encrypt to validate, the controller checks the TXT record at the
    // zone's authoritative nameservers itself (public, or an RFC 2136 server on premises); the
    // provider APIs (Cloudflare, Route 53, ...) are HTTPS to public addresses, which the acme rule allows.
    const bothProtocols = (port: number) => [{ port, protocol: 'UDP' as const }, { port, protocol: 'TCP' as const }];
    rules.push({
      id: 'dns01-nameservers',
      description: 'cert-manager controller -> the authoritative nameservers on public addresses (DNS-01 propagation check)',
      from: podRef(CERT_MANAGER_PODS.controller),
      toAddresses: PUBLIC_INTERNET,
      ports: bothProtocols(DNS_PORT),
    });
    const rfc2136 = config.tls.dns01.rfc2136;
    if (rfc2136) {
      // The RFC 2136 server may sit on premises: its own address when given as one, else any address but link-local.
      const { host, port } = parseDnsServer(rfc2136.nameserver);
      const literal = isIPv4(host) || isIPv6(host) ? [{ cidr: `${host}/${isIPv4(host) ? 32 : 128}` }] : undefined;
      rules.push({
        id: 'dns01-rfc2136',
        description: 'cert-manager controller -> the RFC 2136 server (TSIG-signed updates, propagation check)',
        from: podRef(CERT_MANAGER_PODS.controller),
        toAddresses: literal ?? ANY_BUT_LINK_LOCAL,
        ports: bothProtocols(port),
      });
    }
    if (dns01UsesAmbientCredentials(config)) {
      rules.push({
        id: 'dns01-cloud-credentials',
        description: 'cert-manager controller -> the cloud metadata service (instance or workload credentials of the DNS-01 solver)',
        from: podRef(CERT_MANAGER_PODS.controller),
        toAddresses: CLOUD_METADATA.addresses,
        ports: CLOUD_METADATA.ports,
      });
    }
  }
  rules.push(...chartEgressRules(config, apiServer));
  if (config.objectStorage.provider === 'minio' && guarded.has(MINIO_TENANT.namespace)) {
    rules.push(apiServer(MINIO_TENANT.namespace, POD_LABELS.minio, 'MinIO servers (the operator sidecar reads the Tenant)'));
  }
  rules.push({
    id: 'synapse-federation',
    description: `Synapse processes that reach other servers (${Object.keys(SYNAPSE_OUTBOUND).join(', ')}) -> the internet`,
    from: { ...synapseOutboundPods(), namespace: SYNAPSE_NAMESPACE },
    toAddresses: PUBLIC_INTERNET,
    ports: internetPorts(config),
  });
  if (config.objectStorage.provider === 'external' && config.objectStorage.external) {
    const s3 = { toAddresses: ANY_BUT_LINK_LOCAL, ports: [{ port: endpointPort(config.objectStorage.external.endpoint) }] };
    rules.push(
      {
        id: 'external-s3-media',
        description: 'Synapse media repository and its upload jobs -> the external S3 endpoint (any address: it may be on premises)',
        from: { namespace: SYNAPSE_NAMESPACE, pods: POD_LABELS.synapse, componentIn: [workerType('mediaRepository').pool, MEDIA_UPLOAD_COMPONENT] },
        ...s3,
      },
      { id: 'external-s3-backups', description: 'PostgreSQL backups (Barman Cloud plugin) -> the external S3 endpoint', from: { namespace: POSTGRES.namespace, pods: POD_LABELS.postgres }, ...s3 },
    );
  }
  if (config.calls.enabled) {
    const lkJwt = { namespace: SYNAPSE_NAMESPACE, pods: POD_LABELS.lkJwt };
    rules.push(
      {
        // Our public host names resolve to the edge's LoadBalancer address, which kube-proxy forwards
        // to the edge pods themselves: the policy sees an edge pod on its container port.
        id: 'lk-jwt-to-edge',
        description: 'lk-jwt-service -> the LiveKit API and our homeserver (OpenID token checks) through the edge',
        from: lkJwt,
        toPods: [podRef(edgeProxyPod(config))],
        ports: edgeTlsPorts(config).map((port) => ({ port: edgeContainerPort(config, port) })),
      },
      {
        // Where the CNI sees the LoadBalancer address before it is translated (Cilium beside kube-proxy).
        id: 'lk-jwt-to-edge-address',
        description: 'lk-jwt-service -> the edge LoadBalancer addresses (HTTPS, before address translation)',
        from: lkJwt,
        toAddresses: edgeLoadBalancerBlocks(config),
        ports: edgeTlsPorts(config).map((port) => ({ port })),
      },
      {
        id: 'lk-jwt-federation',
        description: 'lk-jwt-service -> other homeservers (OpenID token checks of their users) and the LiveKit API by its public address',
        from: lkJwt,
        toAddresses: PUBLIC_INTERNET,
        ports: internetPorts(config),
      },
    );
  }
  return rules;
}

type ApiServerRule = (namespace: string, pods: Labels, who: string, id?: string) => EgressRule;

/**
 * The outbound connections of the chart- and operator-created pods that no flow covers: the API
 * server for the controllers, node addresses for Prometheus, the internet for Grafana's dashboard
 * download and the Alertmanager receivers, an external S3 endpoint for Loki.
 */
function chartEgressRules(config: PlatformConfig, apiServer: ApiServerRule): EgressRule[] {
  const monitoring = MONITORING_PODS;
  const nodes = config.network.nodes.cidrs.map((cidr) => ({ cidr }));
  const rules: EgressRule[] = [
    apiServer(NAMESPACES.cnpg.name, {}, 'CloudNativePG operator and Barman Cloud plugin'),
    apiServer(NAMESPACES.metallb.name, METALLB_PODS.controller.labels, 'MetalLB controller (the speakers run on the host network)'),
    ...(config.edge.controller === 'envoy-gateway'
      ? [
          apiServer(NAMESPACES.envoyGateway.name, ENVOY_GATEWAY_PODS.controller.labels, 'Envoy Gateway controller'),
          apiServer(NAMESPACES.envoyGateway.name, ENVOY_GATEWAY_PODS.certgen.labels, 'Envoy Gateway certificate job', 'api-server-certgen'),
        ]
      : [apiServer(NAMESPACES.ingressNginx.name, { 'app.kubernetes.io/name': 'ingress-nginx' }, 'ingress-nginx controller and its admission set-up jobs')]),
    apiServer(NAMESPACES.monitoring.name, monitoring.prometheus.labels, 'Prometheus (service discovery, the API server\'s metrics)', 'api-server-prometheus'),
    apiServer(NAMESPACES.monitoring.name, monitoring.operator.labels, 'prometheus-operator', 'api-server-prometheus-operator'),
    apiServer(NAMESPACES.monitoring.name, monitoring.admissionJobs.labels, 'prometheus-operator admission set-up jobs', 'api-server-admission-jobs'),
    apiServer(NAMESPACES.monitoring.name, monitoring.kubeStateMetrics.labels, 'kube-state-metrics', 'api-server-kube-state-metrics'),
    apiServer(NAMESPACES.monitoring.name, monitoring.grafana.labels, 'Grafana dashboard and datasource sidecars', 'api-server-grafana'),
    apiServer(NAMESPACES.monitoring.name, monitoring.alloy.labels, 'Alloy (pod discovery, log tailing through the API)', 'api-server-alloy'),
    {
      // kube-prometheus-stack's default ServiceMonitors: kubelet and cAdvisor, node-exporter (host network),
      // kube-proxy, controller manager, scheduler and etcd metrics, all on node addresses.
      id: 'prometheus-to-nodes',
      description: 'Prometheus -> kubelet, node-exporter and the control-plane components on node addresses',
      from: podRef(monitoring.prometheus),
      toAddresses: nodes,
      ports: [...PROMETHEUS_NODE_PORTS].map((port) => ({ port })),
    },
    {
      id: 'prometheus-to-coredns',
      description: 'Prometheus -> cluster DNS metrics',
      from: podRef(monitoring.prometheus),
      toPods: [{ namespace: config.network.dns.namespace, pods: config.network.dns.podLabels }],
      ports: [{ port: COREDNS_METRICS_PORT }],
    },
    {
      // The chart's init container downloads the dashboards of charts/dashboards.ts from grafana.com and GitHub.
      id: 'grafana-dashboards',
      description: 'Grafana -> grafana.com and raw.githubusercontent.com (dashboard download at start)',
      from: podRef(monitoring.grafana),
      toAddresses: PUBLIC_INTERNET,
      ports: [{ port: 443 }],
    },
  ];
  if (config.objectStorage.provider === 'minio') {
    rules.push(apiServer(NAMESPACES.minioOperator.name, {}, 'MinIO operator'));
  }
  if (config.objectStorage.provider === 'external' && config.objectStorage.external) {
    rules.push({
      id: 'external-s3-loki',
      description: 'Loki -> the external S3 endpoint (any address: it may be on premises)',
      from: podRef(monitoring.loki),
      toAddresses: ANY_BUT_LINK_LOCAL,
      ports: [{ port: endpointPort(config.objectStorage.external.endpoint) }],
    });
  }
  const { alertmanager } = config.monitoring;
  if (alertmanager.enabled) {
    const receiverPorts = [
      ...(alertmanager.email ? [Number(alertmanager.email.smarthost.split(':').pop())] : []),
      ...(alertmanager.webhook ? [alertmanager.webhook.port] : []),
    ];
    rules.push({
      id: 'alertmanager-receivers',
      description: 'Alertmanager -> the SMTP server and the webhook (any address but link-local: either may be on premises)',
      from: podRef(monitoring.alertmanager),
      toAddresses: ANY_BUT_LINK_LOCAL,
      ports: [...new Set(receiverPorts)].sort((a, b) => a - b).map((port) => ({ port })),
    });
  }
  return rules;
}

/** Node-address ports kube-prometheus-stack scrapes by default: kubelet, node-exporter, kube-proxy, controller manager, scheduler, etcd. */
export const PROMETHEUS_NODE_PORTS = [10250, 9100, 10249, 10257, 10259, 2381] as const;
/** CoreDNS `prometheus :9153` (kube-prometheus-stack coreDns ServiceMonitor). */
export const COREDNS_METRICS_PORT = 9153;
