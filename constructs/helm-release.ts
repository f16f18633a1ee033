import { Construct } from 'constructs';
import * as yaml from 'js-yaml';
import { Application } from '../imports/argoproj.io';
import { HelmChart } from '../imports/helm.cattle.io';
import {
  HelmRelease as FluxHelmRelease,
  HelmReleaseSpecChartSpecSourceRefKind,
  HelmReleaseSpecInstallCrds,
  HelmReleaseSpecUpgradeCrds,
} from '../imports/helm.toolkit.fluxcd.io';
import { HelmRepository, HelmRepositorySpecType } from '../imports/source.toolkit.fluxcd.io';
import type { PlatformConfig } from '../lib/config';
import { type StageId, stageIndex } from '../lib/model';
import type { HelmChartPin } from '../lib/versions';

export type GitopsEngine = PlatformConfig['gitops']['engine'];

/**
 * Deleting an Application deletes what it deployed (foreground cascading deletion). Argo CD reads
 * `resources-finalizer.argocd.argoproj.io/foreground` exactly like the bare name (v3.5.1
 * pkg/apis/application/v1alpha1/application_defaults.go, docs/user-guide/app_deletion.md); the bare
 * name draws the API server's warning to prefer a domain-qualified finalizer with a path on every apply.
 */
export const ARGOCD_CASCADE_FINALIZER = 'resources-finalizer.argocd.argoproj.io/foreground';

/** Names another release, for ordering inside a stage. */
export interface HelmReleaseRef {
  readonly releaseName: string;
  readonly namespace: string;
}

export interface HelmReleaseProps {
  /** Helm release name; also names the wrapper objects. */
  readonly releaseName: string;
  /** Namespace the chart's objects are installed into. */
  readonly namespace: string;
  readonly chart: HelmChartPin;
  /** Chart values. Never put a secret value here: reference Secrets by name. */
  readonly values: Record<string, unknown>;
  readonly gitops: PlatformConfig['gitops'];
  /** The stage the release belongs to (Argo CD sync wave). */
  readonly stage: StageId;
  /**
   * Releases of the same stage that must be ready first (for example the chart that installs CRDs this
   * chart's objects use). Flux: HelmRelease dependsOn; Argo CD: the next sync wave; helm-controller has no
   * ordering and retries until the dependency is there.
   */
  readonly dependsOn?: readonly HelmReleaseRef[];
}

/** Stage waves are ten apart; a release that depends on others of its stage syncs one wave later. */
export function argoSyncWave(props: Pick<HelmReleaseProps, 'stage' | 'dependsOn'>): number {
  return stageIndex(props.stage) * 10 + (props.dependsOn?.length ? 1 : 0);
}

/** Argo CD does not take the oci:// scheme in a Helm source; Docker Hub's registry host is registry-1. */
function argoRepoUrl(repository: string): string {
  if (!repository.startsWith('oci://')) return repository;
  return repository.slice('oci://'.length).replace(/^docker\.io\//, 'registry-1.docker.io/');
}

export function isOciRepository(repository: string): boolean {
  return repository.startsWith('oci://');
}

/**
 * A third-party Helm chart, installed by the cluster's GitOps controller from a wrapper object:
 * Flux HelmRepository + HelmRelease, an Argo CD Application, or a k3s/RKE2 HelmChart.
 * Helm is never run at synth time; the chart version and values are pinned in the object.
 */
export class HelmReleaseWrapper extends Construct {
  readonly engine: GitopsEngine;

  constructor(scope: Construct, id: string, props: HelmReleaseProps) {
    super(scope, id);
    this.engine = props.gitops.engine;
    switch (props.gitops.engine) {
      case 'flux':
        this.renderFlux(props);
        break;
      case 'argocd':
        this.renderArgo(props);
        break;
      case 'helm-controller':
        this.renderHelmController(props);
        break;
    }
  }

  private renderFlux(props: HelmReleaseProps): void {
    const oci = isOciRepository(props.chart.repository);
    new HelmRepository(this, 'repository', {
      metadata: { name: props.releaseName, namespace: props.namespace },
      spec: {
        url: props.chart.repository,
        interval: '1h',
        ...(oci ? { type: HelmRepositorySpecType.OCI } : {}),
      },
    });
    new FluxHelmRelease(this, 'release', {
      metadata: { name: props.releaseName, namespace: props.namespace },
      spec: {
        releaseName: props.releaseName,
        interval: props.gitops.interval,
        chart: {
          spec: {
            chart: props.chart.chart,
            version: props.chart.version,
            sourceRef: {
              kind: HelmReleaseSpecChartSpecSourceRefKind.HELM_REPOSITORY,
              name: props.releaseName,
              namespace: props.namespace,
            },
          },
        },
        install: { crds: HelmReleaseSpecInstallCrds.CREATE_REPLACE, remediation: { retries: 3 } },
        upgrade: {
          crds: HelmReleaseSpecUpgradeCrds.CREATE_REPLACE,
          cleanupOnFail: true,
          remediation: { retries: 3 },
        },
        values: props.values,
        ...(props.dependsOn?.length
          ? { dependsOn: props.dependsOn.map((ref) => ({ name: ref.releaseName, namespace: ref.namespace })) }
          : {}),
      },
    });
  }

  private renderArgo(props: HelmReleaseProps): void {
    new Application(this, 'application', {
      metadata: {
        name: props.releaseName,
        namespace: props.gitops.argocd.namespace,
        annotations: { 'argocd.argoproj.io/sync-wave': String(argoSyncWave(props)) },
        finalizers: [ARGOCD_CASCADE_FINALIZER],
      },
      spec: {
        project: props.gitops.argocd.project,
        source: {
          repoUrl: argoRepoUrl(props.chart.repository),
          chart: props.chart.chart,
          targetRevision: props.chart.version,
          helm: { releaseName: props.releaseName, valuesObject: props.values },
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: props.namespace },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['ServerSideApply=true'],
          retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
        },
      },
    });
  }

  private renderHelmController(props: HelmReleaseProps): void {
    const oci = isOciRepository(props.chart.repository);
    new HelmChart(this, 'helmchart', {
      metadata: { name: props.releaseName, namespace: 'kube-system' },
      spec: {
        // helm-controller takes an OCI chart as a full reference in `chart` and no `repo`.
        chart: oci ? `${props.chart.repository}/${props.chart.chart}` : props.chart.chart,
        ...(oci ? {} : { repo: props.chart.repository }),
        version: props.chart.version,
        targetNamespace: props.namespace,
        valuesContent: yaml.dump(props.values, { lineWidth: -1, noRefs: true }),
      },
    });
  }
}
