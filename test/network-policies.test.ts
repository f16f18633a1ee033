import { renderedWorkloads, type Obj } from '../lib/model/capacity';
import { buildPlatform } from '../lib/model';
import { publicCertificates } from '../lib/model/edge-routes';
import { ACME_SOLVER, egressGuardedNamespaces, guardedNamespaces, POD_LABELS } from '../lib/model/network-policies';
import { METRICS_PORTS } from '../lib/model/metrics';
import { SYNAPSE_PORTS } from '../lib/model/workers';
import { render } from './helpers';
import { allowed, type Pod } from './network-evaluator';

const synapse = (component: string): Pod => ({ namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'synapse', 'app.kubernetes.io/component': component } });
const router: Pod = { namespace: 'matrix', labels: { 'app.kubernetes.io/name': 'synapse-router', 'app.kubernetes.io/component': 'router' } };
const envoy: Pod = { namespace: 'envoy-gateway-system', labels: { 'app.kubernetes.io/component': 'proxy' } };
const prometheus: Pod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const grafana: Pod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } };
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
    { edge: { controller: 'ingress-nginx' }, calls: { enabled: false }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } }, network: { apiServer: { cidrs: ['10.96.0.0/12', '192.168.1.0/24'] } } },
  ],
])('network policies: %s', (_, overrides) => {
  const { objects, config, files } = render(overrides);
  const policies = (objects as unknown as Obj[]).filter((object) => object.kind === 'NetworkPolicy');
  const edge: Pod = { ...envoy, namespace: config.edge.controller === 'envoy-gateway' ? 'envoy-gateway-system' : 'ingress-nginx' };

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
    for (const namespace of egressGuardedNamespaces(config)) {
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
  const guardedPods = () => rendered.filter((candidate) => guardedNamespaces(config).includes(candidate.namespace));
  const dns: Pod = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
  const remoteHomeserver = { address: '203.0.113.10' };
  const remoteHomeserverV6 = { address: '2001:db8::10' };
  const privateAddress = { address: '10.20.30.40' };
  const metadataService = { address: '169.254.169.254' };

  test('egress: every rendered pod of a guarded namespace resolves names, and nothing else by default', () => {
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
      expect(allowed(policies, lkJwt, { ...edge, labels: { 'app.kubernetes.io/name': 'envoy' } }, 10443)).toBe(true);
      expect(allowed(policies, lkJwt, remoteHomeserver, 8448)).toBe(true);
      expect(allowed(policies, lkJwt, postgres, 5432)).toBe(false);
      expect(allowed(policies, lkJwt, pod('redis-synapse', 'valkey-master-proxy'), 6379)).toBe(false);
    }
    if (config.objectStorage.provider === 'minio') {
      const minio: Pod = { namespace: 'minio', labels: { ...POD_LABELS.minio } };
      expect(allowed(policies, pod('matrix', 'synapse-media'), minio, 9000)).toBe(true);
      expect(allowed(policies, postgres, minio, 9000)).toBe(true);
      expect(allowed(policies, minio, minio, 9000)).toBe(true);
      expect(allowed(policies, minio, { address: '10.96.0.1' }, 443)).toBe(true);
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
    expect(egressGuardedNamespaces(config)).toContain('cert-manager');
    const controller: Pod = { namespace: 'cert-manager', labels: { 'app.kubernetes.io/name': 'cert-manager', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'controller' } };
    const webhook: Pod = { namespace: 'cert-manager', labels: { 'app.kubernetes.io/name': 'webhook', 'app.kubernetes.io/instance': 'cert-manager', 'app.kubernetes.io/component': 'webhook' } };
    const letsEncrypt = { address: '172.65.32.248' };
    for (const pod of [controller, webhook]) {
      expect(allowed(policies, pod, { address: '10.96.0.1' }, 443)).toBe(true);
      expect(allowed(policies, pod, dns, 53, 'UDP')).toBe(true);
    }
    expect(allowed(policies, controller, letsEncrypt, 443)).toBe(true);
    expect(allowed(policies, controller, { address: '192.168.10.5' }, 80)).toBe(true);
    expect(allowed(policies, controller, { ...edge, labels: { 'app.kubernetes.io/name': 'envoy' } }, 10080)).toBe(true);
    // Planted unneeded flows: the webhook has no business on the internet, the controller none in the data layer.
    // (With the default network.apiServer.cidrs, any address on 443 counts as the API server.)
    expect(allowed(policies, webhook, letsEncrypt, 443)).toBe(config.network.apiServer.cidrs.includes('0.0.0.0/0'));
    expect(allowed(policies, webhook, letsEncrypt, 80)).toBe(false);
    expect(allowed(policies, controller, postgres, 5432)).toBe(false);
    expect(allowed(policies, controller, metadataService, 80)).toBe(false);
    expect(allowed(policies, controller, letsEncrypt, 22)).toBe(false);
  });

  test('egress: the API server only from the pods that call it', () => {
    const apiServer = { address: '10.96.0.1' };
    expect(allowed(policies, postgres, apiServer, 443)).toBe(true);
    expect(allowed(policies, postgres, { address: '192.168.1.10' }, 6443)).toBe(true);
    expect(allowed(policies, pod('matrix', 'synapse-main'), apiServer, 443)).toBe(false);
    expect(allowed(policies, pod('matrix', 'synapse-main'), { address: '192.168.1.10' }, 6443)).toBe(false);
    expect(allowed(policies, pod('redis-synapse', 'valkey'), apiServer, 443)).toBe(false);
  });

  test('egress: federation and push gateways from the Synapse processes that need them, to public addresses only', () => {
    const outbound = ['synapse-main', 'synapse-federation-sender', 'synapse-federation-reader', 'synapse-pusher', 'synapse-media', 'synapse-generic', 'synapse-background'];
    for (const name of outbound) {
      for (const port of [443, 8448]) {
        expect([name, port, allowed(policies, pod('matrix', name), remoteHomeserver, port), allowed(policies, pod('matrix', name), remoteHomeserverV6, port)]).toEqual([name, port, true, true]);
      }
      // Never into private ranges, never the cloud metadata service, never other ports.
      // (An external S3 endpoint may be private: the media repository may reach any address on its port.)
      const s3Client = name === 'synapse-media' && config.objectStorage.provider === 'external';
      expect([name, allowed(policies, pod('matrix', name), privateAddress, 443)]).toEqual([name, s3Client]);
      expect([name, allowed(policies, pod('matrix', name), metadataService, 443)]).toEqual([name, false]);
      expect([name, allowed(policies, pod('matrix', name), { address: 'fd00::1' }, 443)]).toEqual([name, s3Client]);
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 25)]).toEqual([name, false]);
    }
    // Processes that never reach another server (their output leaves through the federation senders).
    for (const name of ['synapse-sync', 'synapse-event-persister', 'synapse-typing', 'synapse-presence', 'synapse-receipts', 'synapse-user-directory']) {
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 8448)]).toEqual([name, false]);
    }
    for (const name of ['element-web', 'ketesa', 'matrix-well-known', 'synapse-router']) {
      expect([name, allowed(policies, pod('matrix', name), remoteHomeserver, 443)]).toEqual([name, false]);
    }
  });

  test('every rendered pod in a guarded namespace is reachable on each container port by someone', () => {
    const guarded = new Set(guardedNamespaces(config));
    const rendered = renderedPods(objects as unknown as Obj[]);
    const sources = [...rendered, edge, prometheus, { namespace: 'cnpg-system', labels: {} }, router];
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
