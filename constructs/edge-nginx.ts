import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Platform } from '../lib/model';
import { EDGE_PORTS, type EdgeAccess, edgeHosts, INGRESS_NGINX, separateFederationPort } from '../lib/model/edge-routes';
import { METRICS_PORTS } from '../lib/model/metrics';
import { charts } from '../lib/versions';
import { HelmReleaseWrapper } from './helm-release';

/*
 * ingress-nginx chart 4.15.1 (controller v1.15.1, the final release; the project was retired in
 * March 2026). Values keys verified in charts/ingress-nginx/values.yaml at tag helm-chart-4.15.1
 * and, where noted, in its templates:
 *   controller.kind, controller.replicaCount, controller.maxUnavailable (controller-poddisruptionbudget.yaml
 *   reads it with hasKey), controller.resources, controller.affinity, controller.topologySpreadConstraints,
 *   controller.config (ConfigMap: use-forwarded-headers, compute-full-forwarded-for, proxy-body-size),
 *   controller.ingressClassResource.{name,enabled,default}, controller.ingressClass,
 *   controller.publishService.enabled, controller.service.external.enabled (controller-service.yaml),
 *   controller.allowSnippetAnnotations (under controller, not at the top level: a top-level key is ignored),
 *   controller.metrics.{enabled, port} (templates/_params.tpl passes --enable-metrics only when enabled, and
 *   controller-deployment.yaml declares the `metrics` container port only then; the controller's own
 *   default is --enable-metrics=false, cmd flags at controller-v1.15.1), controller.metrics.service.enabled.
 * Annotations verified in docs/user-guide/nginx-configuration/annotations.md at controller-v1.15.1:
 *   nginx.ingress.kubernetes.io/whitelist-source-range, proxy-read-timeout, proxy-send-timeout.
 *
 * Port 8448: the chart's Service has fixed http/https ports only, and its `tcp` map proxies at L4 to a
 * Service, i.e. back into the controller's own 443 through a second hop that replaces the client
 * address (or needs PROXY protocol on 443, which breaks ordinary clients). So the chart's external
 * Service is switched off and this construct renders the LoadBalancer Service itself: 80 -> http,
 * 443 -> https and 8448 -> https (the same TLS listener; SNI selects the matrix host's certificate).
 * One Service, one address, no extra hop, the client address intact.
 */

const CONTROLLER_POD_SELECTOR = {
  'app.kubernetes.io/name': 'ingress-nginx',
  'app.kubernetes.io/instance': INGRESS_NGINX.releaseName,
  'app.kubernetes.io/component': 'controller',
};

/** nginx has no "no limit"; WebSocket signalling (timeout 0 in the table) gets an hour of idle time. */
const LONG_LIVED_TIMEOUT_SECONDS = 3600;

export class IngressNginxRelease extends Construct {
  constructor(scope: Construct, id: string, platform: Platform, stage: '10-operators') {
    super(scope, id);
    const { config } = platform;
    new HelmReleaseWrapper(this, 'release', {
      releaseName: INGRESS_NGINX.releaseName,
      namespace: INGRESS_NGINX.namespace,
      chart: charts.ingressNginx,
      gitops: config.gitops,
      stage,
      values: {
        controller: {
          kind: 'Deployment',
          allowSnippetAnnotations: false,
          // Metrics are off by default; the PodMonitor of lib/model/metrics.ts scrapes the pods' declared port.
          metrics: { enabled: true, port: METRICS_PORTS.ingressNginx, service: { enabled: false } },
          replicaCount: config.edge.replicas,
          maxUnavailable: 1,
          ingressClass: INGRESS_NGINX.className,
          ingressClassResource: { name: INGRESS_NGINX.className, enabled: true, default: false },
          publishService: { enabled: true },
          // Rendered by IngressNginxService (ports 80, 443 and the federation port on one address).
          service: { external: { enabled: false } },
          config: {
            // The TCP peer is the real client (externalTrafficPolicy Local, nothing in front): ignore
            // client-sent forwarding headers and set X-Forwarded-For to the peer address only.
            'use-forwarded-headers': 'false',
            'compute-full-forwarded-for': 'false',
            // Synapse enforces its own upload limit; nginx must not cut uploads at its 1m default.
            'proxy-body-size': config.synapse.maxUploadSize,
          },
          resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '4', memory: '2Gi' } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: CONTROLLER_POD_SELECTOR } },
                },
              ],
            },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: CONTROLLER_POD_SELECTOR },
            },
          ],
        },
      },
    });
  }
}

/** The edge's LoadBalancer Service for the controller pods (see the note at the top). */
export class IngressNginxService extends Construct {
  constructor(scope: Construct, id: string, platform: Platform) {
    super(scope, id);
    const { config } = platform;
    const port = (name: string, number: number, target: string): k8s.ServicePort => ({
      name,
      port: number,
      protocol: 'TCP',
      targetPort: k8s.IntOrString.fromString(target),
    });
    const ports = [port('http', EDGE_PORTS.http, 'http'), port('https', EDGE_PORTS.https, 'https')];
    if (separateFederationPort(config)) ports.push(port('federation', config.edge.federationPort, 'https'));
    new k8s.KubeService(this, 'service', {
      metadata: {
        name: INGRESS_NGINX.serviceName,
        namespace: INGRESS_NGINX.namespace,
        labels: CONTROLLER_POD_SELECTOR,
        ...(config.loadBalancer.edgeAddress ? { annotations: { 'metallb.io/loadBalancerIPs': config.loadBalancer.edgeAddress } } : {}),
      },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: CONTROLLER_POD_SELECTOR, ports },
    });
  }
}

export function nginxIngressName(host: string, access: EdgeAccess): string {
  return access === 'admin' ? `${host}-admin` : host;
}

/** One Ingress per host and access class; admin Ingresses carry the source allow-list. */
export class NginxIngresses extends Construct {
  constructor(scope: Construct, id: string, platform: Platform) {
    super(scope, id);
    const allowedCidrs = platform.config.admin.allowedCidrs.join(',');
    for (const host of edgeHosts(platform)) {
      for (const access of ['public', 'admin'] as const) {
        const paths = host.paths.filter((path) => path.access === access);
        if (paths.length === 0) continue;
        const timeouts = paths.map((path) => path.timeoutSeconds).filter((value): value is number => value !== undefined);
        const timeout = timeouts.includes(0) ? LONG_LIVED_TIMEOUT_SECONDS : Math.max(0, ...timeouts);
        const annotations: Record<string, string> = {
          ...(timeout > 0
            ? {
                'nginx.ingress.kubernetes.io/proxy-read-timeout': String(timeout),
                'nginx.ingress.kubernetes.io/proxy-send-timeout': String(timeout),
              }
            : {}),
          ...(access === 'admin' ? { 'nginx.ingress.kubernetes.io/whitelist-source-range': allowedCidrs } : {}),
        };
        const name = nginxIngressName(host.host, access);
        new k8s.KubeIngress(this, name, {
          metadata: { name, namespace: host.namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
          spec: {
            ingressClassName: INGRESS_NGINX.className,
            tls: [{ hosts: [host.host], secretName: host.tlsSecret }],
            rules: [
              {
                host: host.host,
                http: {
                  paths: paths.map((path) => ({
                    path: path.prefix,
                    pathType: 'Prefix',
                    backend: { service: { name: path.backend.service, port: { number: path.backend.port } } },
                  })),
                },
              },
            ],
          },
        });
      }
    }
  }
}
