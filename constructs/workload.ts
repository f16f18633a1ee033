import { ApiObject, type ApiObjectMetadata, Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Resources } from '../lib/config/primitives';
import { type ImagePin, imageRef, withDigest } from '../lib/versions';
import type { ComponentChart } from './component-chart';

/**
 * Hardened workloads: every container pinned, sized and locked down, every multi-replica workload
 * spread across nodes and protected by a PodDisruptionBudget. Charts describe what runs; this
 * construct makes sure it runs the way production needs.
 */

export const PART_OF = 'matrix-platform';

export function componentLabels(name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
  };
}

/**
 * A checkov finding we accept on one object, with the reason: rendered as the checkov convention,
 * annotations `checkov.io/skip<N>: <check id>=<reason>` on the object (scripts/checkov.sh fails on
 * every finding without one). Never a global skip.
 */
export interface ScannerException {
  /** checkov check id, for example CKV_K8S_19. */
  readonly check: string;
  /** One line; checkov splits the annotation at `=`, so the reason must not contain one. */
  readonly reason: string;
}

export function scannerAnnotations(exceptions: readonly ScannerException[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  const seen = new Set<string>();
  exceptions.forEach((exception, index) => {
    if (!/^CKV_K8S_[0-9]+$/.test(exception.check)) throw new Error(`scanner exception ${exception.check}: not a checkov kubernetes check id`);
    if (seen.has(exception.check)) throw new Error(`scanner exception ${exception.check} listed twice`);
    if (!exception.reason.trim() || /[=\n]/.test(exception.reason)) throw new Error(`scanner exception ${exception.check}: the reason must be one line without '='`);
    seen.add(exception.check);
    annotations[`checkov.io/skip${index + 1}`] = `${exception.check}=${exception.reason}`;
  });
  return annotations;
}

/**
 * CKV_K8S_43 (image by digest) and CKV_K8S_15 (pull policy Always, which checkov waives for digests):
 * accepted while an image of the pod is referenced by tag only. Digests are optional
 * (lib/versions.ts ImagePin.digest, config images.digests); once every image of a pod has one, both
 * checks apply again.
 */
export function imageDigestExceptions(containers: readonly k8s.Container[]): ScannerException[] {
  const byTag = containers.filter((candidate) => !(candidate.image ?? '').includes('@sha256:')).map((candidate) => candidate.name);
  if (byTag.length === 0) return [];
  const reason = `image pinned by tag until a digest is set (lib/versions.ts or config images.digests): ${byTag.join(' ')}`;
  return [
    { check: 'CKV_K8S_43', reason },
    { check: 'CKV_K8S_15', reason: 'IfNotPresent with a pinned tag; Always would make every restart depend on the registry' },
  ];
}

export interface ContainerSecurity {
  /** Default true. False only where the software must write to its root filesystem (docs/security.md). */
  readonly readOnlyRootFilesystem?: boolean;
  /** Capabilities to add back after dropping all (for example NET_BIND_SERVICE). */
  readonly addCapabilities?: string[];
}

export function containerSecurityContext(security: ContainerSecurity = {}): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem ?? true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'], ...(security.addCapabilities ? { add: security.addCapabilities } : {}) },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export interface PodIdentity {
  readonly runAsUser: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
}

export function podSecurityContext(identity: PodIdentity): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: identity.runAsUser,
    runAsGroup: identity.runAsGroup ?? identity.runAsUser,
    fsGroup: identity.fsGroup ?? identity.runAsGroup ?? identity.runAsUser,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function toResourceRequirements(resources: Resources): k8s.ResourceRequirements {
  return {
    requests: {
      cpu: k8s.Quantity.fromString(resources.requests.cpu),
      memory: k8s.Quantity.fromString(resources.requests.memory),
    },
    limits: {
      cpu: k8s.Quantity.fromString(resources.limits.cpu),
      memory: k8s.Quantity.fromString(resources.limits.memory),
    },
  };
}

/**
 * Node disk a container may use besides its volumes: its log files (the kubelet rotates them at
 * 10Mi x 5 by default) and, with a read-only root filesystem, nothing else. Disk-backed emptyDirs
 * are added on top by withEphemeralStorage (memory-backed ones count against memory instead).
 */
export const CONTAINER_EPHEMERAL_STORAGE = { request: 64, limit: 256 } as const;

const BINARY_SUFFIXES: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** A binary-suffixed storage quantity (16Mi, 2Gi) in MiB. */
export function storageMebibytes(quantity: string): number {
  const match = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`storage quantity ${quantity}: use a whole number with Ki, Mi, Gi or Ti`);
  return Number(match[1]) * BINARY_SUFFIXES[match[2]];
}

/**
 * Adds ephemeral-storage requests and limits to every container of a pod: the log allowance, plus the
 * sizeLimit of each disk-backed emptyDir to the first container that mounts it, so the pod's summed
 * limit covers everything the kubelet counts against it and a runaway writer is evicted before it
 * fills the node. Every disk-backed emptyDir must have a sizeLimit.
 */
export function withEphemeralStorage(containers: readonly k8s.Container[], volumes: readonly k8s.Volume[] = []): k8s.Container[] {
  const diskVolumes = new Map<string, number>();
  for (const volume of volumes) {
    if (!volume.emptyDir || volume.emptyDir.medium === 'Memory') continue;
    const sizeLimit = volume.emptyDir.sizeLimit?.value;
    if (sizeLimit === undefined) throw new Error(`emptyDir ${volume.name}: a disk-backed emptyDir needs a sizeLimit`);
    diskVolumes.set(volume.name, storageMebibytes(String(sizeLimit)));
  }
  const counted = new Set<string>();
  return containers.map((candidate) => {
    let scratch = 0;
    for (const mount of candidate.volumeMounts ?? []) {
      const size = diskVolumes.get(mount.name);
      if (size === undefined || counted.has(mount.name)) continue;
      counted.add(mount.name);
      scratch += size;
    }
    const quantity = (mebibytes: number) => k8s.Quantity.fromString(mebibytes % 1024 === 0 ? `${mebibytes / 1024}Gi` : `${mebibytes}Mi`);
    const resources = candidate.resources ?? {};
    return {
      ...candidate,
      resources: {
        requests: { ...resources.requests, 'ephemeral-storage': quantity(CONTAINER_EPHEMERAL_STORAGE.request) },
        limits: { ...resources.limits, 'ephemeral-storage': quantity(CONTAINER_EPHEMERAL_STORAGE.limit + scratch) },
      },
    };
  });
}

/** The config's image digests (images.digests) applied to a pod's containers. */
export function withImageDigests(containers: readonly k8s.Container[], digests: Readonly<Record<string, string>>): k8s.Container[] {
  return containers.map((candidate) => (candidate.image ? { ...candidate, image: withDigest(candidate.image, digests) } : candidate));
}

/** The config digests of the platform a construct belongs to (none outside a ComponentChart, as in unit tests of constructs). */
function configuredDigests(scope: Construct): Readonly<Record<string, string>> {
  const chart = Chart.of(scope) as Partial<Pick<ComponentChart, 'platform'>>;
  return chart.platform?.config.images.digests ?? {};
}

export interface ContainerProps {
  readonly name: string;
  readonly image: ImagePin;
  readonly resources: Resources;
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: k8s.EnvVar[];
  readonly envFrom?: k8s.EnvFromSource[];
  readonly ports?: k8s.ContainerPort[];
  readonly volumeMounts?: k8s.VolumeMount[];
  readonly livenessProbe?: k8s.Probe;
  readonly readinessProbe?: k8s.Probe;
  readonly startupProbe?: k8s.Probe;
  readonly security?: ContainerSecurity;
  readonly workingDir?: string;
  /**
   * Keep serving for ENDPOINT_DRAIN_SECONDS after the pod is marked terminating, before the stop
   * signal: for servers that clients reach through a Service or EndpointSlices (edge, kube-proxy).
   */
  readonly drainBeforeStop?: boolean;
  /** Handlers from the 1.28 API (exec, httpGet, tcpSocket); for the sleep handler use drainBeforeStop. */
  readonly lifecycle?: k8s.Lifecycle;
}

/**
 * How long a terminating pod keeps serving before it is sent its stop signal. Removing a terminating
 * pod from EndpointSlices and then from every kube-proxy and edge proxy takes a few seconds; a server
 * that stops at once meanwhile refuses the connections still sent to it. Uses the `sleep` preStop
 * action (beta and on by default since Kubernetes 1.30, GA in 1.34): no shell or sleep binary needed
 * in the image. terminationGracePeriodSeconds must leave the server its own shutdown time after it.
 */
export const ENDPOINT_DRAIN_SECONDS = 10;

/**
 * Seconds a single-instance pod tolerates its node being not-ready or unreachable before it is
 * evicted and started elsewhere (Kubernetes' default is 300 s): used where one replica is all there is.
 */
export const FAST_EVICTION_SECONDS = 30;

export function fastEvictionTolerations(): k8s.Toleration[] {
  return ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
    key,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: FAST_EVICTION_SECONDS,
  }));
}

/**
 * Containers built with drainBeforeStop. The `sleep` preStop handler is missing from the 1.28 types of
 * cdk8s-plus-28, whose serialiser drops unknown fields, so Workload adds it to the rendered object
 * as a JSON patch (present in every Kubernetes API we target).
 */
const DRAINING_CONTAINERS = new WeakSet<k8s.Container>();

function drainLifecycle(): Record<string, unknown> {
  return { preStop: { sleep: { seconds: ENDPOINT_DRAIN_SECONDS } } };
}

export function container(props: ContainerProps): k8s.Container {
  if (props.drainBeforeStop && props.lifecycle) throw new Error(`container ${props.name}: drainBeforeStop and lifecycle both set the lifecycle`);
  const built: k8s.Container = {
    name: props.name,
    image: imageRef(props.image),
    imagePullPolicy: 'IfNotPresent',
    ...(props.command ? { command: props.command } : {}),
    ...(props.args ? { args: props.args } : {}),
    ...(props.workingDir ? { workingDir: props.workingDir } : {}),
    ...(props.env ? { env: props.env } : {}),
    ...(props.envFrom ? { envFrom: props.envFrom } : {}),
    ...(props.ports ? { ports: props.ports } : {}),
    ...(props.volumeMounts ? { volumeMounts: props.volumeMounts } : {}),
    resources: toResourceRequirements(props.resources),
    ...(props.startupProbe ? { startupProbe: props.startupProbe } : {}),
    ...(props.livenessProbe ? { livenessProbe: props.livenessProbe } : {}),
    ...(props.readinessProbe ? { readinessProbe: props.readinessProbe } : {}),
    ...(props.lifecycle ? { lifecycle: props.lifecycle } : {}),
    securityContext: containerSecurityContext(props.security),
  };
  if (props.drainBeforeStop) DRAINING_CONTAINERS.add(built);
  return built;
}

/** An environment variable filled by Kubernetes from one key of a Secret (the value never reaches dist/). */
export function secretEnv(name: string, secretName: string, key: string): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

export function httpProbe(path: string, port: number | string, options: Partial<k8s.Probe> = {}): k8s.Probe {
  return {
    httpGet: { path, port: typeof port === 'number' ? k8s.IntOrString.fromNumber(port) : k8s.IntOrString.fromString(port) },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...options,
  };
}

export function tcpProbe(port: number | string, options: Partial<k8s.Probe> = {}): k8s.Probe {
  return {
    tcpSocket: { port: typeof port === 'number' ? k8s.IntOrString.fromNumber(port) : k8s.IntOrString.fromString(port) },
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold: 3,
    ...options,
  };
}

export function execProbe(command: string[], options: Partial<k8s.Probe> = {}): k8s.Probe {
  return { exec: { command }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...options };
}

/**
 * How replicas are kept apart. `required`: never two on one node (quorum members: a node loss must
 * cost at most one vote). `preferred`: spread across nodes and zones but still schedule when short of nodes.
 */
export type Spread = 'required' | 'preferred' | 'none';

export function spreadConstraints(selector: Record<string, string>, spread: Spread): Pick<k8s.PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  if (spread === 'none') return {};
  const labelSelector = { matchLabels: selector };
  const topologySpreadConstraints: k8s.TopologySpreadConstraint[] = [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: spread === 'required' ? 'DoNotSchedule' : 'ScheduleAnyway',
      labelSelector,
    },
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
  ];
  if (spread === 'preferred') return { topologySpreadConstraints };
  return {
    topologySpreadConstraints,
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector }],
      },
    },
  };
}

function withPodAffinity(
  placement: Pick<k8s.PodSpec, 'affinity' | 'topologySpreadConstraints'>,
  podAffinity: k8s.PodAffinity | undefined,
): Pick<k8s.PodSpec, 'affinity' | 'topologySpreadConstraints'> {
  if (!podAffinity) return placement;
  return { ...placement, affinity: { ...placement.affinity, podAffinity } };
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadProps {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  /** Labels that select the pods; also set on the workload. */
  readonly selector: Record<string, string>;
  readonly labels?: Record<string, string>;
  /** Ignored for DaemonSets. */
  readonly replicas?: number;
  readonly containers: k8s.Container[];
  readonly initContainers?: k8s.Container[];
  readonly volumes?: k8s.Volume[];
  readonly identity: PodIdentity;
  readonly spread?: Spread;
  /** Required/preferred pod affinity (for example: share a node, and so a failure domain, with another pod). */
  readonly podAffinity?: k8s.PodAffinity;
  /**
   * contentHash() of the configuration the pods read from ConfigMaps: written to CONFIG_HASH_ANNOTATION,
   * so a config change rolls the pods (mounted files may be subPaths, which never update in place).
   */
  readonly configHash?: string;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: k8s.Toleration[];
  readonly hostNetwork?: boolean;
  /** Containers see (and, as the same user, may signal) each other's processes. */
  readonly shareProcessNamespace?: boolean;
  readonly serviceAccountName?: string;
  /** Only workloads that call the Kubernetes API get a token. */
  readonly automountServiceAccountToken?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly priorityClassName?: string;
  /** StatefulSet only. */
  readonly serviceName?: string;
  readonly volumeClaimTemplates?: k8s.KubePersistentVolumeClaimProps[];
  readonly podManagementPolicy?: 'OrderedReady' | 'Parallel';
  /** Deployment only. */
  readonly strategy?: k8s.DeploymentStrategy;
  /** PDB maxUnavailable; default 1. Multi-replica workloads always get a PDB. */
  readonly maxUnavailable?: number;
  /** Security scanner findings accepted for this workload, each with its reason (image digests are added automatically). */
  readonly scannerExceptions?: readonly ScannerException[];
}

export class Workload extends Construct {
  readonly podLabels: Record<string, string>;

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const labels = { ...props.labels, ...props.selector };
    this.podLabels = labels;
    const spread = props.spread ?? 'preferred';
    const digests = configuredDigests(this);
    const initContainers = props.initContainers ? withEphemeralStorage(withImageDigests(props.initContainers, digests), props.volumes) : undefined;
    const containers = withEphemeralStorage(withImageDigests(props.containers, digests), props.volumes);
    const exceptions = [...imageDigestExceptions([...(initContainers ?? []), ...containers]), ...(props.scannerExceptions ?? [])];
    const metadata = {
      name: props.name,
      namespace: props.namespace,
      labels,
      ...(exceptions.length > 0 ? { annotations: scannerAnnotations(exceptions) } : {}),
    };
    const podSpec: k8s.PodSpec = {
      ...(props.serviceAccountName ? { serviceAccountName: props.serviceAccountName } : {}),
      automountServiceAccountToken: props.automountServiceAccountToken ?? false,
      enableServiceLinks: false,
      securityContext: podSecurityContext(props.identity),
      ...(props.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
      ...(props.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
      ...(props.nodeSelector ? { nodeSelector: props.nodeSelector } : {}),
      ...(props.tolerations ? { tolerations: props.tolerations } : {}),
      ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
      ...(props.kind === 'DaemonSet' ? {} : withPodAffinity(spreadConstraints(props.selector, spread), props.podAffinity)),
      ...(props.terminationGracePeriodSeconds !== undefined
        ? { terminationGracePeriodSeconds: props.terminationGracePeriodSeconds }
        : {}),
      ...(initContainers ? { initContainers } : {}),
      containers,
      ...(props.volumes ? { volumes: props.volumes } : {}),
    };
    const template: k8s.PodTemplateSpec = {
      metadata: { labels, ...(props.configHash ? { annotations: { [CONFIG_HASH_ANNOTATION]: props.configHash } } : {}) },
      spec: podSpec,
    };
    const selector = { matchLabels: props.selector };
    const replicas = props.replicas ?? 1;
    // Plain ApiObjects holding the typed serialisers' output: the typed L1 classes serialise again
    // after JSON patches, which would drop the patched sleep handler (see DRAINING_CONTAINERS).
    const apps = (kind: WorkloadKind, id: string, body: Record<string, unknown> | undefined) =>
      new ApiObject(this, id, { apiVersion: 'apps/v1', kind, ...(body as { metadata: ApiObjectMetadata }) });
    let workload: ApiObject;
    switch (props.kind) {
      case 'Deployment':
        workload = apps('Deployment', 'deployment', k8s.toJson_KubeDeploymentProps({
          metadata,
          spec: {
            replicas,
            revisionHistoryLimit: 5,
            selector,
            ...(props.strategy ? { strategy: props.strategy } : {}),
            template,
          },
        }));
        break;
      case 'StatefulSet':
        workload = apps('StatefulSet', 'statefulset', k8s.toJson_KubeStatefulSetProps({
          metadata,
          spec: {
            replicas,
            revisionHistoryLimit: 5,
            serviceName: props.serviceName ?? props.name,
            podManagementPolicy: props.podManagementPolicy ?? 'OrderedReady',
            selector,
            template,
            ...(props.volumeClaimTemplates ? { volumeClaimTemplates: props.volumeClaimTemplates } : {}),
          },
        }));
        break;
      case 'DaemonSet':
        workload = apps('DaemonSet', 'daemonset', k8s.toJson_KubeDaemonSetProps({
          metadata,
          spec: {
            revisionHistoryLimit: 5,
            selector,
            updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
            template,
          },
        }));
        break;
    }
    props.containers.forEach((candidate, index) => {
      if (DRAINING_CONTAINERS.has(candidate)) workload.addJsonPatch(JsonPatch.add(`/spec/template/spec/containers/${index}/lifecycle`, drainLifecycle()));
    });
    if (props.kind === 'DaemonSet' || replicas > 1) {
      new k8s.KubePodDisruptionBudget(this, 'pdb', {
        metadata: { name: props.name, namespace: props.namespace, labels },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(props.maxUnavailable ?? 1), selector },
      });
    }
  }
}

export interface ServicePortSpec {
  readonly name: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: 'TCP' | 'UDP';
}

export function service(
  scope: Construct,
  id: string,
  props: {
    name: string;
    namespace: string;
    selector: Record<string, string>;
    ports: ServicePortSpec[];
    labels?: Record<string, string>;
    headless?: boolean;
    publishNotReadyAddresses?: boolean;
  },
): k8s.KubeService {
  return new k8s.KubeService(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels, ...props.selector } },
    spec: {
      type: 'ClusterIP',
      ...(props.headless ? { clusterIp: 'None' } : {}),
      ...(props.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      selector: props.selector,
      ports: props.ports.map((entry) => ({
        name: entry.name,
        port: entry.port,
        protocol: entry.protocol ?? 'TCP',
        targetPort:
          typeof entry.targetPort === 'string'
            ? k8s.IntOrString.fromString(entry.targetPort)
            : k8s.IntOrString.fromNumber(entry.targetPort ?? entry.port),
      })),
    },
  });
}

export function configMap(
  scope: Construct,
  id: string,
  props: { name: string; namespace: string; data: Record<string, string>; labels?: Record<string, string> },
): k8s.KubeConfigMap {
  return new k8s.KubeConfigMap(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, ...(props.labels ? { labels: props.labels } : {}) },
    data: props.data,
  });
}

/** A content hash for pod annotations, so a config change rolls the pods. */
/** Pod template annotation carrying the config hash of WorkloadProps.configHash. */
export const CONFIG_HASH_ANNOTATION = 'matrix-platform/config-hash';

export function contentHash(...parts: string[]): string {
  // FNV-1a 32-bit: stable across runs and platforms, enough to detect a change. The multiplication by
  // the FNV prime 0x01000193 is written as shifts and adds (exact modulo 2^32): Math.imul is not
  // optimised inside jest's module contexts, where it made each synth in a test ~100 times slower.
  let hash = 0x811c9dc5;
  for (const part of parts) {
    for (let index = 0; index < part.length; index++) {
      hash ^= part.charCodeAt(index);
      hash = (hash + (hash << 1) + (hash << 4) + (hash << 7) + (hash << 8) + (hash << 24)) >>> 0;
    }
  }
  return hash.toString(16).padStart(8, '0');
}
