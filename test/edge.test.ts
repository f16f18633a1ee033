import { parseConfig } from '../lib/config';
import type { KubeObject } from '../lib/synth';
import { renderDist } from '../lib/synth';
import { exampleInput, find, findOne, objectsOf, publicCertificates, render } from './helpers';

type Controller = 'envoy-gateway' | 'ingress-nginx';
const CONTROLLERS: Controller[] = ['envoy-gateway', 'ingress-nginx'];
const ADMIN_BACKEND = 'ketesa';
const ROUTER = 'synapse-router';

type Any = Record<string, any>;
const spec = (object: KubeObject): Any => (object as Any).spec;
const key = (object: KubeObject) => `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

function renderEdge(controller: Controller, overrides: Record<string, unknown> = {}) {
  return render({ ...overrides, edge: { controller, ...((overrides.edge as object) ?? {}) } });
}

/** host -> list of {path, service, port} as served by either edge. */
function servedRoutes(objects: KubeObject[], controller: Controller): { host: string; path: string; service: string; port: number; admin: boolean; federation: boolean }[] {
  const routes: { host: string; path: string; service: string; port: number; admin: boolean; federation: boolean }[] = [];
  if (controller === 'envoy-gateway') {
    const policies = find(objects, 'SecurityPolicy');
    for (const route of find(objects, 'HTTPRoute')) {
      if (route.metadata.name === 'https-redirect') continue;
      const admin = policies.some(
        (policy) =>
          policy.metadata.namespace === route.metadata.namespace &&
          spec(policy).targetRefs.some((ref: Any) => ref.kind === 'HTTPRoute' && ref.name === route.metadata.name),
      );
      const federation = spec(route).parentRefs.some((ref: Any) => ref.sectionName === 'federation');
      for (const host of spec(route).hostnames)
        for (const rule of spec(route).rules)
          for (const match of rule.matches)
            for (const backend of rule.backendRefs)
              routes.push({ host, path: match.path.value, service: backend.name, port: backend.port, admin, federation });
    }
  } else {
    for (const ingress of find(objects, 'Ingress')) {
      const admin = ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/whitelist-source-range'] !== undefined;
      for (const rule of spec(ingress).rules)
        for (const path of rule.http.paths)
          routes.push({ host: rule.host, path: path.path, service: path.backend.service.name, port: path.backend.service.port.number, admin, federation: false });
    }
  }
  return routes;
}

describe.each(CONTROLLERS)('edge %s', (controller) => {
  const { objects, config } = renderEdge(controller);

  test('the LoadBalancer keeps the client address: externalTrafficPolicy Local', () => {
    if (controller === 'envoy-gateway') {
      const proxy = findOne(objects, 'EnvoyProxy', 'matrix-edge', 'envoy-gateway-system');
      const service = spec(proxy).provider.kubernetes.envoyService;
      expect(service.type).toBe('LoadBalancer');
      expect(service.externalTrafficPolicy).toBe('Local');
      expect(service.annotations['metallb.io/loadBalancerIPs']).toBe(config.loadBalancer.edgeAddress);
      expect(spec(proxy).provider.kubernetes.envoyDeployment.replicas).toBe(config.edge.replicas);
      expect(spec(proxy).provider.kubernetes.envoyPDB.maxUnavailable).toBe(1);
    } else {
      const services = find(objects, 'Service').filter((service) => spec(service).type === 'LoadBalancer');
      expect(services.map(key)).toEqual(['Service/ingress-nginx/ingress-nginx-controller']);
      expect(spec(services[0]).externalTrafficPolicy).toBe('Local');
      expect(services[0].metadata as Any).toMatchObject({ annotations: { 'metallb.io/loadBalancerIPs': config.loadBalancer.edgeAddress } });
      const values = spec(findOne(objects, 'HelmRelease', 'ingress-nginx')).values;
      expect(values.controller.service.external.enabled).toBe(false);
      expect(values.controller.replicaCount).toBe(config.edge.replicas);
    }
  });

  test('ports 80, 443 and the federation port are exposed; federation TLS lands on the HTTPS listener', () => {
    if (controller === 'envoy-gateway') {
      const listeners: Any[] = spec(findOne(objects, 'Gateway', 'matrix-edge')).listeners;
      expect([...new Set(listeners.map((listener) => listener.port))].sort()).toEqual([443, 80, 8448]);
      const federation = listeners.filter((listener) => listener.port === 8448);
      expect(federation).toHaveLength(1);
      expect(federation[0]).toMatchObject({ protocol: 'HTTPS', hostname: 'matrix.example.org' });
    } else {
      const service = findOne(objects, 'Service', 'ingress-nginx-controller');
      const ports = spec(service).ports.map((port: Any) => [port.port, port.targetPort]);
      expect(ports).toEqual([
        [80, 'http'],
        [443, 'https'],
        [8448, 'https'],
      ]);
    }
  });

  test('a different federation port is used; 443 means no extra port', () => {
    const custom = renderEdge(controller, { edge: { federationPort: 8449 } }).objects;
    const onPort443 = renderEdge(controller, { edge: { federationPort: 443 } }).objects;
    const exposed = (list: KubeObject[]) =>
      controller === 'envoy-gateway'
        ? [...new Set<number>(spec(findOne(list, 'Gateway', 'matrix-edge')).listeners.map((l: Any) => l.port))].sort()
        : spec(findOne(list, 'Service', 'ingress-nginx-controller')).ports.map((p: Any) => p.port).sort();
    expect(exposed(custom)).toEqual([443, 80, 8449]);
    expect(exposed(onPort443)).toEqual([443, 80]);
  });

  test('Matrix client and federation traffic goes to the Synapse router; other hosts to their services', () => {
    const routes = servedRoutes(objects, controller);
    const to = (host: string, path: string) => routes.filter((route) => route.host === host && route.path === path && !route.federation);
    expect(to('matrix.example.org', '/_matrix')).toEqual([expect.objectContaining({ service: ROUTER, port: 8008, admin: false })]);
    expect(to('matrix.example.org', '/_synapse/client')).toEqual([expect.objectContaining({ service: ROUTER, admin: false })]);
    expect(to('matrix.example.org', '/_synapse/admin')).toEqual([expect.objectContaining({ service: ROUTER, admin: true })]);
    expect(to('chat.example.org', '/')).toEqual([expect.objectContaining({ service: 'element-web', admin: false })]);
    expect(to('admin.example.org', '/')).toEqual([expect.objectContaining({ service: ADMIN_BACKEND, admin: true })]);
    expect(to('livekit-jwt.example.org', '/')).toEqual([expect.objectContaining({ service: 'lk-jwt-service', port: 8080 })]);
    expect(to('livekit.example.org', '/')).toEqual([expect.objectContaining({ service: 'livekit', port: config.calls.livekit.signalPort })]);
    expect(to('example.org', '/.well-known/matrix')).toEqual([expect.objectContaining({ service: 'matrix-well-known', port: 8080 })]);
    // The server name's host serves nothing but the discovery documents.
    expect(routes.filter((route) => route.host === 'example.org').map((route) => route.path)).toEqual(['/.well-known/matrix']);
    if (controller === 'envoy-gateway') {
      const federation = routes.filter((route) => route.federation);
      expect(federation.map((route) => [route.host, route.path, route.service])).toEqual([
        ['matrix.example.org', '/_matrix/federation', ROUTER],
        ['matrix.example.org', '/_matrix/key', ROUTER],
      ]);
    }
  });

  test.each([[['192.168.1.0/24', '10.8.0.0/16']], [['203.0.113.7/32']], [['2001:db8::/48', '198.51.100.0/24', '10.0.0.0/8']]])(
    'admin routes are restricted to exactly %j',
    (cidrs) => {
      const { objects: rendered } = renderEdge(controller, { admin: { allowedCidrs: cidrs } });
      const routes = servedRoutes(rendered, controller);
      // Every route to the admin UI or the Synapse admin API is restricted, and nothing else is.
      for (const route of routes) {
        const isAdmin = route.service === ADMIN_BACKEND || route.path.startsWith('/_synapse/admin');
        expect([route.host, route.path, route.admin]).toEqual([route.host, route.path, isAdmin]);
      }
      if (controller === 'envoy-gateway') {
        const policies = find(rendered, 'SecurityPolicy');
        expect(policies).toHaveLength(1);
        const authorization = spec(policies[0]).authorization;
        expect(authorization.defaultAction).toBe('Deny');
        expect(authorization.rules).toEqual([{ name: 'admin-networks', action: 'Allow', principal: { clientCIDRs: cidrs } }]);
      } else {
        const restricted = find(rendered, 'Ingress').filter((ingress) => ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/whitelist-source-range']);
        expect(restricted.map((ingress) => ingress.metadata.name).sort()).toEqual(['admin.example.org-admin', 'matrix.example.org-admin']);
        for (const ingress of restricted) {
          expect((ingress.metadata as Any).annotations['nginx.ingress.kubernetes.io/whitelist-source-range'].split(',')).toEqual(cidrs);
        }
      }
    },
  );

  test('every TLS host has a Certificate for exactly that host in the namespace the edge reads it from', () => {
    const certificates = publicCertificates(objects);
    const certificateFor = (secret: string, namespace: string) =>
      certificates.find((certificate) => spec(certificate).secretName === secret && certificate.metadata.namespace === namespace);
    const served = new Set<string>();
    if (controller === 'envoy-gateway') {
      for (const listener of spec(findOne(objects, 'Gateway', 'matrix-edge')).listeners as Any[]) {
        if (listener.protocol !== 'HTTPS') continue;
        served.add(listener.hostname);
        const certificate = certificateFor(listener.tls.certificateRefs[0].name, 'envoy-gateway-system');
        expect(certificate && spec(certificate).dnsNames).toEqual([listener.hostname]);
      }
    } else {
      for (const ingress of find(objects, 'Ingress')) {
        for (const tls of spec(ingress).tls as Any[]) {
          tls.hosts.forEach((host: string) => served.add(host));
          const certificate = certificateFor(tls.secretName, ingress.metadata.namespace ?? '');
          expect(certificate && spec(certificate).dnsNames).toEqual(tls.hosts);
        }
        expect(spec(ingress).rules.map((rule: Any) => rule.host)).toEqual(spec(ingress).tls[0].hosts);
      }
    }
    const routeHosts = new Set(servedRoutes(objects, controller).map((route) => route.host));
    expect([...served].sort()).toEqual([...routeHosts].sort());
    // Every certificate except coturn's is served by the edge.
    const certificateHosts = certificates.filter((c) => c.metadata.name !== 'coturn-tls').flatMap((c) => spec(c).dnsNames);
    expect(certificateHosts.sort()).toEqual([...served].sort());
  });

  test('calls disabled: no LiveKit routes or certificates', () => {
    const { objects: rendered } = renderEdge(controller, { calls: { enabled: false } });
    const hosts = new Set(servedRoutes(rendered, controller).map((route) => route.host));
    expect(hosts.has('livekit.example.org')).toBe(false);
    expect(hosts.has('livekit-jwt.example.org')).toBe(false);
    expect(find(rendered, 'Certificate').map((c) => c.metadata.name)).not.toContain('coturn-tls');
  });

  test('changing admin.allowedCidrs changes exactly the admin restriction objects', () => {
    const before = new Map(renderEdge(controller).objects.map((object) => [key(object), JSON.stringify(object)]));
    const after = new Map(renderEdge(controller, { admin: { allowedCidrs: ['198.51.100.0/24'] } }).objects.map((object) => [key(object), JSON.stringify(object)]));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after.keys()].filter((name) => after.get(name) !== before.get(name)).sort();
    expect(changed).toEqual(
      controller === 'envoy-gateway'
        ? ['SecurityPolicy/matrix/admin-allowlist']
        : ['Ingress/matrix/admin.example.org-admin', 'Ingress/matrix/matrix.example.org-admin'],
    );
  });
});

describe('well-known documents', () => {
  const documentsOf = (objects: KubeObject[]) => {
    const data = (findOne(objects, 'ConfigMap', 'matrix-well-known', 'matrix') as Any).data;
    return { server: JSON.parse(data['server.json']), client: JSON.parse(data['client.json']), nginx: data['nginx.conf'] as string };
  };

  test('name the matrix host and the LiveKit JWT service', () => {
    const { server, client, nginx } = documentsOf(render().objects);
    expect(server).toEqual({ 'm.server': 'matrix.example.org:443' });
    expect(client).toEqual({
      'm.homeserver': { base_url: 'https://matrix.example.org' },
      'org.matrix.msc4143.rtc_foci': [{ type: 'livekit', livekit_service_url: 'https://livekit-jwt.example.org' }],
    });
    for (const name of ['server', 'client']) {
      const block = nginx.slice(nginx.indexOf(`location = /.well-known/matrix/${name} {`));
      const location = block.slice(0, block.indexOf('\n    }'));
      expect(location).toContain('default_type application/json;');
      expect(location).toContain('add_header Access-Control-Allow-Origin "*" always;');
    }
    expect(nginx).toContain('types { }');
  });

  test('follow a different server name (hosts derived from it) and calls disabled', () => {
    const input = exampleInput();
    delete input.hosts;
    input.serverName = 'chat.test';
    input.calls = { enabled: false };
    const objects = objectsOf(renderDist(parseConfig(input))).map((entry) => entry.object);
    const { server, client } = documentsOf(objects);
    expect(server).toEqual({ 'm.server': 'matrix.chat.test:443' });
    expect(client).toEqual({ 'm.homeserver': { base_url: 'https://matrix.chat.test' } });
    const routes = servedRoutes(objects, 'envoy-gateway');
    expect(routes.filter((route) => route.host === 'chat.test').map((route) => route.path)).toEqual(['/.well-known/matrix']);
    expect(publicCertificates(objects).flatMap((c) => spec(c).dnsNames).sort()).toEqual(
      ['admin.chat.test', 'chat.chat.test', 'chat.test', 'matrix.chat.test'].sort(),
    );
  });

  test.each(CONTROLLERS)('serverName equal to the matrix host merges into one host (%s)', (controller) => {
    const { objects } = renderEdge(controller, { hosts: { matrix: 'example.org' } });
    const routes = servedRoutes(objects, controller).filter((route) => route.host === 'example.org' && !route.federation);
    expect(routes.map((route) => route.path)).toEqual(['/_matrix', '/_synapse/client', '/.well-known/matrix', '/_synapse/admin'].filter((path) => routes.some((route) => route.path === path)));
    expect(new Set(routes.map((route) => route.path))).toEqual(new Set(['/_matrix', '/_synapse/client', '/_synapse/admin', '/.well-known/matrix']));
    expect(publicCertificates(objects).filter((c) => spec(c).dnsNames.includes('example.org'))).toHaveLength(1);
    expect(documentsOf(objects).server).toEqual({ 'm.server': 'example.org:443' });
  });

  test('two components on one host and path are rejected', () => {
    expect(() => render({ hosts: { admin: 'chat.example.org' } })).toThrow(/chat\.example\.org .* both serve \//);
  });
});

describe('client addresses', () => {
  test('envoy: no trusted hops, client-sent forwarding headers removed before X-Forwarded-For is set', () => {
    const policy = findOne(render().objects, 'ClientTrafficPolicy', 'matrix-edge', 'envoy-gateway-system');
    expect(spec(policy).clientIPDetection).toEqual({ xForwardedFor: { numTrustedHops: 0 } });
    expect(spec(policy).headers.earlyRequestHeaders.remove).toEqual(expect.arrayContaining(['X-Forwarded-For', 'X-Real-IP', 'Forwarded']));
    expect(spec(policy).targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'matrix-edge' }]);
  });

  test('nginx: forwarded headers from clients are ignored and X-Forwarded-For is the peer', () => {
    const values = spec(findOne(renderEdge('ingress-nginx').objects, 'HelmRelease', 'ingress-nginx')).values;
    expect(values.controller.config).toMatchObject({ 'use-forwarded-headers': 'false', 'compute-full-forwarded-for': 'false' });
    // Under controller: a top-level allowSnippetAnnotations is not read by chart 4.15.1.
    expect(values.controller.allowSnippetAnnotations).toBe(false);
    expect(values).not.toHaveProperty('allowSnippetAnnotations');
    expect(values.controller.metrics).toMatchObject({ enabled: true, port: 10254 });
  });

  test('the envoy HTTP listener only redirects (ACME challenge routes come from cert-manager)', () => {
    const redirect = findOne(render().objects, 'HTTPRoute', 'https-redirect');
    expect(spec(redirect).parentRefs[0].sectionName).toBe('http');
    expect(spec(redirect).rules).toEqual([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }]);
    for (const route of find(render().objects, 'HTTPRoute').filter((r) => r.metadata.name !== 'https-redirect')) {
      expect(spec(route).parentRefs.map((ref: Any) => ref.sectionName)).not.toContain('http');
    }
  });

  test('a federation port of 80 is rejected', () => {
    expect(() => render({ edge: { federationPort: 80 } })).toThrow(/federationPort/);
  });
});
