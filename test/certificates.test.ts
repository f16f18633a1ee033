import type { KubeObject } from '../lib/synth';
import { find, findOne, render } from './helpers';

type Any = Record<string, any>;
const spec = (object: KubeObject): Any => (object as Any).spec;

describe('cert-manager', () => {
  test('the chart installs its CRDs with two replicas and PDBs per component', () => {
    const values = spec(findOne(render().objects, 'HelmRelease', 'cert-manager', 'cert-manager')).values;
    expect(values.crds).toEqual({ enabled: true, keep: true });
    expect(values.installCRDs).toBeUndefined();
    for (const part of [values, values.webhook, values.cainjector]) {
      expect(part.replicaCount).toBe(2);
      expect(part.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    }
  });

  test('Gateway API integration is on exactly when the edge is Envoy Gateway', () => {
    const envoy = spec(findOne(render().objects, 'HelmRelease', 'cert-manager')).values;
    const nginx = spec(findOne(render({ edge: { controller: 'ingress-nginx' } }).objects, 'HelmRelease', 'cert-manager')).values;
    expect(envoy.config).toMatchObject({ kind: 'ControllerConfiguration', gatewayAPI: { enabled: true } });
    expect(nginx.config).toBeUndefined();
  });

  test('staging and production ClusterIssuers with the configured ACME email', () => {
    const objects = render({ tls: { acmeEmail: 'pki@chat.test' } }).objects;
    const issuers = find(objects, 'ClusterIssuer');
    expect(issuers.map((issuer) => [issuer.metadata.name, spec(issuer).acme.server, spec(issuer).acme.email])).toEqual([
      ['letsencrypt-production', 'https://acme-v02.api.letsencrypt.org/directory', 'pki@chat.test'],
      ['letsencrypt-staging', 'https://acme-staging-v02.api.letsencrypt.org/directory', 'pki@chat.test'],
    ]);
  });

  test('HTTP-01 goes through the edge in use', () => {
    const envoy = spec(findOne(render().objects, 'ClusterIssuer', 'letsencrypt-production')).acme.solvers;
    expect(envoy).toEqual([
      {
        http01: {
          gatewayHTTPRoute: {
            parentRefs: [
              { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'matrix-edge', namespace: 'envoy-gateway-system', sectionName: 'http' },
            ],
          },
        },
      },
    ]);
    const objects = render().objects;
    const listener = spec(findOne(objects, 'Gateway', 'matrix-edge')).listeners.find((l: Any) => l.name === 'http');
    expect(listener).toMatchObject({ port: 80, protocol: 'HTTP' });
    // Solver routes are created in the Certificate's namespace: the listener must admit all of them.
    const admitted: string[] = listener.allowedRoutes.namespaces.selector.matchExpressions[0].values;
    for (const certificate of find(objects, 'Certificate')) expect(admitted).toContain(certificate.metadata.namespace);

    const nginx = spec(findOne(render({ edge: { controller: 'ingress-nginx' } }).objects, 'ClusterIssuer', 'letsencrypt-staging')).acme.solvers;
    expect(nginx).toEqual([{ http01: { ingress: { ingressClassName: 'nginx' } } }]);
  });

  test.each(['letsencrypt-production', 'letsencrypt-staging'])('every Certificate uses tls.issuer = %s', (issuer) => {
    const certificates = find(render({ tls: { issuer } }).objects, 'Certificate');
    expect(certificates.length).toBeGreaterThan(0);
    for (const certificate of certificates) {
      expect(spec(certificate).issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer });
    }
  });

  test('one Certificate per public host, coturn-tls in the coturn namespace for the TURN host', () => {
    const certificates = find(render({ hosts: { turn: 'relay.example.org' } }).objects, 'Certificate');
    expect(certificates.map((c) => spec(c).dnsNames[0]).sort()).toEqual(
      [
        'admin.example.org',
        'chat.example.org',
        'example.org',
        'livekit-jwt.example.org',
        'livekit.example.org',
        'matrix.example.org',
        'relay.example.org',
      ].sort(),
    );
    const coturn = certificates.find((c) => c.metadata.name === 'coturn-tls');
    expect(coturn?.metadata.namespace).toBe('coturn');
    expect(spec(coturn as KubeObject)).toMatchObject({ secretName: 'coturn-tls', dnsNames: ['relay.example.org'] });
    for (const certificate of certificates) expect(spec(certificate).dnsNames).toHaveLength(1);
  });

  test('with ingress-nginx, TLS Secrets are issued next to the Ingresses that use them', () => {
    const objects = render({ edge: { controller: 'ingress-nginx' } }).objects;
    const byHost = new Map(find(objects, 'Certificate').map((c) => [spec(c).dnsNames[0], c.metadata.namespace]));
    expect(byHost.get('livekit.example.org')).toBe('livekit');
    expect(byHost.get('matrix.example.org')).toBe('matrix');
    expect(byHost.get('turn.example.org')).toBe('coturn');
  });

  test('a different domain changes every certificate name and host', () => {
    const certificates = find(
      render({
        serverName: 'chat.test',
        hosts: { matrix: 'm.chat.test', element: 'web.chat.test', admin: 'adm.chat.test', livekit: 'lk.chat.test', livekitJwt: 'lkj.chat.test', turn: 't.chat.test' },
      }).objects,
      'Certificate',
    );
    for (const certificate of certificates) expect(spec(certificate).dnsNames[0]).toMatch(/(^|\.)chat\.test$/);
    expect(certificates.map((c) => c.metadata.name)).toContain('m.chat.test-tls');
  });
});
