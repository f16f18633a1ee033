import { objectStorageSchema } from '../lib/config/data';
import { monitoringSchema } from '../lib/config/monitoring';
import { parseBytes, parseCpu } from '../lib/model/capacity';
import { postgresSizing } from '../lib/model/postgres-sizing';
import { SIZING } from '../lib/model/sizing';
import { configWith, find, findOne, render } from './helpers';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function releaseValues(objects: Any[], chart: string): Any {
  const releases = objects.filter((object) => object.kind === 'HelmRelease' && object.spec.chart.spec.chart === chart);
  expect(releases).toHaveLength(1);
  return releases[0].spec.values;
}

describe('sizing table (lib/model/sizing.ts)', () => {
  test('every entry has limits at or above requests', () => {
    for (const [name, resources] of Object.entries(SIZING)) {
      expect({ name, ok: parseCpu(resources.limits.cpu) >= parseCpu(resources.requests.cpu) }).toEqual({ name, ok: true });
      expect({ name, ok: parseBytes(resources.limits.memory) >= parseBytes(resources.requests.memory) }).toEqual({ name, ok: true });
    }
  });

  test('PostgreSQL: Guaranteed QoS by default, parameters derived from the memory limit; an override wins', () => {
    const defaults = postgresSizing(configWith());
    expect(defaults.resources).toEqual(SIZING.postgres);
    expect(defaults.resources.requests).toEqual(defaults.resources.limits);
    expect(defaults.parameters.shared_buffers).toBe('16384MB');
    expect(defaults.parameters.effective_cache_size).toBe('49152MB');
    const override = { requests: { cpu: '8', memory: '32Gi' }, limits: { cpu: '8', memory: '32Gi' } };
    const { objects } = render({ database: { resources: override } });
    const cluster = findOne(objects, 'Cluster', 'synapse-postgres') as Any;
    expect(cluster.spec.resources.limits.memory).toBe('32Gi');
    expect(cluster.spec.postgresql.parameters.shared_buffers).toBe('8192MB');
  });

  test('rendered sizes come from the table: MinIO, Prometheus, Loki, kube-state-metrics, router', () => {
    const { objects } = render();
    const tenant = find(objects, 'Tenant')[0] as Any;
    expect(tenant.spec.pools[0].resources.requests).toEqual(SIZING.minio.requests);
    const stack = releaseValues(objects, 'kube-prometheus-stack');
    expect(stack.prometheus.prometheusSpec.resources).toEqual(SIZING.prometheus);
    expect(stack['kube-state-metrics'].resources).toEqual(SIZING.kubeStateMetrics);
    expect(releaseValues(objects, 'loki').singleBinary.resources).toEqual(SIZING.loki);
    const router = findOne(objects, 'Deployment', 'synapse-router') as Any;
    expect(router.spec.template.spec.containers[0].resources).toMatchObject(SIZING.synapseRouter);
  });

  test('MinIO: the default volume size keeps 4 x 4 volumes within the storage budget; an override renders', () => {
    expect(objectStorageSchema.parse({}).minio.volumeSize).toBe('768Gi');
    const tenant = find(render({ objectStorage: { minio: { volumeSize: '512Gi' } } }).objects, 'Tenant')[0] as Any;
    expect(tenant.spec.pools[0].volumeClaimTemplate.spec.resources.requests.storage).toBe('512Gi');
  });
});

describe('no single replica where the chart allows two', () => {
  test('Barman Cloud plugin: 2 replicas spread over nodes, with our PDB selecting the chart\'s pod labels', () => {
    const { objects } = render();
    const values = releaseValues(objects, 'plugin-barman-cloud');
    expect(values.replicaCount).toBe(2);
    const spread = values.topologySpreadConstraints[0];
    expect(spread.topologyKey).toBe('kubernetes.io/hostname');
    const pdb = findOne(objects, 'PodDisruptionBudget', 'barman-cloud', 'cnpg-system') as Any;
    expect(pdb.spec.selector.matchLabels).toEqual(spread.labelSelector.matchLabels);
    expect(pdb.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'plugin-barman-cloud', 'app.kubernetes.io/instance': 'barman-cloud' });
  });

  test('Grafana: 2 replicas by default without a volume; 1 replica keeps its volume', () => {
    expect(monitoringSchema.parse({}).grafana.replicas).toBe(2);
    const two = releaseValues(render().objects, 'kube-prometheus-stack').grafana;
    expect(two.replicas).toBe(2);
    expect(two.persistence).toEqual({ enabled: false });
    const one = releaseValues(render({ monitoring: { grafana: { replicas: 1 } } }).objects, 'kube-prometheus-stack').grafana;
    expect(one.persistence.enabled).toBe(true);
  });

  test('kube-state-metrics and the Prometheus operator stay single (chart-imposed), sized from the table', () => {
    const stack = releaseValues(render().objects, 'kube-prometheus-stack');
    expect(stack['kube-state-metrics'].replicas).toBeUndefined();
    expect(stack.prometheusOperator.resources).toEqual(SIZING.prometheusOperator);
  });
});
