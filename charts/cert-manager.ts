/*
 * cert-manager chart v1.21.1 (oci://quay.io/jetstack/charts/cert-manager). Values keys verified in
 * the chart's values.yaml and its strict values.schema.json at tag v1.21.1 (research notes §1):
 *   crds.enabled, crds.keep, replicaCount, podDisruptionBudget.enabled, podDisruptionBudget.minAvailable
 *   (schema-allowed, commented in values), resources, topologySpreadConstraints, config (ControllerConfiguration;
 *   gatewayAPI.enabled read from pkg/apis/config/controller/v1alpha1/types.go at v1.21.1),
 *   webhook.{replicaCount,podDisruptionBudget.enabled,podDisruptionBudget.minAvailable,resources,topologySpreadConstraints},
 *   cainjector.{replicaCount,podDisruptionBudget.enabled,podDisruptionBudget.minAvailable,resources,topologySpreadConstraints},
 *   prometheus.enabled (templates/deployment.yaml: container port `http-metrics` 9402 on the controller; the
 *   chart's ServiceMonitor/PodMonitor stay off, lib/model/metrics.ts operatorScrapeTargets scrapes it).
 * The chart's default securityContext/containerSecurityContext already are runAsNonRoot, seccomp
 * RuntimeDefault, no privilege escalation, drop ALL, read-only root filesystem.
 */
import type { Construct } from 'constructs';
import {
  Certificate,
  CertificateSpecPrivateKeyAlgorithm,
  CertificateSpecPrivateKeyRotationPolicy,
  ClusterIssuer,
  type ClusterIssuerSpecAcmeSolvers,
  type ClusterIssuerSpecAcmeSolversDns01,
  type ClusterIssuerSpecAcmeSolversDns01AzureDnsEnvironment,
  type ClusterIssuerSpecAcmeSolversDns01Rfc2136Protocol,
  type ClusterIssuerSpecAcmeSolversHttp01,
} from '../imports/cert-manager.io';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import { CERT_MANAGER, NAMESPACES, type Platform } from '../lib/model';
import type { PlatformConfig } from '../lib/config';
import { dns01Names, EDGE_GATEWAY, GATEWAY_LISTENERS, INGRESS_NGINX, publicCertificates } from '../lib/model/edge-routes';
import { charts } from '../lib/versions';

const RELEASE = CERT_MANAGER.releaseName;

/** Let's Encrypt ACME endpoints, by the names tls.issuer selects. */
export const CLUSTER_ISSUERS = {
  'letsencrypt-production': 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

function spreadAcrossNodes(component: string): Record<string, unknown>[] {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': component } },
    },
  ];
}

/** Two replicas of each part with a PDB, so certificate issuance and the webhook survive a node drain. */
function highlyAvailable(component: string, resources: Record<string, unknown>): Record<string, unknown> {
  return {
    replicaCount: 2,
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    resources,
    topologySpreadConstraints: spreadAcrossNodes(component),
  };
}

/** The cert-manager operator and its CRDs (stage 10). */
export class CertManagerChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'cert-manager', { platform, stage: '10-operators', namespace: NAMESPACES.certManager.name });
    const envoy = platform.config.edge.controller === 'envoy-gateway';
    new HelmReleaseWrapper(this, 'release', {
      releaseName: RELEASE,
      namespace: CERT_MANAGER.namespace,
      chart: charts.certManager,
      gitops: platform.config.gitops,
      stage: this.stage,
      // The gatewayHTTPRoute solver watches Gateway API kinds, whose CRDs the Envoy Gateway chart installs.
      ...(envoy ? { dependsOn: [{ releaseName: EDGE_GATEWAY.releaseName, namespace: EDGE_GATEWAY.namespace }] } : {}),
      values: {
        crds: { enabled: true, keep: true },
        ...highlyAvailable('controller', {
          requests: { cpu: '50m', memory: '128Mi' },
          limits: { cpu: '500m', memory: '512Mi' },
        }),
        // The HTTP-01 gatewayHTTPRoute solver needs cert-manager's Gateway API integration (off by default).
        ...(envoy
          ? {
              config: {
                apiVersion: 'controller.config.cert-manager.io/v1alpha1',
                kind: 'ControllerConfiguration',
                gatewayAPI: { enabled: true },
              },
            }
          : {}),
        webhook: highlyAvailable('webhook', { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '250m', memory: '256Mi' } }),
        cainjector: highlyAvailable('cainjector', {
          requests: { cpu: '20m', memory: '128Mi' },
          limits: { cpu: '250m', memory: '512Mi' },
        }),
        prometheus: { enabled: true },
      },
    });
  }
}

/** HTTP-01 through whichever edge is in use: an HTTPRoute on the Gateway's port-80 listener, or an nginx Ingress. */
function http01Solver(platform: Platform): ClusterIssuerSpecAcmeSolversHttp01 {
  if (platform.config.edge.controller === 'envoy-gateway') {
    return {
      gatewayHttpRoute: {
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: EDGE_GATEWAY.name,
            namespace: EDGE_GATEWAY.namespace,
            sectionName: GATEWAY_LISTENERS.http,
          },
        ],
      },
    };
  }
  return { ingress: { ingressClassName: INGRESS_NGINX.className } };
}

type Dns01Config = NonNullable<PlatformConfig['tls']['dns01']>;

/**
 * tls.dns01 as cert-manager's solver. The config uses cert-manager's own field names; the imported
 * types spell the `ID`/`DNS` suffixes in camel case and convert back when rendered. The Secrets are
 * read from the cert-manager namespace (the cluster resource namespace of ClusterIssuers).
 */
function dns01Solver(dns01: Dns01Config): ClusterIssuerSpecAcmeSolversDns01 {
  if (dns01.cloudflare) return { cloudflare: { apiTokenSecretRef: dns01.cloudflare.apiTokenSecretRef } };
  if (dns01.route53) {
    const { region, hostedZoneID, role, accessKeyID, accessKeyIDSecretRef, secretAccessKeySecretRef } = dns01.route53;
    return { route53: { region, hostedZoneId: hostedZoneID, role, accessKeyId: accessKeyID, accessKeyIdSecretRef: accessKeyIDSecretRef, secretAccessKeySecretRef } };
  }
  if (dns01.rfc2136) {
    const { nameserver, tsigKeyName, tsigAlgorithm, tsigSecretSecretRef, protocol } = dns01.rfc2136;
    return { rfc2136: { nameserver, tsigKeyName, tsigAlgorithm, tsigSecretSecretRef, protocol: protocol as ClusterIssuerSpecAcmeSolversDns01Rfc2136Protocol | undefined } };
  }
  if (dns01.cloudDNS) return { cloudDns: { ...dns01.cloudDNS } };
  if (dns01.azureDNS) {
    const { subscriptionID, resourceGroupName, hostedZoneName, environment, clientID, tenantID, clientSecretSecretRef, managedIdentity } = dns01.azureDNS;
    return {
      azureDns: {
        subscriptionId: subscriptionID,
        resourceGroupName,
        hostedZoneName,
        environment: environment as ClusterIssuerSpecAcmeSolversDns01AzureDnsEnvironment | undefined,
        clientId: clientID,
        tenantId: tenantID,
        clientSecretSecretRef,
        managedIdentity: managedIdentity ? { clientId: managedIdentity.clientID } : undefined,
      },
    };
  }
  if (dns01.digitalocean) return { digitalocean: { tokenSecretRef: dns01.digitalocean.tokenSecretRef } };
  if (dns01.acmeDNS) return { acmeDns: { host: dns01.acmeDNS.host, accountSecretRef: dns01.acmeDNS.accountSecretRef } };
  throw new Error('tls.dns01 names no provider (config validation enforces exactly one)');
}

/**
 * HTTP-01 through the edge for every name; DNS-01 for the names whose certificates need it
 * (dns01Names): cert-manager picks the solver whose selector names the domain over the unselected one.
 */
function acmeSolvers(platform: Platform): ClusterIssuerSpecAcmeSolvers[] {
  const solvers: ClusterIssuerSpecAcmeSolvers[] = [{ http01: http01Solver(platform) }];
  const names = dns01Names(platform);
  const dns01 = platform.config.tls.dns01;
  if (names.length > 0) {
    if (!dns01) throw new Error('a certificate needs DNS-01 but tls.dns01 is not set');
    solvers.push({ dns01: dns01Solver(dns01), selector: { dnsNames: names } });
  }
  return solvers;
}

/** ClusterIssuers (staging and production) and one Certificate per public host (stage 20). */
export class CertificatesChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'certificates', { platform, stage: '20-platform' });
    for (const [name, server] of Object.entries(CLUSTER_ISSUERS)) {
      new ClusterIssuer(this, name, {
        metadata: { name },
        spec: {
          acme: {
            email: platform.config.tls.acmeEmail,
            server,
            privateKeySecretRef: { name: `${name}-account-key` },
            solvers: acmeSolvers(platform),
          },
        },
      });
    }
    for (const certificate of publicCertificates(platform)) {
      new Certificate(this, `${certificate.namespace}-${certificate.name}`, {
        metadata: { name: certificate.name, namespace: certificate.namespace },
        spec: {
          secretName: certificate.secretName,
          dnsNames: [...certificate.dnsNames],
          issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: platform.config.tls.issuer },
          privateKey: {
            algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA,
            size: 256,
            rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
          },
        },
      });
    }
  }
}
