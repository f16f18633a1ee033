import { RUN_AS } from '../lib/model/run-as';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type Platform, WELL_KNOWN } from '../lib/model';
import { wellKnownDocuments } from '../lib/model/well-known';
import { images } from '../lib/versions';
import { componentLabels, configMap, container, contentHash, httpProbe, service, Workload } from './workload';

const CONFIG_DIR = '/etc/matrix-well-known';

/**
 * nginx configuration: only the two discovery documents, always as application/json with
 * `Access-Control-Allow-Origin: *` (Matrix clients fetch them cross-origin from the browser).
 * Runs unprivileged with a read-only root: pid and temp files live in the /tmp emptyDir.
 */
export function wellKnownNginxConf(port: number): string {
  const document = (name: string) => [
    `    location = /.well-known/matrix/${name} {`,
    '      default_type application/json;',
    '      add_header Access-Control-Allow-Origin "*" always;',
    '      add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;',
    '      add_header Access-Control-Allow-Headers "X-Requested-With, Content-Type, Authorization" always;',
    '      add_header Cache-Control "public, max-age=3600" always;',
    '      if ($request_method = OPTIONS) { return 204; }',
    `      alias ${CONFIG_DIR}/${name}.json;`,
    '    }',
  ];
  return [
    'worker_processes 2;',
    'pid /tmp/nginx.pid;',
    'error_log /dev/stderr warn;',
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    '  types { }',
    '  client_body_temp_path /tmp/client_body;',
    '  proxy_temp_path /tmp/proxy;',
    '  fastcgi_temp_path /tmp/fastcgi;',
    '  uwsgi_temp_path /tmp/uwsgi;',
    '  scgi_temp_path /tmp/scgi;',
    '  server {',
    `    listen ${port};`,
    ...document('server'),
    ...document('client'),
    '    location = /healthz { access_log off; default_type text/plain; return 200 "ok\\n"; }',
    '    location / { return 404; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * A tiny static server for /.well-known/matrix/{server,client}. One implementation behind either
 * edge (Envoy Gateway or ingress-nginx), so both serve byte-identical documents and headers.
 */
export class WellKnownServer extends Construct {
  constructor(scope: Construct, id: string, platform: Platform) {
    super(scope, id);
    const documents = wellKnownDocuments(platform);
    const nginxConf = wellKnownNginxConf(WELL_KNOWN.port);
    const selector = { 'app.kubernetes.io/instance': WELL_KNOWN.name, ...componentLabels('nginx', 'well-known') };
    configMap(this, 'config', {
      name: WELL_KNOWN.name,
      namespace: WELL_KNOWN.namespace,
      labels: selector,
      data: { 'nginx.conf': nginxConf, 'server.json': documents.server, 'client.json': documents.client },
    });
    new Workload(this, 'workload', {
      kind: 'Deployment',
      name: WELL_KNOWN.name,
      namespace: WELL_KNOWN.namespace,
      selector,
      replicas: 2,
      identity: { runAsUser: RUN_AS.wellKnown },
      configHash: contentHash(nginxConf, documents.server, documents.client),
      containers: [
        container({
          name: 'nginx',
          image: images.wellKnownNginx,
          // Bypass the image's entrypoint scripts (they rewrite files under /etc/nginx).
          command: ['nginx', '-e', '/dev/stderr', '-c', `${CONFIG_DIR}/nginx.conf`, '-g', 'daemon off;'],
          drainBeforeStop: true,
          ports: [{ name: 'http', containerPort: WELL_KNOWN.port }],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
          volumeMounts: [
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
          readinessProbe: httpProbe('/healthz', 'http'),
          livenessProbe: httpProbe('/healthz', 'http', { initialDelaySeconds: 5 }),
        }),
      ],
      volumes: [
        { name: 'config', configMap: { name: WELL_KNOWN.name } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
      ],
    });
    service(this, 'service', {
      name: WELL_KNOWN.name,
      namespace: WELL_KNOWN.namespace,
      selector,
      ports: [{ name: 'http', port: WELL_KNOWN.port, targetPort: 'http' }],
    });
  }
}
