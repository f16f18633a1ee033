import { RUN_AS } from '../lib/model/run-as';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { StaticWebApp } from '../constructs/static-web-app';
import { ELEMENT_WEB, type Platform } from '../lib/model';
import { elementWebCallSettings } from '../lib/model/calls';
import { images } from '../lib/versions';

/**
 * Element Web. Image facts (element-web apps/web/Dockerfile, docker-entrypoint.d): nginx-unprivileged
 * (image user uid 101; run as RUN_AS.elementWeb), listen port from ELEMENT_WEB_PORT (default 80, so set to 8080), config at /app/config.json
 * copied to /tmp at start, nginx temp files under /tmp, envsubst writes /etc/nginx/conf.d/default.conf.
 * config.json keys (apps/web/src/IConfigOptions.ts): default_server_config, brand, disable_guests,
 * disable_custom_urls, features, element_call { guest_spa_url, use_exclusively, brand }.
 */

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
    new StaticWebApp(this, 'element-web', {
      name: ELEMENT_WEB.name,
      namespace: ELEMENT_WEB.namespace,
      component: 'web',
      replicas: platform.config.elementWeb.replicas,
      image: images.elementWeb,
      containerName: 'element-web',
      uid: RUN_AS.elementWeb,
      port: ELEMENT_WEB.port,
      portEnvironmentVariable: 'ELEMENT_WEB_PORT',
      configJson: `${JSON.stringify(elementWebConfig(platform), null, 2)}\n`,
      configPath: '/app/config.json',
      probePath: '/config.json',
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      // The entrypoint copies config.json to /tmp and envsubst writes the server block to conf.d.
      writableDirectories: { tmp: '/tmp', 'nginx-conf': '/etc/nginx/conf.d' },
    });
  }
}
