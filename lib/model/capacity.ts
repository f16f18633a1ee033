import * as yaml from 'js-yaml';
import type { PlatformConfig } from '../config';
import { PROMETHEUS_STACK } from './endpoints';
import { NAMESPACES } from './platform';

/**
 * Capacity planning over the rendered dist/: every pod of every workload (our own Deployments,
 * StatefulSets and DaemonSets, CloudNativePG and MinIO pods from their CRs, and Helm-installed
 * workloads estimated from their values) is placed on the node pools of config.nodes by requests,
 * node selectors and (anti-)affinity. `npm run plan` prints the result; docs/capacity.md holds it
 * for the default config. Also the workload walker that test/hardening.test.ts uses.
 */

// ---------------------------------------------------------------- quantities

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** CPU quantity in millicores. */
export function parseCpu(value: unknown): number {
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string') return 0;
  if (value.endsWith('m')) return Number(value.slice(0, -1));
  return Number(value) * 1000;
}

/** Memory/storage quantity in bytes. */
export function parseBytes(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return 0;
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(value.trim());
  if (!match) return 0;
  const [, number, unit] = match;
  const factor = BINARY[unit] ?? DECIMAL[unit] ?? (unit === '' ? 1 : NaN);
  return Number(number) * factor;
}

export const GiB = 2 ** 30;
export const TiB = 2 ** 40;

// ---------------------------------------------------------------- workloads in dist/

export type Obj = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

export interface PodTemplateView {
  readonly metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly spec: PodSpecView;
}

export interface ContainerView {
  readonly name: string;
  readonly image?: string;
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext?: Record<string, unknown>;
  readonly ports?: { containerPort: number; name?: string; protocol?: string }[];
  readonly [key: string]: unknown;
}

export interface PodSpecView {
  readonly containers: ContainerView[];
  readonly initContainers?: ContainerView[];
  readonly securityContext?: Record<string, unknown>;
  readonly nodeSelector?: Record<string, string>;
  readonly affinity?: Affinity;
  readonly topologySpreadConstraints?: SpreadConstraint[];
  readonly tolerations?: { key?: string; operator?: string; effect?: string }[];
  readonly hostNetwork?: boolean;
  readonly automountServiceAccountToken?: boolean;
  readonly serviceAccountName?: string;
  readonly volumes?: Record<string, unknown>[];
  readonly [key: string]: unknown;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PodAffinityTerm {
  topologyKey: string;
  labelSelector?: LabelSelector;
  namespaces?: string[];
}
export interface Affinity {
  podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[] };
  nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchExpressions?: LabelSelector['matchExpressions'] }[] } };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
  };
}
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelector;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
export type WorkloadKindName = (typeof WORKLOAD_KINDS)[number];

export interface RenderedWorkload {
  readonly kind: WorkloadKindName;
  readonly name: string;
  readonly namespace: string;
  /** undefined for DaemonSets (one per matching node), Jobs and CronJobs (transient). */
  readonly replicas?: number;
  readonly selector?: LabelSelector;
  readonly template: PodTemplateView;
  /** Storage requested by volumeClaimTemplates, per replica, in bytes. */
  readonly storagePerReplica: number;
}

/** Every pod template of our own workloads in the rendered objects, in input order. */
export function renderedWorkloads(objects: readonly Obj[]): RenderedWorkload[] {
  const result: RenderedWorkload[] = [];
  for (const object of objects) {
    const kind = object.kind as WorkloadKindName;
    if (!WORKLOAD_KINDS.includes(kind)) continue;
    const spec = (object.spec ?? {}) as Record<string, unknown>;
    const template = (
      kind === 'CronJob' ? ((spec.jobTemplate as { spec: { template: PodTemplateView } }).spec.template) : spec.template
    ) as PodTemplateView;
    const claims = (spec.volumeClaimTemplates ?? []) as { spec?: { resources?: { requests?: { storage?: string } } } }[];
    result.push({
      kind,
      name: object.metadata?.name ?? '',
      namespace: object.metadata?.namespace ?? 'default',
      replicas: kind === 'Deployment' || kind === 'StatefulSet' ? ((spec.replicas as number | undefined) ?? 1) : undefined,
      selector: spec.selector as LabelSelector | undefined,
      template,
      storagePerReplica: claims.reduce((sum, claim) => sum + parseBytes(claim.spec?.resources?.requests?.storage), 0),
    });
  }
  return result;
}

// ---------------------------------------------------------------- pods to place

export interface PodDemand {
  /** `namespace/workload`: what is reported as a service. */
  readonly service: string;
  readonly description: string;
  readonly cpu: number;
  readonly memory: number;
  readonly storagePerReplica: number;
  /** undefined: one per matching node (DaemonSet). */
  readonly replicas?: number;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly nodeSelector: Record<string, string>;
  readonly nodeAffinity?: LabelSelector['matchExpressions'];
  /** Never two pods of the service on one node. */
  readonly requiredHostnameSpread: boolean;
  /**
   * Required pod affinity on kubernetes.io/hostname: these pods run only on a node that already runs a
   * pod matching one of the selectors (in `namespace`), so they share that pod's failure domain.
   */
  readonly colocateWith?: LabelSelector[];
  readonly toleratesControlPlane: boolean;
  /** Where the numbers come from. */
  readonly source: 'rendered' | 'cnpg' | 'minio' | 'helm-estimate';
  /** What limits voluntary evictions of these pods (a PodDisruptionBudget and where it comes from); undefined: nothing. */
  readonly disruptionBudget?: string;
}

function podRequests(spec: PodSpecView): { cpu: number; memory: number } {
  const sum = (containers: readonly ContainerView[]) =>
    containers.reduce(
      (total, container) => ({
        cpu: total.cpu + parseCpu(container.resources?.requests?.cpu),
        memory: total.memory + parseBytes(container.resources?.requests?.memory),
      }),
      { cpu: 0, memory: 0 },
    );
  const main = sum(spec.containers ?? []);
  // Init containers run one at a time before the others: the pod needs the larger of the two.
  const init = (spec.initContainers ?? []).reduce(
    (max, container) => ({
      cpu: Math.max(max.cpu, parseCpu(container.resources?.requests?.cpu)),
      memory: Math.max(max.memory, parseBytes(container.resources?.requests?.memory)),
    }),
    { cpu: 0, memory: 0 },
  );
  return { cpu: Math.max(main.cpu, init.cpu), memory: Math.max(main.memory, init.memory) };
}

function hasRequiredHostnameSpread(spec: PodSpecView): boolean {
  const antiAffinity = spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const spread = (spec.topologySpreadConstraints ?? []).filter(
    (constraint) => constraint.topologyKey === 'kubernetes.io/hostname' && constraint.whenUnsatisfiable === 'DoNotSchedule',
  );
  return antiAffinity.some((term) => term.topologyKey === 'kubernetes.io/hostname') || spread.length > 0;
}

function toleratesControlPlane(spec: PodSpecView): boolean {
  return (spec.tolerations ?? []).some(
    (toleration) => toleration.operator === 'Exists' && (!toleration.key || toleration.key === 'node-role.kubernetes.io/control-plane'),
  );
}

function requiredHostnameAffinity(spec: PodSpecView): LabelSelector[] | undefined {
  const terms = (spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).filter(
    (term) => term.topologyKey === 'kubernetes.io/hostname' && term.labelSelector,
  );
  return terms.length > 0 ? terms.map((term) => term.labelSelector as LabelSelector) : undefined;
}

export function demandOf(workload: RenderedWorkload): PodDemand {
  const spec = workload.template.spec;
  const requests = podRequests(spec);
  const colocateWith = requiredHostnameAffinity(spec);
  return {
    service: `${workload.namespace}/${workload.name}`,
    description: `${workload.kind} ${workload.namespace}/${workload.name}`,
    ...requests,
    storagePerReplica: workload.storagePerReplica,
    replicas: workload.replicas,
    namespace: workload.namespace,
    labels: workload.template.metadata?.labels ?? {},
    nodeSelector: spec.nodeSelector ?? {},
    nodeAffinity: spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions,
    requiredHostnameSpread: hasRequiredHostnameSpread(spec),
    ...(colocateWith ? { colocateWith } : {}),
    toleratesControlPlane: toleratesControlPlane(spec),
    source: 'rendered',
  };
}

/** CloudNativePG Cluster: `instances` pods, anti-affinity per spec.affinity (default preferred). */
function cnpgDemand(object: Obj): PodDemand {
  const spec = (object.spec ?? {}) as Record<string, any>;
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace ?? 'default';
  return {
    service: `${namespace}/${name}`,
    description: `CNPG Cluster ${namespace}/${name}`,
    cpu: parseCpu(spec.resources?.requests?.cpu),
    memory: parseBytes(spec.resources?.requests?.memory),
    storagePerReplica: parseBytes(spec.storage?.size) + parseBytes(spec.walStorage?.size),
    replicas: spec.instances ?? 1,
    namespace,
    labels: { 'cnpg.io/cluster': name },
    nodeSelector: spec.affinity?.nodeSelector ?? {},
    requiredHostnameSpread: spec.affinity?.enablePodAntiAffinity !== false && spec.affinity?.podAntiAffinityType === 'required',
    toleratesControlPlane: false,
    source: 'cnpg',
    // The operator keeps a PodDisruptionBudget for the primary and one for the replicas unless enablePDB is false.
    disruptionBudget: spec.enablePDB === false ? undefined : 'CloudNativePG operator (enablePDB)',
  };
}

/** MinIO Tenant: per pool `servers` pods with `volumesPerServer` claims; the operator spreads servers by default. */
function minioDemands(object: Obj, pdbs: readonly Obj[]): PodDemand[] {
  const spec = (object.spec ?? {}) as Record<string, any>;
  const namespace = object.metadata?.namespace ?? 'default';
  return ((spec.pools ?? []) as Record<string, any>[]).map((pool) => {
    const claim = parseBytes(pool.volumeClaimTemplate?.spec?.resources?.requests?.storage);
    const required = (pool.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (term: PodAffinityTerm) => term.topologyKey === 'kubernetes.io/hostname',
    );
    const labels = { 'v1.min.io/tenant': object.metadata?.name ?? '', 'v1.min.io/pool': pool.name };
    return {
      service: `${namespace}/${object.metadata?.name}-${pool.name}`,
      description: `MinIO Tenant ${namespace}/${object.metadata?.name} pool ${pool.name}`,
      cpu: parseCpu(pool.resources?.requests?.cpu),
      memory: parseBytes(pool.resources?.requests?.memory),
      storagePerReplica: claim * (pool.volumesPerServer ?? 1),
      replicas: pool.servers ?? 1,
      namespace,
      labels,
      nodeSelector: pool.nodeSelector ?? {},
      requiredHostnameSpread: required,
      toleratesControlPlane: false,
      source: 'minio',
      // The MinIO operator (7.1.1) creates no PodDisruptionBudget for tenant pools.
      disruptionBudget: budgetSelecting(pdbs, namespace, labels),
    } satisfies PodDemand;
  });
}

// ---------------------------------------------------------------- Helm-installed workloads (estimates)

/** Chart, version, release, namespace and values of a Helm wrapper object (Flux HelmRelease, Argo CD Application, k3s HelmChart). */
export function helmReleaseOf(object: Obj): { chart: string; version?: string; release: string; namespace: string; values: Record<string, unknown> } | undefined {
  const spec = (object.spec ?? {}) as Record<string, any>;
  if (object.kind === 'HelmRelease' && spec.chart?.spec?.chart) {
    return {
      chart: spec.chart.spec.chart,
      version: spec.chart.spec.version,
      release: spec.releaseName ?? object.metadata?.name,
      namespace: spec.targetNamespace ?? object.metadata?.namespace ?? 'default',
      values: spec.values ?? {},
    };
  }
  if (object.kind === 'Application' && spec.source?.chart) {
    return {
      chart: spec.source.chart,
      version: spec.source.targetRevision,
      release: spec.source.helm?.releaseName ?? object.metadata?.name,
      namespace: spec.destination?.namespace ?? 'default',
      values: spec.source.helm?.valuesObject ?? {},
    };
  }
  if (object.kind === 'HelmChart' && spec.chart) {
    return {
      chart: String(spec.chart).split('/').pop() ?? String(spec.chart),
      version: spec.version,
      release: object.metadata?.name ?? '',
      namespace: spec.targetNamespace ?? 'default',
      values: (yaml.load(spec.valuesContent ?? '{}') as Record<string, unknown>) ?? {},
    };
  }
  return undefined;
}

function at(values: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), values);
}

interface HelmPod {
  readonly name: string;
  /** Dotted path of the replica count in values, or a number; 'daemonset' runs on every node. */
  readonly replicas: string | number | 'daemonset';
  readonly defaultReplicas?: number;
  /** Dotted path of a `resources` block in values. */
  readonly resources?: string;
  /** Requests used when values set none (the chart's own default, or a typical figure). */
  readonly fallback: { cpu: string; memory: string };
  /** Dotted path of a PVC size in values. */
  readonly storage?: string;
  readonly enabled?: string;
  readonly onControlPlane?: boolean;
  /** Where its PodDisruptionBudget comes from (needed whenever it runs more than one replica). */
  readonly disruptionBudget?: HelmDisruptionBudget;
}

/** How a chart-installed workload gets its PodDisruptionBudget. */
export type HelmDisruptionBudget =
  /** The chart renders one when each of these dotted values is set (true, a number, a non-empty object or string). */
  | { readonly chartValues: readonly string[] }
  /** The chart has no PDB value: ours, selecting the chart's pod labels (`{release}` stands for the release name). */
  | { readonly ownSelecting: Readonly<Record<string, string>> };

/**
 * Approximations of what each third-party chart runs, read from the values we set (replicas,
 * resources, storage) with typical requests where we set none. Documented in docs/capacity.md.
 */
export const HELM_ESTIMATES: Readonly<Record<string, readonly HelmPod[]>> = {
  'cert-manager': [
    { name: 'controller', replicas: 'replicaCount', defaultReplicas: 1, resources: 'resources', fallback: { cpu: '10m', memory: '64Mi' }, disruptionBudget: { chartValues: ['podDisruptionBudget.enabled'] } },
    { name: 'webhook', replicas: 'webhook.replicaCount', defaultReplicas: 1, resources: 'webhook.resources', fallback: { cpu: '10m', memory: '32Mi' }, disruptionBudget: { chartValues: ['webhook.podDisruptionBudget.enabled'] } },
    { name: 'cainjector', replicas: 'cainjector.replicaCount', defaultReplicas: 1, resources: 'cainjector.resources', fallback: { cpu: '10m', memory: '64Mi' }, disruptionBudget: { chartValues: ['cainjector.podDisruptionBudget.enabled'] } },
  ],
  metallb: [
    { name: 'controller', replicas: 1, resources: 'controller.resources', fallback: { cpu: '10m', memory: '64Mi' } },
    { name: 'speaker', replicas: 'daemonset', resources: 'speaker.resources', fallback: { cpu: '10m', memory: '64Mi' }, onControlPlane: true },
  ],
  'gateway-helm': [
    // templates/envoy-gateway-poddisruptionbudget.yaml renders only for minAvailable or maxUnavailable >= 1.
    { name: 'envoy-gateway', replicas: 'deployment.replicas', defaultReplicas: 1, resources: 'deployment.envoyGateway.resources', fallback: { cpu: '100m', memory: '256Mi' }, disruptionBudget: { chartValues: ['podDisruptionBudget.minAvailable'] } },
  ],
  'ingress-nginx': [
    { name: 'controller', replicas: 'controller.replicaCount', defaultReplicas: 1, resources: 'controller.resources', fallback: { cpu: '100m', memory: '90Mi' }, disruptionBudget: { chartValues: ['controller.maxUnavailable'] } },
  ],
  'cloudnative-pg': [
    {
      name: 'operator', replicas: 'replicaCount', defaultReplicas: 1, resources: 'resources', fallback: { cpu: '100m', memory: '200Mi' },
      disruptionBudget: { ownSelecting: { 'app.kubernetes.io/name': 'cloudnative-pg', 'app.kubernetes.io/instance': '{release}' } },
    },
  ],
  'plugin-barman-cloud': [
    {
      name: 'plugin', replicas: 'replicaCount', defaultReplicas: 1, resources: 'resources', fallback: { cpu: '50m', memory: '128Mi' },
      disruptionBudget: { ownSelecting: { 'app.kubernetes.io/name': 'plugin-barman-cloud', 'app.kubernetes.io/instance': '{release}' } },
    },
  ],
  operator: [
    {
      name: 'minio-operator', replicas: 'operator.replicaCount', defaultReplicas: 2, resources: 'operator.resources', fallback: { cpu: '200m', memory: '256Mi' },
      disruptionBudget: { ownSelecting: { 'app.kubernetes.io/name': 'operator', 'app.kubernetes.io/instance': '{release}' } },
    },
  ],
  'kube-prometheus-stack': [
    {
      name: 'prometheus', replicas: 'prometheus.prometheusSpec.replicas', defaultReplicas: 1, resources: 'prometheus.prometheusSpec.resources', fallback: { cpu: '500m', memory: '2Gi' },
      storage: 'prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage', disruptionBudget: { chartValues: ['prometheus.podDisruptionBudget.enabled'] },
    },
    {
      name: 'alertmanager', replicas: 'alertmanager.alertmanagerSpec.replicas', defaultReplicas: 1, resources: 'alertmanager.alertmanagerSpec.resources', fallback: { cpu: '50m', memory: '128Mi' },
      storage: 'alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.resources.requests.storage', enabled: 'alertmanager.enabled',
      disruptionBudget: { chartValues: ['alertmanager.podDisruptionBudget.enabled'] },
    },
    // The grafana chart renders its PodDisruptionBudget when `podDisruptionBudget` is a non-empty map.
    {
      name: 'grafana', replicas: 'grafana.replicas', defaultReplicas: 1, resources: 'grafana.resources', fallback: { cpu: '100m', memory: '256Mi' }, storage: 'grafana.persistence.size', enabled: 'grafana.enabled',
      disruptionBudget: { chartValues: ['grafana.podDisruptionBudget'] },
    },
    { name: 'operator', replicas: 1, resources: 'prometheusOperator.resources', fallback: { cpu: '100m', memory: '128Mi' } },
    { name: 'kube-state-metrics', replicas: 'kube-state-metrics.replicas', defaultReplicas: 1, resources: 'kube-state-metrics.resources', fallback: { cpu: '50m', memory: '128Mi' } },
    { name: 'node-exporter', replicas: 'daemonset', resources: 'prometheus-node-exporter.resources', fallback: { cpu: '50m', memory: '64Mi' }, onControlPlane: true },
  ],
  loki: [
    // templates/_pdb.tpl renders the single binary's PDB only when enabled AND minAvailable or maxUnavailable is set (both null by default).
    {
      name: 'loki', replicas: 'singleBinary.replicas', defaultReplicas: 1, resources: 'singleBinary.resources', fallback: { cpu: '500m', memory: '1Gi' }, storage: 'singleBinary.persistence.size',
      disruptionBudget: { chartValues: ['singleBinary.podDisruptionBudget.enabled', 'singleBinary.podDisruptionBudget.maxUnavailable'] },
    },
    { name: 'gateway', replicas: 'gateway.replicas', defaultReplicas: 1, resources: 'gateway.resources', fallback: { cpu: '50m', memory: '64Mi' }, enabled: 'gateway.enabled' },
  ],
  alloy: [{ name: 'alloy', replicas: 'daemonset', resources: 'alloy.resources', fallback: { cpu: '100m', memory: '256Mi' }, onControlPlane: true }],
};

/** A chart value that switches something on: true, a number above 0, a non-empty string or map. */
function switchedOn(value: unknown): boolean {
  if (typeof value === 'number') return value > 0;
  if (typeof value === 'string') return value !== '';
  if (value && typeof value === 'object') return Object.keys(value).length > 0;
  return value === true;
}

function helmDisruptionBudget(
  budget: HelmDisruptionBudget | undefined,
  release: { release: string; namespace: string; values: Record<string, unknown> },
  pdbs: readonly Obj[],
): string | undefined {
  if (!budget) return undefined;
  if ('chartValues' in budget) {
    return budget.chartValues.every((dotted) => switchedOn(at(release.values, dotted))) ? `chart values ${budget.chartValues.join(', ')}` : undefined;
  }
  const labels = Object.fromEntries(Object.entries(budget.ownSelecting).map(([key, value]) => [key, value.replace('{release}', release.release)]));
  return budgetSelecting(pdbs, release.namespace, labels);
}

/** The PodDisruptionBudget in the namespace whose (non-empty) selector selects pods with these labels. */
function budgetSelecting(pdbs: readonly Obj[], namespace: string, labels: Record<string, string>): string | undefined {
  const pdb = pdbs.find((candidate) => {
    const selector = (candidate.spec as { selector?: LabelSelector } | undefined)?.selector ?? {};
    const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
    return (candidate.metadata?.namespace ?? 'default') === namespace && !empty && matchesSelector(labels, selector);
  });
  return pdb ? `PodDisruptionBudget ${namespace}/${pdb.metadata?.name}` : undefined;
}

function helmDemands(object: Obj, pdbs: readonly Obj[]): PodDemand[] {
  const release = helmReleaseOf(object);
  if (!release) return [];
  const pods = HELM_ESTIMATES[release.chart] ?? [];
  return pods
    .filter((pod) => !pod.enabled || at(release.values, pod.enabled) !== false)
    .map((pod) => {
      const replicas =
        pod.replicas === 'daemonset'
          ? undefined
          : typeof pod.replicas === 'number'
            ? pod.replicas
            : ((at(release.values, pod.replicas) as number | undefined) ?? pod.defaultReplicas ?? 1);
      const requests = ((pod.resources ? at(release.values, pod.resources) : undefined) as { requests?: Record<string, string> } | undefined)?.requests;
      const service = `${release.namespace}/${release.release}-${pod.name}`;
      return {
        service,
        description: `Helm ${release.chart} ${service} (estimate)`,
        cpu: parseCpu(requests?.cpu ?? pod.fallback.cpu),
        memory: parseBytes(requests?.memory ?? pod.fallback.memory),
        storagePerReplica: pod.storage ? parseBytes(at(release.values, pod.storage)) : 0,
        replicas,
        namespace: release.namespace,
        labels: { 'matrix-platform/estimate': service },
        nodeSelector: {},
        requiredHostnameSpread: false,
        toleratesControlPlane: pod.onControlPlane ?? false,
        source: 'helm-estimate',
        disruptionBudget: helmDisruptionBudget(pod.disruptionBudget, release, pdbs),
      } satisfies PodDemand;
    });
}

/** Everything that asks for capacity, in a deterministic order. */
export function demandsOf(objects: readonly Obj[]): PodDemand[] {
  const pdbs = objects.filter((object) => object.kind === 'PodDisruptionBudget');
  const demands: PodDemand[] = renderedWorkloads(objects)
    .filter((workload) => workload.kind !== 'Job' && workload.kind !== 'CronJob')
    .map((workload) => {
      const demand = demandOf(workload);
      return { ...demand, disruptionBudget: budgetSelecting(pdbs, demand.namespace, demand.labels) };
    });
  for (const object of objects) {
    if (object.kind === 'Cluster' && object.apiVersion?.startsWith('postgresql.cnpg.io/')) demands.push(cnpgDemand(object));
    if (object.kind === 'Tenant' && object.apiVersion?.startsWith('minio.min.io/')) demands.push(...minioDemands(object, pdbs));
    demands.push(...helmDemands(object, pdbs));
  }
  return demands.sort((a, b) => a.service.localeCompare(b.service));
}

/**
 * Workloads that run more than one replica with nothing limiting voluntary evictions: a node drain
 * could take all their pods at once. Ours, operator-created and chart-installed alike.
 */
export function disruptionBudgetGaps(demands: readonly PodDemand[]): string[] {
  return demands
    .filter((demand) => (demand.replicas ?? 0) > 1 && !demand.disruptionBudget)
    .map((demand) => `${demand.description}: ${demand.replicas} replicas but no PodDisruptionBudget`);
}

// ---------------------------------------------------------------- nodes

export interface NodeSpec {
  readonly name: string;
  readonly pool: string;
  readonly cpu: number;
  readonly memory: number;
  readonly storage: number;
  readonly labels: Record<string, string>;
  readonly controlPlane: boolean;
}

export interface NodePlan {
  readonly nodes: NodeSpec[];
  readonly budget: { cpu: number; memory: number; storage: number };
}

type NodesConfig = NonNullable<PlatformConfig['nodes']>;

/**
 * The original design's 21 nodes (340 vCPU, 936 GiB, 15.2 TiB): 3 control plane, 5 general,
 * 3 database, 4 storage, 4 LiveKit (livekit=true), 2 coturn (coturn=true). The split of the totals
 * over roles is ours; the spec gives only totals and the LiveKit/coturn counts.
 */
export function defaultNodes(config: PlatformConfig): NodesConfig {
  const livekit = config.calls.livekit.nodeLabel;
  const coturn = config.calls.coturn?.nodeLabel ?? { key: 'coturn', value: 'true' };
  const role = (name: string) => ({ 'node-role.matrix-platform/pool': name });
  return {
    pools: [
      { name: 'control-plane', count: 3, cpu: '4', memory: '8Gi', storage: '0', labels: role('control-plane'), controlPlane: true },
      { name: 'general', count: 5, cpu: '24', memory: '64Gi', storage: '160Gi', labels: role('general'), controlPlane: false },
      { name: 'database', count: 3, cpu: '32', memory: '96Gi', storage: '800Gi', labels: role('database'), controlPlane: false },
      { name: 'storage', count: 4, cpu: '8', memory: '32Gi', storage: '3Ti', labels: role('storage'), controlPlane: false },
      { name: 'livekit', count: 4, cpu: '16', memory: '32Gi', storage: '0', labels: { ...role('livekit'), [livekit.key]: livekit.value }, controlPlane: false },
      { name: 'coturn', count: 2, cpu: '8', memory: '24Gi', storage: '0', labels: { ...role('coturn'), [coturn.key]: coturn.value }, controlPlane: false },
    ],
    budget: { cpu: 340, memoryGi: 936, storageTi: 15.2 },
  };
}

export function nodePlan(config: PlatformConfig): NodePlan {
  const source = config.nodes ?? defaultNodes(config);
  const nodes: NodeSpec[] = [];
  for (const pool of source.pools) {
    for (let index = 1; index <= pool.count; index++) {
      const name = `${pool.name}-${index}`;
      nodes.push({
        name,
        pool: pool.name,
        cpu: parseCpu(pool.cpu),
        memory: parseBytes(pool.memory),
        storage: parseBytes(pool.storage),
        labels: { 'kubernetes.io/hostname': name, ...pool.labels },
        controlPlane: pool.controlPlane,
      });
    }
  }
  return { nodes, budget: { cpu: source.budget.cpu * 1000, memory: source.budget.memoryGi * GiB, storage: source.budget.storageTi * TiB } };
}

// ---------------------------------------------------------------- placement

function matchesExpressions(labels: Record<string, string>, expressions: LabelSelector['matchExpressions'] = []): boolean {
  return expressions.every((expression) => {
    const value = labels[expression.key];
    switch (expression.operator) {
      case 'In':
        return value !== undefined && (expression.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(expression.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
}

function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) && matchesExpressions(labels, selector.matchExpressions);
}

/** The services whose pods a co-located demand must share a node with (same namespace, as the API defaults). */
export function colocationAnchors(demand: PodDemand, demands: readonly PodDemand[]): PodDemand[] {
  return demands.filter(
    (candidate) =>
      candidate !== demand &&
      candidate.replicas !== undefined &&
      candidate.namespace === demand.namespace &&
      (demand.colocateWith ?? []).every((selector) => matchesSelector(candidate.labels, selector)),
  );
}

export function nodeAccepts(node: NodeSpec, demand: PodDemand): boolean {
  if (node.controlPlane && !(demand.replicas === undefined && demand.toleratesControlPlane)) return false;
  if (!Object.entries(demand.nodeSelector).every(([key, value]) => node.labels[key] === value)) return false;
  return matchesExpressions(node.labels, demand.nodeAffinity);
}

export interface PlacedPod {
  readonly demand: PodDemand;
  readonly ordinal: number;
  readonly node?: string;
}

export interface Placement {
  readonly pods: PlacedPod[];
  readonly used: Map<string, { cpu: number; memory: number; pods: number }>;
}

/**
 * First-fit decreasing with spreading: DaemonSet pods first on every node they accept, then the
 * other pods by decreasing CPU then memory; each goes to the accepting node with room that holds
 * the fewest pods of its service (kube-scheduler's topology spreading), then the least allocated one
 * after placement (its default LeastAllocated score), ties broken by node order. Required hostname
 * spreading forbids a second pod of the service on a node. Pods with required hostname pod affinity
 * are placed with the first pod of the service they follow (its anchor), on a node with room for the
 * whole group; without an anchor pod they stay unplaced, as they would stay Pending.
 */
export function place(demands: readonly PodDemand[], nodes: readonly NodeSpec[]): Placement {
  const used = new Map(nodes.map((node) => [node.name, { cpu: 0, memory: 0, pods: 0 }]));
  const perServiceNode = new Map<string, number>();
  const pods: PlacedPod[] = [];
  const assign = (demand: PodDemand, ordinal: number, node: NodeSpec | undefined) => {
    if (node) {
      const usage = used.get(node.name)!;
      usage.cpu += demand.cpu;
      usage.memory += demand.memory;
      usage.pods += 1;
      const key = `${demand.service}@${node.name}`;
      perServiceNode.set(key, (perServiceNode.get(key) ?? 0) + 1);
    }
    pods.push({ demand, ordinal, node: node?.name });
  };
  const fits = (node: NodeSpec, cpu: number, memory: number) => {
    const usage = used.get(node.name)!;
    return usage.cpu + cpu <= node.cpu && usage.memory + memory <= node.memory;
  };
  const allocatedAfter = (node: NodeSpec, cpu: number, memory: number) => {
    const usage = used.get(node.name)!;
    return ((usage.cpu + cpu) / node.cpu + (usage.memory + memory) / node.memory) / 2;
  };
  for (const demand of demands.filter((candidate) => candidate.replicas === undefined)) {
    nodes.filter((node) => nodeAccepts(node, demand)).forEach((node, index) => assign(demand, index, fits(node, demand.cpu, demand.memory) ? node : undefined));
  }
  // Followers (required pod affinity) travel with the first pod of their anchor service.
  const followers = new Map<PodDemand, PodDemand[]>();
  const orphans: PodDemand[] = [];
  for (const demand of demands.filter((candidate) => candidate.replicas !== undefined && candidate.colocateWith)) {
    const anchor = colocationAnchors(demand, demands).find((candidate) => !candidate.colocateWith && (candidate.replicas ?? 0) > 0);
    if (anchor) followers.set(anchor, [...(followers.get(anchor) ?? []), demand]);
    else orphans.push(demand);
  }
  const groupOf = (demand: PodDemand, ordinal: number) => {
    const members = ordinal === 0 ? (followers.get(demand) ?? []) : [];
    return members.reduce(
      (total, member) => ({ cpu: total.cpu + member.cpu * (member.replicas ?? 0), memory: total.memory + member.memory * (member.replicas ?? 0) }),
      { cpu: demand.cpu, memory: demand.memory },
    );
  };
  const replicated = demands
    .filter((demand) => demand.replicas !== undefined && !demand.colocateWith)
    .flatMap((demand) => Array.from({ length: demand.replicas ?? 0 }, (_, ordinal) => ({ demand, ordinal, group: groupOf(demand, ordinal) })))
    .sort((a, b) => b.group.cpu - a.group.cpu || b.group.memory - a.group.memory || a.demand.service.localeCompare(b.demand.service) || a.ordinal - b.ordinal);
  for (const { demand, ordinal, group } of replicated) {
    const members = ordinal === 0 ? (followers.get(demand) ?? []) : [];
    const candidates = nodes
      .filter((node) => nodeAccepts(node, demand) && members.every((member) => nodeAccepts(node, member)) && fits(node, group.cpu, group.memory))
      .map((node, index) => ({ node, index, count: perServiceNode.get(`${demand.service}@${node.name}`) ?? 0, allocated: allocatedAfter(node, group.cpu, group.memory) }))
      .filter((candidate) => !demand.requiredHostnameSpread || candidate.count === 0)
      .sort((a, b) => a.count - b.count || a.allocated - b.allocated || a.index - b.index);
    const node = candidates[0]?.node;
    assign(demand, ordinal, node);
    for (const member of members) {
      for (let memberOrdinal = 0; memberOrdinal < (member.replicas ?? 0); memberOrdinal++) assign(member, memberOrdinal, node);
    }
  }
  for (const orphan of orphans) {
    for (let ordinal = 0; ordinal < (orphan.replicas ?? 0); ordinal++) assign(orphan, ordinal, undefined);
  }
  return { pods, used };
}

// ---------------------------------------------------------------- the plan

export interface CapacityReport {
  readonly requested: { cpu: number; memory: number; storage: number };
  readonly allocatable: { cpu: number; memory: number; storage: number };
  readonly budget: { cpu: number; memory: number; storage: number };
  readonly unplaced: PlacedPod[];
  readonly fits: boolean;
  readonly nodes: { node: NodeSpec; cpu: number; memory: number; pods: number }[];
  /** Worker node -> services left with no running replica if that node is lost. */
  readonly nodeLoss: { node: string; services: string[] }[];
  /** Every service that some single node loss leaves without a replica, classified. */
  readonly singlePoints: SinglePoints;
  /** Worker node -> pods that find no node when that node's pods are placed again on the others. */
  readonly rescheduling: { node: string; unplaced: PlacedPod[] }[];
  readonly demands: PodDemand[];
  /** Multi-replica workloads without a PodDisruptionBudget (disruptionBudgetGaps). */
  readonly disruptionBudgetGaps: string[];
}

export interface SinglePoints {
  /** ACCEPTED_SINGLE_POINTS that are single points in this plan. */
  readonly accepted: AcceptedSinglePoint[];
  /** Services pinned by required hostname pod affinity to a service, by that service: its failure domain. */
  readonly pinned: Record<string, string[]>;
  /** CONTROL_LOOP_ONLY entries that are single points in this plan. */
  readonly controlLoops: ControlLoopOnly[];
  /** Anything else: a defect to fix in the manifests. */
  readonly defects: string[];
}

export interface AcceptedSinglePoint {
  readonly service: string;
  /** Which upstream design forces one instance, and what a node loss means for users meanwhile. */
  readonly reason: string;
}

/**
 * Services whose loss on one node is accepted because upstream allows exactly one instance. Nothing
 * else may be a single point: everything else is a defect to fix in the manifests.
 */
export const ACCEPTED_SINGLE_POINTS: readonly AcceptedSinglePoint[] = [
  {
    service: 'matrix/synapse-main',
    reason:
      'Synapse runs exactly one main process, and one instance of each single-writer task (the typing, to_device, account_data and ' +
      'presence, and the background and user-directory tasks); workers keep serving what they own while it is rescheduled.',
  },
  {
    service: 'matrix/lk-jwt-service',
    reason:
      'lk-jwt-service 0.6.0 must run as one instance, and 0.7.0 (the Rust rewrite) too (lk-jwt-service#216, open; element-hq/ess-helm#1546 ' +
      'limits it to one replica): each instance loads every delegated-leave job from Redis at start, and only the instance holding a job acts on its webhooks. ' +
      'On a node loss the pod moves after 30 s of node unreachability (NoExecute toleration), as Synapse main does; calls in progress continue on LiveKit, ' +
      'new joins wait for the restart, and the restarted instance resumes the jobs stored in Redis.',
  },
];

/** The service names of ACCEPTED_SINGLE_POINTS. */
export const ACCEPTED_SINGLE_POINT_SERVICES: readonly string[] = ACCEPTED_SINGLE_POINTS.map((entry) => entry.service);

export interface ControlLoopOnly {
  readonly service: string;
  /** Why it runs once, and why losing it for a reschedule does not affect traffic. */
  readonly reason: string;
}

/**
 * Single-replica services that carry no traffic: while one is rescheduled after a node loss nothing
 * users see stops, only reconciliation waits. Each one runs once because its chart offers no safe
 * second replica (verified at the pinned chart versions; see the chart files' key lists).
 */
export const CONTROL_LOOP_ONLY: readonly ControlLoopOnly[] = [
  {
    service: `${NAMESPACES.metallb.name}/metallb-controller`,
    reason:
      'MetalLB chart 0.16.1 has no replica key: the controller Deployment template renders no replicas, so it runs one. ' +
      'It assigns addresses to new LoadBalancer Services and serves the CR webhook; the speakers keep announcing assigned addresses without it.',
  },
  {
    service: `${PROMETHEUS_STACK.namespace}/${PROMETHEUS_STACK.releaseName}-operator`,
    reason:
      'kube-prometheus-stack 88.5.3 hard-codes replicas: 1 (templates/prometheus-operator/deployment.yaml). ' +
      'It reconciles Prometheus objects and rules; running Prometheus pods keep scraping and evaluating without it.',
  },
  {
    service: `${PROMETHEUS_STACK.namespace}/${PROMETHEUS_STACK.releaseName}-kube-state-metrics`,
    reason:
      'A metrics exporter: two unsharded replicas export every series twice (sums in rules and dashboards double), autosharding splits ' +
      'the series so a lost shard loses part of them. Losing it leaves a gap in kube_* metrics, nothing else.',
  },
];

export function capacityReport(config: PlatformConfig, objects: readonly Obj[]): CapacityReport {
  const plan = nodePlan(config);
  const demands = demandsOf(objects);
  const placement = place(demands, plan.nodes);
  const placed = placement.pods.filter((pod) => pod.node !== undefined);
  const unplaced = placement.pods.filter((pod) => pod.node === undefined);
  const requested = placement.pods.reduce(
    (sum, pod) => ({ cpu: sum.cpu + pod.demand.cpu, memory: sum.memory + pod.demand.memory, storage: sum.storage + pod.demand.storagePerReplica }),
    { cpu: 0, memory: 0, storage: 0 },
  );
  const allocatable = plan.nodes.reduce((sum, node) => ({ cpu: sum.cpu + node.cpu, memory: sum.memory + node.memory, storage: sum.storage + node.storage }), {
    cpu: 0,
    memory: 0,
    storage: 0,
  });
  const services = [...new Set(placement.pods.map((pod) => pod.demand.service))].sort();
  const nodeLoss = plan.nodes
    .filter((node) => !node.controlPlane)
    .map((node) => ({
      node: node.name,
      services: services.filter((service) => {
        const running = placed.filter((pod) => pod.demand.service === service);
        return running.length > 0 && running.every((pod) => pod.node === node.name);
      }),
    }));
  const lost = [...new Set(nodeLoss.flatMap((loss) => loss.services))].sort();
  const pinnedTo = new Map<string, string>();
  for (const demand of demands.filter((candidate) => candidate.colocateWith)) {
    const anchor = colocationAnchors(demand, demands).find((candidate) => !candidate.colocateWith);
    if (anchor) pinnedTo.set(demand.service, anchor.service);
  }
  const accepted = ACCEPTED_SINGLE_POINTS.filter((entry) => lost.includes(entry.service));
  const pinned: Record<string, string[]> = {};
  for (const service of lost) {
    const anchor = pinnedTo.get(service);
    // Pinned to an accepted single point: part of its failure domain, never a separate one.
    if (anchor && ACCEPTED_SINGLE_POINT_SERVICES.includes(anchor)) pinned[anchor] = [...(pinned[anchor] ?? []), service];
  }
  const pinnedServices = Object.values(pinned).flat();
  const controlLoops = CONTROL_LOOP_ONLY.filter((entry) => lost.includes(entry.service));
  const singlePoints: SinglePoints = {
    accepted,
    pinned,
    controlLoops,
    defects: lost.filter(
      (service) => !ACCEPTED_SINGLE_POINT_SERVICES.includes(service) && !pinnedServices.includes(service) && !controlLoops.some((entry) => entry.service === service),
    ),
  };
  const rescheduling = plan.nodes
    .filter((node) => !node.controlPlane)
    .map((node) => ({
      node: node.name,
      unplaced: place(
        demands,
        plan.nodes.filter((candidate) => candidate.name !== node.name),
      ).pods.filter((pod) => pod.node === undefined),
    }));
  const fits =
    unplaced.length === 0 && requested.cpu <= plan.budget.cpu && requested.memory <= plan.budget.memory && requested.storage <= plan.budget.storage;
  return {
    requested,
    allocatable,
    budget: plan.budget,
    unplaced,
    fits,
    nodes: plan.nodes.map((node) => ({ node, ...placement.used.get(node.name)! })),
    nodeLoss,
    singlePoints,
    rescheduling,
    demands,
    disruptionBudgetGaps: disruptionBudgetGaps(demands),
  };
}

// ---------------------------------------------------------------- text output

const cpuText = (millicores: number) => `${(millicores / 1000).toFixed(1)} vCPU`;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
const tib = (bytes: number) => `${(bytes / TiB).toFixed(2)} TiB`;
const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : 'n/a');


export function formatReport(report: CapacityReport, configName: string): string {
  const lines: string[] = [];
  const { requested, budget, allocatable } = report;
  lines.push('# Capacity plan', '', `Generated by \`npm run plan\` from ${configName}. Do not edit by hand.`, '');
  lines.push('## Totals', '', '| resource | requested | budget | allocatable on nodes |', '| --- | --- | --- | --- |');
  lines.push(`| CPU | ${cpuText(requested.cpu)} (${percent(requested.cpu, budget.cpu)}) | ${cpuText(budget.cpu)} | ${cpuText(allocatable.cpu)} |`);
  lines.push(`| memory | ${gib(requested.memory)} (${percent(requested.memory, budget.memory)}) | ${gib(budget.memory)} | ${gib(allocatable.memory)} |`);
  lines.push(`| storage (PVCs) | ${tib(requested.storage)} (${percent(requested.storage, budget.storage)}) | ${tib(budget.storage)} | ${tib(allocatable.storage)} |`, '');
  const over = (['cpu', 'memory', 'storage'] as const).filter((key) => requested[key] > budget[key]);
  lines.push(
    `**Fits: ${report.fits ? 'yes' : 'no'}.** ${report.unplaced.length === 0 ? 'Every pod has a node.' : `${report.unplaced.length} pods have no node.`}${over.length > 0 ? ` Over budget: ${over.join(', ')}.` : ''}`,
    '',
  );
  if (report.unplaced.length > 0) {
    lines.push('Pods without a node:', '');
    for (const pod of report.unplaced) lines.push(`- ${pod.demand.description} #${pod.ordinal} (${cpuText(pod.demand.cpu)}, ${gib(pod.demand.memory)})`);
    lines.push('');
  }
  const points = report.singlePoints;
  const describe = (service: string) =>
    points.pinned[service]
      ? `${service} (+ co-located single writers: ${points.pinned[service].join(', ')})`
      : points.controlLoops.some((entry) => entry.service === service)
        ? `${service} (control loop only)`
        : service;
  const pinnedServices = Object.values(points.pinned).flat();
  lines.push('## Single node loss', '', 'Services left with no running replica when one worker node is lost (before rescheduling):', '');
  lines.push('| node | services left without a replica |', '| --- | --- |');
  for (const loss of report.nodeLoss) {
    const shown = loss.services.filter((service) => !pinnedServices.includes(service) || !loss.services.some((other) => points.pinned[other]?.includes(service)));
    lines.push(`| ${loss.node} | ${shown.length > 0 ? shown.map(describe).join(', ') : 'none'} |`);
  }
  lines.push('');
  lines.push('Accepted single points: upstream allows exactly one instance:', '');
  if (points.accepted.length === 0) lines.push('- none');
  for (const entry of points.accepted) lines.push(`- ${describe(entry.service)}: ${entry.reason}`);
  lines.push('');
  lines.push(
    'Pods pinned to an accepted single point by required pod affinity (kubernetes.io/hostname) share its node and so its failure domain:',
    'a node loss takes them down only together with it, never on their own.',
    '',
  );
  lines.push('Control loop only: no traffic impact while it is rescheduled:', '');
  if (points.controlLoops.length === 0) lines.push('- none');
  for (const entry of points.controlLoops) lines.push(`- ${entry.service}: ${entry.reason}`);
  lines.push('', `**Other single points (defects): ${points.defects.length > 0 ? points.defects.join(', ') : 'none'}.**`, '');
  lines.push('## Rescheduling after a node loss', '', 'Whether every pod still finds a node when one worker node is gone (requests, selectors and affinity as above):', '');
  lines.push('| node lost | pods without a node |', '| --- | --- |');
  for (const entry of report.rescheduling) {
    const left = (pod: PlacedPod) => entry.unplaced.filter((other) => other.demand === pod.demand).length;
    const text = entry.unplaced.map((pod) => `${pod.demand.service} #${pod.ordinal} (${(pod.demand.replicas ?? 0) - left(pod)} of ${pod.demand.replicas} still run)`);
    lines.push(`| ${entry.node} | ${text.length > 0 ? text.join(', ') : 'none'} |`);
  }
  lines.push(
    '',
    'A pod left without a node here waits for the node to return; with required anti-affinity (PostgreSQL instances) that is',
    'expected when the pool has no spare node: the service keeps running on its other replicas.',
    '',
  );
  lines.push('## Disruption budgets', '', 'Every workload with more than one replica limits voluntary evictions (node drains) with a PodDisruptionBudget;', 'the Workloads table below says where each one comes from.', '');
  const gaps = report.disruptionBudgetGaps;
  lines.push(`**Workloads with more than one replica and no PodDisruptionBudget: ${gaps.length > 0 ? gaps.length : 'none'}.**`, '');
  if (gaps.length > 0) lines.push(...gaps.map((gap) => `- ${gap}`), '');
  lines.push('## Nodes', '', '| node | pool | CPU requested | memory requested | pods |', '| --- | --- | --- | --- | --- |');
  for (const entry of report.nodes) {
    lines.push(
      `| ${entry.node.name} | ${entry.node.pool} | ${cpuText(entry.cpu)} of ${cpuText(entry.node.cpu)} | ${gib(entry.memory)} of ${gib(entry.node.memory)} | ${entry.pods} |`,
    );
  }
  lines.push('', '## Workloads', '', '| workload | source | pods | CPU/pod | memory/pod | storage/pod | disruption budget |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const demand of report.demands) {
    const budget = demand.disruptionBudget ?? ((demand.replicas ?? 0) > 1 ? '**none**' : '-');
    lines.push(
      `| ${demand.description} | ${demand.source} | ${demand.replicas ?? 'per node'} | ${cpuText(demand.cpu)} | ${gib(demand.memory)} | ${demand.storagePerReplica > 0 ? gib(demand.storagePerReplica) : '-'} | ${budget} |`,
    );
  }
  lines.push(
    '',
    '## Method',
    '',
    '- Pods come from the rendered dist/: Deployments and StatefulSets (replicas), DaemonSets (one per node they accept),',
    '  CloudNativePG Clusters (instances, storage + WAL), MinIO Tenant pools (servers x volumes). Jobs and CronJobs are',
    '  transient and excluded.',
    '- Helm-installed workloads are estimated from the values we set (replicas, resources.requests, persistence size),',
    '  or from typical requests where we set none (table HELM_ESTIMATES in lib/model/capacity.ts). Pods that operators',
    '  create beyond these (Envoy proxy fleet, ingress admission jobs) are counted only where our values size them.',
    '- Placement: DaemonSets first, then first-fit decreasing by CPU and memory requests, honouring nodeSelector,',
    '  required node affinity, required hostname anti-affinity and DoNotSchedule hostname spreading; otherwise each pod',
    '  goes to the node holding the fewest pods of its service, then to the least allocated one. Required hostname pod',
    '  affinity places a pod with the first pod it follows, on a node with room for both. Control-plane nodes take only',
    '  DaemonSets that tolerate them.',
    '- Single points are computed from the placement; a pod pinned by required pod affinity to an accepted single point',
    '  is reported as part of that failure domain (from the rendered affinity, not from a list).',
    '- Rescheduling: the whole placement is repeated without the lost node (DaemonSet pods of that node are gone).',
    '- Disruption budgets: a rendered PodDisruptionBudget whose selector selects the pods (our workloads, MinIO pools,',
    '  charts without a PDB value), CloudNativePG\'s own (enablePDB), or the chart values that make a chart render one',
    '  (HELM_ESTIMATES disruptionBudget, verified in the chart templates).',
    '- Storage is compared with the budget in total; where PersistentVolumes live (local or network) is not modelled.',
    '',
  );
  return lines.join('\n');
}
