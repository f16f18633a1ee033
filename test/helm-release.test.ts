import { App, Chart } from 'cdk8s';
import * as yaml from 'js-yaml';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import type { HelmChartPin } from '../lib/versions';
import { configWith, find, render } from './helpers';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec: Record<string, any> };

function renderWrapper(
  engine: 'flux' | 'argocd' | 'helm-controller',
  chart: HelmChartPin,
  dependsOn?: { releaseName: string; namespace: string }[],
): Obj[] {
  const config = configWith({ gitops: { engine } });
  const app = new App();
  const scope = new Chart(app, 'test');
  new HelmReleaseWrapper(scope, 'release', {
    releaseName: 'demo',
    namespace: 'demo-ns',
    chart,
    values: { replicaCount: 3, nested: { enabled: true } },
    gitops: config.gitops,
    stage: '10-operators',
    dependsOn,
  });
  return scope.toJson() as Obj[];
}

const https: HelmChartPin = { repository: 'https://charts.example.org', chart: 'demo', version: '1.2.3' };
const oci: HelmChartPin = { repository: 'oci://docker.io/example', chart: 'demo-helm', version: 'v4.5.6' };

describe('HelmReleaseWrapper', () => {
  test('flux: a HelmRepository and a HelmRelease v2 with pinned version, inline values and CRD upgrades', () => {
    const [repository, release] = renderWrapper('flux', https);
    expect(repository).toMatchObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmRepository', spec: { url: https.repository } });
    expect(repository.spec.type).toBeUndefined();
    expect(release.apiVersion).toBe('helm.toolkit.fluxcd.io/v2');
    expect(release.metadata).toEqual({ name: 'demo', namespace: 'demo-ns' });
    expect(release.spec.chart.spec).toMatchObject({ chart: 'demo', version: '1.2.3', sourceRef: { kind: 'HelmRepository', name: 'demo' } });
    expect(release.spec.values).toEqual({ replicaCount: 3, nested: { enabled: true } });
    expect(release.spec.install.crds).toBe('CreateReplace');
    expect(release.spec.upgrade.crds).toBe('CreateReplace');
  });

  test('flux: an OCI chart gets an OCI HelmRepository', () => {
    const [repository] = renderWrapper('flux', oci);
    expect(repository.spec).toMatchObject({ url: 'oci://docker.io/example', type: 'oci' });
  });

  test('argocd: an Application with helm.valuesObject, destination namespace and a sync wave', () => {
    const [application] = renderWrapper('argocd', https);
    expect(application).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'demo', namespace: 'argocd' } });
    expect(application.spec.source).toEqual({
      repoURL: https.repository,
      chart: 'demo',
      targetRevision: '1.2.3',
      helm: { releaseName: 'demo', valuesObject: { replicaCount: 3, nested: { enabled: true } } },
    });
    expect(application.spec.destination.namespace).toBe('demo-ns');
    expect(application.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('10');
  });

  test('argocd: an OCI chart uses the registry host without scheme', () => {
    const [application] = renderWrapper('argocd', oci);
    expect(application.spec.source.repoURL).toBe('registry-1.docker.io/example');
  });

  test('helm-controller: a HelmChart with values as YAML text', () => {
    const [helmChart] = renderWrapper('helm-controller', https);
    expect(helmChart).toMatchObject({ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { namespace: 'kube-system' } });
    expect(helmChart.spec).toMatchObject({ chart: 'demo', repo: https.repository, version: '1.2.3', targetNamespace: 'demo-ns' });
    expect(yaml.load(helmChart.spec.valuesContent)).toEqual({ replicaCount: 3, nested: { enabled: true } });
  });

  test('helm-controller: an OCI chart is referenced in full without repo', () => {
    const [helmChart] = renderWrapper('helm-controller', oci);
    expect(helmChart.spec.chart).toBe('oci://docker.io/example/demo-helm');
    expect(helmChart.spec.repo).toBeUndefined();
  });

  describe('ordering inside a stage', () => {
    const crdProvider = [{ releaseName: 'crd-provider', namespace: 'crd-ns' }];

    test('flux: dependsOn names the other HelmRelease', () => {
      const release = renderWrapper('flux', https, crdProvider)[1];
      expect(release.spec.dependsOn).toEqual([{ name: 'crd-provider', namespace: 'crd-ns' }]);
      expect(renderWrapper('flux', https)[1].spec.dependsOn).toBeUndefined();
    });

    test('argocd: a dependent release syncs one wave after its stage', () => {
      expect(renderWrapper('argocd', https, crdProvider)[0].metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('11');
    });
  });
});

test('cert-manager waits for the Envoy Gateway chart (Gateway API CRDs) only when that edge is used', () => {
  const certManager = (overrides: Record<string, unknown>) =>
    find(render(overrides).objects, 'HelmRelease', 'cert-manager')[0] as unknown as Obj;
  expect(certManager({}).spec.dependsOn).toEqual([{ name: 'envoy-gateway', namespace: 'envoy-gateway-system' }]);
  expect(certManager({ edge: { controller: 'ingress-nginx' } }).spec.dependsOn).toBeUndefined();
});
