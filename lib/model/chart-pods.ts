import type { PlatformConfig } from '../config';
import { EDGE_PORTS, edgePublicPorts } from './edge-routes';
import { CERT_MANAGER, LOKI, MINIO_TENANT, POSTGRES, PROMETHEUS_STACK } from './endpoints';
import { METRICS_PORTS } from './metrics-ports';
import { NAMESPACES } from './platform';

/**
 * The pods that Helm charts and operators create in the namespaces we own, as our chart values render
 * them: the labels the NetworkPolicies select them by, whether they run on the host network, and the
 * ports they listen on. dist/ holds only the chart wrappers, so this table is what the policy model
 * and test/network-policies.test.ts know of those pods. Each entry names the template it was read
 * from, at the chart version pinned in lib/versions.ts; a chart upgrade re-checks these.
 */

export type Labels = Readonly<Record<string, string>>;

export interface ChartPort {
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
}

export interface ChartPod {
  readonly id: string;
  readonly namespace: string;
  /** Labels every pod of this kind carries (a subset of its pod template labels): the policies select by these. */
  readonly labels: Labels;
  readonly hostNetwork?: true;
  /**
   * The container ports others connect to with our values. Left out: ports only the kubelet probes
   * (probes are not subject to NetworkPolicy) and metrics ports nothing scrapes.
   */
  readonly ports: readonly ChartPort[];
  /** Chart and template (or operator source) the labels and ports come from. */
  readonly source: string;
}

const release = (name: string, instance: string): Labels => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': instance });
const tcp = (...ports: number[]): ChartPort[] => ports.map((port) => ({ port }));

/** cert-manager v1.21.1 (deploy/charts/cert-manager/templates/{deployment,webhook-deployment,cainjector-deployment,startupapicheck-job}.yaml). */
export const CERT_MANAGER_PODS = {
  controller: {
    id: 'cert-manager-controller',
    namespace: CERT_MANAGER.namespace,
    labels: { ...release('cert-manager', CERT_MANAGER.releaseName), 'app.kubernetes.io/component': 'controller' },
    ports: tcp(METRICS_PORTS.certManager),
    source: 'cert-manager v1.21.1 templates/deployment.yaml (http-metrics 9402; http-healthz 9403 for the probes)',
  },
  webhook: {
    id: 'cert-manager-webhook',
    namespace: CERT_MANAGER.namespace,
    labels: { ...release('webhook', CERT_MANAGER.releaseName), 'app.kubernetes.io/component': 'webhook' },
    ports: tcp(10250),
    source: 'cert-manager v1.21.1 templates/webhook-deployment.yaml (https 10250; healthcheck 6080 for the probes, http-metrics 9402 unscraped)',
  },
  cainjector: {
    id: 'cert-manager-cainjector',
    namespace: CERT_MANAGER.namespace,
    labels: { ...release('cainjector', CERT_MANAGER.releaseName), 'app.kubernetes.io/component': 'cainjector' },
    ports: [],
    source: 'cert-manager v1.21.1 templates/cainjector-deployment.yaml (http-metrics 9402, unscraped)',
  },
  startupApiCheck: {
    id: 'cert-manager-startupapicheck',
    namespace: CERT_MANAGER.namespace,
    labels: { ...release('startupapicheck', CERT_MANAGER.releaseName), 'app.kubernetes.io/component': 'startupapicheck' },
    ports: [],
    source: 'cert-manager v1.21.1 templates/startupapicheck-job.yaml (Helm hook Job)',
  },
} as const satisfies Record<string, ChartPod>;

/** The cert-manager webhook's listen port, which the API server calls. */
export const CERT_MANAGER_WEBHOOK_PORT = 10250;

export const METALLB_PODS = {
  controller: {
    id: 'metallb-controller',
    namespace: NAMESPACES.metallb.name,
    labels: { ...release('metallb', 'metallb'), 'app.kubernetes.io/component': 'controller' },
    ports: tcp(9443),
    source: 'metallb 0.16.1 charts/metallb/templates/controller.yaml (webhook-server 9443, also the bgppeers CRD conversion; metricshttps 9120 unscraped)',
  },
  speaker: {
    id: 'metallb-speaker',
    namespace: NAMESPACES.metallb.name,
    labels: { ...release('metallb', 'metallb'), 'app.kubernetes.io/component': 'speaker' },
    hostNetwork: true,
    ports: [{ port: 7946 }, { port: 7946, protocol: 'UDP' }],
    source: 'metallb 0.16.1 charts/metallb/templates/speaker.yaml (hostNetwork; memberlist 7946 among the speakers; metricshttps 9120 unscraped)',
  },
} as const satisfies Record<string, ChartPod>;

export const METALLB_WEBHOOK_PORT = 9443;

export const ENVOY_GATEWAY_PODS = {
  controller: {
    id: 'envoy-gateway',
    namespace: NAMESPACES.envoyGateway.name,
    labels: { 'control-plane': 'envoy-gateway', ...release('gateway-helm', 'envoy-gateway') },
    ports: tcp(18000, 9443),
    source: 'gateway-helm v1.9.0 templates/envoy-gateway-deployment.yaml (grpc 18000, webhook 9443; ratelimit 18001 and wasm 18002 unused, metrics 19001 unscraped)',
  },
  certgen: {
    id: 'envoy-gateway-certgen',
    namespace: NAMESPACES.envoyGateway.name,
    labels: { app: 'certgen' },
    ports: [],
    source: 'gateway-helm v1.9.0 templates/certgen.yaml (Helm hook Job; `app: certgen` is its only label)',
  },
  proxy: {
    id: 'envoy-proxy',
    namespace: NAMESPACES.envoyGateway.name,
    labels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/managed-by': 'envoy-gateway' },
    // The listener ports depend on the config: edgeProxyPod adds them (v1.9.0 does not declare them as container ports).
    ports: tcp(METRICS_PORTS.envoyProxy),
    source: 'envoy gateway v1.9.0 internal/infrastructure/kubernetes/proxy/resource.go, internal/gatewayapi/listener.go (labels, listener ports + 10000 below 1024, metrics 19001)',
  },
} as const satisfies Record<string, ChartPod>;

/** Envoy Gateway's xDS server, which the proxies connect to. */
export const ENVOY_GATEWAY_XDS_PORT = 18000;
/** The controller's topology-injector webhook, called by the API server. */
export const ENVOY_GATEWAY_WEBHOOK_PORT = 9443;

export const INGRESS_NGINX_PODS = {
  controller: {
    id: 'ingress-nginx-controller',
    namespace: NAMESPACES.ingressNginx.name,
    labels: { ...release('ingress-nginx', 'ingress-nginx'), 'app.kubernetes.io/component': 'controller' },
    // The listener ports (80, 443) are added by edgeProxyPod.
    ports: tcp(8443, METRICS_PORTS.ingressNginx),
    source: 'ingress-nginx 4.15.1 templates/controller-deployment.yaml (http 80, https 443, webhook 8443, metrics 10254)',
  },
  admissionJobs: {
    id: 'ingress-nginx-admission',
    namespace: NAMESPACES.ingressNginx.name,
    labels: { ...release('ingress-nginx', 'ingress-nginx'), 'app.kubernetes.io/component': 'admission-webhook' },
    ports: [],
    source: 'ingress-nginx 4.15.1 templates/admission-webhooks/job-patch/job-{createSecret,patchWebhook}.yaml (Helm hook Jobs)',
  },
} as const satisfies Record<string, ChartPod>;

export const INGRESS_NGINX_WEBHOOK_PORT = 8443;

export const CNPG_PODS = {
  operator: {
    id: 'cloudnative-pg',
    namespace: NAMESPACES.cnpg.name,
    labels: release('cloudnative-pg', 'cloudnative-pg'),
    ports: tcp(9443),
    source: 'cloudnative-pg chart 0.29.0 templates/deployment.yaml (webhook-server 9443; metrics 8080 unscraped: monitoring.podMonitorEnabled false)',
  },
  barmanPlugin: {
    id: 'barman-cloud',
    namespace: NAMESPACES.cnpg.name,
    labels: release('plugin-barman-cloud', 'barman-cloud'),
    ports: tcp(9090),
    source: 'plugin-barman-cloud chart 0.7.0 templates/deployment.yaml (grpc 9090)',
  },
} as const satisfies Record<string, ChartPod>;

export const CNPG_WEBHOOK_PORT = 9443;
/** The Barman Cloud plugin's gRPC server (mTLS), which the CloudNativePG operator calls. */
export const BARMAN_PLUGIN_PORT = 9090;

/** The MinIO operator's upgrade server: tenant pods download a new MinIO binary from it during an image upgrade. */
export const MINIO_OPERATOR_UPGRADE_PORT = 4221;

export const MINIO_OPERATOR_PODS = {
  operator: {
    id: 'minio-operator',
    namespace: NAMESPACES.minioOperator.name,
    // The elected leader also gets `operator: leader` at run time; the selector stays on the chart's labels.
    labels: release('operator', 'minio-operator'),
    ports: tcp(MINIO_OPERATOR_UPGRADE_PORT),
    source: 'minio operator v7.1.1 helm/operator/templates/operator-deployment.yaml; pkg/common/const.go (upgrade server 4221; the STS API on 4223 is unused here)',
  },
} as const satisfies Record<string, ChartPod>;

/** CloudNativePG instance manager status port (operator -> instances, instance <-> instance). */
export const CNPG_STATUS_PORT = 8000;
/** MinIO S3 API inside the tenant (the `minio` Service on 443 forwards to it); MinIO serves its metrics there too. */
export const MINIO_S3_PORT = METRICS_PORTS.minio;

/** Pods the operators create from our custom resources in our namespaces. */
export const OPERATOR_MADE_PODS = {
  postgres: {
    id: 'postgres',
    namespace: POSTGRES.namespace,
    labels: { 'cnpg.io/cluster': POSTGRES.clusterName },
    ports: tcp(POSTGRES.port, CNPG_STATUS_PORT, METRICS_PORTS.cnpg),
    source: 'cloudnative-pg v1.30.0 pkg/specs/pods.go (postgresql 5432, status 8000, metrics 9187); the join and initdb Jobs carry the same label',
  },
  minioTenant: {
    id: 'minio-tenant',
    namespace: MINIO_TENANT.namespace,
    labels: { 'v1.min.io/tenant': MINIO_TENANT.name },
    ports: tcp(MINIO_S3_PORT),
    source: 'minio operator v7.1.1 pkg/resources/statefulsets/minio-statefulset.go (minio 9000: S3 and metrics; console 9443 unused, the browser is off)',
  },
} as const satisfies Record<string, ChartPod>;

const STACK = PROMETHEUS_STACK.releaseName;

export const MONITORING_PODS = {
  prometheus: {
    id: 'prometheus',
    namespace: NAMESPACES.monitoring.name,
    labels: { 'app.kubernetes.io/name': 'prometheus' },
    ports: tcp(9090, 8080),
    source: 'prometheus-operator (kube-prometheus-stack) StatefulSet of the Prometheus resource (web 9090, reloader-web 8080)',
  },
  alertmanager: {
    id: 'alertmanager',
    namespace: NAMESPACES.monitoring.name,
    labels: { 'app.kubernetes.io/name': 'alertmanager' },
    ports: [{ port: 9093 }, { port: 9094 }, { port: 9094, protocol: 'UDP' }, { port: 8080 }],
    source: 'prometheus-operator StatefulSet of the Alertmanager resource (web 9093, mesh-tcp/udp 9094, reloader-web 8080)',
  },
  operator: {
    id: 'prometheus-operator',
    namespace: NAMESPACES.monitoring.name,
    labels: { app: 'kube-prometheus-stack-operator', release: STACK },
    ports: tcp(10250),
    source: 'kube-prometheus-stack templates/prometheus-operator/deployment.yaml (https 10250: metrics and admission webhook)',
  },
  admissionJobs: {
    id: 'prometheus-operator-admission',
    namespace: NAMESPACES.monitoring.name,
    labels: { release: STACK, 'app.kubernetes.io/component': 'prometheus-operator-webhook' },
    ports: [],
    source: 'kube-prometheus-stack templates/prometheus-operator/admission-webhooks/job-patch/job-{createSecret,patchWebhook}.yaml (Helm hook Jobs)',
  },
  grafana: {
    id: 'grafana',
    namespace: NAMESPACES.monitoring.name,
    labels: release('grafana', STACK),
    ports: tcp(3000),
    source: 'grafana subchart 12.11.1 templates/_pod.tpl (grafana 3000; gossip 9094 and profiling 6060 are declared but unused: no HA alerting peers, no profiling)',
  },
  kubeStateMetrics: {
    id: 'kube-state-metrics',
    namespace: NAMESPACES.monitoring.name,
    labels: release('kube-state-metrics', STACK),
    ports: tcp(8080),
    source: 'kube-state-metrics subchart templates/deployment.yaml (http 8080)',
  },
  nodeExporter: {
    id: 'node-exporter',
    namespace: NAMESPACES.monitoring.name,
    labels: release('prometheus-node-exporter', STACK),
    hostNetwork: true,
    ports: tcp(9100),
    source: 'prometheus-node-exporter subchart templates/daemonset.yaml (hostNetwork, metrics 9100)',
  },
  loki: {
    id: 'loki',
    namespace: NAMESPACES.monitoring.name,
    labels: { ...release('loki', LOKI.name), 'app.kubernetes.io/component': 'single-binary' },
    ports: tcp(LOKI.port, 9095, 7946),
    source: 'loki chart 18.11.0 templates/single-binary/statefulset.yaml (http-metrics 3100, grpc 9095, http-memberlist 7946: TCP only in dskit)',
  },
  alloy: {
    id: 'alloy',
    namespace: NAMESPACES.monitoring.name,
    labels: release('alloy', 'alloy'),
    ports: [],
    source: 'alloy chart 1.11.1 templates/controllers/_pod.yaml (http-metrics 12345, unscraped)',
  },
} as const satisfies Record<string, ChartPod>;

/** prometheus-operator's admission webhook (PrometheusRule validation), called by the API server. */
export const PROMETHEUS_OPERATOR_WEBHOOK_PORT = 10250;
export const LOKI_GRPC_PORT = 9095;
export const LOKI_MEMBERLIST_PORT = 7946;
export const ALERTMANAGER_PORT = 9093;
export const ALERTMANAGER_MESH_PORT = 9094;

/** The chart- and operator-created pods that exist for this config. */
export function chartPods(config: PlatformConfig): ChartPod[] {
  const pods: ChartPod[] = [...Object.values(CERT_MANAGER_PODS), ...Object.values(METALLB_PODS), ...Object.values(CNPG_PODS)];
  const edgePods: ChartPod[] = Object.values(config.edge.controller === 'envoy-gateway' ? ENVOY_GATEWAY_PODS : INGRESS_NGINX_PODS);
  const proxy = edgeProxyPod(config);
  pods.push(...edgePods.map((pod) => (pod.id === proxy.id ? proxy : pod)));
  pods.push(OPERATOR_MADE_PODS.postgres);
  if (config.objectStorage.provider === 'minio') pods.push(...Object.values(MINIO_OPERATOR_PODS), OPERATOR_MADE_PODS.minioTenant);
  const { alertmanager, ...monitoring } = MONITORING_PODS;
  pods.push(...Object.values(monitoring));
  if (config.monitoring.alertmanager.enabled) pods.push(alertmanager);
  return pods;
}

/**
 * The container port an edge proxy listens on for a public port: Envoy Gateway adds 10000 below 1024
 * (its proxies run unprivileged); ingress-nginx binds 80 and 443 and serves federation on 443 too.
 */
export function edgeContainerPort(config: PlatformConfig, publicPort: number): number {
  if (config.edge.controller === 'ingress-nginx') return publicPort === EDGE_PORTS.http ? EDGE_PORTS.http : EDGE_PORTS.https;
  return publicPort < 1024 ? publicPort + 10000 : publicPort;
}

export function edgeContainerPorts(config: PlatformConfig): number[] {
  return [...new Set(edgePublicPorts(config).map(({ port }) => edgeContainerPort(config, port)))];
}

/** The edge proxy pods, with their listener ports: they accept the internet's connections and forward them to the platform. */
export function edgeProxyPod(config: PlatformConfig): ChartPod {
  const pod = config.edge.controller === 'envoy-gateway' ? ENVOY_GATEWAY_PODS.proxy : INGRESS_NGINX_PODS.controller;
  return { ...pod, ports: [...tcp(...edgeContainerPorts(config)), ...pod.ports] };
}
