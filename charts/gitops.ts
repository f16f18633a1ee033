import { App, Chart } from 'cdk8s';
import { ARGOCD_CASCADE_FINALIZER } from '../constructs/helm-release';
import { Application } from '../imports/argoproj.io';
import { Kustomization, KustomizationSpecSourceRefKind } from '../imports/kustomize.toolkit.fluxcd.io';
import { GitRepository } from '../imports/source.toolkit.fluxcd.io';
import { type Platform, type StageId, stageIndex } from '../lib/model';

const PROJECT = 'matrix-platform';

function stagePath(platform: Platform, stage: StageId): string {
  const base = platform.config.gitops.repository.path;
  return [base, 'stages', stage].filter((part) => part !== '').join('/');
}

/**
 * The entry points a GitOps controller is pointed at. Flux: a GitRepository and one Kustomization
 * per stage, each waiting for the previous one. Argo CD: an app-of-apps whose children are the stages
 * in sync waves. helm-controller: none; the stage folders are applied in order.
 */
export function addGitopsEntryPoints(app: App, platform: Platform, stages: StageId[]): Map<string, unknown[]> {
  const gitops = platform.config.gitops;
  const files = new Map<string, unknown[]>();
  if (gitops.engine === 'flux') {
    const chart = new Chart(app, 'flux', { disableResourceNameHashes: true });
    const namespace = gitops.flux.namespace;
    new GitRepository(chart, 'source', {
      metadata: { name: PROJECT, namespace },
      spec: {
        url: gitops.repository.url,
        ref: { branch: gitops.repository.branch },
        interval: gitops.interval,
        ...(gitops.repository.credentials ? { secretRef: { name: gitops.repository.credentials.secretName } } : {}),
      },
    });
    stages.forEach((stage, index) => {
      new Kustomization(chart, stage, {
        metadata: { name: `${PROJECT}-${stage}`, namespace },
        spec: {
          interval: gitops.interval,
          path: `./${stagePath(platform, stage)}`,
          prune: true,
          wait: true,
          timeout: '15m',
          sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: PROJECT },
          ...(index > 0 ? { dependsOn: [{ name: `${PROJECT}-${stages[index - 1]}` }] } : {}),
        },
      });
    });
    files.set('flux/platform.yaml', chart.toJson());
    files.set('flux/kustomization.yaml', [
      { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['platform.yaml'] },
    ]);
  }
  if (gitops.engine === 'argocd') {
    const namespace = gitops.argocd.namespace;
    const application = (chart: Chart, id: string, name: string, sourcePath: string, wave?: number) =>
      new Application(chart, id, {
        metadata: {
          name,
          namespace,
          ...(wave !== undefined ? { annotations: { 'argocd.argoproj.io/sync-wave': String(wave) } } : {}),
          finalizers: [ARGOCD_CASCADE_FINALIZER],
        },
        spec: {
          project: gitops.argocd.project,
          source: { repoUrl: gitops.repository.url, targetRevision: gitops.repository.branch, path: sourcePath },
          destination: { server: 'https://kubernetes.default.svc', namespace },
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            syncOptions: ['ServerSideApply=true'],
            retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
          },
        },
      });
    const root = new Chart(app, 'argocd-root', { disableResourceNameHashes: true });
    const appsPath = [gitops.repository.path, 'argocd', 'apps'].filter((part) => part !== '').join('/');
    application(root, 'root', PROJECT, appsPath);
    files.set('argocd/root.yaml', root.toJson());
    const children = new Chart(app, 'argocd-apps', { disableResourceNameHashes: true });
    for (const stage of stages) {
      application(children, stage, `${PROJECT}-${stage}`, stagePath(platform, stage), stageIndex(stage) * 10);
    }
    files.set('argocd/apps/stages.yaml', children.toJson());
  }
  return files;
}
