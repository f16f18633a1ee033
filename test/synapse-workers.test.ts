import { workersSchema } from '../lib/config/synapse';
import { capacityReport, type Obj } from '../lib/model/capacity';
import { MAIN_NAME, poolName, processesOf, SINGLE_WRITER_TYPES, SYNAPSE_NAMESPACE, WORKER_TYPES, workerKind } from '../lib/model/workers';
import { find, findOne, render } from './helpers';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const HOSTNAME = 'kubernetes.io/hostname';

function podSpec(object: Any): Any {
  return object.spec.template.spec;
}

describe('single-writer Synapse processes share main\'s failure domain', () => {
  test('the catalogue marks exactly the processes Synapse allows once, and the config caps each at 1', () => {
    expect(SINGLE_WRITER_TYPES.map((type) => type.id).sort()).toEqual(['accountData', 'background', 'presence', 'toDevice', 'typing', 'userDirectory']);
    for (const type of SINGLE_WRITER_TYPES) {
      expect(type.maxCount).toBe(1);
      expect(() => workersSchema.parse({ [type.id]: { count: 2 } })).toThrow();
    }
    // Streams with several writers are never pinned.
    for (const type of WORKER_TYPES.filter((candidate) => candidate.streams.some((stream) => stream === 'events' || stream === 'receipts'))) {
      expect(type.singleWriter).toBeFalsy();
    }
  });

  test('each single writer requires a node running the main pod; the selector matches main\'s pod labels', () => {
    const { objects } = render();
    const main = findOne(objects, 'Deployment', MAIN_NAME, SYNAPSE_NAMESPACE) as Any;
    const mainLabels: Record<string, string> = main.spec.template.metadata.labels;
    for (const type of SINGLE_WRITER_TYPES) {
      const writer = findOne(objects, workerKind(type), poolName(type), SYNAPSE_NAMESPACE) as Any;
      const terms = podSpec(writer).affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution;
      expect(terms).toHaveLength(1);
      expect(terms[0].topologyKey).toBe(HOSTNAME);
      for (const [key, value] of Object.entries(terms[0].labelSelector.matchLabels)) expect(mainLabels[key]).toBe(value);
      // Main's selector must not select the writer itself (the term would then be satisfied by the writer alone).
      const ownLabels: Record<string, string> = writer.spec.template.metadata.labels;
      expect(Object.entries(terms[0].labelSelector.matchLabels).every(([key, value]) => ownLabels[key] === value)).toBe(false);
    }
  });

  test('single writers come back without operator action: one pod, Recreate, 30 s eviction, addressed through their Service', () => {
    const { objects, config } = render();
    const main = findOne(objects, 'Deployment', MAIN_NAME, SYNAPSE_NAMESPACE) as Any;
    for (const type of SINGLE_WRITER_TYPES) {
      expect(workerKind(type)).toBe('Deployment');
      const writer = findOne(objects, 'Deployment', poolName(type), SYNAPSE_NAMESPACE) as Any;
      const [process] = processesOf(config, type);
      expect(writer.spec.replicas).toBe(1);
      expect(writer.spec.strategy).toEqual({ type: 'Recreate' });
      // Same eviction as main: both leave a lost node together.
      expect(podSpec(writer).tolerations).toEqual(podSpec(main).tolerations);
      // instance_map and the router reach it through a ClusterIP Service, which leaves out a pod stuck
      // Terminating on a lost node (a headless Service publishing not-ready addresses would not).
      expect(process.host).toBe(`${poolName(type)}.${SYNAPSE_NAMESPACE}.svc.cluster.local`);
      const address = findOne(objects, 'Service', poolName(type), SYNAPSE_NAMESPACE) as Any;
      expect(address.spec.clusterIP).toBeUndefined();
      expect(address.spec.publishNotReadyAddresses).toBeUndefined();
      expect(address.spec.selector).toEqual(writer.spec.selector.matchLabels);
      // The worker reads the config file of its fixed name, not of a generated pod name.
      expect(podSpec(writer).containers[0].env).toContainEqual({ name: 'POD_NAME', value: process.podName });
      expect(writer.spec.template.metadata.labels['matrix-platform/process']).toBe(process.podName);
    }
    // Replicated pools keep ordinal pod names from their StatefulSet.
    for (const type of WORKER_TYPES.filter((candidate) => !candidate.singleWriter)) expect(workerKind(type)).toBe('StatefulSet');
  });

  test('replicated pools are not pinned; receipts and pushers default to 2 and spread', () => {
    const defaults = workersSchema.parse({});
    expect(defaults.receipts.count).toBe(2);
    expect(defaults.pusher.count).toBe(2);
    const { objects } = render();
    for (const pool of ['synapse-receipts', 'synapse-pusher', 'synapse-sync', 'synapse-event-persister']) {
      const statefulSet = findOne(objects, 'StatefulSet', pool, SYNAPSE_NAMESPACE) as Any;
      expect(statefulSet.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(podSpec(statefulSet).affinity?.podAffinity).toBeUndefined();
      expect(podSpec(statefulSet).topologySpreadConstraints.some((constraint: Any) => constraint.topologyKey === HOSTNAME)).toBe(true);
    }
    expect(find(objects, 'PodDisruptionBudget', 'synapse-receipts', SYNAPSE_NAMESPACE)).toHaveLength(1);
  });

  test('a stream kept on main (count 0) renders no pinned StatefulSet; the planner still reports only main\'s domain', () => {
    const { objects, config } = render({ synapse: { workers: { typing: { count: 0 }, presence: { count: 0 } } } });
    expect(find(objects, 'StatefulSet', 'synapse-typing')).toHaveLength(0);
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.singlePoints.defects).toEqual([]);
    expect(report.singlePoints.pinned['matrix/synapse-main']).not.toContain('matrix/synapse-typing');
    expect(report.singlePoints.pinned['matrix/synapse-main']).toContain('matrix/synapse-to-device');
  });

  test('per-pool resources overrides still win over the sizing table', () => {
    const resources = { requests: { cpu: '3', memory: '10Gi' }, limits: { cpu: '5', memory: '20Gi' } };
    const { objects } = render({ synapse: { workers: { sync: { count: 8, resources } }, mainResources: resources } });
    const sync = findOne(objects, 'StatefulSet', 'synapse-sync', SYNAPSE_NAMESPACE) as Any;
    expect(podSpec(sync).containers[0].resources).toMatchObject(resources);
    const main = findOne(objects, 'Deployment', MAIN_NAME, SYNAPSE_NAMESPACE) as Any;
    expect(podSpec(main).containers[0].resources).toMatchObject(resources);
  });

  test('every Synapse sizing entry has limits at or above requests', () => {
    const { objects } = render();
    const cpu = (value: string) => (value.endsWith('m') ? Number(value.slice(0, -1)) / 1000 : Number(value));
    const gib = (value: string) => Number(value.replace(/Gi$/, '')) || Number(value.replace(/Mi$/, '')) / 1024;
    for (const object of [...find(objects, 'StatefulSet'), ...find(objects, 'Deployment')].filter((candidate) => candidate.metadata?.namespace === SYNAPSE_NAMESPACE)) {
      for (const container of podSpec(object).containers as Any[]) {
        expect(cpu(container.resources.limits.cpu)).toBeGreaterThanOrEqual(cpu(container.resources.requests.cpu));
        expect(gib(container.resources.limits.memory)).toBeGreaterThanOrEqual(gib(container.resources.requests.memory));
      }
    }
  });
});
