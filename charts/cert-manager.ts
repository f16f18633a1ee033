/*
 * cert-manager chart v1.21.1 (oci://quay.io/jetstack/charts/cert-manager). Values keys verified in
 * the chart's values.yaml and its strict values.schema.json at tag v1.21.1:
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
import { type AcmeSolver, certificate as certificateObject, clusterIssuer, type Dns01Solver, type Http01Solver } from '../constructs/cert-manager';
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
type Dns01Config = NonNullable<PlatformConfig['tls']['dns01']>;

/**
 * tls.dns01 as cert-manager's solver: the config uses cert-manager's own field names, so each
 * provider block is passed on as it is. The Secrets are read from the cert-manager namespace (the
 * cluster resource namespace of ClusterIssuers).
 */
function dns01Solver(dns01: Dns01Config): Dns01Solver {
  if (dns01.cloudflare) return { cloudflare: { apiTokenSecretRef: dns01.cloudflare.apiTokenSecretRef } };
  if (dns01.route53) return { route53: { ...dns01.route53 } };
  if (dns01.rfc2136) return { rfc2136: { ...dns01.rfc2136 } };
  if (dns01.cloudDNS) return { cloudDNS: { ...dns01.cloudDNS } };
  if (dns01.azureDNS) return { azureDNS: { ...dns01.azureDNS } as NonNullable<Dns01Solver['azureDNS']> };
  if (dns01.digitalocean) return { digitalocean: { tokenSecretRef: dns01.digitalocean.tokenSecretRef } };
  if (dns01.acmeDNS) return { acmeDNS: { host: dns01.acmeDNS.host, accountSecretRef: dns01.acmeDNS.accountSecretRef } };
  throw new Error('tls.dns01 names no provider (config validation enforces exactly one)');
}

function acmeSolvers(platform: Platform): AcmeSolver[] {
  const solvers: AcmeSolver[] = [{ http01: http01Solver(platform) }];
  const names = dns01Names(platform);
  const dns01 = platform.config.tls.dns01;
  if (names.length > 0) {
    if (!dns01) throw new Error('a certificate needs DNS-01 but tls.dns01 is not set');
    solvers.push({ dns01: dns01Solver(dns01), selector: { dnsNames: names } });
  }
  return solvers;
}

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
function http01Solver(platform: Platform): Http01Solver {
  if (platform.config.edge.controller === 'envoy-gateway') {
    return {
      gatewayHTTPRoute: {
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

/** ClusterIssuers (staging and production) and one Certificate per public host (stage 20). */
export class CertificatesChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'certificates', { platform, stage: '20-platform' });
    for (const [name, server] of Object.entries(CLUSTER_ISSUERS)) {
      clusterIssuer(this, name, {
        name,
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
      certificateObject(this, `${certificate.namespace}-${certificate.name}`, {
        name: certificate.name,
        namespace: certificate.namespace,
        spec: {
          secretName: certificate.secretName,
          dnsNames: [...certificate.dnsNames],
          issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: platform.config.tls.issuer },
          privateKey: {
            algorithm: 'ECDSA',
            size: 256,
            rotationPolicy: 'Always',
          },
        },
      });
    }
  }
}
