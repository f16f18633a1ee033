import { buildPlatform, LOKI, objectStorage, SECRET_NAMES, secretCatalogue } from '../lib/model';
import { monitoringSchema } from '../lib/config/monitoring';
import { demandsOf } from '../lib/model/capacity';
import { scrapeTargets } from '../lib/model/metrics';
import { synapseProcesses } from '../lib/model/workers';
import { validateFiles } from '../lib/validate';
import { charts, SYNAPSE_VERSION } from '../lib/versions';
import { configWith, find, findOne, render } from './helpers';

type Obj = Record<string, any>;

function releaseValues(objects: Obj[], name: string): Obj {
  return (findOne(objects as never, "HelmRelease", name) as Obj).spec.values as Obj;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Pod template labels and container ports of every rendered workload, one entry per pod (replicas expanded by name). */
function synapsePods(objects: Obj[]): { name: string; labels: Record<string, string>; ports: number[] }[] {
  return objects
    .filter((object) => object.kind === 'StatefulSet' || object.kind === 'Deployment')
    .filter((object) => object.metadata.namespace === 'matrix')
    .map((object) => ({
      name: object.metadata.name,
      labels: object.spec.template.metadata.labels,
      ports: object.spec.template.spec.containers.flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => p.containerPort)),
    }));
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  example: {},
  variant: {
    calls: { enabled: false },
    edge: { controller: 'ingress-nginx' },
    objectStorage: { provider: 'external', external: { endpoint: 'http://s3.internal:9000', region: 'eu-1' } },
    synapse: { workers: { sync: { count: 2 }, presence: { count: 0 }, typing: { count: 0 } } },
    monitoring: { prometheus: { replicas: 3, retention: '30d', storageSize: '200Gi' }, grafana: { replicas: 2 }, loki: { replicas: 1, retention: '7d' } },
    storageClasses: { general: 'standard-rwo' },
  },
};

describe.each(Object.entries(VARIANTS))('observability (%s)', (_name, overrides) => {
  const { objects, files, config } = render(overrides);
  const platform = buildPlatform(config);

  test('every Synapse process in the catalogue is selected by exactly one scrape object', () => {
    const monitors = [...find(objects, 'PodMonitor'), ...find(objects, 'ServiceMonitor')] as Obj[];
    const processes = synapseProcesses(config);
    const podsByWorkload = synapsePods(objects as Obj[]);
    for (const process of processes) {
      // A process's pod carries the labels of its workload (StatefulSet pods are <set>-<n>).
      const workload = podsByWorkload.find((pod) => process.podName === pod.name || process.podName.startsWith(`${pod.name}-`));
      const expectedLabels = workload?.labels ?? {
        'app.kubernetes.io/name': 'synapse',
        'app.kubernetes.io/component': process.type ? process.type.pool : 'main',
      };
      const selecting = monitors.filter(
        (monitor) => monitor.metadata.namespace === 'matrix' && labelsMatch(monitor.spec.selector.matchLabels, expectedLabels),
      );
      expect({ process: process.podName, count: selecting.length }).toEqual({ process: process.podName, count: 1 });
      if (workload) expect(workload.ports).toContain(selecting[0].spec.podMetricsEndpoints[0].portNumber);
    }
  });

  test('scrape objects match the model and carry the labels Synapse\'s dashboard filters on', () => {
    const targets = scrapeTargets(platform);
    expect(find(objects, 'PodMonitor').length + find(objects, 'ServiceMonitor').length).toBe(targets.length);
    const main = findOne(objects, 'PodMonitor', 'synapse-main', 'matrix') as Obj;
    const relabelings = main.spec.podMetricsEndpoints[0].relabelings;
    expect(relabelings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ targetLabel: 'job', replacement: 'main' }),
        expect.objectContaining({ targetLabel: 'instance', replacement: config.serverName }),
        expect.objectContaining({ targetLabel: 'index', sourceLabels: ['__meta_kubernetes_pod_name'] }),
      ]),
    );
    // Prometheus' replace action, in order: the rules name each process by its stable name.
    const relabel = (rules: Obj[], labels: Record<string, string>) => {
      const result = { ...labels };
      for (const rule of rules) {
        const value = (rule.sourceLabels ?? []).map((name: string) => result[name] ?? '').join(';');
        const match = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`).exec(value);
        if (match) result[rule.targetLabel] = (rule.replacement ?? '$1').replace(/\$(\d)/g, (_: string, group: string) => match[Number(group)] ?? '');
      }
      return result;
    };
    const mainPod = { __meta_kubernetes_pod_name: 'synapse-main-6f9c7d8b5-x2k4p', __meta_kubernetes_pod_label_matrix_platform_process: 'synapse-main' };
    expect(relabel(relabelings, mainPod).index).toBe('synapse-main');
    const sync = findOne(objects, 'PodMonitor', 'synapse-sync', 'matrix') as Obj;
    expect(relabel(sync.spec.podMetricsEndpoints[0].relabelings, { __meta_kubernetes_pod_name: 'synapse-sync-1' }).index).toBe('synapse-sync-1');
    const names = targets.map((target) => `${target.namespace}/${target.name}`);
    expect(names).toContain('matrix/synapse-postgres');
    expect(names).toContain('redis-synapse/valkey-master-proxy');
    expect(names).toContain('matrix/synapse-router');
    expect(names.some((name) => name.startsWith(config.edge.controller === 'envoy-gateway' ? 'envoy-gateway-system/' : 'ingress-nginx/'))).toBe(true);
    expect(names.includes('livekit/livekit')).toBe(config.calls.enabled);
    expect(names.includes('redis-livekit/valkey-exporter')).toBe(config.calls.enabled);
    expect(names.some((name) => name.startsWith('minio/'))).toBe(config.objectStorage.provider === 'minio');
  });

  test('kube-prometheus-stack: Alertmanager as configured, config-driven Prometheus, selectors across namespaces, Grafana from Secret', () => {
    const release = findOne(objects, 'HelmRelease', 'prometheus', 'monitoring') as Obj;
    expect(release.spec.chart.spec.version).toBe(charts.kubePrometheusStack.version);
    const values = releaseValues(objects as Obj[], 'prometheus');
    expect(values.alertmanager.enabled).toBe(config.monitoring.alertmanager.enabled);
    const spec = values.prometheus.prometheusSpec;
    expect(spec.replicas).toBe(config.monitoring.prometheus.replicas);
    expect(spec.retention).toBe(config.monitoring.prometheus.retention);
    expect(spec.storageSpec.volumeClaimTemplate.spec.storageClassName).toBe(config.storageClasses.general);
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe(config.monitoring.prometheus.storageSize);
    for (const flag of ['serviceMonitor', 'podMonitor', 'rule', 'probe', 'scrapeConfig']) {
      expect(spec[`${flag}SelectorNilUsesHelmValues`]).toBe(false);
    }
    expect(values.grafana.admin).toEqual({ existingSecret: SECRET_NAMES.grafanaAdmin, userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(values.grafana.replicas).toBe(config.monitoring.grafana.replicas);
    expect(values.grafana.persistence.enabled).toBe(config.monitoring.grafana.replicas === 1);
    expect(values.grafana.additionalDataSources).toEqual([expect.objectContaining({ type: 'loki', url: 'http://loki.monitoring.svc.cluster.local:3100' })]);
    expect(JSON.stringify(values)).not.toMatch(/adminPassword/);
  });

  test('dashboards are pinned downloads, never copies', () => {
    const values = releaseValues(objects as Obj[], 'prometheus').grafana;
    const provider = values.dashboardProviders['dashboardproviders.yaml'].providers[0];
    const dashboards = values.dashboards[provider.name];
    expect(dashboards.synapse.url).toBe(`https://raw.githubusercontent.com/element-hq/synapse/v${SYNAPSE_VERSION}/contrib/grafana/synapse.json`);
    for (const key of ['cloudnativepg', 'redis-exporter', 'haproxy']) {
      expect(Number.isInteger(dashboards[key].gnetId)).toBe(true);
      expect(Number.isInteger(dashboards[key].revision)).toBe(true);
    }
    const livekit = find(objects, 'ConfigMap', 'grafana-dashboard-livekit');
    expect(livekit.length).toBe(config.calls.enabled ? 1 : 0);
    if (livekit.length) expect(JSON.parse((livekit[0] as Obj).data['livekit.json']).panels.length).toBeGreaterThan(3);
  });

  test('Loki: monolithic on the shared object storage, credentials only by Secret reference, retention from config', () => {
    const values = releaseValues(objects as Obj[], 'loki');
    const storage = objectStorage(config);
    expect(values.deploymentMode).toBe('Monolithic');
    expect([values.backend.replicas, values.read.replicas, values.write.replicas]).toEqual([0, 0, 0]);
    expect(values.test.enabled || values.lokiCanary.enabled ? values.lokiCanary.enabled : true).toBe(true);
    expect(values.loki.storage.bucketNames.chunks).toBe(config.objectStorage.buckets.logs);
    expect(values.loki.storage.s3.accessKeyId).toBe('${AWS_ACCESS_KEY_ID}');
    expect(values.loki.storage.s3.secretAccessKey).toBe('${AWS_SECRET_ACCESS_KEY}');
    expect(new URL(storage.endpoint).host).toBe(values.loki.storage.s3.endpoint);
    expect(values.loki.storage.s3.insecure).toBe(storage.endpoint.startsWith('http://'));
    expect(values.singleBinary.extraEnvFrom).toEqual([{ secretRef: { name: storage.credentialsSecret } }]);
    expect(values.singleBinary.replicas).toBe(config.monitoring.loki.replicas);
    expect(values.loki.commonConfig.replication_factor).toBeLessThanOrEqual(config.monitoring.loki.replicas);
    expect(values.loki.limits_config.retention_period).toBe(config.monitoring.loki.retention);
    expect(values.loki.compactor).toEqual({ retention_enabled: true, delete_request_store: 's3' });
    if (storage.ca) {
      // In-cluster MinIO: Loki verifies it with the CA file from the Secret cert-manager writes in its namespace.
      const mount = values.singleBinary.extraVolumeMounts[0];
      expect(values.loki.storage.s3.http_config.ca_file).toBe(`${mount.mountPath}/ca.crt`);
      expect(values.singleBinary.extraVolumes).toEqual([{ name: mount.name, secret: { secretName: storage.ca.secret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }]);
    } else {
      expect(values.loki.storage.s3.http_config).toBeUndefined();
      expect(values.singleBinary.extraVolumes).toBeUndefined();
    }
    const alloy = releaseValues(objects as Obj[], 'alloy');
    expect(alloy.controller.type).toBe('daemonset');
    expect(alloy.alloy.configMap.content).toContain(`"${LOKI.url}/loki/api/v1/push"`);
    expect(alloy.alloy.configMap.content).not.toContain('{{');
  });

  test('observability objects validate against the prometheus-operator CRDs and Kubernetes schemas', () => {
    // Only the objects this area renders directly; test/validate.test.ts validates the whole platform.
    const mine = new Map(
      [...files]
        .filter(([file]) => /(dashboards|alerts|scrape-targets)\.yaml$/.test(file))
        .map(([file, content]) => [file, content] as [string, string]),
    );
    expect(mine.size).toBeGreaterThanOrEqual(2);
    const report = validateFiles(mine);
    expect(report.problems).toEqual([]);
    expect(report.checkedObjects).toBe(find(objects, 'PodMonitor').length + find(objects, 'ServiceMonitor').length + find(objects, 'PrometheusRule').length + find(objects, 'ConfigMap', 'grafana-dashboard-livekit').length);
  });
});

describe('alert delivery (opt-in Alertmanager)', () => {
  const receivers = {
    monitoring: {
      alertmanager: {
        enabled: true,
        replicas: 2,
        email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'smtp.example.org:587', username: 'alerts' },
        webhook: {},
      },
    },
  };

  test('opt-in (off unless enabled): switched off, no Alertmanager and no receiver Secret in the catalogue', () => {
    expect(monitoringSchema.parse({}).alertmanager.enabled).toBe(false);
    const { objects, config } = render({ monitoring: { alertmanager: { enabled: false } } });
    expect(releaseValues(objects as Obj[], 'prometheus').alertmanager).toEqual({ enabled: false });
    expect(secretCatalogue(config).map((spec) => spec.name)).not.toContain(SECRET_NAMES.alertReceivers);
  });

  test('e-mail and webhook receivers in dist/, credentials only as files of the mounted Secret', () => {
    const { objects, files, config } = render(receivers);
    const values = releaseValues(objects as Obj[], 'prometheus');
    expect(values.alertmanager.enabled).toBe(true);
    expect(values.defaultRules.rules.alertmanager).toBe(true);
    expect(values.alertmanager.alertmanagerSpec.secrets).toEqual([SECRET_NAMES.alertReceivers]);
    const amConfig = values.alertmanager.config;
    expect(amConfig.route.receiver).toBe('platform');
    const platform = amConfig.receivers.find((receiver: Obj) => receiver.name === 'platform');
    const secretDir = `/etc/alertmanager/secrets/${SECRET_NAMES.alertReceivers}`;
    expect(platform.email_configs).toEqual([
      expect.objectContaining({
        to: 'ops@example.org',
        from: 'alerts@example.org',
        smarthost: 'smtp.example.org:587',
        auth_username: 'alerts',
        auth_password_file: `${secretDir}/smtp-password`,
        require_tls: true,
      }),
    ]);
    expect(platform.webhook_configs).toEqual([{ url_file: `${secretDir}/webhook-url`, send_resolved: true }]);
    // Only references: no inline password, secret or URL anywhere in the Alertmanager configuration.
    const keys = JSON.stringify(amConfig).match(/"[a-z_]+":/g) ?? [];
    for (const forbidden of ['"auth_password":', '"auth_secret":', '"smtp_auth_password":', '"url":', '"api_url":']) expect(keys).not.toContain(forbidden);
    // The receiver Secret is in the catalogue (supplied values), and dist/ holds no Secret object.
    const spec = secretCatalogue(config).find((candidate) => candidate.name === SECRET_NAMES.alertReceivers);
    expect(spec).toMatchObject({ namespace: 'monitoring', data: { 'smtp-password': 'alertmanager-smtp-password', 'webhook-url': 'alertmanager-webhook-url' } });
    expect([...files.values()].join('\n')).toContain('url_file: /etc/alertmanager/secrets/alertmanager-receivers/webhook-url');
    expect(find(objects, 'Secret')).toEqual([]);
  });

  test('an SMTP relay without authentication needs no credentials: no Secret to supply, none mounted', () => {
    const relay = {
      monitoring: {
        alertmanager: { enabled: true, email: { to: 'ops@example.org', from: 'alerts@example.org', smarthost: 'relay.example.org:25', username: undefined, requireTls: false }, webhook: undefined },
      },
    };
    const { objects, config } = render(relay);
    const values = releaseValues(objects as Obj[], 'prometheus').alertmanager;
    expect(values.alertmanagerSpec.secrets).toEqual([]);
    expect(values.config.receivers[1].email_configs[0]).not.toHaveProperty('auth_password_file');
    expect(secretCatalogue(config).map((spec) => spec.name)).not.toContain(SECRET_NAMES.alertReceivers);
  });

  test('two replicas with a PodDisruptionBudget; the plan counts their pods', () => {
    const { objects } = render(receivers);
    const values = releaseValues(objects as Obj[], 'prometheus');
    expect(values.alertmanager.alertmanagerSpec.replicas).toBe(2);
    expect(values.alertmanager.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    const demand = demandsOf(objects as never).find((candidate) => candidate.service === 'monitoring/prometheus-alertmanager');
    expect(demand).toMatchObject({ replicas: 2, disruptionBudget: expect.stringContaining('alertmanager.podDisruptionBudget.enabled') });
  });

  test('an enabled Alertmanager without a receiver is a config error naming the field', () => {
    expect(() => configWith({ monitoring: { alertmanager: { enabled: true, email: undefined, webhook: undefined } } })).toThrow(/monitoring\.alertmanager\.enabled: found true; expected email, webhook or both set beside it/);
    expect(() => configWith({ monitoring: { alertmanager: { enabled: true, webhook: { url: 'https://x' } } } })).toThrow(/monitoring\.alertmanager\.webhook\.url: unknown key/);
  });
});
