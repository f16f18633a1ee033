import { NAMESPACES } from '../lib/model';
import { find, render } from './helpers';

type PodTemplateOwner = { kind: string; metadata: { name: string; namespace?: string }; spec?: any };

function podSpecOf(object: PodTemplateOwner): any {
  if (object.kind === 'CronJob') return object.spec?.jobTemplate?.spec?.template?.spec;
  return object.spec?.template?.spec;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

describe('namespaces', () => {
  const { objects } = render();
  const namespaces = find(objects, 'Namespace');
  const level = (name: string) =>
    namespaces.find((namespace) => namespace.metadata.name === name)?.metadata as { labels?: Record<string, string> } | undefined;

  test('every namespace enforces, warns and audits one Pod Security level', () => {
    expect(namespaces.length).toBeGreaterThan(5);
    for (const namespace of namespaces) {
      const labels = namespace.metadata.labels ?? {};
      const enforce = labels['pod-security.kubernetes.io/enforce'];
      expect(['restricted', 'baseline', 'privileged']).toContain(enforce);
      expect(labels['pod-security.kubernetes.io/warn']).toBe(enforce);
      expect(labels['pod-security.kubernetes.io/audit']).toBe(enforce);
    }
  });

  test('restricted is the default: only namespaces with a documented reason are privileged', () => {
    for (const spec of Object.values(NAMESPACES)) {
      if (spec.podSecurity !== 'restricted') expect('reason' in spec && spec.reason).toBeTruthy();
    }
  });

  test('every namespace we write pods into exists, and hostNetwork pods only run in privileged namespaces', () => {
    const names = new Set(namespaces.map((namespace) => namespace.metadata.name));
    for (const workload of objects.filter((object) => WORKLOAD_KINDS.includes(object.kind)) as PodTemplateOwner[]) {
      const namespace = workload.metadata.namespace ?? '';
      expect(`${workload.kind}/${workload.metadata.name} in ${namespace}: ${names.has(namespace)}`).toBe(
        `${workload.kind}/${workload.metadata.name} in ${namespace}: true`,
      );
      if (podSpecOf(workload)?.hostNetwork) {
        expect(level(namespace)?.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
      }
    }
  });

  test('the edge namespace follows edge.controller, and call namespaces follow calls.enabled', () => {
    const nginx = find(render({ edge: { controller: 'ingress-nginx' }, calls: { enabled: false } }).objects, 'Namespace').map(
      (namespace) => namespace.metadata.name,
    );
    expect(nginx).toContain('ingress-nginx');
    expect(nginx).not.toContain('envoy-gateway-system');
    expect(nginx).not.toContain('coturn');
    expect(nginx).not.toContain('livekit');
    expect(namespaces.map((namespace) => namespace.metadata.name)).toEqual(expect.arrayContaining(['envoy-gateway-system', 'coturn', 'livekit']));
  });
});
