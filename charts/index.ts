import type { App } from 'cdk8s';
import type { Platform } from '../lib/model';
import { NamespacesChart } from './namespaces';
import { SynapseChart } from './synapse';
import { SecretsChart } from './secrets';

/** Every component chart of the platform, in stage order. */
export function addCharts(app: App, platform: Platform): void {
  new NamespacesChart(app, platform);
  new SecretsChart(app, platform);
  new SynapseChart(app, platform);
}
