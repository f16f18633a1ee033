import type { App } from 'cdk8s';
import type { Platform } from '../lib/model';
import { NamespacesChart } from './namespaces';
import { CertificatesChart, CertManagerChart } from './cert-manager';
import { addInternalCaChart } from './internal-ca';
import { MetallbChart, MetallbPoolChart } from './metallb';
import { EdgeChart, EdgeOperatorChart, EdgeRoutesChart } from './edge';
import { SynapseChart, SynapseMainChart } from './synapse';
import { ElementWebChart } from './element-web';
import { AdminUiChart } from './admin-ui';
import { CoturnChart } from './coturn';
import { LivekitChart } from './livekit';
import { SecretsChart } from './secrets';
import { NetworkPoliciesChart } from './network-policies';
import { MonitoringChart } from './monitoring';
import { LoggingChart } from './logging';
import { DashboardsChart } from './dashboards';
import { AlertsChart } from './alerts';
import { ScrapeTargetsChart } from './scrape-targets';
import { BarmanCloudPluginChart, CloudNativePgOperatorChart, PostgresChart } from './postgres';
import { addValkeyCharts } from './valkey';
import { addObjectStorageCharts } from './object-storage';

/** Every component chart of the platform, in stage order. */
export function addCharts(app: App, platform: Platform): void {
  new NamespacesChart(app, platform);
  new CertManagerChart(app, platform);
  new MetallbChart(app, platform);
  new EdgeOperatorChart(app, platform);
  new MetallbPoolChart(app, platform);
  new EdgeChart(app, platform);
  new CertificatesChart(app, platform);
  addInternalCaChart(app, platform);
  new EdgeRoutesChart(app, platform);
  new SecretsChart(app, platform);
  new NetworkPoliciesChart(app, platform);
  new CloudNativePgOperatorChart(app, platform);
  new BarmanCloudPluginChart(app, platform);
  new PostgresChart(app, platform);
  addValkeyCharts(app, platform);
  addObjectStorageCharts(app, platform);
  new SynapseMainChart(app, platform);
  new SynapseChart(app, platform);
  new ElementWebChart(app, platform);
  new AdminUiChart(app, platform);
  if (platform.config.calls.enabled) {
    new CoturnChart(app, platform);
    new LivekitChart(app, platform);
  }
  new MonitoringChart(app, platform);
  new LoggingChart(app, platform);
  new DashboardsChart(app, platform);
  new AlertsChart(app, platform);
  new ScrapeTargetsChart(app, platform);
}
