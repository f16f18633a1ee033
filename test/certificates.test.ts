import { Chart, Testing } from 'cdk8s';
import { CLUSTER_ISSUERS } from '../charts/cert-manager';
import { certificate as certificateObject, clusterIssuer } from '../constructs/cert-manager';
import { ConfigError } from '../lib/config';
import { INTERNAL_CA, internalCertificates, MINIO_SERVER_TLS_SECRET, MINIO_TENANT, objectStorage } from '../lib/model';
import type { KubeObject } from '../lib/synth';
import { configWith, find, findOne, publicCertificates, render } from './helpers';

type Any = Record<string, any>;
const spec = (object: KubeObject): Any => (object as Any).spec;
/** The Let's Encrypt issuers (the internal CA's issuers have no ACME block). */
const acmeIssuers = (objects: KubeObject[]) => find(objects, 'ClusterIssuer').filter((issuer) => spec(issuer).acme !== undefined);
const secretRef = (name: string, key: string) => ({ name, key });
const CLOUDFLARE = { tls: { dns01: { cloudflare: { apiTokenSecretRef: secretRef('cloudflare-api-token', 'api-token') } } } };

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
    const issuers = find(objects, 'ClusterIssuer').filter((issuer) => spec(issuer).acme);
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
    for (const certificate of publicCertificates(objects)) expect(admitted).toContain(certificate.metadata.namespace);

    const nginx = spec(findOne(render({ edge: { controller: 'ingress-nginx' } }).objects, 'ClusterIssuer', 'letsencrypt-staging')).acme.solvers;
    expect(nginx).toEqual([{ http01: { ingress: { ingressClassName: 'nginx' } } }]);
  });

  test.each(['letsencrypt-production', 'letsencrypt-staging'])('every Certificate uses tls.issuer = %s', (issuer) => {
    const { objects, config } = render({ tls: { issuer } });
    const certificates = publicCertificates(objects);
    // Everything else is the internal CA's own certificate and those it signs.
    expect(find(objects, 'Certificate').length - certificates.length).toBe(1 + internalCertificates(config).length);
    expect(certificates.length).toBeGreaterThan(0);
    for (const certificate of certificates) {
      expect(spec(certificate).issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer });
    }
  });

  test('one Certificate per public host, coturn-tls in the coturn namespace for the TURN host', () => {
    const certificates = publicCertificates(render({ hosts: { turn: 'relay.example.org' }, ...CLOUDFLARE }).objects);
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
    const objects = render({ edge: { controller: 'ingress-nginx' }, ...CLOUDFLARE }).objects;
    const byHost = new Map(publicCertificates(objects).map((c) => [spec(c).dnsNames[0], c.metadata.namespace]));
    expect(byHost.get('livekit.example.org')).toBe('livekit');
    expect(byHost.get('matrix.example.org')).toBe('matrix');
    expect(byHost.get('turn.example.org')).toBe('coturn');
  });

  test('a different domain changes every certificate name and host', () => {
    const certificates = publicCertificates(
      render({
        serverName: 'chat.test',
        hosts: { matrix: 'm.chat.test', element: 'web.chat.test', admin: 'adm.chat.test', livekit: 'lk.chat.test', livekitJwt: 'lkj.chat.test', turn: 't.chat.test' },
      }).objects,
    );
    for (const certificate of certificates) expect(spec(certificate).dnsNames[0]).toMatch(/(^|\.)chat\.test$/);
    expect(certificates.map((c) => c.metadata.name)).toContain('m.chat.test-tls');
  });

  test('without tls.dns01 there is no coturn-tls Certificate and only HTTP-01 (no solver could issue the TURN name)', () => {
    const objects = render().objects;
    expect(find(objects, 'Certificate', 'coturn-tls')).toEqual([]);
    expect(acmeIssuers(objects).length).toBeGreaterThan(0);
    for (const issuer of acmeIssuers(objects)) expect(spec(issuer).acme.solvers.map((solver: Any) => Object.keys(solver).sort())).toEqual([['http01']]);
  });

  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['cloudflare', { cloudflare: { apiTokenSecretRef: secretRef('cf', 'token') } }, { cloudflare: { apiTokenSecretRef: secretRef('cf', 'token') } }],
    [
      'route53 with static keys',
      { route53: { region: 'eu-central-1', hostedZoneID: 'Z123', accessKeyID: 'AKIAEXAMPLE', secretAccessKeySecretRef: secretRef('aws', 'secret') } },
      { route53: { region: 'eu-central-1', hostedZoneID: 'Z123', accessKeyID: 'AKIAEXAMPLE', secretAccessKeySecretRef: secretRef('aws', 'secret') } },
    ],
    ['route53 with ambient credentials', { route53: { region: 'us-east-1' } }, { route53: { region: 'us-east-1' } }],
    [
      'rfc2136 (TSIG, HMACSHA256 by default)',
      { rfc2136: { nameserver: '[2001:db8::53]:53', tsigKeyName: 'acme', tsigSecretSecretRef: secretRef('tsig', 'secret') } },
      { rfc2136: { nameserver: '[2001:db8::53]:53', tsigKeyName: 'acme', tsigAlgorithm: 'HMACSHA256', tsigSecretSecretRef: secretRef('tsig', 'secret') } },
    ],
    ['cloudDNS', { cloudDNS: { project: 'p1', serviceAccountSecretRef: secretRef('gcp', 'key.json') } }, { cloudDNS: { project: 'p1', serviceAccountSecretRef: secretRef('gcp', 'key.json') } }],
    [
      'azureDNS with a managed identity',
      { azureDNS: { subscriptionID: 's', resourceGroupName: 'rg', hostedZoneName: 'example.org', managedIdentity: { clientID: 'c' } } },
      { azureDNS: { subscriptionID: 's', resourceGroupName: 'rg', hostedZoneName: 'example.org', managedIdentity: { clientID: 'c' } } },
    ],
    ['digitalocean', { digitalocean: { tokenSecretRef: secretRef('do', 'token') } }, { digitalocean: { tokenSecretRef: secretRef('do', 'token') } }],
    ['acmeDNS', { acmeDNS: { host: 'https://acme-dns.example.org', accountSecretRef: secretRef('acme-dns', 'acmedns.json') } }, { acmeDNS: { host: 'https://acme-dns.example.org', accountSecretRef: secretRef('acme-dns', 'acmedns.json') } }],
  ])('tls.dns01 %s: a DNS-01 solver selected by the TURN host only, HTTP-01 for the rest', (_, dns01, rendered) => {
    const objects = render({ hosts: { turn: 'relay.example.org' }, tls: { dns01 } }).objects;
    expect(acmeIssuers(objects).length).toBeGreaterThan(0);
    for (const issuer of acmeIssuers(objects)) {
      const solvers = spec(issuer).acme.solvers;
      // cert-manager prefers the solver whose selector names the domain; the unselected HTTP-01 solver takes the others.
      expect(solvers).toHaveLength(2);
      expect(solvers[0].selector).toBeUndefined();
      expect(Object.keys(solvers[0])).toEqual(['http01']);
      expect(solvers[1]).toEqual({ dns01: rendered, selector: { dnsNames: ['relay.example.org'] } });
    }
    const coturn = findOne(objects, 'Certificate', 'coturn-tls', 'coturn');
    expect(spec(coturn).dnsNames).toEqual(['relay.example.org']);
    // The HTTP-01 listener need not admit the coturn namespace: no solver route is created there.
    const listener = spec(findOne(objects, 'Gateway', 'matrix-edge')).listeners.find((l: Any) => l.name === 'http');
    expect(listener.allowedRoutes.namespaces.selector.matchExpressions[0].values).not.toContain('coturn');
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['no provider', {}, 'tls.dns01: found an object; expected exactly one provider block'],
    ['two providers', { cloudflare: { apiTokenSecretRef: secretRef('a', 'b') }, digitalocean: { tokenSecretRef: secretRef('c', 'd') } }, 'tls.dns01.digitalocean: found an object; expected exactly one provider block'],
    ['an unknown provider', { godaddy: {} }, 'tls.dns01.godaddy: unknown key "godaddy"; expected one of cloudflare, route53'],
    ['a Secret reference without key', { cloudflare: { apiTokenSecretRef: { name: 'cf' } } }, 'tls.dns01.cloudflare.apiTokenSecretRef.key: found nothing'],
    ['a literal token instead of a reference', { cloudflare: { apiToken: 'abc' } }, 'tls.dns01.cloudflare.apiToken: unknown key "apiToken"'],
    ['route53 without a region', { route53: { hostedZoneID: 'Z1' } }, 'tls.dns01.route53.region: found nothing'],
    ['route53 key id without its secret', { route53: { region: 'eu-west-1', accessKeyID: 'AKIA' } }, 'tls.dns01.route53.secretAccessKeySecretRef: found nothing (the field is missing); expected an access key id and secretAccessKeySecretRef together'],
    ['route53 with both key id forms', { route53: { region: 'eu-west-1', accessKeyID: 'AKIA', accessKeyIDSecretRef: secretRef('a', 'b'), secretAccessKeySecretRef: secretRef('a', 'c') } }, 'either accessKeyID or accessKeyIDSecretRef'],
    ['rfc2136 without TSIG', { rfc2136: { nameserver: 'ns1.example.org' } }, 'tls.dns01.rfc2136.tsigKeyName: found nothing'],
    ['azureDNS with half a service principal', { azureDNS: { subscriptionID: 's', resourceGroupName: 'rg', clientID: 'c' } }, 'tls.dns01.azureDNS.clientSecretSecretRef'],
    ['azureDNS with two sign-ins', { azureDNS: { subscriptionID: 's', resourceGroupName: 'rg', clientID: 'c', tenantID: 't', clientSecretSecretRef: secretRef('az', 'p'), managedIdentity: {} } }, 'exactly one way to sign in'],
  ])('tls.dns01 rejects %s with the field path', (_, dns01, message) => {
    let error: unknown;
    try {
      configWith({ tls: { dns01 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toContain(message);
  });
});

describe('internal CA (in-cluster MinIO)', () => {
  test('a selfSigned issuer bootstraps the CA certificate, a CA ClusterIssuer signs with its key pair', () => {
    const objects = render().objects;
    expect(spec(findOne(objects, 'ClusterIssuer', INTERNAL_CA.bootstrapIssuer))).toEqual({ selfSigned: {} });
    const ca = spec(findOne(objects, 'Certificate', INTERNAL_CA.certificate, INTERNAL_CA.namespace));
    expect(ca).toMatchObject({
      isCA: true,
      secretName: INTERNAL_CA.secretName,
      issuerRef: { kind: 'ClusterIssuer', name: INTERNAL_CA.bootstrapIssuer },
      // Renewal keeps the key: clients holding the previous CA certificate still verify new server certificates.
      privateKey: { rotationPolicy: 'Never' },
    });
    // A ClusterIssuer reads its Secret from cert-manager's own namespace (the cluster resource namespace).
    expect(INTERNAL_CA.namespace).toBe('cert-manager');
    expect(spec(findOne(objects, 'ClusterIssuer', INTERNAL_CA.issuer))).toEqual({ ca: { secretName: INTERNAL_CA.secretName } });
    // Nothing but the CA certificate uses the bootstrap issuer.
    const bootstrapped = find(objects, 'Certificate').filter((c) => spec(c).issuerRef.name === INTERNAL_CA.bootstrapIssuer);
    expect(bootstrapped.map((c) => c.metadata.name)).toEqual([INTERNAL_CA.certificate]);
  });

  test("MinIO's server certificate covers the endpoint every client uses and the servers' own names", () => {
    const { objects, config } = render();
    const server = spec(findOne(objects, 'Certificate', MINIO_SERVER_TLS_SECRET, MINIO_TENANT.namespace));
    expect(server.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: INTERNAL_CA.issuer });
    expect(server.dnsNames).toContain(new URL(objectStorage(config).endpoint).hostname);
    expect(server.dnsNames).toContain(`*.${MINIO_TENANT.name}-hl.${MINIO_TENANT.namespace}.svc.cluster.local`);
    expect(server.usages).toContain('server auth');
    const tenant = spec(findOne(objects, 'Tenant', MINIO_TENANT.name, MINIO_TENANT.namespace));
    expect(tenant.requestAutoCert).toBe(false);
    expect(tenant.externalCertSecret).toEqual([{ name: server.secretName, type: 'cert-manager.io/v1' }]);
  });

  test('the CA objects come in stage 20, after cert-manager and its CRDs (10), before the data stage (30)', () => {
    const { files } = render();
    const stageOf = (kind: string, name: string) =>
      [...files.entries()].find(([, content]) => content.includes(`kind: ${kind}\n`) && content.includes(`name: ${name}\n`))?.[0];
    expect(stageOf('ClusterIssuer', INTERNAL_CA.issuer)).toBe('stages/20-platform/internal-ca.yaml');
    expect(stageOf('HelmRelease', 'cert-manager')).toBe('stages/10-operators/cert-manager.yaml');
    expect(stageOf('Tenant', MINIO_TENANT.name)).toBe('stages/30-data/minio-tenant.yaml');
  });

  test('external object storage: no internal CA at all', () => {
    const { files, objects } = render({ objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net' } } });
    expect([...files.keys()]).not.toContain('stages/20-platform/internal-ca.yaml');
    expect(find(objects, 'ClusterIssuer').map((issuer) => issuer.metadata.name).sort()).toEqual(Object.keys(CLUSTER_ISSUERS).sort());
    expect(find(objects, 'Certificate')).toEqual(publicCertificates(objects));
  });
});

describe('typed cert-manager objects', () => {
  test('a Certificate or issuer that breaks cert-manager\'s schema fails at synth, a valid one is emitted as given', () => {
    const chart = new Chart(Testing.app(), 'test');
    const broken = { secretName: 's', issuerRef: { name: 'i' }, privateKey: { algorithm: 'DSA' } } as unknown as Parameters<typeof certificateObject>[2]['spec'];
    expect(() => certificateObject(chart, 'broken', { name: 'x', namespace: 'y', spec: broken })).toThrow(/algorithm/);
    const issuer = { acme: { server: 42, privateKeySecretRef: { name: 'k' } } } as unknown as Parameters<typeof clusterIssuer>[2]['spec'];
    expect(() => clusterIssuer(chart, 'broken-issuer', { name: 'x', spec: issuer })).toThrow(/server/);
    certificateObject(chart, 'valid', { name: 'x', namespace: 'y', spec: { secretName: 's', issuerRef: { name: 'i' }, commonName: 'x' } });
    expect(Testing.synth(chart)).toEqual([
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'x', namespace: 'y' }, spec: { commonName: 'x', issuerRef: { name: 'i' }, secretName: 's' } },
    ]);
  });
});
