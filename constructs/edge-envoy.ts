import { Construct } from 'constructs';
import {
  ClientTrafficPolicy,
  EnvoyProxy,
  EnvoyProxySpecProviderKubernetesEnvoyDeploymentContainerResourcesLimits as Limits,
  EnvoyProxySpecProviderKubernetesEnvoyDeploymentContainerResourcesRequests as Requests,
  EnvoyProxySpecProviderKubernetesEnvoyPdbMaxUnavailable,
  EnvoyProxySpecProviderKubernetesEnvoyServiceExternalTrafficPolicy,
  EnvoyProxySpecProviderKubernetesEnvoyServiceType,
  EnvoyProxySpecProviderType,
  SecurityPolicy,
  SecurityPolicySpecAuthorizationDefaultAction,
  SecurityPolicySpecAuthorizationRulesAction,
} from '../imports/gateway.envoyproxy.io';
import {
  Gateway,
  GatewayClass,
  type GatewaySpecListeners,
  GatewaySpecListenersAllowedRoutesNamespacesFrom,
  GatewaySpecListenersTlsMode,
  HttpRoute,
  type HttpRouteSpecRules,
  HttpRouteSpecRulesFiltersRequestRedirectScheme,
  HttpRouteSpecRulesFiltersRequestRedirectStatusCode,
  HttpRouteSpecRulesFiltersType,
  HttpRouteSpecRulesMatchesPathType,
} from '../imports/gateway.networking.k8s.io';
import type { Platform } from '../lib/model';
import {
  EDGE_GATEWAY,
  EDGE_PORTS,
  type EdgeAccess,
  type EdgeHost,
  type EdgePath,
  edgeHosts,
  GATEWAY_LISTENERS,
  routeNamespaces,
  separateFederationPort,
} from '../lib/model/edge-routes';
import { charts } from '../lib/versions';
import { HelmReleaseWrapper } from './helm-release';

/*
 * Envoy Gateway chart gateway-helm v1.9.0 (oci://docker.io/envoyproxy/gateway-helm). Values keys verified
 * in charts/gateway-helm/values.tmpl.yaml at tag v1.9.0:
 *   deployment.replicas, deployment.envoyGateway.resources, deployment.pod.topologySpreadConstraints,
 *   podDisruptionBudget.minAvailable (int; the PDB renders only for >= 1), crds.enabled.
 * The chart's default pod/container securityContext is already non-root, read-only, drop ALL, seccomp RuntimeDefault.
 */

const GATEWAY_API = 'gateway.networking.k8s.io';
/** Labels Envoy Gateway puts on the proxy pods of a Gateway (internal/gatewayapi/translator.go). */
const PROXY_POD_SELECTOR = {
  'gateway.envoyproxy.io/owning-gateway-name': EDGE_GATEWAY.name,
  'gateway.envoyproxy.io/owning-gateway-namespace': EDGE_GATEWAY.namespace,
};
const CONTROLLER_NAME = 'gateway.envoyproxy.io/gatewayclass-controller';
/** Headers a client could send to fake its address; removed before Envoy appends the real peer address. */
export const SPOOFABLE_CLIENT_HEADERS = ['X-Forwarded-For', 'X-Real-IP', 'Forwarded'];

export class EnvoyGatewayRelease extends Construct {
  constructor(scope: Construct, id: string, platform: Platform, stage: '10-operators') {
    super(scope, id);
    new HelmReleaseWrapper(this, 'release', {
      releaseName: EDGE_GATEWAY.releaseName,
      namespace: EDGE_GATEWAY.namespace,
      chart: charts.envoyGateway,
      gitops: platform.config.gitops,
      stage,
      values: {
        crds: { enabled: true },
        // Two controllers (leader election) so a node drain never stops xDS updates or certificate reloads.
        deployment: {
          replicas: 2,
          envoyGateway: {
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
          },
          pod: {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'envoy-gateway' } },
              },
            ],
          },
        },
        podDisruptionBudget: { minAvailable: 1 },
      },
    });
  }
}

function httpsListener(host: EdgeHost, port: number, name: string, namespaces: string[]): GatewaySpecListeners {
  return {
    name,
    port,
    protocol: 'HTTPS',
    hostname: host.host,
    tls: { mode: GatewaySpecListenersTlsMode.TERMINATE, certificateRefs: [{ group: '', kind: 'Secret', name: host.tlsSecret }] },
    allowedRoutes: allowedRoutes(namespaces),
  };
}

function allowedRoutes(namespaces: string[]): GatewaySpecListeners['allowedRoutes'] {
  return {
    namespaces: {
      from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SELECTOR,
      selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] },
    },
  };
}

/** Name of the HTTPRoute of one host, access class and listener. */
export function envoyRouteName(host: string, access: EdgeAccess, federation = false): string {
  return `${host}${access === 'admin' ? '-admin' : ''}${federation ? '-federation' : ''}`;
}

/**
 * GatewayClass, EnvoyProxy (the LoadBalancer Service and proxy Deployment), the Gateway with its
 * listeners, the HTTP->HTTPS redirect, client IP handling and the admin allow-list.
 */
export class EnvoyEdge extends Construct {
  constructor(scope: Construct, id: string, platform: Platform) {
    super(scope, id);
    const { config } = platform;
    const namespace = EDGE_GATEWAY.namespace;
    const hosts = edgeHosts(platform);
    const namespaces = routeNamespaces(platform);

    new EnvoyProxy(this, 'proxy', {
      metadata: { name: EDGE_GATEWAY.name, namespace },
      spec: {
        provider: {
          type: EnvoyProxySpecProviderType.KUBERNETES,
          kubernetes: {
            envoyService: {
              type: EnvoyProxySpecProviderKubernetesEnvoyServiceType.LOAD_BALANCER,
              // Keeps the client's source address: nodes without a proxy pod do not answer for the address.
              externalTrafficPolicy: EnvoyProxySpecProviderKubernetesEnvoyServiceExternalTrafficPolicy.LOCAL,
              ...(config.loadBalancer.edgeAddress
                ? { annotations: { 'metallb.io/loadBalancerIPs': config.loadBalancer.edgeAddress } }
                : {}),
            },
            envoyDeployment: {
              replicas: config.edge.replicas,
              pod: {
                affinity: {
                  podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      {
                        weight: 100,
                        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: PROXY_POD_SELECTOR } },
                      },
                    ],
                  },
                },
                topologySpreadConstraints: [
                  {
                    maxSkew: 1,
                    topologyKey: 'topology.kubernetes.io/zone',
                    whenUnsatisfiable: 'ScheduleAnyway',
                    labelSelector: { matchLabels: PROXY_POD_SELECTOR },
                  },
                ],
              },
              container: {
                resources: {
                  requests: { cpu: Requests.fromString('500m'), memory: Requests.fromString('512Mi') },
                  limits: { cpu: Limits.fromString('4'), memory: Limits.fromString('2Gi') },
                },
              },
            },
            envoyPdb: { maxUnavailable: EnvoyProxySpecProviderKubernetesEnvoyPdbMaxUnavailable.fromNumber(1) },
          },
        },
      },
    });

    new GatewayClass(this, 'class', {
      metadata: { name: EDGE_GATEWAY.className },
      spec: {
        controllerName: CONTROLLER_NAME,
        parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: EDGE_GATEWAY.name, namespace },
      },
    });

    const listeners: GatewaySpecListeners[] = [
      { name: GATEWAY_LISTENERS.http, port: EDGE_PORTS.http, protocol: 'HTTP', allowedRoutes: allowedRoutes(namespaces) },
      // HTTPS listeners are named after their host (a valid listener name; hosts always contain a dot).
      ...hosts.map((host) => httpsListener(host, EDGE_PORTS.https, host.host, namespaces)),
    ];
    if (separateFederationPort(config)) {
      for (const host of hosts.filter((candidate) => candidate.federationPaths.length > 0)) {
        listeners.push(httpsListener(host, config.edge.federationPort, GATEWAY_LISTENERS.federation, namespaces));
      }
    }
    new Gateway(this, 'gateway', {
      metadata: { name: EDGE_GATEWAY.name, namespace },
      spec: { gatewayClassName: EDGE_GATEWAY.className, listeners },
    });

    // Everything on port 80 except ACME challenges (cert-manager's own, more specific routes) goes to HTTPS.
    new HttpRoute(this, 'redirect', {
      metadata: { name: 'https-redirect', namespace },
      spec: {
        parentRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: EDGE_GATEWAY.name, namespace, sectionName: GATEWAY_LISTENERS.http }],
        hostnames: hosts.map((host) => host.host),
        rules: [
          {
            filters: [
              {
                type: HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                requestRedirect: {
                  scheme: HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS,
                  statusCode: HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301,
                },
              },
            ],
          },
        ],
      },
    });

    // The TCP peer is the real client (externalTrafficPolicy Local, nothing in front of the edge): no
    // hop is trusted, client-sent forwarding headers are dropped, and Envoy sets X-Forwarded-For to the peer.
    new ClientTrafficPolicy(this, 'client-ip', {
      metadata: { name: EDGE_GATEWAY.name, namespace },
      spec: {
        targetRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: EDGE_GATEWAY.name }],
        clientIpDetection: { xForwardedFor: { numTrustedHops: 0 } },
        headers: { earlyRequestHeaders: { remove: SPOOFABLE_CLIENT_HEADERS } },
      },
    });

    // Admin routes: deny by default, allow exactly admin.allowedCidrs. Created before the routes exist
    // (stage 20 vs 40), so an admin route is never reachable without its policy.
    const adminRoutesByNamespace = new Map<string, string[]>();
    for (const host of hosts) {
      if (!host.paths.some((path) => path.access === 'admin')) continue;
      const names = adminRoutesByNamespace.get(host.namespace) ?? [];
      names.push(envoyRouteName(host.host, 'admin'));
      adminRoutesByNamespace.set(host.namespace, names);
    }
    for (const [routeNamespace, routeNames] of [...adminRoutesByNamespace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      new SecurityPolicy(this, `admin-${routeNamespace}`, {
        metadata: { name: 'admin-allowlist', namespace: routeNamespace },
        spec: {
          targetRefs: routeNames.map((name) => ({ group: GATEWAY_API, kind: 'HTTPRoute', name })),
          authorization: {
            defaultAction: SecurityPolicySpecAuthorizationDefaultAction.DENY,
            rules: [
              {
                name: 'admin-networks',
                action: SecurityPolicySpecAuthorizationRulesAction.ALLOW,
                principal: { clientCidRs: [...config.admin.allowedCidrs] },
              },
            ],
          },
        },
      });
    }
  }
}

function routeRules(paths: readonly EdgePath[]): HttpRouteSpecRules[] {
  return paths.map((path) => ({
    matches: [{ path: { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: path.prefix } }],
    backendRefs: [{ group: '', kind: 'Service', name: path.backend.service, port: path.backend.port }],
    ...(path.timeoutSeconds !== undefined ? { timeouts: { request: `${path.timeoutSeconds}s` } } : {}),
  }));
}

/** One HTTPRoute per host and access class (admin routes separate, so the SecurityPolicy targets only them). */
export class EnvoyRoutes extends Construct {
  constructor(scope: Construct, id: string, platform: Platform) {
    super(scope, id);
    const parent = (sectionName: string) => ({
      group: GATEWAY_API,
      kind: 'Gateway',
      name: EDGE_GATEWAY.name,
      namespace: EDGE_GATEWAY.namespace,
      sectionName,
    });
    for (const host of edgeHosts(platform)) {
      for (const access of ['public', 'admin'] as const) {
        const paths = host.paths.filter((path) => path.access === access);
        if (paths.length === 0) continue;
        const name = envoyRouteName(host.host, access);
        new HttpRoute(this, name, {
          metadata: { name, namespace: host.namespace },
          spec: { parentRefs: [parent(host.host)], hostnames: [host.host], rules: routeRules(paths) },
        });
      }
      if (host.federationPaths.length > 0 && separateFederationPort(platform.config)) {
        const name = envoyRouteName(host.host, 'public', true);
        new HttpRoute(this, name, {
          metadata: { name, namespace: host.namespace },
          spec: { parentRefs: [parent(GATEWAY_LISTENERS.federation)], hostnames: [host.host], rules: routeRules(host.federationPaths) },
        });
      }
    }
  }
}
