import type { ChartPod, ChartPort, Labels } from './model/chart-pods';
import { type ContainerView, type Obj, type PodTemplateView, renderedWorkloads } from './model/capacity';

/**
 * Compares a chart as `helm template` renders it with our values against the entries of
 * lib/model/chart-pods.ts that describe its pods. The NetworkPolicies select chart pods by those
 * entries and open only their ports, so every difference found here is a pod the policies miss, a
 * selector that matches nothing, or a port (webhook calls included) the policies refuse.
 * Pure: rendered objects and table entries in, problems out (scripts/check-chart-pods.ts renders).
 */

export interface RenderedChart {
  /** The pinned chart version: every entry's `source` must name it, so a chart bump makes someone re-read the templates. */
  readonly version: string;
  /** The release namespace: Helm installs namespaced objects without a namespace there. */
  readonly namespace: string;
  readonly objects: readonly Obj[];
}

export interface ChartPodsCheck {
  readonly problems: string[];
  readonly podTemplates: number;
  readonly webhooks: number;
  readonly conversionWebhooks: number;
}

interface DeclaredPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
}

interface RenderedPod {
  /** `Kind namespace/name`. */
  readonly ref: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly hostNetwork: boolean;
  readonly ports: readonly DeclaredPort[];
}

interface ServicePort {
  readonly port: number;
  readonly protocol?: string;
  readonly targetPort?: number | string;
}

interface ServiceReference {
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number;
}

interface ClientConfig {
  readonly url?: string;
  readonly service?: ServiceReference;
}

/** The port the API server calls when a webhook's clientConfig.service gives none. */
const DEFAULT_WEBHOOK_PORT = 443;

const protocolOf = (port: ChartPort): string => port.protocol ?? 'TCP';
const formatPort = (port: { port: number; protocol?: string; name?: string }): string => `${port.name ? `${port.name} ` : ''}${port.port}/${port.protocol ?? 'TCP'}`;
const formatPorts = (ports: readonly { port: number; protocol?: string; name?: string }[]): string => (ports.length > 0 ? ports.map(formatPort).join(', ') : 'none');
const formatLabels = (labels: Labels): string => `{${Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(', ')}}`;
const carries = (podLabels: Labels, selector: Labels): boolean => Object.entries(selector).every(([key, value]) => podLabels[key] === value);

/** Containers that serve while the pod runs: regular ones and native sidecars (init containers that keep running). */
function servingContainers(template: PodTemplateView): ContainerView[] {
  return [...template.spec.containers, ...(template.spec.initContainers ?? []).filter((container) => container.restartPolicy === 'Always')];
}

function renderedPod(kind: string, name: string, namespace: string, template: PodTemplateView): RenderedPod {
  return {
    ref: `${kind} ${namespace}/${name}`,
    namespace,
    labels: template.metadata?.labels ?? {},
    hostNetwork: template.spec.hostNetwork === true,
    ports: servingContainers(template).flatMap((container) =>
      (container.ports ?? []).map((port) => ({ name: port.name, port: port.containerPort, protocol: port.protocol ?? 'TCP' })),
    ),
  };
}

/** Every pod the objects make: the pod templates of workloads (hook Jobs included) and bare Pods. */
function renderedPods(objects: readonly Obj[]): RenderedPod[] {
  const pods = renderedWorkloads(objects).map((workload) => renderedPod(workload.kind, workload.name, workload.namespace, workload.template));
  for (const object of objects) {
    if (object.kind !== 'Pod') continue;
    pods.push(renderedPod('Pod', object.metadata?.name ?? '', object.metadata?.namespace ?? '', object as unknown as PodTemplateView));
  }
  return pods;
}

function withNamespace(object: Obj, namespace: string): Obj {
  if (object.metadata?.namespace) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}

export function checkChartPods(rendered: RenderedChart, entries: readonly ChartPod[]): ChartPodsCheck {
  const objects = rendered.objects.filter((object) => object && typeof object === 'object').map((object) => withNamespace(object, rendered.namespace));
  const pods = renderedPods(objects);
  const problems: string[] = [];
  const entriesOf = (pod: RenderedPod): ChartPod[] => entries.filter((entry) => entry.namespace === pod.namespace && carries(pod.labels, entry.labels));

  for (const entry of entries) {
    if (!entry.source.includes(rendered.version)) {
      problems.push(`${entry.id}: its source "${entry.source}" does not name the checked chart version ${rendered.version}`);
    }
    const matches = pods.filter((pod) => pod.namespace === entry.namespace && carries(pod.labels, entry.labels));
    if (matches.length === 0) {
      const there = pods.filter((pod) => pod.namespace === entry.namespace);
      problems.push(
        `${entry.id}: no pod rendered in namespace ${entry.namespace} carries its labels ${formatLabels(entry.labels)}` +
          ` (rendered there: ${there.map((pod) => `${pod.ref} ${formatLabels(pod.labels)}`).join('; ') || 'nothing'})`,
      );
    }
    for (const pod of matches) {
      const expected = entry.hostNetwork === true;
      if (pod.hostNetwork !== expected) problems.push(`${entry.id}: ${pod.ref} has hostNetwork ${pod.hostNetwork}, the table says ${expected}`);
      for (const port of entry.ports) {
        if (!pod.ports.some((declared) => declared.port === port.port && declared.protocol === protocolOf(port))) {
          problems.push(`${entry.id}: port ${formatPort(port)} is not a declared containerPort of ${pod.ref} (declared: ${formatPorts(pod.ports)})`);
        }
      }
    }
  }

  for (const pod of pods) {
    const owners = entriesOf(pod);
    if (owners.length === 0) {
      problems.push(`${pod.ref} ${formatLabels(pod.labels)} matches no entry of the table: the NetworkPolicies know nothing of this pod`);
    } else if (owners.length > 1) {
      problems.push(`${pod.ref} matches several entries (${owners.map((owner) => owner.id).join(', ')}): the table must describe each pod once`);
    }
  }

  const services = objects.filter((object) => object.kind === 'Service');
  const checkWebhookTarget = (target: string, clientConfig: ClientConfig | undefined): void => {
    if (clientConfig?.url !== undefined) {
      problems.push(`${target}: calls ${clientConfig.url}, not a Service, so no chart pod can be named for it`);
      return;
    }
    const reference = clientConfig?.service;
    if (!reference?.name) {
      problems.push(`${target}: has no clientConfig.service`);
      return;
    }
    const namespace = reference.namespace ?? rendered.namespace;
    const serviceName = `Service ${namespace}/${reference.name}`;
    const service = services.find((candidate) => candidate.metadata?.name === reference.name && candidate.metadata?.namespace === namespace);
    if (!service) {
      problems.push(`${target}: ${serviceName} is not rendered by the chart`);
      return;
    }
    const spec = (service.spec ?? {}) as { selector?: Labels; ports?: ServicePort[] };
    const port = reference.port ?? DEFAULT_WEBHOOK_PORT;
    const servicePort = (spec.ports ?? []).find((candidate) => candidate.port === port && (candidate.protocol ?? 'TCP') === 'TCP');
    if (!servicePort) {
      problems.push(`${target}: ${serviceName} has no TCP port ${port} (ports: ${formatPorts(spec.ports ?? [])})`);
      return;
    }
    const selector = spec.selector ?? {};
    if (Object.keys(selector).length === 0) {
      problems.push(`${target}: ${serviceName} has no selector, so its endpoints are no chart pods`);
      return;
    }
    const selected = pods.filter((pod) => pod.namespace === namespace && carries(pod.labels, selector));
    if (selected.length === 0) {
      problems.push(`${target}: ${serviceName} selects no rendered pod (selector ${formatLabels(selector)})`);
      return;
    }
    const targetPort = servicePort.targetPort ?? servicePort.port;
    for (const pod of selected) {
      const resolved = typeof targetPort === 'number' ? targetPort : pod.ports.find((declared) => declared.name === targetPort && declared.protocol === 'TCP')?.port;
      if (resolved === undefined) {
        problems.push(`${target}: ${serviceName} port ${port} targets "${targetPort}", which is no named TCP containerPort of ${pod.ref} (declared: ${formatPorts(pod.ports)})`);
        continue;
      }
      // A pod no entry describes is reported above already.
      for (const owner of entriesOf(pod)) {
        if (!owner.ports.some((listed) => listed.port === resolved && protocolOf(listed) === 'TCP')) {
          problems.push(
            `${target}: ${serviceName} port ${port} -> ${pod.ref} port ${resolved}/TCP, which the entry ${owner.id} does not list (its ports: ${formatPorts(owner.ports)})`,
          );
        }
      }
    }
  };

  let webhooks = 0;
  let conversionWebhooks = 0;
  for (const object of objects) {
    if (object.kind === 'ValidatingWebhookConfiguration' || object.kind === 'MutatingWebhookConfiguration') {
      for (const webhook of (object.webhooks ?? []) as { name: string; clientConfig?: ClientConfig }[]) {
        webhooks++;
        checkWebhookTarget(`${object.kind} ${object.metadata?.name} webhook ${webhook.name}`, webhook.clientConfig);
      }
    }
    if (object.kind === 'CustomResourceDefinition') {
      const conversion = (object.spec as { conversion?: { strategy?: string; webhook?: { clientConfig?: ClientConfig } } } | undefined)?.conversion;
      if (conversion?.strategy !== 'Webhook') continue;
      conversionWebhooks++;
      checkWebhookTarget(`CustomResourceDefinition ${object.metadata?.name} conversion webhook`, conversion.webhook?.clientConfig);
    }
  }

  return { problems, podTemplates: pods.length, webhooks, conversionWebhooks };
}
