import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type Chart } from 'cdk8s';
import * as yaml from 'js-yaml';
import { addCharts } from '../charts';
import { addGitopsEntryPoints } from '../charts/gitops';
import { ComponentChart } from '../constructs/component-chart';
import type { PlatformConfig } from './config';
import { buildPlatform, type Platform, STAGES, type StageId } from './model';
import { buildRunbook } from './model/runbook';
import type { PhaseClock } from './phases';
import { formatRunbook } from './runbook';

export interface KubeMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export type KubeObject = { apiVersion: string; kind: string; metadata: KubeMetadata } & Record<string, unknown>;

/** dist/ as relative path -> file content. */
export type DistFiles = Map<string, string>;

/** What the cluster needs outside Git (DNS, node labels, firewall, bootstrap order): a document, not a manifest. */
export const RUNBOOK_FILE = 'RUNBOOK.md';

/** Files of dist/ that hold Kubernetes objects; documents such as the runbook are never applied or validated. */
export function isManifestFile(file: string): boolean {
  return file.endsWith('.yaml');
}

/** The manifest files of a dist/ tree (every YAML file, kustomizations included). */
export function manifestFiles(files: DistFiles): DistFiles {
  return new Map([...files].filter(([file]) => isManifestFile(file)));
}

/** Every Kubernetes object in the manifest files, in file order (kustomization.yaml files excluded). */
export function renderedObjects(files: DistFiles): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [file, content] of manifestFiles(files)) {
    if (file.endsWith('kustomization.yaml')) continue;
    for (const document of yaml.loadAll(content)) if (document && typeof document === 'object') objects.push(document as KubeObject);
  }
  return objects;
}

export function toYaml(objects: unknown[]): string {
  return objects.map((object) => yaml.dump(object, { lineWidth: -1, noRefs: true, quotingType: '"' })).join('---\n');
}

export function stageFolder(stage: StageId): string {
  return `stages/${stage}`;
}

function chartObjects(chart: Chart): KubeObject[] {
  return chart.toJson() as KubeObject[];
}

/** Builds every component chart for the config. */
export function buildApp(platform: Platform): App {
  const app = new App({ outdir: path.join('.tmp', 'unused') });
  addCharts(app, platform);
  return app;
}

/**
 * Renders the whole dist/ tree in memory: deterministic, no I/O. The optional clock records the phases
 * model, construct tree, resolution (cdk8s toJson) and YAML.
 */
export function renderDist(config: PlatformConfig, clock?: PhaseClock): DistFiles {
  const platform = buildPlatform(config);
  clock?.mark('model');
  const app = buildApp(platform);
  clock?.mark('construct tree');
  const components = app.node.children
    .filter((child): child is ComponentChart => child instanceof ComponentChart)
    .map((chart) => ({ chart, objects: chartObjects(chart) }))
    .filter(({ objects }) => objects.length > 0);
  const stagesInUse = STAGES.map((stage) => stage.id).filter((stage) => components.some(({ chart }) => chart.stage === stage));
  const entryApp = new App({ outdir: path.join('.tmp', 'unused') });
  const entryPoints = addGitopsEntryPoints(entryApp, platform, stagesInUse);
  clock?.mark('resolution');
  const files: DistFiles = new Map();
  for (const { chart, objects } of components) files.set(`${stageFolder(chart.stage)}/${chart.node.id}.yaml`, toYaml(objects));
  for (const stage of stagesInUse) {
    const resources = components
      .filter(({ chart }) => chart.stage === stage)
      .map(({ chart }) => `${chart.node.id}.yaml`)
      .sort();
    files.set(
      `${stageFolder(stage)}/kustomization.yaml`,
      toYaml([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources }]),
    );
  }
  for (const [file, objects] of entryPoints) files.set(file, toYaml(objects));
  // The runbook reads the objects as rendered (before YAML), in the order the files hold them.
  const objects = [...components.flatMap((component) => component.objects), ...[...entryPoints.values()].flat()] as KubeObject[];
  files.set(RUNBOOK_FILE, formatRunbook(buildRunbook(platform, objects, stagesInUse)));
  const sorted = sortedDist(files);
  clock?.mark('YAML');
  return sorted;
}

/** dist/ files in one fixed order (by path), whether rendered or read back from disk. */
export function sortedDist(files: DistFiles): DistFiles {
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Writes the files into a fresh sibling folder and swaps it into place, so dist/ is either the
 * old tree or the complete new one, never half-written.
 */
export function writeDist(files: DistFiles, distDir: string): void {
  const parent = path.dirname(path.resolve(distDir));
  const staging = path.join(parent, `.dist-staging-${process.pid}`);
  const previous = path.join(parent, `.dist-previous-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const [relative, content] of files) {
      const target = path.join(staging, relative);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    if (existsSync(distDir)) renameSync(distDir, previous);
    renameSync(staging, distDir);
    rmSync(previous, { recursive: true, force: true });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(distDir) && existsSync(previous)) renameSync(previous, distDir);
    throw error;
  }
}

