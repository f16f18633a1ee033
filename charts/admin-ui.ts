import { RUN_AS } from '../lib/model/run-as';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { StaticWebApp } from '../constructs/static-web-app';
import { ADMIN_UI, type Platform } from '../lib/model';
import { images } from '../lib/versions';

/**
 * Ketesa (the maintained continuation of synapse-admin). Image facts (etkecc/ketesa docker/Dockerfile):
 * static-web-server (image user uid 1000; run as RUN_AS.adminUi), port from SERVER_PORT, GET /health, config at /var/public/config.json.
 * Config keys (docs/config.md): restrictBaseUrl. The edge routes it behind the admin IP allow-list.
 */

export class AdminUiChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'admin-ui', { platform, stage: '40-apps', namespace: ADMIN_UI.namespace });
    new StaticWebApp(this, 'ketesa', {
      name: ADMIN_UI.name,
      namespace: ADMIN_UI.namespace,
      component: 'admin',
      replicas: platform.config.adminUi.replicas,
      image: images.ketesa,
      containerName: 'ketesa',
      uid: RUN_AS.adminUi,
      port: ADMIN_UI.port,
      portEnvironmentVariable: 'SERVER_PORT',
      // Only our homeserver can be administered from this UI.
      configJson: `${JSON.stringify({ restrictBaseUrl: [`https://${platform.hosts.matrix}`] }, null, 2)}\n`,
      configPath: '/var/public/config.json',
      probePath: '/health',
      resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    });
  }
}
