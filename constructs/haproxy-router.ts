import { RUN_AS } from '../lib/model/run-as';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { PlatformConfig } from '../lib/config';
import { type Platform, SYNAPSE_ROUTER } from '../lib/model';
import { METRICS_PORTS } from '../lib/model/metrics';
import { SIZING } from '../lib/model/sizing';
import { images } from '../lib/versions';
import { componentLabels, configMap, container, contentHash, ENDPOINT_DRAIN_SECONDS, httpProbe, service, Workload } from './workload';
import { type HttpMethod, type ResolvedRoute, resolveRoutes } from '../lib/model/routes';
import {
  activeWorkerTypes,
  MAIN_INSTANCE,
  MAIN_NAME,
  poolName,
  processesOf,
  SYNAPSE_NAMESPACE,
  SYNAPSE_PORTS,
  type WorkerType,
} from '../lib/model/workers';

/**
 * haproxy.cfg of the internal Synapse router, generated from the route table (lib/model/routes.ts)
 * and the process catalogue (lib/model/workers.ts). Same rules as `routeRequest`: use_backend rules in
 * route order, method ACLs for GET-only routes, the initial-sync split on a missing `since` parameter,
 * default to main.
 */

export const ROUTER_PORTS = {
  /** What the edge and the router Service send to (SYNAPSE_ROUTER.port). */
  http: SYNAPSE_ROUTER.port,
  /** /healthz (monitor-uri) and /metrics (built-in Prometheus exporter), scraped on METRICS_PORTS.synapseRouter. */
  status: METRICS_PORTS.synapseRouter,
} as const;

/** Response header naming the pool that served a request (tests, debugging). */
export const BACKEND_HEADER = 'X-Synapse-Backend';

const MAIN_BACKEND = MAIN_NAME;

/** Suffix of the backend that balances a pool by room ID (routes with stickyByRoom). */
export const ROOM_BACKEND_SUFFIX = '-by-room';

function backendName(route: ResolvedRoute): string {
  if (route.target === MAIN_INSTANCE) return MAIN_BACKEND;
  return `${poolName(route.target)}${route.stickyByRoom ? ROOM_BACKEND_SUFFIX : ''}`;
}

function aclName(route: ResolvedRoute): string {
  return `route_${route.id.replace(/[^a-z0-9]/g, '_')}`;
}

/** One named ACL per method set (`method_get`, `method_post_put_delete`), so every rule reads the same way. */
function methodAcl(methods: readonly HttpMethod[]): string {
  return `method_${methods.map((method) => method.toLowerCase()).join('_')}`;
}

function balanceLines(type: WorkerType): string[] {
  switch (type.balance) {
    case 'access-token':
      return ['balance hash var(txn.sync_user)', 'hash-type consistent'];
    case 'client-address':
      return ['balance hash var(txn.client_address)', 'hash-type consistent'];
    default:
      return ['balance roundrobin'];
  }
}

function backend(name: string, label: string, balance: string[], servers: { name: string; host: string }[]): string[] {
  return [
    `backend ${name}`,
    ...balance.map((line) => `    ${line}`),
    '    option httpchk',
    '    http-check send meth GET uri /health',
    '    http-check expect status 200',
    `    http-response set-header ${BACKEND_HEADER} ${label}`,
    ...servers.map((server) => `    server ${server.name} ${server.host}:${SYNAPSE_PORTS.http}`),
    '',
  ];
}

/**
 * On its stop signal (SIGUSR1, the haproxy image's STOPSIGNAL) HAProxy stops listening and lets
 * running requests finish, long-polling /sync included, for at most this long.
 */
export const ROUTER_HARD_STOP_SECONDS = 60;

export function buildHaproxyConfig(config: PlatformConfig): string {
  const routes = resolveRoutes(config);
  const methodSets = new Map(routes.flatMap((route) => (route.methods ? [[methodAcl(route.methods), route.methods] as const] : [])));
  const lines: string[] = [
    '# Generated from lib/model/routes.ts and lib/model/workers.ts. Do not edit.',
    'global',
    '    log stdout format raw local0 info',
    '    maxconn 50000',
    `    hard-stop-after ${ROUTER_HARD_STOP_SECONDS}s`,
    '',
    'resolvers kubedns',
    '    parse-resolv-conf',
    '    hold valid 10s',
    '    hold nx 5s',
    '    accepted_payload_size 8192',
    '',
    'defaults',
    '    mode http',
    '    log global',
    '    option httplog',
    '    option dontlognull',
    '    option redispatch',
    '    retries 2',
    '    timeout connect 5s',
    '    timeout http-request 30s',
    '    timeout http-keep-alive 60s',
    '    timeout queue 30s',
    // Long-polling /sync waits up to 30 s by default, clients may ask for more; uploads can be slow.
    '    timeout client 180s',
    '    timeout server 180s',
    // Pods come and go: resolve through cluster DNS at run time, start even when a name does not resolve yet.
    '    default-server check inter 5s fall 3 rise 2 resolvers kubedns init-addr last,libc,none resolve-prefer ipv4',
    '',
    'frontend status',
    `    bind :${ROUTER_PORTS.status}`,
    '    monitor-uri /healthz',
    '    http-request use-service prometheus-exporter if { path /metrics }',
    '',
    'frontend synapse',
    `    bind :${ROUTER_PORTS.http}`,
    '    option http-buffer-request',
    // The edge is the only client of this port (NetworkPolicy) and sets X-Forwarded-For: its last entry
    // is the address the edge saw, the one inbound federation is balanced by.
    '    http-request set-var(txn.client_address) req.hdr_ip(X-Forwarded-For,-1) if { req.hdr(X-Forwarded-For) -m found }',
    '    http-request set-var(txn.client_address) src unless { var(txn.client_address) -m found }',
    // Sync stickiness per user (docs/workers.md: "extracting username part from the users access token").
    // Synapse tokens are syt_<base64 localpart>_<random>_<crc>: hashing the localpart keeps all of a
    // user's devices, and a device across refresh-token rotations (every 5 minutes for Element X), on
    // one sync process. Other tokens (MAS, appservices) are hashed whole. Header first, then query parameter.
    '    http-request set-var(txn.access_token) req.hdr(Authorization) if { req.hdr(Authorization) -m found }',
    '    http-request set-var(txn.access_token) url_param(access_token) unless { var(txn.access_token) -m found }',
    '    acl synapse_token var(txn.access_token) -m reg ^(Bearer.)?syt_[^_]+_',
    '    http-request set-var(txn.sync_user) var(txn.access_token),field(2,_) if synapse_token',
    '    http-request set-var(txn.sync_user) var(txn.access_token) unless synapse_token',
    // Pagination stickiness: the room ID path segment (decoded, so encoded and raw forms agree).
    '    http-request set-var(txn.room_id) path,url_dec,regsub(^.*/rooms/,),regsub(/.*$,)',
    '    acl has_since url_param(since) -m found',
    ...[...methodSets.keys()].sort().map((name) => `    acl ${name} method ${methodSets.get(name)?.join(' ')}`),
    ...routes.map((route) => `    acl ${aclName(route)} path_reg ${route.pattern}`),
  ];
  for (const route of routes) {
    const methodCondition = route.methods ? ` ${methodAcl(route.methods)}` : '';
    if (route.initialSyncTarget) {
      lines.push(`    use_backend ${poolName(route.initialSyncTarget)} if ${aclName(route)}${methodCondition} !has_since`);
    }
    lines.push(`    use_backend ${backendName(route)} if ${aclName(route)}${methodCondition}`);
  }
  lines.push(`    default_backend ${MAIN_BACKEND}`, '');
  lines.push(
    ...backend(MAIN_BACKEND, MAIN_INSTANCE, ['balance roundrobin'], [
      { name: MAIN_NAME, host: `${MAIN_NAME}.${SYNAPSE_NAMESPACE}.svc.cluster.local` },
    ]),
  );
  const poolOf = (route: ResolvedRoute): WorkerType[] => (route.target === MAIN_INSTANCE ? [] : [route.target]);
  const routedPools = new Set(
    routes.filter((route) => !route.stickyByRoom).flatMap((route) => [...poolOf(route), ...(route.initialSyncTarget ? [route.initialSyncTarget] : [])].map((type) => type.id)),
  );
  const roomPools = new Set(routes.filter((route) => route.stickyByRoom).flatMap((route) => poolOf(route).map((type) => type.id)));
  for (const type of activeWorkerTypes(config)) {
    const servers = processesOf(config, type).map((process) => ({ name: process.podName, host: process.host }));
    if (routedPools.has(type.id)) lines.push(...backend(poolName(type), type.pool, balanceLines(type), servers));
    if (roomPools.has(type.id)) {
      lines.push(...backend(`${poolName(type)}${ROOM_BACKEND_SUFFIX}`, type.pool, ['balance hash var(txn.room_id)', 'hash-type consistent'], servers));
    }
  }
  return lines.join('\n');
}

const ROUTER_CONFIG_MAP = `${SYNAPSE_ROUTER.name}-config`;
const ROUTER_RESOURCES = SIZING.synapseRouter;

/** HAProxy Deployment (config.synapse.routerReplicas, spread, PDB), its generated config and the SYNAPSE_ROUTER Service. */
export class HaproxyRouter extends Construct {
  constructor(scope: Construct, id: string, props: { platform: Platform }) {
    super(scope, id);
    const { config } = props.platform;
    const haproxyCfg = buildHaproxyConfig(config);
    const selector = { 'app.kubernetes.io/name': SYNAPSE_ROUTER.name, 'app.kubernetes.io/component': 'router' };
    configMap(this, 'config', {
      name: ROUTER_CONFIG_MAP,
      namespace: SYNAPSE_ROUTER.namespace,
      data: { 'haproxy.cfg': haproxyCfg },
      labels: componentLabels(SYNAPSE_ROUTER.name, 'router'),
    });
    new Workload(this, 'workload', {
      kind: 'Deployment',
      name: SYNAPSE_ROUTER.name,
      namespace: SYNAPSE_ROUTER.namespace,
      selector,
      labels: componentLabels(SYNAPSE_ROUTER.name, 'router'),
      replicas: config.synapse.routerReplicas,
      identity: { runAsUser: RUN_AS.haproxy },
      configHash: contentHash(haproxyCfg),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
      // The edge stops sending during the drain, then running requests get their hard-stop time.
      terminationGracePeriodSeconds: ENDPOINT_DRAIN_SECONDS + ROUTER_HARD_STOP_SECONDS + 5,
      containers: [
        container({
          name: 'haproxy',
          image: images.haproxy,
          resources: ROUTER_RESOURCES,
          command: ['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'],
          drainBeforeStop: true,
          ports: [
            { name: 'http', containerPort: ROUTER_PORTS.http },
            { name: 'status', containerPort: ROUTER_PORTS.status },
          ],
          volumeMounts: [
            { name: 'config', mountPath: '/usr/local/etc/haproxy', readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
          livenessProbe: httpProbe('/healthz', 'status'),
          readinessProbe: httpProbe('/healthz', 'status', { periodSeconds: 5 }),
        }),
      ],
      volumes: [
        { name: 'config', configMap: { name: ROUTER_CONFIG_MAP } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
      ],
    });
    service(this, 'service', {
      name: SYNAPSE_ROUTER.name,
      namespace: SYNAPSE_ROUTER.namespace,
      selector,
      ports: [
        { name: 'http', port: SYNAPSE_ROUTER.port, targetPort: ROUTER_PORTS.http },
        { name: 'status', port: ROUTER_PORTS.status },
      ],
    });
  }
}
