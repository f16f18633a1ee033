import type { PlatformConfig } from '../config';
import {
  LIVEKIT,
  LIVEKIT_REDIS_PROXY,
  MINIO_TENANT,
  POSTGRES,
  SYNAPSE_REDIS_PROXY,
  SYNAPSE_ROUTER,
  VALKEY_LIVEKIT,
  VALKEY_SYNAPSE,
  type ValkeyClusterEndpoints,
  type ValkeyMasterProxy,
} from './endpoints';
import type { Platform } from './index';
import { INTERNAL_CA, MINIO_SERVER_TLS_SECRET } from './internal-ca';
import { CERT_MANAGER_PODS, ENVOY_GATEWAY_PODS, INGRESS_NGINX_PODS } from './chart-pods';
import { METRICS_PORTS } from './metrics-ports';
import { NAMESPACES, serviceHost } from './platform';
import { activeWorkerTypes, SYNAPSE_NAMESPACE, SYNAPSE_PORTS, type WorkerType } from './workers';

/**
 * What Prometheus scrapes, as data. Each component contributes its targets here (pod labels, port,
 * path); charts/monitoring-targets renders one PodMonitor or ServiceMonitor per target. A component
 * that changes its labels or metrics port changes it here, and the tests that match every target
 * against the rendered pods catch a mismatch.
 *
 * `port` is a container port number (robust against port renames) or a port name.
 */
export interface ScrapeTarget {
  /** Name of the scrape object; also the Prometheus `job` unless `jobLabel` overrides it. */
  readonly name: string;
  readonly namespace: string;
  /** Pod labels (PodMonitor) or Service labels (ServiceMonitor) that select the targets. */
  readonly selector: Readonly<Record<string, string>>;
  readonly port: string | number;
  readonly path: string;
  readonly kind: 'PodMonitor' | 'ServiceMonitor';
  /** Scrape over HTTPS, verifying the certificate for `serverName` against the CA in a Secret of the target's namespace. */
  readonly tls?: { readonly serverName: string; readonly caSecret: { readonly name: string; readonly key: string } };
  /** Value of the `job` label on every series (Synapse's dashboard filters on it). */
  readonly jobLabel?: string;
  /** Fixed labels added to every series. */
  readonly extraLabels?: Readonly<Record<string, string>>;
  /**
   * Name every series' process in this label (Synapse's dashboard uses `index`): the pod's
   * PROCESS_POD_LABEL where set (Deployments give their pods generated names), else the pod name.
   */
  readonly podNameLabel?: string;
}

export { METRICS_PORTS } from './metrics-ports';

export const HAPROXY_METRICS_PATH = '/metrics';

/** Pod labels of a Synapse process: main or one worker type (one StatefulSet per type). */
export function synapsePodSelector(type?: WorkerType): Record<string, string> {
  // Same keys as constructs/workload componentLabels(name, component).
  return { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': type ? type.pool : 'main' };
}

/** Synapse: one target per process kind (main + each active worker type), labelled the way the upstream dashboard expects. */
export function synapseScrapeTargets(config: PlatformConfig): ScrapeTarget[] {
  const kinds: { job: string; type?: WorkerType }[] = [
    { job: 'main' },
    ...activeWorkerTypes(config).map((type) => ({ job: type.pool, type })),
  ];
  return kinds.map(({ job, type }) => ({
    name: `synapse-${job}`,
    namespace: SYNAPSE_NAMESPACE,
    selector: synapsePodSelector(type),
    port: SYNAPSE_PORTS.metrics,
    path: '/_synapse/metrics',
    kind: 'PodMonitor',
    jobLabel: job,
    // contrib/grafana/synapse.json filters on instance (the server), job (process kind) and index (process).
    extraLabels: { instance: config.serverName },
    podNameLabel: 'index',
  }));
}

/**
 * Pod label naming the Synapse process of a single-pod Deployment (main, single writers): its stable
 * name (`synapse-main`, `synapse-typing-0`), where StatefulSet pods carry it in their pod name.
 */
export const PROCESS_POD_LABEL = 'matrix-platform/process';

function selectorOf(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}

function valkeyTarget(cluster: ValkeyClusterEndpoints): ScrapeTarget {
  return {
    name: `${cluster.name}-exporter`,
    namespace: cluster.namespace,
    selector: selectorOf(cluster.name),
    // Data pods and Sentinels both carry a redis_exporter on this port (redis_* and redis_sentinel_* series).
    port: METRICS_PORTS.redisExporter,
    path: '/metrics',
    kind: 'PodMonitor',
  };
}

function masterProxyTarget(proxy: ValkeyMasterProxy): ScrapeTarget {
  return {
    name: proxy.name,
    namespace: proxy.namespace,
    selector: selectorOf(proxy.name),
    port: METRICS_PORTS.haproxy,
    path: HAPROXY_METRICS_PATH,
    kind: 'PodMonitor',
  };
}

export function dataScrapeTargets(config: PlatformConfig): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [
    {
      name: POSTGRES.clusterName,
      namespace: POSTGRES.namespace,
      // Label set by CloudNativePG on every instance pod of the cluster.
      selector: { 'cnpg.io/cluster': POSTGRES.clusterName },
      port: METRICS_PORTS.cnpg,
      path: '/metrics',
      kind: 'PodMonitor',
    },
    valkeyTarget(VALKEY_SYNAPSE),
    masterProxyTarget(SYNAPSE_REDIS_PROXY),
  ];
  if (config.calls.enabled) targets.push(valkeyTarget(VALKEY_LIVEKIT), masterProxyTarget(LIVEKIT_REDIS_PROXY));
  if (config.objectStorage.provider === 'minio') {
    targets.push({
      name: MINIO_TENANT.name,
      namespace: MINIO_TENANT.namespace,
      // Label the MinIO operator sets on every tenant pod.
      selector: { 'v1.min.io/tenant': MINIO_TENANT.name },
      port: METRICS_PORTS.minio,
      // Needs MINIO_PROMETHEUS_AUTH_TYPE=public on the tenant (no bearer token in dist/).
      path: '/minio/v2/metrics/cluster',
      // The tenant's own certificate Secret carries the internal CA beside it.
      tls: { serverName: serviceHost('minio', MINIO_TENANT.namespace), caSecret: { name: MINIO_SERVER_TLS_SECRET, key: INTERNAL_CA.caKey } },
      kind: 'PodMonitor',
    });
  }
  return targets;
}

export function appScrapeTargets(config: PlatformConfig): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [
    {
      name: SYNAPSE_ROUTER.name,
      namespace: SYNAPSE_ROUTER.namespace,
      selector: selectorOf(SYNAPSE_ROUTER.name),
      port: METRICS_PORTS.synapseRouter,
      path: HAPROXY_METRICS_PATH,
      kind: 'PodMonitor',
    },
  ];
  if (config.calls.enabled) {
    targets.push(
      {
        name: LIVEKIT.name,
        namespace: LIVEKIT.namespace,
        selector: selectorOf(LIVEKIT.name),
        port: METRICS_PORTS.livekit,
        path: '/metrics',
        kind: 'PodMonitor',
      },
      {
        name: 'coturn',
        namespace: NAMESPACES.coturn.name,
        selector: selectorOf('coturn'),
        port: METRICS_PORTS.coturn,
        path: '/metrics',
        kind: 'PodMonitor',
      },
    );
  }
  return targets;
}

export function edgeScrapeTargets(config: PlatformConfig): ScrapeTarget[] {
  if (config.edge.controller === 'envoy-gateway') {
    return [
      {
        name: 'envoy-proxy',
        namespace: ENVOY_GATEWAY_PODS.proxy.namespace,
        selector: ENVOY_GATEWAY_PODS.proxy.labels,
        port: METRICS_PORTS.envoyProxy,
        path: '/stats/prometheus',
        kind: 'PodMonitor',
      },
    ];
  }
  return [
    {
      name: 'ingress-nginx-controller',
      namespace: INGRESS_NGINX_PODS.controller.namespace,
      selector: INGRESS_NGINX_PODS.controller.labels,
      port: METRICS_PORTS.ingressNginx,
      path: '/metrics',
      kind: 'PodMonitor',
    },
  ];
}

/**
 * Platform operators whose metrics the alerts need: cert-manager's certificate expiry
 * (certmanager_certificate_expiration_timestamp_seconds). The chart's own ServiceMonitor is off
 * (scraping is declared only here); the controller pods' labels are in lib/model/chart-pods.ts.
 */
export function operatorScrapeTargets(): ScrapeTarget[] {
  return [
    {
      name: 'cert-manager',
      namespace: CERT_MANAGER_PODS.controller.namespace,
      selector: CERT_MANAGER_PODS.controller.labels,
      port: METRICS_PORTS.certManager,
      path: '/metrics',
      kind: 'PodMonitor',
    },
  ];
}

/** Every component's contribution, in a fixed order. Add a component by adding its function here. */
const SCRAPE_TARGET_SOURCES: readonly ((config: PlatformConfig) => ScrapeTarget[])[] = [
  synapseScrapeTargets,
  appScrapeTargets,
  dataScrapeTargets,
  edgeScrapeTargets,
  operatorScrapeTargets,
];

export function scrapeTargets(platform: Platform): ScrapeTarget[] {
  return SCRAPE_TARGET_SOURCES.flatMap((source) => source(platform.config));
}
