import { renderedWorkloads, type Obj } from '../lib/model/capacity';
import { buildPlatform } from '../lib/model';
import { publicCertificates } from '../lib/model/edge-routes';
import {
  CERT_MANAGER_PODS,
  type ChartPod,
  chartPods,
  CNPG_PODS,
  edgeContainerPort,
  edgeProxyPod,
  ENVOY_GATEWAY_PODS,
  INGRESS_NGINX_PODS,
  METALLB_PODS,
  MINIO_OPERATOR_PODS,
  MONITORING_PODS,
} from '../lib/model/chart-pods';
import { ACME_SOLVER, guardedNamespaces, parseDnsServer, POD_LABELS } from '../lib/model/network-policies';
import { METRICS_PORTS } from '../lib/model/metrics';
import { SYNAPSE_PORTS } from '../lib/model/workers';
import { render, TURN_DNS01 } from './helpers';
import { allowed, type Pod } from './network-evaluator';

const synapse = (component: string): Pod => ({ namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': component } });
const router: Pod = { namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'synapse-router', 'app.kubernetes.io/component': 'router' } };
const asPod = (pod: ChartPod): Pod & { id: string; ports: number[] } => ({ id: `${pod.namespace}/${pod.id}`, namespace: pod.namespace, labels: { ...pod.labels }, hostNetwork: pod.hostNetwork, ports: pod.ports.map((entry) => entry.port) });
const prometheus = asPod(MONITORING_PODS.prometheus);
const grafana = asPod(MONITORING_PODS.grafana);
/** A client outside the cluster (or on the host network): no labels, subject to no egress policy. */
const internet: Pod = { namespace: '', labels: {}, hostNetwork: true };
/** The NetworkPolicies rendered for the example config with these overrides. */
const policiesOf = (overrides: Record<string, unknown>): Obj[] => (render(overrides).objects as unknown as Obj[]).filter((object) => object.kind === 'NetworkPolicy');
const elementWeb: Pod = { namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'element-web' } };
const livekitHost: Pod = { namespace: 'livekit', labels: {}, hostNetwork: true };
const postgres: Pod = { namespace: 'matrix', labels: { 'cnpg.io/cluster': 'synapse-postgres' } };
const proxy: Pod = { namespace: 'redis-synapse', labels: { 'app.kubernetes.io/name': 'valkey-master-proxy', 'app.kubernetes.io/component': 'redis-proxy' } };
const valkeyData = (namespace: string): Pod => ({ namespace, labels: { 'app.kubernetes.io/name': 'valkey', 'app.kubernetes.io/component': 'data' } });

function renderedPods(objects: Obj[]): (Pod & { id: string; ports: number[] })[] {
  return renderedWorkloads(objects).map((workload) => ({
    id: `${workload.namespace}/${workload.name}`,
    namespace: workload.namespace,
    labels: workload.template.metadata?.labels ?? {},
    hostNetwork: workload.template.spec.hostNetwork,
    ports: workload.template.spec.containers.flatMap((container) => (container.ports ?? []).map((entry) => entry.containerPort)),
  }));
}

describe.each<[string, Record<string, unknown>]>([
  ['the example config', {}],
  [
    'ingress-nginx, calls off, external S3, API server addresses given',
    { edge: { controller: 'ingress-nginx' }, calls: { enabled: false }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } }, network: { apiServer: { cidrs: ['192.168.1.10/32', '192.168.1.11/32', '192.168.1.12/32'] } } },
  ],
])('network policies: %s', (_, overrides) => {
  const { objects, config, files } = render(overrides);
  const policies = (objects as unknown as Obj[]).filter((object) => object.kind === 'NetworkPolicy');
  const edge = asPod(edgeProxyPod(config));
  const charted = chartPods(config).map(asPod);

  test('default deny ingress in every guarded namespace, in stage 20-platform', () => {
    for (const namespace of guardedNamespaces(config)) {
      expect(policies.some((policy) => policy.metadata?.namespace === namespace && policy.metadata?.name === 'default-deny-ingress')).toBe(true);
    }
    expect([...files.keys()]).toContain('stages/20-platform/network-policies.yaml');
  });

  test('nothing outside the Synapse pods reaches a replication port', () => {
    const rendered = renderedPods(objects as unknown as Obj[]);
    const replicationPods = rendered.filter((pod) => pod.ports.includes(SYNAPSE_PORTS.replication));
    expect(replicationPods.length).toBeGreaterThan(0);
    const outsiders = [...rendered.filter((pod) => pod.labels['app.kubernetes.io/name'] !== 'synapse'), edge, prometheus, grafana, livekitHost, { namespace: 'default', labels: {} }];
    for (const destination of replicationPods) {
      for (const source of outsiders) expect([source, allowed(policies, source, destination, SYNAPSE_PORTS.replication)]).toEqual([source, false]);
      expect(allowed(policies, synapse('generic'), destination, SYNAPSE_PORTS.replication)).toBe(true);
    }
  });

  test('edge reaches router and web front-ends only; router reaches Synapse HTTP', () => {
    expect(allowed(policies, edge, router, 8008)).toBe(true);
    expect(allowed(policies, edge, elementWeb, 8080)).toBe(true);
    expect(allowed(policies, edge, synapse('main'), 8008)).toBe(false);
    expect(allowed(policies, edge, postgres, 5432)).toBe(false);
    expect(allowed(policies, router, synapse('sync'), 8008)).toBe(true);
    expect(allowed(policies, elementWeb, synapse('sync'), 8008)).toBe(false);
  });

  test('data layer: PostgreSQL and the Redis proxy only from Synapse; Valkey data only from its own cluster', () => {
    expect(allowed(policies, synapse('main'), postgres, 5432)).toBe(true);
    expect(allowed(policies, elementWeb, postgres, 5432)).toBe(false);
    expect(allowed(policies, grafana, postgres, 5432)).toBe(false);
    expect(allowed(policies, synapse('main'), proxy, 6379)).toBe(true);
    expect(allowed(policies, elementWeb, proxy, 6379)).toBe(false);
    expect(allowed(policies, proxy, valkeyData('redis-synapse'), 6379)).toBe(true);
    expect(allowed(policies, synapse('main'), valkeyData('redis-synapse'), 6379)).toBe(false);
  });

  test('the LiveKit Valkey master proxy: only lk-jwt-service, and only with calls', () => {
    const livekitProxy: Pod = { ...proxy, namespace: 'redis-livekit' };
    const lkJwt: Pod = { namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'lk-jwt-service' } };
    if (!config.calls.enabled) {
      // No LiveKit Valkey, no lk-jwt-service, no proxy: nothing to guard.
      expect(guardedNamespaces(config)).not.toContain('redis-livekit');
      return;
    }
    expect(allowed(policies, lkJwt, livekitProxy, 6379)).toBe(true);
    expect(allowed(policies, synapse('main'), livekitProxy, 6379)).toBe(false);
    expect(allowed(policies, elementWeb, livekitProxy, 6379)).toBe(false);
    expect(allowed(policies, livekitProxy, valkeyData('redis-livekit'), 6379)).toBe(true);
    expect(allowed(policies, prometheus, livekitProxy, METRICS_PORTS.haproxy)).toBe(true);
    // lk-jwt-service goes through the proxy, never to a Valkey pod's own address by its labels.
    expect(allowed(policies, lkJwt, synapse('main'), SYNAPSE_PORTS.replication)).toBe(false);
  });

  test('Prometheus reaches metrics ports, nothing else', () => {
    expect(allowed(policies, prometheus, synapse('sync'), SYNAPSE_PORTS.metrics)).toBe(true);
    expect(allowed(policies, prometheus, synapse('sync'), SYNAPSE_PORTS.http)).toBe(false);
    expect(allowed(policies, grafana, synapse('sync'), SYNAPSE_PORTS.metrics)).toBe(false);
    expect(allowed(policies, prometheus, postgres, 9187)).toBe(true);
  });

  test('HTTP-01: the edge reaches cert-manager solver pods wherever the certificates live', () => {
    const platform = buildPlatform(config);
    for (const namespace of new Set(publicCertificates(platform).map((certificate) => certificate.namespace))) {
      const solver: Pod = { namespace, labels: { ...ACME_SOLVER.labels, 'acme.cert-manager.io/http-domain': '1', 'acme.cert-manager.io/http-token': '2' } };
      expect([namespace, allowed(policies, edge, solver, ACME_SOLVER.port)]).toEqual([namespace, true]);
      // Only the solver port, only from the edge.
      expect(allowed(policies, edge, solver, 8080) && guardedNamespaces(config).includes(namespace)).toBe(false);
      if (guardedNamespaces(config).includes(namespace)) expect(allowed(policies, grafana, solver, ACME_SOLVER.port)).toBe(false);
    }
  });

  test('default deny egress in every guarded namespace and in cert-manager', () => {
    for (const namespace of guardedNamespaces(config)) {
      const deny = policies.find((policy) => policy.metadata?.namespace === namespace && policy.metadata?.name === 'default-deny-egress');
      expect([namespace, deny?.spec]).toEqual([namespace, { podSelector: {}, policyTypes: ['Egress'] }]);
    }
  });

  const rendered = renderedPods(objects as unknown as Obj[]);
  const pod = (namespace: string, name: string): Pod => {
    const found = rendered.find((candidate) => candidate.id === `${namespace}/${name}`);
    if (!found) throw new Error(`no rendered pod ${namespace}/${name}`);
    return found;
  };
  // Host-network pods are subject to no NetworkPolicy (the node firewall guards them).
  const guardedPods = () => [...rendered, ...charted].filter((candidate) => guardedNamespaces(config).includes(candidate.namespace) && !candidate.hostNetwork);
  const dns: Pod = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
  const remoteHomeserver = { address: '203.0.113.10' };
  const remoteHomeserverV6 = { address: '2001:db8::10' };
  const privateAddress = { address: '10.20.30.40' };
  const metadataService = { address: '169.254.169.254' };

  test('egress: every pod of a guarded namespace (rendered or chart-made) resolves names, and nothing else by default', () => {
    expect(guardedPods().length).toBeGreaterThan(5);
    for (const source of guardedPods()) {
      expect([source.id, allowed(policies, source, dns, 53, 'UDP'), allowed(policies, source, dns, 53, 'TCP')]).toEqual([source.id, true, true]);
      // DNS is allowed to the DNS pods only: the same port elsewhere is not.
      expect([source.id, allowed(policies, source, { namespace: 'default', labels: {} }, 53, 'UDP')]).toEqual([source.id, false]);
      expect([source.id, allowed(policies, source, metadataService, 80)]).toEqual([source.id, false]);
    }
  });

  test('egress: every flow of the platform is allowed at its source too (rendered pods)', () => {
    const synapsePods = rendered.filter((candidate) => candidate.labels['app.kubernetes.io/name'] === 'synapse' && candidate.labels['app.kubernetes.io/component'] !== 'media-upload');
    expect(synapsePods.length).toBeGreaterThan(5);
    const postgresPod = postgres;
    for (const source of synapsePods) {
      expect([source.id, allowed(policies, source, postgresPod, 5432)]).toEqual([source.id, true]);
      expect([source.id, allowed(policies, source, proxy, 6379)]).toEqual([source.id, true]);
      expect([source.id, allowed(policies, source, pod('matrix', 'synapse-main'), SYNAPSE_PORTS.replication)]).toEqual([source.id, true]);
      expect([source.id, allowed(policies, source, pod('matrix', 'synapse-main'), SYNAPSE_PORTS.http)]).toEqual([source.id, true]);
    }
    expect(allowed(policies, pod('matrix', 'synapse-router'), pod('matrix', 'synapse-main'), SYNAPSE_PORTS.http)).toBe(true);
    expect(allowed(policies, postgres, postgres, 5432)).toBe(true);
    for (const namespace of ['redis-synapse', ...(config.calls.enabled ? ['redis-livekit'] : [])]) {
      const data = pod(namespace, 'valkey');
      const sentinel = pod(namespace, 'valkey-sentinel');
      const masterProxy = pod(namespace, 'valkey-master-proxy');
      expect(allowed(policies, data, data, 6379)).toBe(true);
      expect(allowed(policies, data, sentinel, 26379)).toBe(true);
      expect(allowed(policies, sentinel, data, 6379)).toBe(true);
      expect(allowed(policies, sentinel, sentinel, 26379)).toBe(true);
      expect(allowed(policies, masterProxy, data, 6379)).toBe(true);
      expect(allowed(policies, masterProxy, sentinel, 26379)).toBe(true);
      // Planted unneeded flows: Valkey has no business on the internet or in another namespace.
      expect(allowed(policies, data, remoteHomeserver, 443)).toBe(false);
      expect(allowed(policies, data, postgres, 5432)).toBe(false);
    }
    if (config.calls.enabled) {
      const lkJwt = pod('matrix', 'lk-jwt-service');
      expect(allowed(policies, lkJwt, pod('redis-livekit', 'valkey-master-proxy'), 6379)).toBe(true);
      expect(allowed(policies, lkJwt, edge, edgeContainerPort(config, 443))).toBe(true);
      expect(allowed(policies, lkJwt, remoteHomeserver, 8448)).toBe(true);
      expect(allowed(policies, lkJwt, postgres, 5432)).toBe(false);
      expect(allowed(policies, lkJwt, pod('redis-synapse', 'valkey-master-proxy'), 6379)).toBe(false);
    }
    if (config.objectStorage.provider === 'minio') {
      const minio: Pod = { namespace: 'minio', labels: { ...POD_LABELS.minio } };
      expect(allowed(policies, pod('matrix', 'synapse-media'), minio, 9000)).toBe(true);
      expect(allowed(policies, postgres, minio, 9000)).toBe(true);
      expect(allowed(policies, minio, minio, 9000)).toBe(true);
      expect(allowed(policies, minio, { address: '192.168.1.10' }, 6443)).toBe(true);
      expect(allowed(policies, minio, remoteHomeserver, 8448)).toBe(false);
    } else {
      // The external endpoint (https://s3.example.org) may sit on any address, on its port only.
      expect(allowed(policies, pod('matrix', 'synapse-media'), privateAddress, 443)).toBe(true);
      expect(allowed(policies, postgres, { address: '198.51.100.7' }, 443)).toBe(true);
      expect(allowed(policies, pod('matrix', 'synapse-media'), privateAddress, 9000)).toBe(false);
      expect(allowed(policies, pod('matrix', 'synapse-main'), privateAddress, 443)).toBe(false);
    }
  });

  test('egress: cert-manager reaches the API server, Let\'s Encrypt and its HTTP-01 self-check, nothing else', () => {
    expect(guardedNamespaces(config)).toContain('cert-manager');
    const controller = asPod(CERT_MANAGER_PODS.controller);
    const webhook = asPod(CERT_MANAGER_PODS.webhook);
    const letsEncrypt = { address: '172.65.32.248' };
    for (const pod of [controller, webhook]) {
      expect(allowed(policies, pod, { address: '192.168.1.10' }, 6443)).toBe(true);
      expect(allowed(policies, pod, dns, 53, 'UDP')).toBe(true);
    }
    expect(allowed(policies, controller, letsEncrypt, 443)).toBe(true);
    // The self-check reaches our hosts: public addresses, the edge's LoadBalancer address (private here), the edge pods.
    expect(allowed(policies, controller, remoteHomeserver, 80)).toBe(true);
    expect(allowed(policies, controller, { address: config.loadBalancer.edgeAddress ?? '' }, 80)).toBe(true);
    expect(allowed(policies, controller, edge, edgeContainerPort(config, 80))).toBe(true);
    // Planted: another private address on port 80 is nobody the self-check needs.
    expect(allowed(policies, controller, { address: '192.168.10.5' }, 80)).toBe(false);
    // Planted unneeded flows: the webhook has no business on the internet, the controller none in the data layer.
    // (With the default network.apiServer.cidrs, any address on 443 counts as the API server.)
    expect(allowed(policies, webhook, letsEncrypt, 443)).toBe(config.network.apiServer.cidrs.includes('0.0.0.0/0'));
    expect(allowed(policies, webhook, letsEncrypt, 80)).toBe(false);
    expect(allowed(policies, controller, postgres, 5432)).toBe(false);
    expect(allowed(policies, controller, metadataService, 80)).toBe(false);
    expect(allowed(policies, controller, letsEncrypt, 22)).toBe(false);
  });

  test('egress: the API server only from the pods that call it', () => {
    // Policies see the API server's endpoint address (after the `kubernetes` Service is translated).
    const apiServer = { address: '192.168.1.10' };
    expect(allowed(policies, postgres, apiServer, 6443)).toBe(true);
    expect(allowed(policies, postgres, apiServer, 443)).toBe(true);
    expect(allowed(policies, pod('matrix', 'synapse-main'), apiServer, 6443)).toBe(false);
    expect(allowed(policies, pod('matrix', 'synapse-main'), apiServer, 443)).toBe(false);
    expect(allowed(policies, pod('redis-synapse', 'valkey'), apiServer, 6443)).toBe(false);
    // Planted: a non-control-plane address on the API port only passes while network.apiServer.cidrs is any address.
    expect(allowed(policies, postgres, { address: '192.168.1.50' }, 6443)).toBe(config.network.apiServer.cidrs.includes('0.0.0.0/0'));
  });

  test('egress: federation and push gateways from the Synapse processes that need them, to public addresses only', () => {
    const outbound = ['synapse-main', 'synapse-federation-sender', 'synapse-federation-reader', 'synapse-pusher', 'synapse-media', 'synapse-generic', 'synapse-background'];
    for (const name of outbound) {
      for (const port of [443, 8448]) {
        expect([name, port, allowed(policies, pod('matrix', name), remoteHomeserver, port), allowed(policies, pod('matrix', name), remoteHomeserverV6, port)]).toEqual([name, port, true, true]);
      }
      // A delegated homeserver or a push gateway may listen on any port (network.internet.ports unset).
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 8443)]).toEqual([name, true]);
      // Never into private ranges, never the cloud metadata service.
      // (An external S3 endpoint may be private: the media repository may reach any address on its port.)
      const s3Client = name === 'synapse-media' && config.objectStorage.provider === 'external';
      expect([name, allowed(policies, pod('matrix', name), privateAddress, 443)]).toEqual([name, s3Client]);
      expect([name, allowed(policies, pod('matrix', name), metadataService, 443)]).toEqual([name, false]);
      expect([name, allowed(policies, pod('matrix', name), { address: 'fd00::1' }, 443)]).toEqual([name, s3Client]);
      expect([name, allowed(policies, pod('matrix', name), { address: '10.1.2.3' }, 8448)]).toEqual([name, false]);
    }
    // Processes that never reach another server (their output leaves through the federation senders).
    for (const name of ['synapse-sync', 'synapse-event-persister', 'synapse-typing', 'synapse-presence', 'synapse-receipts', 'synapse-user-directory']) {
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 8448)]).toEqual([name, false]);
    }
    for (const name of ['element-web', 'ketesa', 'matrix-well-known', 'synapse-router']) {
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 443)]).toEqual([name, false]);
    }
  });

  test('every namespace we create has default deny ingress and egress', () => {
    const namespaces = (objects as unknown as Obj[]).filter((object) => object.kind === 'Namespace').map((object) => object.metadata?.name ?? '');
    expect(namespaces.length).toBeGreaterThan(5);
    expect([...namespaces].sort()).toEqual([...guardedNamespaces(config)].sort());
    for (const namespace of namespaces) {
      for (const [name, type] of [['default-deny-ingress', 'Ingress'], ['default-deny-egress', 'Egress']]) {
        const deny = policies.find((policy) => policy.metadata?.namespace === namespace && policy.metadata?.name === name);
        expect([namespace, deny?.spec]).toEqual([namespace, { podSelector: {}, policyTypes: [type] }]);
      }
    }
  });

  test('every Helm release installs into a namespace whose chart-made pods the policy model knows', () => {
    const releases = (objects as unknown as Obj[]).filter((object) => object.kind === 'HelmRelease' || object.kind === 'Application');
    expect(releases.length).toBeGreaterThan(5);
    const known = new Set(charted.map((pod) => pod.namespace));
    for (const release of releases) {
      const spec = release.spec as { targetNamespace?: string; destination?: { namespace?: string } };
      const namespace = spec.targetNamespace ?? spec.destination?.namespace ?? release.metadata?.namespace ?? '';
      expect([release.metadata?.name, known.has(namespace)]).toEqual([release.metadata?.name, true]);
    }
  });

  test('chart-made pods: every port they serve is reachable by its clients, and by nobody on the other ports', () => {
    const sources = [...rendered, ...charted, internet];
    for (const pod of charted.filter((candidate) => !candidate.hostNetwork)) {
      for (const port of pod.ports) {
        expect([pod.id, port, sources.some((source) => allowed(policies, source, pod, port))]).toEqual([pod.id, port, true]);
      }
      // Planted: a port the pod does not serve to others is closed to everyone (probes come from the kubelet).
      expect([pod.id, sources.some((source) => allowed(policies, source, pod, 6060))]).toEqual([pod.id, false]);
    }
  });

  test('the API server reaches each admission webhook; the internet reaches the edge listeners and nothing else', () => {
    const webhooks: [ChartPod, number][] = [
      [CERT_MANAGER_PODS.webhook, 10250],
      [CNPG_PODS.operator, 9443],
      [METALLB_PODS.controller, 9443],
      [MONITORING_PODS.operator, 10250],
      config.edge.controller === 'envoy-gateway' ? [ENVOY_GATEWAY_PODS.controller, 9443] : [INGRESS_NGINX_PODS.controller, 8443],
    ];
    for (const [pod, port] of webhooks) expect([pod.id, allowed(policies, internet, asPod(pod), port)]).toEqual([pod.id, true]);
    for (const port of [80, 443, config.edge.federationPort]) expect([port, allowed(policies, internet, edge, edgeContainerPort(config, port))]).toEqual([port, true]);
    const metricsPort = config.edge.controller === 'envoy-gateway' ? 19001 : 10254;
    expect(allowed(policies, internet, edge, metricsPort)).toBe(false);
    expect(allowed(policies, prometheus, edge, metricsPort)).toBe(true);
    for (const pod of [grafana, prometheus, asPod(MONITORING_PODS.loki), asPod(CNPG_PODS.barmanPlugin)]) {
      for (const port of pod.ports) expect([pod.id, port, allowed(policies, internet, pod, port)]).toEqual([pod.id, port, false]);
    }
    if (config.edge.controller === 'envoy-gateway') {
      expect(allowed(policies, edge, asPod(ENVOY_GATEWAY_PODS.controller), 18000)).toBe(true);
      expect(allowed(policies, internet, asPod(ENVOY_GATEWAY_PODS.controller), 18000)).toBe(false);
      expect(allowed(policies, grafana, asPod(ENVOY_GATEWAY_PODS.controller), 18000)).toBe(false);
    }
  });

  const apiServerAnywhere = config.network.apiServer.cidrs.includes('0.0.0.0/0');
  const apiServer = { address: '192.168.1.10' };
  const node = { address: '10.0.0.21' };

  test('egress of the controllers: the API server, their own dependencies, nothing else', () => {
    const cnpg = asPod(CNPG_PODS.operator);
    const plugin = asPod(CNPG_PODS.barmanPlugin);
    const metallb = asPod(METALLB_PODS.controller);
    for (const pod of [cnpg, plugin, metallb, asPod(CERT_MANAGER_PODS.cainjector), prometheus, grafana, asPod(MONITORING_PODS.operator), asPod(MONITORING_PODS.kubeStateMetrics), asPod(MONITORING_PODS.alloy)]) {
      expect([pod.id, allowed(policies, pod, apiServer, 443)]).toEqual([pod.id, true]);
      // Planted: none of them has business in the data layer or on the internet on other ports.
      expect([pod.id, allowed(policies, pod, postgres, 5432)]).toEqual([pod.id, false]);
      expect([pod.id, allowed(policies, pod, remoteHomeserver, 8448)]).toEqual([pod.id, false]);
      expect([pod.id, allowed(policies, pod, metadataService, 80)]).toEqual([pod.id, false]);
    }
    expect(allowed(policies, cnpg, postgres, 8000)).toBe(true);
    expect(allowed(policies, cnpg, plugin, 9090)).toBe(true);
    expect(allowed(policies, plugin, postgres, 8000)).toBe(false);
    expect(allowed(policies, metallb, node, 7946)).toBe(false);
    // The edge: only the ingress-nginx controller watches the API itself; Envoy proxies never do.
    expect(allowed(policies, edge, apiServer, 443)).toBe(config.edge.controller === 'ingress-nginx');
    expect(allowed(policies, edge, postgres, 5432)).toBe(false);
    if (config.edge.controller === 'envoy-gateway') expect(allowed(policies, asPod(ENVOY_GATEWAY_PODS.controller), apiServer, 443)).toBe(true);
    if (config.objectStorage.provider === 'minio') {
      const operator = asPod(MINIO_OPERATOR_PODS.operator);
      expect(allowed(policies, operator, apiServer, 443)).toBe(true);
      expect(allowed(policies, operator, { namespace: 'minio', labels: { ...POD_LABELS.minio } }, 9000)).toBe(true);
      expect(allowed(policies, operator, postgres, 5432)).toBe(false);
    }
  });

  test('egress of monitoring: scraping, logs, dashboards, alerts; nothing else', () => {
    const loki = asPod(MONITORING_PODS.loki);
    const alloy = asPod(MONITORING_PODS.alloy);
    for (const port of [10250, 9100, 10249, 10257, 10259, 2381]) expect([port, allowed(policies, prometheus, node, port)]).toEqual([port, true]);
    expect(allowed(policies, prometheus, dns, 9153)).toBe(true);
    expect(allowed(policies, prometheus, node, 22)).toBe(false);
    expect(allowed(policies, grafana, prometheus, 9090)).toBe(true);
    expect(allowed(policies, grafana, loki, 3100)).toBe(true);
    expect(allowed(policies, alloy, loki, 3100)).toBe(true);
    expect(allowed(policies, loki, loki, 9095)).toBe(true);
    expect(allowed(policies, loki, loki, 7946)).toBe(true);
    // Planted: memberlist in dskit is TCP only, so UDP stays closed.
    expect(allowed(policies, loki, loki, 7946, 'UDP')).toBe(false);
    // Grafana downloads its dashboards from the internet, on 443 only.
    expect(allowed(policies, grafana, remoteHomeserver, 443)).toBe(true);
    expect(allowed(policies, grafana, remoteHomeserver, 80)).toBe(false);
    expect(allowed(policies, grafana, privateAddress, 443)).toBe(apiServerAnywhere);
    // Planted: Alloy, Loki and Prometheus never reach the internet; Alloy queries nothing but Loki.
    // (Loki reaches an external S3 endpoint on any address, on its port.)
    for (const pod of [alloy, loki, prometheus]) {
      const expected = pod === loki ? config.objectStorage.provider === 'external' : apiServerAnywhere;
      expect([pod.id, allowed(policies, pod, remoteHomeserver, 443)]).toEqual([pod.id, expected]);
      expect([pod.id, allowed(policies, pod, remoteHomeserver, 8448)]).toEqual([pod.id, false]);
    }
    expect(allowed(policies, alloy, prometheus, 9090)).toBe(false);
    expect(allowed(policies, loki, postgres, 5432)).toBe(false);
    if (config.objectStorage.provider === 'minio') {
      expect(allowed(policies, loki, { namespace: 'minio', labels: { ...POD_LABELS.minio } }, 9000)).toBe(true);
      expect(allowed(policies, grafana, { namespace: 'minio', labels: { ...POD_LABELS.minio } }, 9000)).toBe(false);
    } else {
      expect(allowed(policies, loki, privateAddress, 443)).toBe(true);
      expect(allowed(policies, loki, privateAddress, 9000)).toBe(false);
    }
    const alertmanager = asPod(MONITORING_PODS.alertmanager);
    if (config.monitoring.alertmanager.enabled) {
      expect(allowed(policies, prometheus, alertmanager, 9093)).toBe(true);
      expect(allowed(policies, alertmanager, alertmanager, 9094, 'UDP')).toBe(true);
      expect(allowed(policies, alertmanager, { address: '198.51.100.25' }, 587)).toBe(true);
      expect(allowed(policies, alertmanager, remoteHomeserver, 443)).toBe(true);
      expect(allowed(policies, alertmanager, remoteHomeserver, 25)).toBe(false);
      expect(allowed(policies, alertmanager, postgres, 5432)).toBe(false);
    } else {
      expect(allowed(policies, prometheus, alertmanager, 9093)).toBe(false);
    }
  });

  test('every rendered pod in a guarded namespace is reachable on each container port by someone', () => {
    const guarded = new Set(guardedNamespaces(config));
    const rendered = renderedPods(objects as unknown as Obj[]);
    const sources = [...rendered, ...charted, internet, router];
    for (const pod of rendered.filter((candidate) => guarded.has(candidate.namespace))) {
      for (const port of pod.ports) {
        expect([pod.id, port, sources.some((source) => allowed(policies, source, pod, port))]).toEqual([pod.id, port, true]);
      }
    }
  });
});

test('the evaluator: egress policies, ipBlocks with exceptions, protocols', () => {
  const denyEgress = { kind: 'NetworkPolicy', metadata: { name: 'e', namespace: 'x' }, spec: { podSelector: {}, policyTypes: ['Egress'] } } as Obj;
  const toWeb = {
    kind: 'NetworkPolicy',
    metadata: { name: 'w', namespace: 'x' },
    spec: { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443, protocol: 'TCP' }] }] },
  } as Obj;
  const toDns = {
    kind: 'NetworkPolicy',
    metadata: { name: 'd', namespace: 'x' },
    spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { dns: 'yes' } } }], ports: [{ port: 53, protocol: 'UDP' }] }] },
  } as Obj;
  const a = { namespace: 'x', labels: { app: 'a' } };
  const b = { namespace: 'x', labels: { app: 'b' } };
  const dnsPod = { namespace: 'kube-system', labels: { dns: 'yes' } };
  expect(allowed([denyEgress], a, b, 1)).toBe(false);
  expect(allowed([denyEgress, toWeb], a, { address: '203.0.113.1' }, 443)).toBe(true);
  expect(allowed([denyEgress, toWeb], a, { address: '10.1.2.3' }, 443)).toBe(false);
  expect(allowed([denyEgress, toWeb], a, { address: '203.0.113.1' }, 80)).toBe(false);
  expect(allowed([denyEgress, toWeb], b, { address: '203.0.113.1' }, 443)).toBe(false);
  expect(allowed([denyEgress, toWeb], a, { address: '2001:db8::1' }, 443)).toBe(false);
  // ipBlocks never match pods.
  expect(allowed([denyEgress, toWeb], a, b, 443)).toBe(false);
  expect(allowed([denyEgress, toDns], b, dnsPod, 53, 'UDP')).toBe(true);
  expect(allowed([denyEgress, toDns], b, dnsPod, 53, 'TCP')).toBe(false);
  // Host-network sources are subject to no egress policy.
  expect(allowed([denyEgress], { ...a, hostNetwork: true }, { address: '203.0.113.1' }, 443)).toBe(true);
});

test('the evaluator: no selecting policy allows; a default deny blocks; host-network sources match no peer', () => {
  const deny = { kind: 'NetworkPolicy', metadata: { name: 'd', namespace: 'x' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } } as Obj;
  const allow = { kind: 'NetworkPolicy', metadata: { name: 'a', namespace: 'x' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {}, podSelector: {} }], ports: [{ port: 1 }] }] } } as Obj;
  const pod = { namespace: 'x', labels: {} };
  expect(allowed([], pod, pod, 1)).toBe(true);
  expect(allowed([deny], pod, pod, 1)).toBe(false);
  expect(allowed([deny, allow], pod, pod, 1)).toBe(true);
  expect(allowed([deny, allow], pod, pod, 2)).toBe(false);
  expect(allowed([deny, allow], { ...pod, hostNetwork: true }, pod, 1)).toBe(false);
});

test('network.nodes.cidrs and the webhook receiver port decide what Prometheus and Alertmanager may reach', () => {
  const overrides = {
    network: { nodes: { cidrs: ['10.0.0.0/16'] }, apiServer: { cidrs: ['10.0.0.10/32'] } },
    monitoring: { alertmanager: { enabled: true, email: undefined, webhook: { port: 8443 } } },
  };
  expect(render(overrides).config.monitoring.alertmanager.email).toBeUndefined();
  const policies = policiesOf(overrides);
  const prometheus = { namespace: 'monitoring', labels: { ...MONITORING_PODS.prometheus.labels } };
  const alertmanager = { namespace: 'monitoring', labels: { ...MONITORING_PODS.alertmanager.labels } };
  expect(allowed(policies, prometheus, { address: '10.0.7.3' }, 10250)).toBe(true);
  expect(allowed(policies, prometheus, { address: '10.1.7.3' }, 10250)).toBe(false);
  expect(allowed(policies, prometheus, { address: '10.0.7.3' }, METRICS_PORTS.livekit)).toBe(true);
  expect(allowed(policies, prometheus, { address: '192.168.1.7' }, METRICS_PORTS.livekit)).toBe(false);
  expect(allowed(policies, alertmanager, { address: '198.51.100.25' }, 8443)).toBe(true);
  // No e-mail receiver: no SMTP port; the default webhook port is not opened either.
  expect(allowed(policies, alertmanager, { address: '198.51.100.25' }, 587)).toBe(false);
  expect(allowed(policies, alertmanager, { address: '198.51.100.25' }, 443)).toBe(false);
  expect(allowed(policies, alertmanager, { address: '169.254.169.254' }, 8443)).toBe(false);
});

test('DNS-01: the cert-manager controller may query the authoritative nameservers (and an RFC 2136 server on its port); without DNS-01 it may not', () => {
  const controller = { namespace: 'cert-manager', labels: { ...CERT_MANAGER_PODS.controller.labels } };
  const webhook = { namespace: 'cert-manager', labels: { ...CERT_MANAGER_PODS.webhook.labels } };
  const nameserver = { address: '198.51.100.53' };
  const cloudflare = policiesOf(TURN_DNS01);
  expect(allowed(cloudflare, controller, nameserver, 53, 'UDP')).toBe(true);
  expect(allowed(cloudflare, controller, nameserver, 53, 'TCP')).toBe(true);
  expect(allowed(cloudflare, webhook, nameserver, 53, 'UDP')).toBe(false);
  expect(allowed(cloudflare, controller, { address: '169.254.169.254' }, 53, 'UDP')).toBe(false);
  const rfc2136 = policiesOf({ tls: { dns01: { rfc2136: { nameserver: '10.0.0.5:5353', tsigKeyName: 'acme', tsigSecretSecretRef: { name: 'tsig', key: 'secret' } } } } });
  expect(allowed(rfc2136, controller, { address: '10.0.0.5' }, 5353, 'UDP')).toBe(true);
  expect(allowed(rfc2136, controller, { address: '10.0.0.5' }, 5353, 'TCP')).toBe(true);
  expect(allowed(rfc2136, controller, nameserver, 53, 'UDP')).toBe(true);
  const http01Only = policiesOf({});
  expect(allowed(http01Only, controller, nameserver, 53, 'UDP')).toBe(false);
  expect(['ns1.example.org', 'ns1.example.org:5353', '[2001:db8::1]:5300', '[2001:db8::1]', '192.0.2.1'].map(parseDnsServer)).toEqual([
    { host: 'ns1.example.org', port: 53 },
    { host: 'ns1.example.org', port: 5353 },
    { host: '2001:db8::1', port: 5300 },
    { host: '2001:db8::1', port: 53 },
    { host: '192.0.2.1', port: 53 },
  ]);
});

test('network.internet.ports restricts the Synapse and lk-jwt-service internet egress to those ports', () => {
  const policies = policiesOf({ network: { internet: { ports: [443, 8448] } } });
  const remote = { address: '203.0.113.10' };
  const sender = { namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': 'federation-sender' } };
  const lkJwt = { namespace: 'matrix', labels: { ...POD_LABELS.lkJwt } };
  for (const source of [sender, lkJwt]) {
    expect(allowed(policies, source, remote, 443)).toBe(true);
    expect(allowed(policies, source, remote, 8448)).toBe(true);
    expect(allowed(policies, source, remote, 8443)).toBe(false);
  }
  // Unset (the example): every port.
  const open = policiesOf({});
  expect(allowed(open, sender, remote, 8443)).toBe(true);
  expect(allowed(open, lkJwt, remote, 8443)).toBe(true);
});

test('DNS through NodeLocal DNSCache: network.dns.addresses are allowed on 53 beside the DNS pods', () => {
  const policies = policiesOf({ network: { dns: { addresses: ['169.254.25.10/32'] } } });
  const grafana = { namespace: 'monitoring', labels: { ...MONITORING_PODS.grafana.labels } };
  const valkey = { namespace: 'redis-synapse', labels: { 'app.kubernetes.io/name': 'valkey', 'app.kubernetes.io/component': 'data' } };
  for (const source of [grafana, valkey]) {
    expect(allowed(policies, source, { address: '169.254.25.10' }, 53, 'UDP')).toBe(true);
    expect(allowed(policies, source, { address: '169.254.25.10' }, 53, 'TCP')).toBe(true);
    expect(allowed(policies, source, { address: '169.254.25.10' }, 80)).toBe(false);
    expect(allowed(policies, source, { address: '169.254.25.11' }, 53, 'UDP')).toBe(false);
  }
  const without = policiesOf({});
  expect(allowed(without, valkey, { address: '169.254.25.10' }, 53, 'UDP')).toBe(false);
});

test('lk-jwt-service reaches the edge by its LoadBalancer address too (CNIs that see it before translation), on the TLS ports only', () => {
  const lkJwt = { namespace: 'matrix', labels: { ...POD_LABELS.lkJwt } };
  const fixed = policiesOf({});
  expect(allowed(fixed, lkJwt, { address: '192.168.1.240' }, 443)).toBe(true);
  expect(allowed(fixed, lkJwt, { address: '192.168.1.240' }, 8448)).toBe(true);
  expect(allowed(fixed, lkJwt, { address: '192.168.1.240' }, 80)).toBe(false);
  expect(allowed(fixed, lkJwt, { address: '192.168.1.241' }, 443)).toBe(false);
  // Without a fixed edge address: every address of the pools (a range becomes its covering CIDRs).
  const pooled = policiesOf({ loadBalancer: { edgeAddress: undefined, addresses: ['192.168.1.240-192.168.1.250'] } });
  for (const address of ['192.168.1.240', '192.168.1.247', '192.168.1.250']) expect([address, allowed(pooled, lkJwt, { address }, 443)]).toEqual([address, true]);
  expect(allowed(pooled, lkJwt, { address: '192.168.1.251' }, 443)).toBe(false);
});

test('DNS-01 with ambient cloud credentials: the controller may reach the metadata service, and only then', () => {
  const controller = { namespace: 'cert-manager', labels: { ...CERT_MANAGER_PODS.controller.labels } };
  const ambient = policiesOf({ tls: { dns01: { route53: { region: 'eu-west-1' } } } });
  expect(allowed(ambient, controller, { address: '169.254.169.254' }, 80)).toBe(true);
  expect(allowed(ambient, controller, { address: '169.254.170.23' }, 80)).toBe(true);
  expect(allowed(ambient, controller, { address: '169.254.169.254' }, 22)).toBe(false);
  const webhook = { namespace: 'cert-manager', labels: { ...CERT_MANAGER_PODS.webhook.labels } };
  expect(allowed(ambient, webhook, { address: '169.254.169.254' }, 80)).toBe(false);
  const keyed = policiesOf({ tls: { dns01: { route53: { region: 'eu-west-1', accessKeyID: 'AKIDEXAMPLEONLY', secretAccessKeySecretRef: { name: 'route53', key: 'secret' } } } } });
  expect(allowed(keyed, controller, { address: '169.254.169.254' }, 80)).toBe(false);
});
