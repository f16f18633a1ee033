import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { componentLabels, configMap, container, contentHash, httpProbe, service, Workload } from '../constructs/workload';
import { ADMIN_UI, type Platform } from '../lib/model';
import { images } from '../lib/versions';

/**
 * Ketesa (the maintained continuation of synapse-admin). Image facts (etkecc/ketesa docker/Dockerfile):
 * static-web-server as uid 1000, port 8080, GET /health, config at /var/public/config.json.
 * Config keys (docs/config.md): restrictBaseUrl. The edge routes it behind the admin IP allow-list.
 */
const KETESA_UID = 1000;

export class AdminUiChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'admin-ui', { platform, stage: '40-apps', namespace: ADMIN_UI.namespace });
    // Only our homeserver can be administered from this UI.
    const configJson = `${JSON.stringify({ restrictBaseUrl: [`https://${platform.hosts.matrix}`] }, null, 2)}\n`;
    const selector = { 'app.kubernetes.io/name': ADMIN_UI.name };
    configMap(this, 'config', {
      name: `${ADMIN_UI.name}-config`,
      namespace: ADMIN_UI.namespace,
      data: { 'config.json': configJson },
      labels: componentLabels(ADMIN_UI.name, 'admin'),
    });
    new Workload(this, 'workload', {
      kind: 'Deployment',
      name: ADMIN_UI.name,
      namespace: ADMIN_UI.namespace,
      selector,
      labels: componentLabels(ADMIN_UI.name, 'admin'),
      replicas: platform.config.adminUi.replicas,
      identity: { runAsUser: KETESA_UID },
      podAnnotations: { 'matrix-platform/config-hash': contentHash(configJson) },
      containers: [
        container({
          name: 'ketesa',
          image: images.ketesa,
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
          env: [{ name: 'SERVER_PORT', value: String(ADMIN_UI.port) }],
          ports: [{ name: 'http', containerPort: ADMIN_UI.port }],
          volumeMounts: [{ name: 'config', mountPath: '/var/public/config.json', subPath: 'config.json', readOnly: true }],
          livenessProbe: httpProbe('/health', 'http'),
          readinessProbe: httpProbe('/health', 'http', { periodSeconds: 5 }),
        }),
      ],
      volumes: [{ name: 'config', configMap: { name: `${ADMIN_UI.name}-config` } }],
    });
    service(this, 'service', {
      name: ADMIN_UI.name,
      namespace: ADMIN_UI.namespace,
      selector,
      ports: [{ name: 'http', port: ADMIN_UI.port }],
    });
  }
}
