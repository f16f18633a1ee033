import { type ContainerView, demandsOf, disruptionBudgetGaps, type Obj, type RenderedWorkload, renderedWorkloads } from '../lib/model/capacity';
import { activeNamespaces } from '../lib/model';
import { ENDPOINT_DRAIN_SECONDS } from '../constructs/workload';
import { render } from './helpers';

/**
 * Walks EVERY workload in the rendered output (Deployment, StatefulSet, DaemonSet, Job, CronJob pod
 * templates) and checks the hardening invariants of docs/security.md. Exceptions are explicit,
 * keyed by `namespace/workload/container`, and each carries its reason (also listed in docs/security.md).
 */

interface Exception {
  readonly rule: 'readOnlyRootFilesystem' | 'runAsNonRoot' | 'automountServiceAccountToken' | 'capabilities';
  readonly reason: string;
}

/** `namespace/workload` or `namespace/workload/container` -> allowed deviations. */
const EXCEPTIONS: Readonly<Record<string, readonly Exception[]>> = {
  'coturn/coturn/coturn': [
    { rule: 'capabilities', reason: 'binds the TURN ports below 1024 on the host network only when configured so: NET_BIND_SERVICE may be added back' },
  ],
  'livekit/livekit/livekit': [{ rule: 'capabilities', reason: 'may add NET_BIND_SERVICE for low host ports' }],
};

/** Lowest uid/gid a pod may run as: above every system and image user (checkov CKV_K8S_40). */
const MIN_ID = 10000;

const ALLOWED_ADDED_CAPABILITIES = new Set(['NET_BIND_SERVICE']);

function excepted(workload: RenderedWorkload, container: string | undefined, rule: Exception['rule']): boolean {
  const keys = [`${workload.namespace}/${workload.name}`, ...(container ? [`${workload.namespace}/${workload.name}/${container}`] : [])];
  return keys.some((key) => (EXCEPTIONS[key] ?? []).some((exception) => exception.rule === rule));
}

function label(workload: RenderedWorkload, container?: ContainerView): string {
  return `${workload.kind} ${workload.namespace}/${workload.name}${container ? ` container ${container.name}` : ''}`;
}

/** Every violation of the hardening rules, as readable lines (empty = compliant). */
export function hardeningViolations(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  const workloads = renderedWorkloads(objects);
  for (const workload of workloads) {
    const spec = workload.template.spec;
    const podSecurity = (spec.securityContext ?? {}) as { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
    if (spec.automountServiceAccountToken !== false && !excepted(workload, undefined, 'automountServiceAccountToken')) {
      problems.push(`${label(workload)}: automountServiceAccountToken is not false`);
    }
    const identity = (spec.securityContext ?? {}) as { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
    for (const field of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
      const id = identity[field];
      if (id === undefined || id < MIN_ID) problems.push(`${label(workload)}: pod ${field} ${id ?? 'unset'} is below ${MIN_ID}`);
    }
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    for (const container of containers) {
      const security = (container.securityContext ?? {}) as {
        runAsNonRoot?: boolean;
        readOnlyRootFilesystem?: boolean;
        allowPrivilegeEscalation?: boolean;
        privileged?: boolean;
        capabilities?: { drop?: string[]; add?: string[] };
        seccompProfile?: { type?: string };
      };
      const where = label(workload, container);
      const seccomp = security.seccompProfile?.type ?? podSecurity.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is ${seccomp ?? 'unset'}, not RuntimeDefault`);
      if (!(security.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: does not drop ALL capabilities`);
      const added = security.capabilities?.add ?? [];
      if (added.length > 0 && !(excepted(workload, container.name, 'capabilities') && added.every((cap) => ALLOWED_ADDED_CAPABILITIES.has(cap)))) {
        problems.push(`${where}: adds capabilities ${added.join(',')}`);
      }
      if (security.privileged) problems.push(`${where}: privileged`);
      if (security.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      const nonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
      if (nonRoot !== true && !excepted(workload, container.name, 'runAsNonRoot')) problems.push(`${where}: runAsNonRoot is not true`);
      if (security.readOnlyRootFilesystem !== true && !excepted(workload, container.name, 'readOnlyRootFilesystem')) {
        problems.push(`${where}: readOnlyRootFilesystem is not true`);
      }
      const image = container.image ?? '';
      if (!/^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?(@sha256:[0-9a-f]{64})?$/.test(image) || !/(:|@sha256:)/.test(image.split('/').pop() ?? '')) {
        problems.push(`${where}: image ${image || '(none)'} is not pinned to a tag or digest`);
      } else if (/:latest$/.test(image)) {
        problems.push(`${where}: image ${image} uses latest`);
      }
      for (const kind of ['requests', 'limits'] as const) {
        const values = container.resources?.[kind] ?? {};
        if (!values.cpu && kind === 'requests') problems.push(`${where}: no cpu ${kind}`);
        if (!values.memory) problems.push(`${where}: no memory ${kind}`);
        if (kind === 'limits' && !values.cpu) problems.push(`${where}: no cpu limits`);
        if (!values['ephemeral-storage']) problems.push(`${where}: no ephemeral-storage ${kind}`);
      }
      const containerUser = (security as { runAsUser?: number }).runAsUser;
      if (containerUser !== undefined && containerUser < MIN_ID) problems.push(`${where}: runAsUser ${containerUser} is below ${MIN_ID}`);
    }
  }
  for (const cronJob of objects.filter((object) => object.kind === 'CronJob')) {
    if ((cronJob.spec as { startingDeadlineSeconds?: number }).startingDeadlineSeconds === undefined) {
      problems.push(`CronJob ${cronJob.metadata?.namespace}/${cronJob.metadata?.name}: no startingDeadlineSeconds`);
    }
  }
  return problems;
}

function selects(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>): boolean {
  const matchLabels = selector?.matchLabels ?? {};
  return Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

/** Multi-replica workloads without a PDB selecting their pods or without hostname spreading. */
export function resilienceViolations(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  const pdbs = objects.filter((object) => object.kind === 'PodDisruptionBudget');
  for (const workload of renderedWorkloads(objects)) {
    if (workload.replicas === undefined || workload.replicas < 2) continue;
    const labels = workload.template.metadata?.labels ?? {};
    const covered = pdbs.some(
      (pdb) => pdb.metadata?.namespace === workload.namespace && selects((pdb.spec as { selector?: { matchLabels?: Record<string, string> } }).selector, labels),
    );
    if (!covered) problems.push(`${label(workload)}: ${workload.replicas} replicas but no PodDisruptionBudget selects its pods`);
    const spec = workload.template.spec;
    const spread =
      (spec.topologySpreadConstraints ?? []).some((constraint) => constraint.topologyKey === 'kubernetes.io/hostname' && selects(constraint.labelSelector, labels)) ||
      (spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
        (term) => term.topologyKey === 'kubernetes.io/hostname' && selects(term.labelSelector, labels),
      ) ||
      (spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).some(
        (term) => term.podAffinityTerm.topologyKey === 'kubernetes.io/hostname' && selects(term.podAffinityTerm.labelSelector, labels),
      );
    if (!spread) problems.push(`${label(workload)}: ${workload.replicas} replicas but no hostname spreading that selects its pods`);
  }
  return problems;
}

/**
 * Multi-replica Deployments behind a ClusterIP Service (edge upstreams, proxies): a rolling update or
 * drain must not refuse connections still routed to a terminating pod, so each serving container
 * sleeps ENDPOINT_DRAIN_SECONDS in preStop and the grace period leaves time after it.
 */
export function drainViolations(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  const services = objects.filter(
    (object) => object.kind === 'Service' && (object.spec as { clusterIP?: string; type?: string }).clusterIP !== 'None' && (object.spec as { type?: string }).type !== 'LoadBalancer',
  );
  for (const workload of renderedWorkloads(objects)) {
    if (workload.kind !== 'Deployment' || (workload.replicas ?? 0) < 2) continue;
    const labels = workload.template.metadata?.labels ?? {};
    const behindService = services.some(
      (service) => service.metadata?.namespace === workload.namespace && selects({ matchLabels: (service.spec as { selector?: Record<string, string> }).selector }, labels),
    );
    if (!behindService) continue;
    const spec = workload.template.spec as { terminationGracePeriodSeconds?: number; containers: { name: string; ports?: unknown[]; lifecycle?: { preStop?: { sleep?: { seconds?: number } } } }[] };
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    for (const container of spec.containers.filter((candidate) => (candidate.ports ?? []).length > 0)) {
      const sleep = container.lifecycle?.preStop?.sleep?.seconds;
      if (sleep === undefined || sleep < ENDPOINT_DRAIN_SECONDS) {
        problems.push(`${workload.namespace}/${workload.name} container ${container.name}: no preStop sleep of ${ENDPOINT_DRAIN_SECONDS} s`);
      } else if (grace < sleep + 10) {
        problems.push(`${workload.namespace}/${workload.name}: terminationGracePeriodSeconds ${grace} leaves less than 10 s after the ${sleep} s drain`);
      }
    }
  }
  return problems;
}

/** Quorum members must never share a node: required anti-affinity or DoNotSchedule hostname spreading. */
const QUORUM = [/^redis-(synapse|livekit)\/valkey(-sentinel)?$/, /^minio\//];

export function quorumViolations(objects: readonly Obj[]): string[] {
  const problems: string[] = [];
  for (const workload of renderedWorkloads(objects)) {
    if (!QUORUM.some((pattern) => pattern.test(`${workload.namespace}/${workload.name}`))) continue;
    if ((workload.replicas ?? 0) < 2) continue;
    const spec = workload.template.spec;
    const required = (spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some((term) => term.topologyKey === 'kubernetes.io/hostname');
    if (!required) problems.push(`${label(workload)}: quorum member without required hostname anti-affinity`);
  }
  for (const cluster of objects.filter((object) => object.kind === 'Cluster' && object.apiVersion?.startsWith('postgresql.cnpg.io/'))) {
    const affinity = ((cluster.spec as { affinity?: { podAntiAffinityType?: string; enablePodAntiAffinity?: boolean } }).affinity ?? {});
    if (affinity.enablePodAntiAffinity === false || affinity.podAntiAffinityType !== 'required') {
      problems.push(`CNPG Cluster ${cluster.metadata?.namespace}/${cluster.metadata?.name}: podAntiAffinityType is not required`);
    }
  }
  return problems;
}

const VARIANTS: [string, Record<string, unknown>][] = [
  ['the example config', {}],
  ['calls off, external S3, ingress-nginx', { calls: { enabled: false }, edge: { controller: 'ingress-nginx' }, objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.org', region: 'eu-1' } } }],
  ['bigger pools and single replicas', { synapse: { workers: { sync: { count: 3 }, initialSync: { count: 2 } }, routerReplicas: 3 }, elementWeb: { replicas: 3 }, adminUi: { replicas: 3 }, monitoring: { grafana: { replicas: 2 } } }],
];

describe.each(VARIANTS)('hardening of every workload: %s', (_, overrides) => {
  const { objects } = render(overrides);
  const rendered = objects as unknown as Obj[];

  test('there are workloads to check', () => {
    expect(renderedWorkloads(rendered).length).toBeGreaterThan(0);
  });

  test('seccomp RuntimeDefault, drop ALL, non-root, read-only root, pinned images, requests and limits, no token automount', () => {
    expect(hardeningViolations(rendered)).toEqual([]);
  });

  test('every multi-replica workload has a PDB selecting it and hostname spreading', () => {
    expect(resilienceViolations(rendered)).toEqual([]);
  });

  test('quorum members (Valkey, sentinels, MinIO, PostgreSQL) use required anti-affinity', () => {
    expect(quorumViolations(rendered)).toEqual([]);
  });

  test('every multi-replica workload has a PodDisruptionBudget: ours, operator-created and chart-installed', () => {
    expect(disruptionBudgetGaps(demandsOf(rendered))).toEqual([]);
  });

  test('multi-replica Deployments behind a Service drain before they stop', () => {
    expect(drainViolations(rendered)).toEqual([]);
  });

  test('every namespace carries Pod Security admission labels', () => {
    const config = render(overrides).config;
    for (const namespace of activeNamespaces(config)) {
      const object = objects.find((candidate) => candidate.kind === 'Namespace' && candidate.metadata.name === namespace.name);
      const labels = (object?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
      expect(labels['pod-security.kubernetes.io/enforce']).toBe(namespace.podSecurity);
    }
  });
});

describe('the walker catches planted mistakes', () => {
  const good = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'matrix' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
          containers: [
            {
              name: 'web',
              image: 'docker.io/library/nginx:1.29.0',
              resources: { requests: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '1', memory: '64Mi', 'ephemeral-storage': '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
  const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'matrix' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } };
  const mutate = (change: (copy: any) => void): Obj[] => {
    const copy = JSON.parse(JSON.stringify(good));
    change(copy);
    return [copy, pdb];
  };
  const cronJob = (container: Record<string, unknown>) => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'job', namespace: 'matrix' },
    spec: { jobTemplate: { spec: { template: { spec: { ...good.spec.template.spec, containers: [container] } } } } },
  });

  test('a compliant workload passes', () => {
    expect([...hardeningViolations([good, pdb]), ...resilienceViolations([good, pdb])]).toEqual([]);
  });

  test.each<[string, (copy: any) => void, RegExp]>([
    ['no seccomp', (c) => delete c.spec.template.spec.securityContext.seccompProfile, /seccompProfile/],
    ['capabilities kept', (c) => delete c.spec.template.spec.containers[0].securityContext.capabilities, /drop ALL/],
    ['capability added', (c) => (c.spec.template.spec.containers[0].securityContext.capabilities.add = ['NET_ADMIN']), /adds capabilities/],
    ['root', (c) => { c.spec.template.spec.securityContext.runAsNonRoot = false; c.spec.template.spec.containers[0].securityContext.runAsNonRoot = false; }, /runAsNonRoot/],
    ['writable root', (c) => (c.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false), /readOnlyRootFilesystem/],
    ['unpinned image', (c) => (c.spec.template.spec.containers[0].image = 'nginx'), /not pinned/],
    ['latest image', (c) => (c.spec.template.spec.containers[0].image = 'nginx:latest'), /latest/],
    ['no limits', (c) => delete c.spec.template.spec.containers[0].resources.limits, /no memory limits/],
    ['token automount', (c) => delete c.spec.template.spec.automountServiceAccountToken, /automountServiceAccountToken/],
    ['privilege escalation', (c) => delete c.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation/],
    ['low uid', (c) => (c.spec.template.spec.securityContext.runAsUser = 999), /pod runAsUser 999 is below 10000/],
    ['low fsGroup', (c) => delete c.spec.template.spec.securityContext.fsGroup, /pod fsGroup unset/],
    ['low container uid', (c) => (c.spec.template.spec.containers[0].securityContext.runAsUser = 101), /container web: runAsUser 101/],
    ['no ephemeral-storage limit', (c) => delete c.spec.template.spec.containers[0].resources.limits['ephemeral-storage'], /no ephemeral-storage limits/],
    ['init container without limits', (c) => (c.spec.template.spec.initContainers = [{ ...c.spec.template.spec.containers[0], name: 'init', resources: {} }]), /container init: no cpu requests/],
  ])('%s', (_, change, expected) => {
    expect(hardeningViolations(mutate(change)).join('\n')).toMatch(expected);
  });

  test('a served Deployment without a drain, or with no time after it, is reported', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'matrix' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } as Obj;
    const serving = (change: (copy: any) => void) => mutate((c) => { c.spec.template.spec.containers[0].ports = [{ containerPort: 80 }]; change(c); })[0];
    const drained = (c: any) => (c.spec.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: ENDPOINT_DRAIN_SECONDS } } });
    expect(drainViolations([serving(drained), service])).toEqual([]);
    expect(drainViolations([serving(() => undefined), service]).join('\n')).toMatch(/no preStop sleep/);
    expect(drainViolations([serving((c) => { drained(c); c.spec.template.spec.terminationGracePeriodSeconds = ENDPOINT_DRAIN_SECONDS; }), service]).join('\n')).toMatch(/leaves less than/);
    // Without a Service nobody routes to it: nothing to drain.
    expect(drainViolations([serving(() => undefined)])).toEqual([]);
  });

  test('CronJob pod templates are walked; a CronJob needs startingDeadlineSeconds', () => {
    const violations = hardeningViolations([cronJob({ name: 'c', image: 'busybox' }) as Obj]).join('\n');
    expect(violations).toMatch(/CronJob matrix\/job container c: image busybox is not pinned/);
    expect(violations).toMatch(/CronJob matrix\/job: no startingDeadlineSeconds/);
  });

  test('a multi-replica workload without PDB or spreading is reported', () => {
    const copy = mutate((c) => delete c.spec.template.spec.topologySpreadConstraints);
    expect(resilienceViolations([copy[0]]).join('\n')).toMatch(/no PodDisruptionBudget/);
    expect(resilienceViolations(copy).join('\n')).toMatch(/no hostname spreading/);
  });

  test('a chart or operator workload with replicas but no PodDisruptionBudget is reported', () => {
    const release = (chart: string, values: Record<string, unknown>, namespace = 'monitoring') => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: chart, namespace },
      spec: { releaseName: chart, chart: { spec: { chart } }, values },
    });
    const gaps = (objects: Record<string, unknown>[]) => disruptionBudgetGaps(demandsOf(objects as Obj[])).join('\n');
    // Grafana: the chart renders its PDB only for a non-empty podDisruptionBudget map.
    expect(gaps([release('kube-prometheus-stack', { grafana: { replicas: 2 } })])).toMatch(/grafana.*2 replicas but no PodDisruptionBudget/);
    expect(gaps([release('kube-prometheus-stack', { grafana: { replicas: 2, podDisruptionBudget: {} } })])).toMatch(/grafana/);
    expect(gaps([release('kube-prometheus-stack', { grafana: { replicas: 2, podDisruptionBudget: { maxUnavailable: 1 } } })])).not.toMatch(/grafana/);
    // Loki: enabled alone renders nothing without minAvailable or maxUnavailable.
    const loki = (podDisruptionBudget: Record<string, unknown>) => release('loki', { singleBinary: { replicas: 3, podDisruptionBudget } });
    expect(gaps([loki({ enabled: true })])).toMatch(/loki.*3 replicas/);
    expect(gaps([loki({ enabled: true, maxUnavailable: 1 })])).toBe('');
    // A chart without a PDB value needs ours, selecting the chart's pod labels in the release namespace.
    const operator = release('cloudnative-pg', { replicaCount: 2 }, 'cnpg-system');
    const ours = (namespace: string) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'cloudnative-pg', namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': 'cloudnative-pg' } } },
    });
    expect(gaps([operator])).toMatch(/cloudnative-pg-operator.*2 replicas/);
    expect(gaps([operator, ours('elsewhere')])).toMatch(/cloudnative-pg-operator/);
    expect(gaps([operator, ours('cnpg-system')])).toBe('');
    // A MinIO pool: the operator creates no PDB.
    const tenant = { apiVersion: 'minio.min.io/v2', kind: 'Tenant', metadata: { name: 't', namespace: 'minio' }, spec: { pools: [{ name: 'pool-0', servers: 4 }] } };
    expect(gaps([tenant])).toMatch(/MinIO Tenant minio\/t pool pool-0: 4 replicas/);
    // CloudNativePG keeps its own PDBs unless enablePDB is false.
    const cluster = (spec: Record<string, unknown>) => ({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'pg', namespace: 'matrix' }, spec: { instances: 3, ...spec } });
    expect(gaps([cluster({})])).toBe('');
    expect(gaps([cluster({ enablePDB: false })])).toMatch(/CNPG Cluster matrix\/pg: 3 replicas/);
  });

  test('a quorum member with preferred spreading only is reported', () => {
    const valkey = mutate((c) => { c.metadata.namespace = 'redis-synapse'; c.metadata.name = 'valkey'; });
    expect(quorumViolations(valkey).join('\n')).toMatch(/quorum member/);
    const cnpg = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'pg', namespace: 'matrix' }, spec: { instances: 3 } };
    expect(quorumViolations([cnpg]).join('\n')).toMatch(/podAntiAffinityType/);
  });
});
