/*
 * Grafana dashboards. Upstream dashboards are downloaded by the Grafana chart's init container at
 * start (grafana subchart 12.11.1 keys `dashboardProviders` and `dashboards.<provider>.<name>` with
 * `url` or `gnetId` + `revision` and `datasource` as a list of {name, value} substitutions of
 * `${name}`; templates/_config.tpl), so no upstream JSON is copied into this repository. The LiveKit
 * dashboard has no maintained upstream: it is generated here and picked up by the Grafana sidecar
 * (kps grafana.sidecar.dashboards: label grafana_dashboard="1", searchNamespace ALL).
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { type Platform, LIVEKIT, PROMETHEUS_STACK } from '../lib/model';
import { dashboards, SYNAPSE_VERSION } from '../lib/versions';

/** Where the chart's init container writes downloaded dashboards; the provider name is the `dashboards` key. */
export const UPSTREAM_PROVIDER = 'matrix-platform';
const UPSTREAM_PATH = `/var/lib/grafana/dashboards/${UPSTREAM_PROVIDER}`;
const PROMETHEUS_UID = 'prometheus';

/** Synapse's own dashboard at the Synapse release the platform runs. */
export const SYNAPSE_DASHBOARD_URL = `https://raw.githubusercontent.com/element-hq/synapse/v${SYNAPSE_VERSION}/contrib/grafana/synapse.json`;

/** Exported dashboards reference their datasource through an input variable; point it at our Prometheus uid. */
const datasourceInput = (name: string) => [{ name, value: PROMETHEUS_UID }];

export function upstreamDashboardValues(): { dashboardProviders: unknown; dashboards: unknown } {
  return {
    dashboardProviders: {
      'dashboardproviders.yaml': {
        apiVersion: 1,
        providers: [
          {
            name: UPSTREAM_PROVIDER,
            orgId: 1,
            folder: 'Matrix platform',
            type: 'file',
            disableDeletion: true,
            editable: false,
            options: { path: UPSTREAM_PATH },
          },
        ],
      },
    },
    dashboards: {
      [UPSTREAM_PROVIDER]: {
        synapse: { url: SYNAPSE_DASHBOARD_URL, datasource: datasourceInput('DS_PROMETHEUS') },
        cloudnativepg: { ...dashboards.cloudnativePg, datasource: datasourceInput('DS_PROMETHEUS') },
        // Dashboard 763 predates datasource objects: its panels name the datasource as a string.
        'redis-exporter': { ...dashboards.redisExporter, datasource: 'Prometheus' },
        haproxy: { ...dashboards.haproxy, datasource: datasourceInput('DS_PROMETHEUS') },
      },
    },
  };
}

interface PanelSpec {
  readonly title: string;
  readonly expr: string;
  readonly legend: string;
  readonly unit: string;
}

const LIVEKIT_PANELS: readonly PanelSpec[] = [
  { title: 'Rooms', expr: 'sum by (node_id) (livekit_room_total)', legend: '{{node_id}}', unit: 'short' },
  { title: 'Participants', expr: 'sum by (node_id) (livekit_participant_total)', legend: '{{node_id}}', unit: 'short' },
  {
    title: 'Published tracks',
    expr: 'sum by (kind) (livekit_track_published_total)',
    legend: '{{kind}}',
    unit: 'short',
  },
  {
    title: 'Media bandwidth',
    expr: 'sum by (node_id, direction) (rate(livekit_packet_bytes[5m])) * 8',
    legend: '{{node_id}} {{direction}}',
    unit: 'bps',
  },
  { title: 'NACKs per second', expr: 'sum by (node_id) (rate(livekit_nack_total[5m]))', legend: '{{node_id}}', unit: 'short' },
  {
    title: 'Scrape health',
    expr: `up{namespace="${LIVEKIT.namespace}"}`,
    legend: '{{pod}}',
    unit: 'short',
  },
];

/** A small LiveKit dashboard from the SFU's own metrics (livekit-server pkg/telemetry/prometheus). */
export function livekitDashboard(): Record<string, unknown> {
  const datasource = { type: 'prometheus', uid: PROMETHEUS_UID };
  return {
    uid: 'matrix-livekit',
    title: 'LiveKit SFU',
    tags: ['matrix-platform', 'livekit'],
    timezone: 'utc',
    schemaVersion: 39,
    editable: false,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    panels: LIVEKIT_PANELS.map((panel, index) => ({
      id: index + 1,
      type: 'timeseries',
      title: panel.title,
      datasource,
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      targets: [{ refId: 'A', datasource, expr: panel.expr, legendFormat: panel.legend }],
    })),
  };
}

export class DashboardsChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'dashboards', { platform, stage: '50-observability', namespace: PROMETHEUS_STACK.namespace });
    if (platform.config.calls.enabled) {
      new k8s.KubeConfigMap(this, 'livekit', {
        metadata: {
          name: 'grafana-dashboard-livekit',
          namespace: PROMETHEUS_STACK.namespace,
          labels: { grafana_dashboard: '1', 'app.kubernetes.io/part-of': 'matrix-platform' },
        },
        data: { 'livekit.json': JSON.stringify(livekitDashboard(), null, 2) },
      });
    }
  }
}
