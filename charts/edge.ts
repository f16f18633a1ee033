/*
 * The edge: Envoy Gateway (default) or ingress-nginx, chosen by edge.controller. Both render the one
 * routing table of lib/model/edge-routes.ts. Verified chart values keys are listed at the top of
 * constructs/edge-envoy.ts (gateway-helm v1.9.0) and constructs/edge-nginx.ts (ingress-nginx 4.15.1).
 *
 * Stages: the controller chart in 10-operators; Gateway, EnvoyProxy, policies and the LoadBalancer
 * Service in 20-platform (the admin SecurityPolicy exists before the route it guards); HTTPRoutes,
 * Ingresses and the well-known server in 40-apps with the backends they point at.
 */
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { EnvoyEdge, EnvoyGatewayRelease, EnvoyRoutes } from '../constructs/edge-envoy';
import { IngressNginxRelease, IngressNginxService, NginxIngresses } from '../constructs/edge-nginx';
import { WellKnownServer } from '../constructs/well-known-server';
import type { Platform } from '../lib/model';

/** The edge controller (and with Envoy Gateway, the Gateway API and Envoy Gateway CRDs). */
export class EdgeOperatorChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'edge-controller', { platform, stage: '10-operators' });
    if (platform.config.edge.controller === 'envoy-gateway') new EnvoyGatewayRelease(this, 'envoy-gateway', platform, '10-operators');
    else new IngressNginxRelease(this, 'ingress-nginx', platform, '10-operators');
  }
}

/** The public entry point: LoadBalancer Service, listeners, client-IP handling, admin allow-list. */
export class EdgeChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'edge', { platform, stage: '20-platform' });
    if (platform.config.edge.controller === 'envoy-gateway') new EnvoyEdge(this, 'envoy', platform);
    else new IngressNginxService(this, 'ingress-nginx', platform);
  }
}

/** Per-host routes and the /.well-known/matrix documents. */
export class EdgeRoutesChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'edge-routes', { platform, stage: '40-apps' });
    new WellKnownServer(this, 'well-known', platform);
    if (platform.config.edge.controller === 'envoy-gateway') new EnvoyRoutes(this, 'routes', platform);
    else new NginxIngresses(this, 'routes', platform);
  }
}
