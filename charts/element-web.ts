import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { componentLabels, configMap, container, contentHash, httpProbe, service, Workload } from '../constructs/workload';
import { ELEMENT_WEB, type Platform } from '../lib/model';
import { elementWebCallSettings } from '../lib/model/calls';
import { images } from '../lib/versions';

/**
 * Element Web. Image facts (element-web apps/web/Dockerfile, docker-entrypoint.d): nginx-unprivileged
 * as uid 101, listen port from ELEMENT_WEB_PORT (default 80, so set to 8080), config at /app/config.json
 * copied to /tmp at start, nginx temp files under /tmp, envsubst writes /etc/nginx/conf.d/default.conf.
 * config.json keys (apps/web/src/IConfigOptions.ts): default_server_config, brand, disable_guests,
 * disable_custom_urls, features, element_call { guest_spa_url, use_exclusively, brand }.
 */
const ELEMENT_UID = 101;

export function elementWebConfig(platform: Platform): Record<string, unknown> {
  const { config, hosts } = platform;
  return {
    default_server_config: {
      'm.homeserver': { base_url: `https://${hosts.matrix}`, server_name: hosts.serverName },
    },
    brand: config.elementWeb.brand,
    disable_guests: true,
    disable_custom_urls: false,
    default_federate: true,
    permalink_prefix: `https://${hosts.element}`,
    // Element Call settings (features, element_call) come from the calls model: lib/model/calls.ts.
    ...elementWebCallSettings(platform),
  };
}

export class ElementWebChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'element-web', { platform, stage: '40-apps', namespace: ELEMENT_WEB.namespace });
    const configJson = `${JSON.stringify(elementWebConfig(platform), null, 2)}\n`;
    const selector = { 'app.kubernetes.io/name': ELEMENT_WEB.name };
    configMap(this, 'config', {
      name: `${ELEMENT_WEB.name}-config`,
      namespace: ELEMENT_WEB.namespace,
      data: { 'config.json': configJson },
      labels: componentLabels(ELEMENT_WEB.name, 'web'),
    });
    new Workload(this, 'workload', {
      kind: 'Deployment',
      name: ELEMENT_WEB.name,
      namespace: ELEMENT_WEB.namespace,
      selector,
      labels: componentLabels(ELEMENT_WEB.name, 'web'),
      replicas: platform.config.elementWeb.replicas,
      identity: { runAsUser: ELEMENT_UID },
      podAnnotations: { 'matrix-platform/config-hash': contentHash(configJson) },
      containers: [
        container({
          name: 'element-web',
          image: images.elementWeb,
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          env: [{ name: 'ELEMENT_WEB_PORT', value: String(ELEMENT_WEB.port) }],
          ports: [{ name: 'http', containerPort: ELEMENT_WEB.port }],
          volumeMounts: [
            { name: 'config', mountPath: '/app/config.json', subPath: 'config.json', readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'nginx-conf', mountPath: '/etc/nginx/conf.d' },
          ],
          livenessProbe: httpProbe('/config.json', 'http'),
          readinessProbe: httpProbe('/config.json', 'http', { periodSeconds: 5 }),
        }),
      ],
      volumes: [
        { name: 'config', configMap: { name: `${ELEMENT_WEB.name}-config` } },
        { name: 'tmp', emptyDir: { medium: 'Memory' } },
        { name: 'nginx-conf', emptyDir: { medium: 'Memory' } },
      ],
    });
    service(this, 'service', {
      name: ELEMENT_WEB.name,
      namespace: ELEMENT_WEB.namespace,
      selector,
      ports: [{ name: 'http', port: ELEMENT_WEB.port }],
    });
  }
}
