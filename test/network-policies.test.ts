import { renderedWorkloads, type Obj } from '../lib/model/capacity';
import { buildPlatform } from '../lib/model';
import { publicCertificates } from '../lib/model/edge-routes';
import { ACME_SOLVER, guardedNamespaces } from '../lib/model/network-policies';
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
  ['ingress-nginx, calls off, external S3', { edge: { controller: 'ingress-nginx' }, calls: { enabled: false }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } } }],
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
