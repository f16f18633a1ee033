import { renderedWorkloads, type Obj } from '../lib/model/capacity';
import { CERT_MANAGER, MINIO_TENANT, POSTGRES } from '../lib/model';
import { METRICS_PORTS } from '../lib/model/metrics';
import { EDGE_GATEWAY, INGRESS_NGINX } from '../lib/model/edge-routes';
import { guardedNamespaces } from '../lib/model/network-policies';
import { allowed } from './network-evaluator';
import { find, render } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/**
 * Every PodMonitor/ServiceMonitor must scrape something real. For pods we render ourselves, at least
 * one pod template in the monitor's namespace must match its selector and declare its port (the
 * prometheus-operator drops targets whose port the pod does not declare). For pods created by a
 * chart or an operator, the chart values / custom resource must switch the metrics endpoint on and
 * use the same port. And Prometheus must be allowed through the NetworkPolicies to every target.
 */

const prometheusPod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function releaseValues(objects: Any[], chart: string): Any {
  return objects.find((object) => object.kind === 'HelmRelease' && object.spec.chart.spec.chart === chart)?.spec.values;
}

function portOf(monitor: Any): number | string {
  const endpoint = monitor.kind === 'PodMonitor' ? monitor.spec.podMetricsEndpoints[0] : monitor.spec.endpoints[0];
  return endpoint.portNumber ?? endpoint.port ?? endpoint.targetPort;
}

/** Targets whose pods a chart or operator creates: how the rendered config proves the endpoint exists. */
const CHART_MANAGED: Record<string, (objects: Any[], port: number | string) => void> = {
  'ingress-nginx-controller': (objects, port) => {
    const values = releaseValues(objects, 'ingress-nginx');
    expect(values.controller.metrics.enabled).toBe(true);
    expect(values.controller.metrics.port ?? 10254).toBe(port);
  },
  'cert-manager': (objects, port) => {
    expect(releaseValues(objects, 'cert-manager').prometheus.enabled).toBe(true);
    expect(port).toBe(METRICS_PORTS.certManager);
    expect(find(objects, 'HelmRelease', CERT_MANAGER.releaseName, CERT_MANAGER.namespace)).toHaveLength(1);
  },
  'envoy-proxy': (objects, port) => {
    const proxy = objects.find((object) => object.kind === 'EnvoyProxy' && object.metadata.name === EDGE_GATEWAY.name);
    expect(proxy.spec.telemetry?.metrics?.prometheus?.disable ?? false).toBe(false);
    expect(port).toBe(METRICS_PORTS.envoyProxy);
  },
  [POSTGRES.clusterName]: (objects, port) => {
    // CNPG instance pods always declare container port `metrics` 9187.
    expect(find(objects, 'Cluster', POSTGRES.clusterName, POSTGRES.namespace)).toHaveLength(1);
    expect(port).toBe(METRICS_PORTS.cnpg);
  },
  [MINIO_TENANT.name]: (objects, port) => {
    const tenant = objects.find((object) => object.kind === 'Tenant' && object.metadata.name === MINIO_TENANT.name);
    expect(tenant.spec.env).toContainEqual({ name: 'MINIO_PROMETHEUS_AUTH_TYPE', value: 'public' });
    expect(port).toBe(METRICS_PORTS.minio);
  },
};

describe.each<[string, Record<string, unknown>]>([
  ['the example config', {}],
  ['ingress-nginx, calls off, external S3', { edge: { controller: 'ingress-nginx' }, calls: { enabled: false }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org' } } }],
])('scrape targets: %s', (_name, overrides) => {
  const { objects, config } = render(overrides);
  const all = objects as unknown as Any[];
  const monitors = [...find(objects, 'PodMonitor'), ...find(objects, 'ServiceMonitor')] as Any[];
  const workloads = renderedWorkloads(objects as unknown as Obj[]);

  test('each monitor selects a rendered pod that declares its port, or a chart/operator that serves it', () => {
    expect(monitors.length).toBeGreaterThan(5);
    for (const monitor of monitors) {
      const { name, namespace } = monitor.metadata;
      const port = portOf(monitor);
      if (CHART_MANAGED[name]) {
        CHART_MANAGED[name](all, port);
        continue;
      }
      const inNamespace = workloads.filter((workload) => workload.namespace === namespace);
      const matching = inNamespace.filter((workload) => {
        if (!labelsMatch(monitor.spec.selector.matchLabels, workload.template.metadata?.labels)) return false;
        const ports = workload.template.spec.containers.flatMap((container: Any) => container.ports ?? []);
        return ports.some((entry: Any) => entry.containerPort === port || entry.name === port);
      });
      expect({ monitor: `${namespace}/${name}`, matching: matching.length > 0 }).toEqual({ monitor: `${namespace}/${name}`, matching: true });
    }
  });

  test('Prometheus may reach every target in a guarded namespace', () => {
    const policies = all.filter((object) => object.kind === 'NetworkPolicy');
    const guarded = new Set(guardedNamespaces(config));
    for (const monitor of monitors.filter((candidate) => guarded.has(candidate.metadata.namespace))) {
      const port = portOf(monitor);
      expect(typeof port).toBe('number');
      const pod = { namespace: monitor.metadata.namespace, labels: monitor.spec.selector.matchLabels };
      // Host-network targets are reached on their node's address (network.nodes), where no ingress policy applies.
      const onHostNetwork = workloads.some((workload) => workload.namespace === pod.namespace && workload.template.spec.hostNetwork && labelsMatch(pod.labels, workload.template.metadata?.labels));
      const target = onHostNetwork ? { address: '10.0.0.21' } : pod;
      expect({ monitor: monitor.metadata.name, allowed: allowed(policies, prometheusPod, target, port as number) }).toEqual({
        monitor: monitor.metadata.name,
        allowed: true,
      });
    }
  });

  test('the certificate expiry alerts have a source: cert-manager is scraped', () => {
    const rules = JSON.stringify(find(objects, 'PrometheusRule'));
    expect(rules).toContain('certmanager_certificate_expiration_timestamp_seconds');
    expect(monitors.some((monitor) => monitor.metadata.namespace === CERT_MANAGER.namespace)).toBe(true);
  });

  test('the edge controller in use is scraped', () => {
    const namespace = config.edge.controller === 'envoy-gateway' ? EDGE_GATEWAY.namespace : INGRESS_NGINX.namespace;
    expect(monitors.some((monitor) => monitor.metadata.namespace === namespace)).toBe(true);
  });
});
