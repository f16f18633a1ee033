import { checkChartPods, type RenderedChart } from '../lib/chart-pods-check';
import { helmReleaseOf, type Obj } from '../lib/model/capacity';
import type { ChartPod } from '../lib/model/chart-pods';

// A small chart as `helm template` renders it: a controller serving a webhook (validating and CRD
// conversion) through a Service with a named targetPort, a host-network DaemonSet, a hook Job. Some
// objects carry no namespace, as many templates render them: Helm installs them in the release namespace.
const labels = (component: string) => ({ 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': component });

function workload(kind: string, name: string, podLabels: Record<string, string>, spec: Record<string, unknown>): Obj {
  const template = { metadata: { labels: podLabels }, spec };
  return { apiVersion: 'apps/v1', kind, metadata: { name }, spec: kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { template } };
}

function renderedObjects(): Obj[] {
  return [
    workload('Deployment', 'demo-controller', { ...labels('controller'), 'app.kubernetes.io/version': '1.2.3' }, {
      containers: [{ name: 'controller', ports: [{ name: 'webhook', containerPort: 9443 }, { name: 'metrics', containerPort: 8080, protocol: 'TCP' }] }],
    }),
    workload('DaemonSet', 'demo-speaker', labels('speaker'), {
      hostNetwork: true,
      containers: [{ name: 'speaker', ports: [{ containerPort: 7946 }, { containerPort: 7946, protocol: 'UDP' }] }],
    }),
    workload('Job', 'demo-hook', labels('hook'), { containers: [{ name: 'hook' }] }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'demo-webhook', namespace: 'demo' },
      spec: { selector: labels('controller'), ports: [{ name: 'https', port: 443, targetPort: 'webhook' }] },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'demo' },
      webhooks: [{ name: 'validate.demo.example', clientConfig: { service: { name: 'demo-webhook', namespace: 'demo', path: '/validate' } } }],
    },
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.demo.example' },
      spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'demo-webhook', namespace: 'demo', port: 443, path: '/convert' } } } } },
    },
    { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.demo.example' }, spec: { conversion: { strategy: 'None' } } },
  ];
}

const entries = (): ChartPod[] => [
  { id: 'demo-controller', namespace: 'demo', labels: { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/component': 'controller' }, ports: [{ port: 9443 }], source: 'demo 1.2.3 templates/controller.yaml' },
  {
    id: 'demo-speaker',
    namespace: 'demo',
    labels: { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/component': 'speaker' },
    hostNetwork: true,
    ports: [{ port: 7946 }, { port: 7946, protocol: 'UDP' }],
    source: 'demo 1.2.3 templates/speaker.yaml',
  },
  { id: 'demo-hook', namespace: 'demo', labels: { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/component': 'hook' }, ports: [], source: 'demo 1.2.3 templates/hook.yaml' },
];

const chart = (objects: Obj[] = renderedObjects()): RenderedChart => ({ version: '1.2.3', namespace: 'demo', objects });
const replaceEntry = (id: string, change: Partial<ChartPod>): ChartPod[] => entries().map((entry) => (entry.id === id ? { ...entry, ...change } : entry));
const withService = (spec: Record<string, unknown>): Obj[] =>
  renderedObjects().map((object) => (object.kind === 'Service' ? { ...object, spec: { ...(object.spec as object), ...spec } } : object));

describe('checkChartPods', () => {
  test('a table that describes the rendered chart has no problem', () => {
    expect(checkChartPods(chart(), entries())).toEqual({ problems: [], podTemplates: 3, webhooks: 1, conversionWebhooks: 1 });
  });

  test('a wrong label: the entry selects nothing and the pod is nobody\'s', () => {
    const problems = checkChartPods(chart(), replaceEntry('demo-controller', { labels: { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/component': 'manager' } })).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^demo-controller: no pod rendered in namespace demo carries its labels \{app\.kubernetes\.io\/name=demo, app\.kubernetes\.io\/component=manager\} \(rendered there: Deployment demo\/demo-controller \{/),
      expect.stringMatching(/^Deployment demo\/demo-controller \{.*\} matches no entry of the table/),
    ]);
  });

  test('an entry in the wrong namespace matches nothing', () => {
    const problems = checkChartPods(chart(), replaceEntry('demo-hook', { namespace: 'other' })).problems;
    expect(problems).toContainEqual('demo-hook: no pod rendered in namespace other carries its labels {app.kubernetes.io/name=demo, app.kubernetes.io/component=hook} (rendered there: nothing)');
  });

  test('a port the pod does not declare, or declares with another protocol', () => {
    expect(checkChartPods(chart(), replaceEntry('demo-controller', { ports: [{ port: 9443 }, { port: 9444 }] })).problems).toEqual([
      'demo-controller: port 9444/TCP is not a declared containerPort of Deployment demo/demo-controller (declared: webhook 9443/TCP, metrics 8080/TCP)',
    ]);
    expect(checkChartPods(chart(), replaceEntry('demo-hook', { ports: [{ port: 8080, protocol: 'UDP' }] })).problems).toEqual([
      'demo-hook: port 8080/UDP is not a declared containerPort of Job demo/demo-hook (declared: none)',
    ]);
  });

  test('hostNetwork must agree both ways', () => {
    expect(checkChartPods(chart(), replaceEntry('demo-speaker', { hostNetwork: undefined })).problems).toEqual([
      'demo-speaker: DaemonSet demo/demo-speaker has hostNetwork true, the table says false',
    ]);
    expect(checkChartPods(chart(), replaceEntry('demo-hook', { hostNetwork: true })).problems).toEqual([
      'demo-hook: Job demo/demo-hook has hostNetwork false, the table says true',
    ]);
  });

  test('a pod the table does not know (a new component, a bare Pod) is reported', () => {
    const objects = [
      ...renderedObjects(),
      workload('CronJob', 'demo-cleanup', labels('cleanup'), { containers: [{ name: 'cleanup' }] }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'demo-test', namespace: 'demo' }, spec: { containers: [{ name: 'test' }] } },
    ];
    expect(checkChartPods(chart(objects), entries()).problems).toEqual([
      'CronJob demo/demo-cleanup {app.kubernetes.io/name=demo, app.kubernetes.io/instance=demo, app.kubernetes.io/component=cleanup} matches no entry of the table: the NetworkPolicies know nothing of this pod',
      'Pod demo/demo-test {} matches no entry of the table: the NetworkPolicies know nothing of this pod',
    ]);
  });

  test('a pod two entries select is reported', () => {
    const broad: ChartPod = { id: 'demo-all', namespace: 'demo', labels: { 'app.kubernetes.io/name': 'demo' }, ports: [], source: 'demo 1.2.3' };
    const problems = checkChartPods(chart(), [...entries(), broad]).problems;
    expect(problems.filter((problem) => problem.includes('matches several entries'))).toEqual([
      'Deployment demo/demo-controller matches several entries (demo-controller, demo-all): the table must describe each pod once',
      'DaemonSet demo/demo-speaker matches several entries (demo-speaker, demo-all): the table must describe each pod once',
      'Job demo/demo-hook matches several entries (demo-hook, demo-all): the table must describe each pod once',
    ]);
  });

  test('a webhook port the serving entry does not list: validating and conversion webhooks both', () => {
    expect(checkChartPods(chart(), replaceEntry('demo-controller', { ports: [] })).problems).toEqual([
      'ValidatingWebhookConfiguration demo webhook validate.demo.example: Service demo/demo-webhook port 443 -> Deployment demo/demo-controller port 9443/TCP, which the entry demo-controller does not list (its ports: none)',
      'CustomResourceDefinition widgets.demo.example conversion webhook: Service demo/demo-webhook port 443 -> Deployment demo/demo-controller port 9443/TCP, which the entry demo-controller does not list (its ports: none)',
    ]);
  });

  test('a numeric targetPort is resolved as it is; a named one must be a declared port', () => {
    const numeric = withService({ ports: [{ port: 443, targetPort: 8080 }] });
    expect(checkChartPods(chart(numeric), entries()).problems).toEqual([
      expect.stringContaining('Service demo/demo-webhook port 443 -> Deployment demo/demo-controller port 8080/TCP, which the entry demo-controller does not list (its ports: 9443/TCP)'),
      expect.stringContaining('CustomResourceDefinition widgets.demo.example'),
    ]);
    const unnamed = withService({ ports: [{ port: 443, targetPort: 'https' }] });
    expect(checkChartPods(chart(unnamed), entries()).problems[0]).toBe(
      'ValidatingWebhookConfiguration demo webhook validate.demo.example: Service demo/demo-webhook port 443 targets "https", which is no named TCP containerPort of Deployment demo/demo-controller (declared: webhook 9443/TCP, metrics 8080/TCP)',
    );
  });

  test('a webhook whose Service, Service port or selected pods are missing', () => {
    const otherPort = withService({ ports: [{ port: 8443, targetPort: 'webhook' }] });
    expect(checkChartPods(chart(otherPort), entries()).problems[0]).toBe(
      'ValidatingWebhookConfiguration demo webhook validate.demo.example: Service demo/demo-webhook has no TCP port 443 (ports: 8443/TCP)',
    );
    const selectsNothing = withService({ selector: labels('webhook') });
    expect(checkChartPods(chart(selectsNothing), entries()).problems[0]).toMatch(/Service demo\/demo-webhook selects no rendered pod \(selector \{.*component=webhook\}\)$/);
    const noSelector = withService({ selector: undefined });
    expect(checkChartPods(chart(noSelector), entries()).problems[0]).toMatch(/has no selector, so its endpoints are no chart pods$/);
    const noService = renderedObjects().filter((object) => object.kind !== 'Service');
    expect(checkChartPods(chart(noService), entries()).problems).toEqual([
      'ValidatingWebhookConfiguration demo webhook validate.demo.example: Service demo/demo-webhook is not rendered by the chart',
      'CustomResourceDefinition widgets.demo.example conversion webhook: Service demo/demo-webhook is not rendered by the chart',
    ]);
  });

  test('a webhook that calls a URL cannot be attributed to a chart pod', () => {
    const objects = renderedObjects().map((object) =>
      object.kind === 'ValidatingWebhookConfiguration' ? { ...object, webhooks: [{ name: 'validate.demo.example', clientConfig: { url: 'https://demo.example:9443/validate' } }] } : object,
    );
    expect(checkChartPods(chart(objects), entries()).problems).toEqual([
      'ValidatingWebhookConfiguration demo webhook validate.demo.example: calls https://demo.example:9443/validate, not a Service, so no chart pod can be named for it',
    ]);
  });

  test('an entry whose source does not name the checked chart version (a bump nobody re-read)', () => {
    expect(checkChartPods({ ...chart(), version: '1.3.0' }, entries()).problems).toEqual(
      entries().map((entry) => `${entry.id}: its source "${entry.source}" does not name the checked chart version 1.3.0`),
    );
  });

  test('native sidecars serve; other init containers do not', () => {
    const objects = renderedObjects().map((object) => {
      if (object.metadata?.name !== 'demo-hook') return object;
      return workload('Job', 'demo-hook', labels('hook'), {
        initContainers: [
          { name: 'setup', ports: [{ containerPort: 8081 }] },
          { name: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 8082 }] },
        ],
        containers: [{ name: 'hook' }],
      });
    });
    expect(checkChartPods(chart(objects), replaceEntry('demo-hook', { ports: [{ port: 8081 }, { port: 8082 }] })).problems).toEqual([
      'demo-hook: port 8081/TCP is not a declared containerPort of Job demo/demo-hook (declared: 8082/TCP)',
    ]);
  });
});

describe('helmReleaseOf', () => {
  // scripts/check-chart-pods.ts renders each chart with what the wrapper installs, whatever the GitOps engine.
  const values = { replicaCount: 2 };
  test.each([
    ['Flux HelmRelease', { kind: 'HelmRelease', metadata: { name: 'demo', namespace: 'demo' }, spec: { releaseName: 'demo', chart: { spec: { chart: 'demo-chart', version: '1.2.3' } }, values } }],
    [
      'Argo CD Application',
      { kind: 'Application', metadata: { name: 'demo', namespace: 'argocd' }, spec: { source: { chart: 'demo-chart', targetRevision: '1.2.3', helm: { releaseName: 'demo', valuesObject: values } }, destination: { namespace: 'demo' } } },
    ],
    ['k3s HelmChart', { kind: 'HelmChart', metadata: { name: 'demo', namespace: 'kube-system' }, spec: { chart: 'oci://registry.example/charts/demo-chart', version: '1.2.3', targetNamespace: 'demo', valuesContent: 'replicaCount: 2\n' } }],
  ])('%s: chart, version, release, namespace and values', (_, object) => {
    expect(helmReleaseOf(object as Obj)).toEqual({ chart: 'demo-chart', version: '1.2.3', release: 'demo', namespace: 'demo', values });
  });
});
