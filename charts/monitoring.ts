/*
 * kube-prometheus-stack values keys used below, verified in the chart's values.yaml at the pinned version
 * (prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3, grafana subchart 12.11.1 from
 * grafana-community/helm-charts tag grafana-12.11.1):
 *   crds.enabled, defaultRules.create, defaultRules.rules.alertmanager, alertmanager.enabled,
 *   alertmanager.config (the chart renders it into the alertmanager-<name> Secret; with the chart's default config
 *     merged underneath, list values replaced), alertmanager.podDisruptionBudget.{enabled, minAvailable},
 *   alertmanager.alertmanagerSpec.{replicas, resources, secrets (mounted at /etc/alertmanager/secrets/<name>/),
 *     storage.volumeClaimTemplate.spec} (Alertmanager image quay.io/prometheus/alertmanager v0.34.0 from the chart),
 *   prometheus.podDisruptionBudget.{enabled, minAvailable} (templates/prometheus/podDisruptionBudget.yaml copies every
 *     key but `enabled` into the PDB spec: setting maxUnavailable as well would leave the default minAvailable 1 beside it),
 *   prometheus.prometheusSpec.{replicas, retention, storageSpec.volumeClaimTemplate.spec, resources,
 *     serviceMonitorSelectorNilUsesHelmValues, podMonitorSelectorNilUsesHelmValues, ruleSelectorNilUsesHelmValues,
 *     probeSelectorNilUsesHelmValues, scrapeConfigSelectorNilUsesHelmValues, walCompression},
 *   prometheusOperator.{resources, prometheusConfigReloader.resources},
 *   grafana.{enabled, replicas, podDisruptionBudget (the PDB renders when the map is non-empty), resources, admin.existingSecret, admin.userKey, admin.passwordKey,
 *     persistence.{enabled, type, size, accessModes, storageClassName}, additionalDataSources,
 *     dashboardProviders, dashboards, defaultDashboardsEnabled, sidecar.resources},
 *   kube-state-metrics.resources (subchart kube-state-metrics 8.4.0, values.yaml `resources: {}`).
 * Single replicas the chart imposes (verified in the 88.5.3 / 8.4.0 templates; capacity.ts CONTROL_LOOP_ONLY):
 *   prometheus-operator: templates/prometheus-operator/deployment.yaml hard-codes `replicas: 1` (no values key).
 *   kube-state-metrics: `replicas` exists, but two unsharded replicas export every series twice, and
 *   `autosharding.enabled` splits the series so a lost shard still loses part of them: kept at 1.
 */
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import { alertReceiverSecretData, LOKI, type Platform, PROMETHEUS_STACK, SECRET_NAMES } from '../lib/model';
import { alertmanagerConfig } from '../lib/model/alert-routing';
import { SIZING } from '../lib/model/sizing';
import { charts } from '../lib/versions';
import { upstreamDashboardValues } from './dashboards';

/** uid of the Prometheus datasource kube-prometheus-stack provisions (grafana.sidecar.datasources.uid). */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
export const LOKI_DATASOURCE_UID = 'loki';

const PROMETHEUS_RESOURCES = SIZING.prometheus;
const OPERATOR_RESOURCES = SIZING.prometheusOperator;
const RELOADER_RESOURCES = SIZING.prometheusConfigReloader;
const GRAFANA_RESOURCES = SIZING.grafana;
const SIDECAR_RESOURCES = SIZING.grafanaSidecar;

export function kubePrometheusStackValues(platform: Platform): Record<string, unknown> {
  const { monitoring, storageClasses } = platform.config;
  // Grafana keeps users and UI state in SQLite on one ReadWriteOnce volume, which a second replica
  // cannot mount: with more replicas everything Grafana shows is provisioned from code instead.
  const grafanaPersistence =
    monitoring.grafana.replicas === 1
      ? {
          enabled: true,
          type: 'pvc',
          size: monitoring.grafana.storageSize,
          accessModes: ['ReadWriteOnce'],
          storageClassName: storageClasses.general,
        }
      : { enabled: false };
  const alertmanager = monitoring.alertmanager;
  return {
    crds: { enabled: true },
    // Opt-in: without it alerts are visible in Prometheus and Grafana only (lib/model/alert-routing.ts says why not Grafana).
    alertmanager: alertmanager.enabled
      ? {
          enabled: true,
          config: alertmanagerConfig(platform.config),
          podDisruptionBudget: { enabled: true, minAvailable: 1 },
          alertmanagerSpec: {
            replicas: alertmanager.replicas,
            resources: SIZING.alertmanager,
            // An SMTP relay without authentication and no webhook need no credentials: nothing to mount.
            secrets: Object.keys(alertReceiverSecretData(platform.config)).length > 0 ? [SECRET_NAMES.alertReceivers] : [],
            storage: {
              volumeClaimTemplate: {
                spec: {
                  storageClassName: storageClasses.general,
                  accessModes: ['ReadWriteOnce'],
                  resources: { requests: { storage: alertmanager.storageSize } },
                },
              },
            },
          },
        }
      : { enabled: false },
    'kube-state-metrics': { resources: SIZING.kubeStateMetrics },
    // The upstream rules about Alertmanager itself only where one runs.
    defaultRules: { create: true, rules: { alertmanager: alertmanager.enabled } },
    prometheusOperator: {
      resources: OPERATOR_RESOURCES,
      prometheusConfigReloader: { resources: RELOADER_RESOURCES },
    },
    prometheus: {
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      prometheusSpec: {
        replicas: monitoring.prometheus.replicas,
        retention: monitoring.prometheus.retention,
        walCompression: true,
        resources: PROMETHEUS_RESOURCES,
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: storageClasses.general,
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: monitoring.prometheus.storageSize } },
            },
          },
        },
        // false: an empty selector selects every ServiceMonitor/PodMonitor/rule in every namespace,
        // not only the ones carrying this Helm release's label.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        scrapeConfigSelectorNilUsesHelmValues: false,
      },
    },
    grafana: {
      enabled: true,
      replicas: monitoring.grafana.replicas,
      podDisruptionBudget: { maxUnavailable: 1 },
      resources: GRAFANA_RESOURCES,
      admin: { existingSecret: SECRET_NAMES.grafanaAdmin, userKey: 'admin-user', passwordKey: 'admin-password' },
      persistence: grafanaPersistence,
      sidecar: { resources: SIDECAR_RESOURCES },
      additionalDataSources: [
        { name: 'Loki', type: 'loki', uid: LOKI_DATASOURCE_UID, access: 'proxy', url: LOKI.url, editable: false },
      ],
      ...upstreamDashboardValues(),
    },
  };
}

/** kube-prometheus-stack: the Prometheus operator and its CRDs, Prometheus, Grafana, node and kube-state metrics. */
export class MonitoringChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'monitoring', { platform, stage: '10-operators', namespace: PROMETHEUS_STACK.namespace });
    new HelmReleaseWrapper(this, 'kube-prometheus-stack', {
      releaseName: PROMETHEUS_STACK.releaseName,
      namespace: PROMETHEUS_STACK.namespace,
      chart: charts.kubePrometheusStack,
      values: kubePrometheusStackValues(platform),
      gitops: platform.config.gitops,
      stage: '10-operators',
    });
  }
}
