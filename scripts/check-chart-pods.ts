import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { checkChartPods } from '../lib/chart-pods-check';
import { parseCommandLine, withConfig } from '../lib/cli';
import { CONFIG_OPTION } from '../lib/config';
import { helmReleaseOf, type Obj } from '../lib/model/capacity';
import { CERT_MANAGER_PODS, type ChartPod, ENVOY_GATEWAY_PODS, METALLB_PODS } from '../lib/model/chart-pods';
import { renderDist, renderedObjects } from '../lib/synth';
import { KUBERNETES_VERSIONS } from '../lib/validate';
import { charts, type HelmChartPin } from '../lib/versions';

/**
 * `node scripts/run-fresh.cjs scripts/check-chart-pods.ts`: renders the pinned charts whose sources
 * are Go modules (the only chart sources reachable without Helm repositories) with the values their
 * GitOps wrapper (HelmRelease, Application or HelmChart) carries in the rendered dist/, and compares
 * the pods, ports and webhooks with lib/model/chart-pods.ts (lib/chart-pods-check.ts). The chart
 * folders come from the Go module proxy through `go mod download` (which checks them against the Go
 * checksum database), are prepared as the upstream release tooling prepares them, and are cached.
 */

interface ChartSource {
  readonly pin: HelmChartPin;
  /** The Go module whose tag of the chart's version holds the chart. */
  readonly module: string;
  /** The chart's folder inside the module. */
  readonly directory: string;
  /** Chart.yaml's version in the source, which the release tooling replaces (version and appVersion) by the released one. */
  readonly placeholderVersion?: string;
  /** values.yaml the release tooling generates with envsubst from a template, and the variables it sets. */
  readonly valuesTemplate?: { readonly file: string; readonly variables: (version: string) => Readonly<Record<string, string>> };
  /** The table entries for the pods the chart makes. */
  readonly pods: readonly ChartPod[];
}

const CHART_SOURCES: readonly ChartSource[] = [
  {
    pin: charts.certManager,
    module: 'github.com/cert-manager/cert-manager',
    directory: 'deploy/charts/cert-manager',
    // make/manifests.mk: `helm package --app-version=$(VERSION) --version=$(VERSION)`; templates and values.yaml are copied as they are.
    placeholderVersion: 'v0.0.0',
    pods: Object.values(CERT_MANAGER_PODS),
  },
  { pin: charts.metallb, module: 'go.universe.tf/metallb', directory: 'charts/metallb', pods: Object.values(METALLB_PODS) },
  {
    pin: charts.envoyGateway,
    module: 'github.com/envoyproxy/gateway',
    directory: 'charts/gateway-helm',
    // tools/make/helm.mk: helm-generate runs envsubst on values.tmpl.yaml, helm-package sets --app-version and --version to the tag.
    placeholderVersion: 'v0.0.0-latest',
    valuesTemplate: {
      file: 'values.tmpl.yaml',
      variables: (version) => ({ GatewayImage: `docker.io/envoyproxy/gateway:${version}`, GatewayImagePullPolicy: 'IfNotPresent' }),
    },
    // The proxy Deployment is made by the controller at run time from the Gateway, not by the chart.
    pods: [ENVOY_GATEWAY_PODS.controller, ENVOY_GATEWAY_PODS.certgen],
  },
];

/** Go module versions carry a leading `v`; some charts' versions do not. */
const moduleVersion = (pin: HelmChartPin): string => `v${pin.version.replace(/^v/, '')}`;

class ToolError extends Error {}

function cacheRoot(): string {
  return process.env.MATRIX_IT_CACHE ?? '/var/cache/matrix-platform-it';
}

function makeWritable(directory: string): void {
  chmodSync(directory, 0o755);
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) makeWritable(full);
    else chmodSync(full, 0o644);
  }
}

/** Downloads the module (Go module proxy, verified by go), copies the chart folder out and prepares it like the release tooling. */
function prepareChart(source: ChartSource, target: string): void {
  const work = mkdtempSync(path.join(tmpdir(), 'chart-source-'));
  const staging = `${target}.tmp-${process.pid}`;
  try {
    const module = `${source.module}@${moduleVersion(source.pin)}`;
    const download = spawnSync('go', ['mod', 'download', '-json', module], { cwd: work, encoding: 'utf8' });
    if (download.error) throw new ToolError(`go mod download ${module}: ${download.error.message} (go is needed to fetch the chart source)`);
    const info = (download.stdout ? JSON.parse(download.stdout) : {}) as { Dir?: string; Error?: string };
    if (download.status !== 0 || !info.Dir) throw new ToolError(`go mod download ${module} failed: ${info.Error ?? download.stderr.trim()}`);
    const chartDir = path.join(info.Dir, source.directory);
    if (!existsSync(path.join(chartDir, 'Chart.yaml'))) throw new ToolError(`${module} has no chart in ${source.directory}`);
    rmSync(staging, { recursive: true, force: true });
    cpSync(chartDir, staging, { recursive: true });
    makeWritable(staging);

    const chartFile = path.join(staging, 'Chart.yaml');
    const chart = yaml.load(readFileSync(chartFile, 'utf8')) as { name?: string; version?: string; appVersion?: string };
    if (source.placeholderVersion !== undefined) {
      if (chart.version !== source.placeholderVersion) {
        throw new ToolError(`${module} ${source.directory}/Chart.yaml has version ${chart.version}, expected the placeholder ${source.placeholderVersion} the release tooling replaces`);
      }
      chart.version = source.pin.version;
      chart.appVersion = source.pin.version;
      writeFileSync(chartFile, yaml.dump(chart, { lineWidth: -1 }));
    }
    if (chart.name !== source.pin.chart || chart.version !== source.pin.version) {
      throw new ToolError(`${module} ${source.directory}/Chart.yaml is ${chart.name} ${chart.version}, expected ${source.pin.chart} ${source.pin.version}`);
    }
    if (source.valuesTemplate) {
      let values = readFileSync(path.join(staging, source.valuesTemplate.file), 'utf8');
      for (const [name, value] of Object.entries(source.valuesTemplate.variables(source.pin.version))) {
        if (!values.includes(`\${${name}}`)) throw new ToolError(`${module} ${source.valuesTemplate.file} no longer uses \${${name}}`);
        values = values.split(`\${${name}}`).join(value);
      }
      const unset = values.match(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/);
      if (unset) throw new ToolError(`${module} ${source.valuesTemplate.file} uses ${unset[0]}, which this script does not set`);
      writeFileSync(path.join(staging, 'values.yaml'), values);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    // Another run may have finished first: its copy is as good as ours.
    if (!existsSync(target)) renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

function chartDirectory(source: ChartSource): { directory: string; cached: boolean } {
  const directory = path.join(cacheRoot(), 'chart-sources', `${source.pin.chart}-${source.pin.version}`);
  if (existsSync(directory)) return { directory, cached: true };
  prepareChart(source, directory);
  return { directory, cached: false };
}

/** What the GitOps engine installs: the wrapper object's chart, release and values (lib/model/capacity.ts helmReleaseOf). */
interface Release {
  readonly object: Obj;
  readonly chart: string;
  readonly version?: string;
  readonly release: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}

/** Flux options that change what is installed beyond chart and values; our wrappers set none, so meeting one means the check is blind to it. */
function unsupportedFluxOptions(release: Release): string[] {
  if (release.object.kind !== 'HelmRelease') return [];
  const spec = (release.object.spec ?? {}) as { valuesFrom?: unknown[]; postRenderers?: unknown[] };
  return [
    ...(spec.valuesFrom?.length ? [`HelmRelease ${release.release} has valuesFrom, which this check does not read`] : []),
    ...(spec.postRenderers?.length ? [`HelmRelease ${release.release} has postRenderers, which this check does not apply`] : []),
  ];
}

/** Helm test hooks run only when a Flux HelmRelease enables tests; Argo CD and helm-controller never run them. */
function runsTests(release: Release): boolean {
  return release.object.kind === 'HelmRelease' && (release.object.spec as { test?: { enable?: boolean } } | undefined)?.test?.enable === true;
}

function helmTemplate(helm: string, source: ChartSource, release: Release, chartDir: string, work: string, kubernetesVersion: string): string {
  const valuesFile = path.join(work, 'values.yaml');
  writeFileSync(valuesFile, yaml.dump(release.values, { lineWidth: -1, noRefs: true }));
  const args = [
    'template',
    release.release,
    chartDir,
    '--namespace',
    release.namespace,
    '--values',
    valuesFile,
    '--kube-version',
    `${kubernetesVersion}.0`,
    // Flux installs the crds/ folders too (install.crds), and CRDs may carry conversion webhooks.
    '--include-crds',
  ];
  if (!runsTests(release)) args.push('--skip-tests');
  // Helm's own config, cache and plugins stay out of the rendering.
  const env = { ...process.env, HELM_CACHE_HOME: path.join(work, 'cache'), HELM_CONFIG_HOME: path.join(work, 'config'), HELM_DATA_HOME: path.join(work, 'data') };
  const result = spawnSync(helm, args, { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    const reason = result.error?.message ?? (result.stderr.trim() || `exit status ${result.status}`);
    throw new ToolError(`helm template ${source.pin.chart} (Kubernetes ${kubernetesVersion}) failed: ${reason}`);
  }
  return result.stdout;
}

function helmBinary(option: string | undefined, root: string): string {
  if (option) return path.resolve(option);
  try {
    const output = execFileSync('bash', [path.join(root, 'scripts', 'build-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return output.trim().split('\n').pop() ?? '';
  } catch {
    throw new ToolError('scripts/build-helm.sh could not provide helm (pass --helm PATH to use another one)');
  }
}

function main(argv: string[]): number {
  const root = path.resolve(__dirname, '..');
  const known = CHART_SOURCES.map((source) => source.pin.chart);
  const { options, lists } = parseCommandLine(argv, {
    usage: 'node scripts/run-fresh.cjs scripts/check-chart-pods.ts [--config PATH] [--helm PATH] [--chart NAME]... [--keep DIR]',
    description:
      `Renders the charts whose sources are Go modules (${known.join(', ')}) with the values of their HelmRelease for the config, ` +
      'and checks lib/model/chart-pods.ts against them: every entry matches a rendered pod (labels, hostNetwork, declared ports), ' +
      'every rendered pod has an entry, every webhook and CRD conversion webhook reaches a port its entry lists. Exit 1 on any mismatch, 2 when the check cannot run.',
    options: {
      ...CONFIG_OPTION,
      helm: { takesValue: true, help: 'helm binary (default: the one scripts/build-helm.sh installs at HELM_VERSION)' },
      chart: { takesValue: true, repeatable: true, help: `check only this chart (${known.join(', ')})` },
      keep: { takesValue: true, help: 'also write each rendered chart to DIR/<chart>-<kubernetes version>.yaml' },
    },
    epilog:
      'Chart sources come from the Go module proxy (go mod download) and are cached in $MATRIX_IT_CACHE/chart-sources ' +
      '(default /var/cache/matrix-platform-it/chart-sources). Charts the config does not deploy are skipped.',
  });
  const unknown = (lists.chart ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    console.error(`error: unknown chart ${unknown.join(', ')}; expected one of ${known.join(', ')}`);
    return 2;
  }
  return withConfig(options.config, root, (config) => {
    const releases: Release[] = renderedObjects(renderDist(config)).flatMap((object) => {
      const release = helmReleaseOf(object);
      return release ? [{ object, ...release }] : [];
    });
    const selected = CHART_SOURCES.filter((source) => !lists.chart || lists.chart.includes(source.pin.chart));
    let failed = false;
    try {
      const helm = helmBinary(options.helm, root);
      for (const source of selected) {
        const label = `${source.pin.chart} ${source.pin.version}`;
        const release = releases.find((candidate) => candidate.chart === source.pin.chart);
        if (!release) {
          console.log(`${label}: not deployed with this config, skipped`);
          continue;
        }
        const problems = new Map<string, string[]>();
        const report = (problem: string, kubernetesVersion?: string) => {
          const versions = problems.get(problem) ?? [];
          if (kubernetesVersion) versions.push(kubernetesVersion);
          problems.set(problem, versions);
        };
        if (release.version !== source.pin.version) report(`${release.object.kind} ${release.release} installs version ${release.version}, lib/versions.ts pins ${source.pin.version}`);
        for (const problem of unsupportedFluxOptions(release)) report(problem);
        const { namespace } = release;
        const { directory, cached } = chartDirectory(source);
        const work = mkdtempSync(path.join(tmpdir(), 'check-chart-pods-'));
        let counts = { podTemplates: 0, webhooks: 0, conversionWebhooks: 0 };
        try {
          for (const kubernetesVersion of KUBERNETES_VERSIONS) {
            const output = helmTemplate(helm, source, release, directory, work, kubernetesVersion);
            if (options.keep) {
              mkdirSync(options.keep, { recursive: true });
              writeFileSync(path.join(options.keep, `${source.pin.chart}-${kubernetesVersion}.yaml`), output);
            }
            const objects = yaml.loadAll(output).filter((document): document is Obj => document !== null && typeof document === 'object');
            const result = checkChartPods({ version: source.pin.version, namespace, objects }, source.pods);
            for (const problem of result.problems) report(problem, kubernetesVersion);
            counts = result;
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
        const where = `release ${release.release} in ${namespace}, source ${source.module}@${moduleVersion(source.pin)}${cached ? ', cached' : ''}`;
        const found =
          `pod templates ${counts.podTemplates}, table entries ${source.pods.length}, admission webhooks ${counts.webhooks}, ` +
          `conversion webhooks ${counts.conversionWebhooks}, Kubernetes ${KUBERNETES_VERSIONS.join(' and ')}`;
        console.log(`${label} (${where}): ${found}: ${problems.size === 0 ? 'OK' : `${problems.size} problem(s)`}`);
        for (const [problem, versions] of problems) {
          const onlySome = versions.length > 0 && versions.length < KUBERNETES_VERSIONS.length;
          console.log(`  - ${problem}${onlySome ? ` (Kubernetes ${versions.join(', ')} only)` : ''}`);
        }
        if (problems.size > 0) failed = true;
      }
    } catch (error) {
      if (error instanceof ToolError) {
        console.error(`error: ${error.message}`);
        return 2;
      }
      throw error;
    }
    if (failed) console.error('lib/model/chart-pods.ts does not describe the charts as rendered: fix the entries (and their source), then npm test');
    return failed ? 1 : 0;
  });
}

process.exitCode = main(process.argv.slice(2));
