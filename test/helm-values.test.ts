import { charts } from '../lib/versions';
import { render } from './helpers';

/**
 * Helm silently ignores a values key the chart does not read, so a misspelled or misplaced key
 * (say `allowSnippetAnnotations` at the top level instead of under `controller`) does nothing and
 * no install fails. Every values path the platform renders must appear below, in the table of
 * paths verified by reading the chart's values.yaml (and, where noted in the chart files, its
 * templates) at the pinned version. A path ending here may carry free-form content below it
 * (resources, affinity, a ConfigMap map, ...). Bumping a chart version fails this test until the
 * table has been re-verified for the new version.
 */
const VERIFIED: Record<string, { version: string; paths: string[] }> = {
  'cert-manager': {
    version: 'v1.21.1', // deploy/charts/cert-manager/values.yaml + values.schema.json (strict) at tag v1.21.1
    paths: [
      'crds.enabled', 'crds.keep', 'replicaCount', 'resources', 'topologySpreadConstraints', 'config', 'prometheus.enabled',
      'podDisruptionBudget.enabled', 'podDisruptionBudget.minAvailable',
      'webhook.replicaCount', 'webhook.resources', 'webhook.topologySpreadConstraints', 'webhook.podDisruptionBudget.enabled', 'webhook.podDisruptionBudget.minAvailable',
      'cainjector.replicaCount', 'cainjector.resources', 'cainjector.topologySpreadConstraints', 'cainjector.podDisruptionBudget.enabled', 'cainjector.podDisruptionBudget.minAvailable',
    ],
  },
  metallb: {
    version: '0.16.1', // charts/metallb/values.yaml at tag metallb-chart-0.16.1
    paths: ['crds.enabled', 'frrk8s.enabled', 'speaker.frr.enabled', 'controller.resources', 'speaker.resources'],
  },
  'gateway-helm': {
    version: 'v1.9.0', // charts/gateway-helm/values.tmpl.yaml at tag v1.9.0
    paths: ['crds.enabled', 'deployment.replicas', 'deployment.envoyGateway.resources', 'deployment.pod.topologySpreadConstraints', 'podDisruptionBudget.minAvailable'],
  },
  'ingress-nginx': {
    version: '4.15.1', // charts/ingress-nginx/values.yaml and templates at tag helm-chart-4.15.1
    paths: [
      'controller.kind', 'controller.replicaCount', 'controller.maxUnavailable', 'controller.allowSnippetAnnotations', 'controller.ingressClass',
      'controller.ingressClassResource.name', 'controller.ingressClassResource.enabled', 'controller.ingressClassResource.default',
      'controller.publishService.enabled', 'controller.service.external.enabled', 'controller.config', 'controller.resources',
      'controller.affinity', 'controller.topologySpreadConstraints',
      'controller.metrics.enabled', 'controller.metrics.port', 'controller.metrics.service.enabled',
    ],
  },
  'cloudnative-pg': {
    version: '0.29.0', // charts/cloudnative-pg/values.yaml at tag cloudnative-pg-v0.29.0
    paths: ['replicaCount', 'resources', 'crds.create', 'config.clusterWide', 'monitoring.podMonitorEnabled', 'topologySpreadConstraints'],
  },
  'plugin-barman-cloud': {
    version: '0.7.0', // charts/plugin-barman-cloud/values.yaml at tag plugin-barman-cloud-v0.7.0
    paths: ['replicaCount', 'resources', 'crds.create', 'topologySpreadConstraints'],
  },
  operator: {
    version: '7.1.1', // minio/operator helm/operator/values.yaml at tag v7.1.1
    paths: ['operator.replicaCount', 'operator.resources', 'operator.affinity'],
  },
  'kube-prometheus-stack': {
    version: '88.5.3', // values.yaml at tag kube-prometheus-stack-88.5.3; grafana.* also in grafana chart 12.11.1
    paths: [
      'crds.enabled', 'alertmanager.enabled', 'defaultRules.create',
      'alertmanager.config', 'alertmanager.podDisruptionBudget.enabled', 'alertmanager.podDisruptionBudget.minAvailable',
      'alertmanager.alertmanagerSpec.replicas', 'alertmanager.alertmanagerSpec.resources', 'alertmanager.alertmanagerSpec.secrets',
      'alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec', 'defaultRules.rules.alertmanager', 'kube-state-metrics.resources',
      'prometheusOperator.resources', 'prometheusOperator.prometheusConfigReloader.resources',
      'prometheus.prometheusSpec.replicas', 'prometheus.prometheusSpec.retention', 'prometheus.prometheusSpec.walCompression',
      'prometheus.prometheusSpec.resources', 'prometheus.prometheusSpec.storageSpec',
      'prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues', 'prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues',
      'prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues', 'prometheus.prometheusSpec.probeSelectorNilUsesHelmValues',
      'prometheus.prometheusSpec.scrapeConfigSelectorNilUsesHelmValues',
      'prometheus.podDisruptionBudget.enabled', 'prometheus.podDisruptionBudget.minAvailable',
      // grafana 12.11.1 templates/poddisruptionbudget.yaml: rendered when the map is non-empty.
      'grafana.podDisruptionBudget',
      'grafana.enabled', 'grafana.replicas', 'grafana.resources', 'grafana.admin.existingSecret', 'grafana.admin.userKey', 'grafana.admin.passwordKey',
      'grafana.persistence.enabled', 'grafana.persistence.type', 'grafana.persistence.size', 'grafana.persistence.accessModes',
      'grafana.persistence.storageClassName', 'grafana.sidecar.resources', 'grafana.additionalDataSources', 'grafana.dashboardProviders', 'grafana.dashboards',
    ],
  },
  loki: {
    version: '18.11.0', // grafana-community/helm-charts charts/loki/values.yaml at tag loki-18.11.0
    paths: [
      'deploymentMode', 'loki.auth_enabled', 'loki.commonConfig.replication_factor', 'loki.schemaConfig', 'loki.limits_config', 'loki.compactor',
      'loki.storage.type', 'loki.storage.bucketNames', 'loki.storage.s3.endpoint', 'loki.storage.s3.region', 'loki.storage.s3.insecure',
      'loki.storage.s3.s3ForcePathStyle', 'loki.storage.s3.accessKeyId', 'loki.storage.s3.secretAccessKey', 'loki.storage.s3.http_config',
      'singleBinary.replicas', 'singleBinary.resources', 'singleBinary.persistence.size', 'singleBinary.persistence.storageClass', 'singleBinary.extraEnvFrom',
      'singleBinary.extraVolumes', 'singleBinary.extraVolumeMounts',
      'singleBinary.podDisruptionBudget.enabled', 'singleBinary.podDisruptionBudget.maxUnavailable',
      'backend.replicas', 'read.replicas', 'write.replicas', 'chunksCache.enabled', 'resultsCache.enabled', 'gateway.enabled',
      'lokiCanary.enabled', 'test.enabled', 'minio.enabled', 'sidecar.rules.enabled',
    ],
  },
  alloy: {
    version: '1.11.1', // grafana/alloy operations/helm/charts/alloy/values.yaml at the alloy-1.11.1 release commit
    paths: ['controller.type', 'alloy.configMap.content', 'alloy.mounts.varlog', 'alloy.securityContext', 'alloy.resources'],
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function leafPaths(values: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isPlainObject(value) && Object.keys(value).length > 0 ? leafPaths(value, path) : [path];
  });
}

export function unverifiedPaths(chart: string, values: Record<string, unknown>): string[] {
  const verified = VERIFIED[chart]?.paths ?? [];
  return leafPaths(values).filter((path) => !verified.some((allowed) => path === allowed || path.startsWith(`${allowed}.`)));
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  example: {},
  'ingress-nginx, BGP, one Grafana and Loki, external S3, no calls': {
    edge: { controller: 'ingress-nginx' },
    loadBalancer: { mode: 'bgp', bgp: { myAsn: 64500, peers: [{ address: '10.0.0.1', asn: 64501 }] } },
    monitoring: { grafana: { replicas: 1 }, loki: { replicas: 1 } },
    objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org' } },
    calls: { enabled: false },
  },
  'Alertmanager with e-mail and webhook receivers': {
    monitoring: { alertmanager: { enabled: true, email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'smtp.example.org:587', username: 'alerts' }, webhook: {} } },
  },
};

describe.each(Object.entries(VARIANTS))('Helm values keys (%s)', (_name, overrides) => {
  const releases = render(overrides).objects.filter((object) => object.kind === 'HelmRelease') as unknown as {
    metadata: { name: string };
    spec: { chart: { spec: { chart: string; version: string } }; values?: Record<string, unknown> };
  }[];

  test('every chart has a verified key table for its pinned version', () => {
    expect(releases.length).toBeGreaterThan(5);
    for (const release of releases) {
      const { chart, version } = release.spec.chart.spec;
      expect({ chart, verifiedAt: VERIFIED[chart]?.version }).toEqual({ chart, verifiedAt: version });
    }
  });

  test('every rendered values path is one verified in the chart', () => {
    for (const release of releases) {
      const chart = release.spec.chart.spec.chart;
      expect({ release: release.metadata.name, unverified: unverifiedPaths(chart, release.spec.values ?? {}) }).toEqual({
        release: release.metadata.name,
        unverified: [],
      });
    }
  });
});

test('the check catches a misplaced key and accepts free-form content under a verified map', () => {
  expect(unverifiedPaths('ingress-nginx', { allowSnippetAnnotations: false })).toEqual(['allowSnippetAnnotations']);
  expect(unverifiedPaths('ingress-nginx', { controller: { allowSnippetAnnotations: false, config: { 'proxy-body-size': '100M' } } })).toEqual([]);
  expect(unverifiedPaths('ingress-nginx', { controller: { metric: { enabled: true } } })).toEqual(['controller.metric.enabled']);
  expect(Object.keys(VERIFIED).sort()).toEqual(Object.values(charts).map((pin) => pin.chart).sort());
});
