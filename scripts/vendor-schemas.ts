import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { parseCommandLine } from '../lib/cli';

/**
 * Regenerates schemas/ (the vendored schema data that `npm run validate`, the schema tests and
 * `npm run import` read) from a directory of upstream CRD files and Kubernetes OpenAPI v3 documents.
 *
 *   npm run vendor-schemas -- --from DIR
 *
 * DIR has one folder per upstream source (the `folder` column below) holding the upstream files
 * unchanged, plus kubernetes-openapi/<X.Y>/ with the `api/openapi-spec/v3` documents of each
 * Kubernetes release. Only the kinds and versions listed here are kept, and every `description` is
 * stripped: field names, types, enums, formats and CEL rules are what validation and code generation
 * need. Never run by the tests; the output is committed.
 */

interface CrdSource {
  /** Folder under --from and under schemas/crds/. */
  readonly folder: string;
  readonly repository: string;
  readonly ref: string;
  readonly commit: string;
  readonly upstreamDir: string;
  /** file name -> versions kept (every served version the project emits or tests). */
  readonly files: Readonly<Record<string, readonly string[]>>;
}

const CRD_SOURCES: readonly CrdSource[] = [
  {
    folder: 'argo-cd',
    repository: 'argoproj/argo-cd',
    ref: 'v3.5.1',
    commit: '109ca7ca71139e514114499d294a492e7910a965',
    upstreamDir: 'manifests/crds/',
    files: { 'application-crd.yaml': ['v1alpha1'] },
  },
  {
    folder: 'cert-manager',
    repository: 'cert-manager/cert-manager',
    ref: 'v1.21.1',
    commit: '24e33194fb39488eff2bbf10c6dc640f407cad44',
    upstreamDir: 'deploy/crds/',
    files: {
      'cert-manager.io_certificates.yaml': ['v1'],
      'cert-manager.io_clusterissuers.yaml': ['v1'],
      'cert-manager.io_issuers.yaml': ['v1'],
    },
  },
  {
    folder: 'cloudnative-pg',
    repository: 'cloudnative-pg/cloudnative-pg',
    ref: 'v1.30.0',
    commit: '4b5e244a7d031f67e025c83c1555e7726ecbbfa1',
    upstreamDir: 'config/crd/bases/',
    files: {
      'postgresql.cnpg.io_backups.yaml': ['v1'],
      'postgresql.cnpg.io_clusters.yaml': ['v1'],
      'postgresql.cnpg.io_scheduledbackups.yaml': ['v1'],
    },
  },
  {
    folder: 'plugin-barman-cloud',
    repository: 'cloudnative-pg/plugin-barman-cloud',
    ref: 'v0.14.0',
    commit: '1e13020fe5f09fd8fc29ea03828f7b61375b3721',
    upstreamDir: 'config/crd/bases/',
    files: { 'barmancloud.cnpg.io_objectstores.yaml': ['v1'] },
  },
  {
    folder: 'envoy-gateway',
    repository: 'envoyproxy/gateway',
    ref: 'v1.9.0',
    commit: '39763b1c07ec30a5526fe70434a2cfe4181de642',
    upstreamDir: 'charts/gateway-helm/charts/crds/crds/generated/',
    files: {
      'gateway.envoyproxy.io_backendtrafficpolicies.yaml': ['v1alpha1'],
      'gateway.envoyproxy.io_clienttrafficpolicies.yaml': ['v1alpha1'],
      'gateway.envoyproxy.io_envoyproxies.yaml': ['v1alpha1'],
      'gateway.envoyproxy.io_securitypolicies.yaml': ['v1alpha1'],
    },
  },
  {
    folder: 'external-secrets',
    repository: 'external-secrets/external-secrets',
    ref: 'v2.9.0',
    commit: '378bdb622ed9712ef4a58370f6a17af033b7d343',
    upstreamDir: 'config/crds/bases/',
    files: { 'external-secrets.io_externalsecrets.yaml': ['v1'] },
  },
  {
    folder: 'flux-helm-controller',
    repository: 'fluxcd/helm-controller',
    ref: 'v1.6.3',
    commit: '372c34e2b4a455d24ef6cbb8321c82c4533dbbd8',
    upstreamDir: 'config/crd/bases/',
    files: { 'helm.toolkit.fluxcd.io_helmreleases.yaml': ['v2'] },
  },
  {
    folder: 'flux-kustomize-controller',
    repository: 'fluxcd/kustomize-controller',
    ref: 'v1.9.4',
    commit: '1324b615da01038e2859cbcde604bd5434f21933',
    upstreamDir: 'config/crd/bases/',
    files: { 'kustomize.toolkit.fluxcd.io_kustomizations.yaml': ['v1'] },
  },
  {
    folder: 'flux-source-controller',
    repository: 'fluxcd/source-controller',
    ref: 'v1.9.1',
    commit: '092bcff3c9c3f258a44310507201d295ff294ba6',
    upstreamDir: 'config/crd/bases/',
    files: {
      'source.toolkit.fluxcd.io_gitrepositories.yaml': ['v1'],
      'source.toolkit.fluxcd.io_helmrepositories.yaml': ['v1'],
      'source.toolkit.fluxcd.io_ocirepositories.yaml': ['v1'],
    },
  },
  {
    folder: 'gateway-api',
    repository: 'kubernetes-sigs/gateway-api',
    ref: 'v1.6.1',
    commit: '8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3',
    upstreamDir: 'config/crd/standard/',
    files: {
      'gateway.networking.k8s.io_gatewayclasses.yaml': ['v1'],
      'gateway.networking.k8s.io_gateways.yaml': ['v1'],
      'gateway.networking.k8s.io_httproutes.yaml': ['v1'],
    },
  },
  {
    folder: 'k3s-helm-controller',
    repository: 'k3s-io/helm-controller',
    ref: 'v0.17.7',
    commit: '21a911f86f912a79e06e4f1596c54d8237320e6e',
    upstreamDir: 'pkg/crds/yaml/generated/',
    files: { 'helm.cattle.io_helmcharts.yaml': ['v1'] },
  },
  {
    folder: 'metallb',
    repository: 'metallb/metallb',
    ref: 'v0.16.1',
    commit: '791dfcc63ced7a6b3e869131eae75e645150fff0',
    upstreamDir: 'config/crd/bases/',
    files: {
      'metallb.io_bgpadvertisements.yaml': ['v1beta1'],
      'metallb.io_bgppeers.yaml': ['v1beta2'],
      'metallb.io_ipaddresspools.yaml': ['v1beta1'],
      'metallb.io_l2advertisements.yaml': ['v1beta1'],
    },
  },
  {
    folder: 'minio-operator',
    repository: 'minio/operator',
    ref: 'v7.1.1',
    commit: '6eee6a7caa70555ad009e522ce04861297e9e2be',
    upstreamDir: 'resources/base/crds/',
    files: { 'minio.min.io_tenants.yaml': ['v2'] },
  },
  {
    folder: 'prometheus-operator',
    repository: 'prometheus-community/helm-charts (kube-prometheus-stack, prometheus-operator v0.93.1 CRDs)',
    ref: 'kube-prometheus-stack-88.5.3',
    commit: 'ea930baeebeba39f56d6b44e351f23b2a072a600',
    upstreamDir: 'charts/kube-prometheus-stack/charts/crds/crds/',
    files: {
      'crd-alertmanagerconfigs.yaml': ['v1alpha1'],
      'crd-podmonitors.yaml': ['v1'],
      'crd-prometheusrules.yaml': ['v1'],
      'crd-servicemonitors.yaml': ['v1'],
    },
  },
];

const KUBERNETES_OPENAPI = {
  repository: 'kubernetes-sigs/kubectl-validate (copies of kubernetes/kubernetes api/openapi-spec/v3)',
  ref: 'main',
  commit: 'a97ccfaca20b164819afdae780392496f6ed6bbd',
  upstreamDir: 'pkg/openapiclient/builtins/<X.Y>/',
  versions: ['1.33', '1.35'],
};

/** Core kinds the project emits or tests: apiVersion -> kinds. */
const CORE_KINDS: Readonly<Record<string, readonly string[]>> = {
  v1: ['ConfigMap', 'Namespace', 'PersistentVolumeClaim', 'Secret', 'Service', 'ServiceAccount'],
  'apps/v1': ['DaemonSet', 'Deployment', 'StatefulSet'],
  'batch/v1': ['CronJob', 'Job'],
  'networking.k8s.io/v1': ['Ingress', 'NetworkPolicy'],
  'policy/v1': ['PodDisruptionBudget'],
  'rbac.authorization.k8s.io/v1': ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
};

type Json = unknown;

/** Drops upstream prose, keeping everything that constrains a value. */
function stripProse(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripProse);
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'description' || key === 'example' || key === 'externalDocs') continue;
    // Inside `properties`, a field may itself be called "description": keep it.
    result[key] = key === 'properties' && value && typeof value === 'object' ? mapValues(value as Record<string, Json>, stripProse) : stripProse(value);
  }
  return result;
}

function mapValues(record: Record<string, Json>, fn: (value: Json) => Json): Record<string, Json> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}

interface CrdDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    names: Record<string, Json>;
    scope: string;
    versions: { name: string; served: boolean; storage: boolean; schema?: Json; subresources?: Json }[];
  };
}

function vendorCrd(file: string, keep: readonly string[]): CrdDocument {
  const documents = yaml.loadAll(readFileSync(file, 'utf8')) as CrdDocument[];
  const crd = documents.find((document) => document?.kind === 'CustomResourceDefinition');
  if (!crd) throw new Error(`${file}: no CustomResourceDefinition`);
  const versions = crd.spec.versions.filter((version) => keep.includes(version.name));
  const missing = keep.filter((name) => !versions.some((version) => version.name === name));
  if (missing.length > 0) throw new Error(`${file}: versions ${missing.join(', ')} not found`);
  return {
    apiVersion: crd.apiVersion,
    kind: crd.kind,
    metadata: { name: crd.metadata.name },
    spec: {
      group: crd.spec.group,
      names: crd.spec.names,
      scope: crd.spec.scope,
      versions: versions.map((version) => ({
        name: version.name,
        served: version.served,
        storage: version.storage,
        schema: stripProse(version.schema),
      })),
    },
  };
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, Record<string, Json>> };
}

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const entry of node) collectRefs(entry, into);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') into.add(value.replace('#/components/schemas/', ''));
      else collectRefs(value, into);
    }
  }
}

function listJson(dir: string): string[] {
  const { readdirSync, statSync } = require('node:fs') as typeof import('node:fs');
  const result: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) result.push(...listJson(full));
    else if (entry.endsWith('.json')) result.push(full);
  }
  return result;
}

/** One document per Kubernetes version: the wanted kinds and every schema they reference. */
function vendorOpenApi(versionDir: string): Record<string, Json> {
  const all = new Map<string, Record<string, Json>>();
  for (const file of listJson(versionDir)) {
    const document = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) if (!all.has(name)) all.set(name, schema);
  }
  const roots: string[] = [];
  for (const [apiVersion, kinds] of Object.entries(CORE_KINDS)) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    for (const kind of kinds) {
      const root = [...all.entries()].find(([, schema]) =>
        ((schema['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined) ?? []).some(
          (gvk) => gvk.group === group && gvk.version === version && gvk.kind === kind,
        ),
      );
      if (!root) throw new Error(`${versionDir}: no schema for ${apiVersion} ${kind}`);
      roots.push(root[0]);
    }
  }
  const kept = new Set<string>();
  const pending = [...roots, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (kept.has(name)) continue;
    const schema = all.get(name);
    if (!schema) throw new Error(`${versionDir}: dangling reference ${name}`);
    kept.add(name);
    const refs = new Set<string>();
    collectRefs(schema, refs);
    pending.push(...refs);
  }
  const schemas = Object.fromEntries(
    [...kept].sort().map((name) => {
      const schema = stripProse(all.get(name)) as Record<string, Json>;
      // Only the kinds kept here are addressable; other group-version-kinds would point nowhere.
      if (!roots.includes(name)) delete schema['x-kubernetes-group-version-kind'];
      return [name, schema];
    }),
  );
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: path.basename(versionDir) }, components: { schemas } };
}

function provenance(): string {
  const rows = CRD_SOURCES.map(
    (source) =>
      `| crds/${source.folder}/ | ${source.repository} | ${source.ref} | \`${source.commit}\` | ${source.upstreamDir} | ${Object.entries(source.files)
        .map(([file, versions]) => `${file} (${versions.join(', ')})`)
        .join('<br>')} |`,
  );
  for (const version of KUBERNETES_OPENAPI.versions) {
    rows.push(
      `| kubernetes-openapi/${version}/ | ${KUBERNETES_OPENAPI.repository} | ${KUBERNETES_OPENAPI.ref} | \`${KUBERNETES_OPENAPI.commit}\` | ${KUBERNETES_OPENAPI.upstreamDir.replace('<X.Y>', version)} | ${Object.entries(
        CORE_KINDS,
      )
        .map(([apiVersion, kinds]) => `${apiVersion}: ${kinds.join(', ')}`)
        .join('<br>')} (and every schema they reference) |`,
    );
  }
  return `# Provenance of schemas/

Generated by \`npm run vendor-schemas -- --from DIR\` (scripts/vendor-schemas.ts); do not edit by hand.
Upstream schema data only: every \`description\`, \`example\` and \`externalDocs\` is removed; field names,
types, enums, formats, patterns, defaults and CEL rules (\`x-kubernetes-validations\`) are kept as upstream
has them. Only the kinds and versions listed are kept. \`npm run validate\`, the schema tests and
\`npm run import\` read this folder; nothing outside the repository is read.

| folder | upstream repository | ref | commit | path in the repository | files (versions kept) |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

To refresh: put the upstream files of the wanted release in DIR/<folder>/ (and the Kubernetes OpenAPI v3
documents in DIR/kubernetes-openapi/<X.Y>/), update the table in scripts/vendor-schemas.ts, run the
script, then \`npm run import\` and \`npm test\`.
`;
}

function main(): void {
  const { options } = parseCommandLine(process.argv.slice(2), {
    usage: 'npm run vendor-schemas -- --from DIR [--out DIR]',
    description: 'Regenerates schemas/ from upstream CRD files and Kubernetes OpenAPI documents (see schemas/PROVENANCE.md).',
    options: {
      from: { takesValue: true, help: 'directory with one folder per upstream source (required)' },
      out: { takesValue: true, help: 'output directory (default: schemas/)' },
    },
  });
  if (!options.from) {
    console.error('error: --from DIR is required (npm run vendor-schemas -- --help)');
    process.exit(2);
  }
  const from = path.resolve(options.from);
  const out = path.resolve(options.out ?? path.join(__dirname, '..', 'schemas'));
  rmSync(out, { recursive: true, force: true });
  for (const source of CRD_SOURCES) {
    mkdirSync(path.join(out, 'crds', source.folder), { recursive: true });
    for (const [file, versions] of Object.entries(source.files)) {
      const crd = vendorCrd(path.join(from, source.folder, file), versions);
      writeFileSync(path.join(out, 'crds', source.folder, file), yaml.dump(crd, { lineWidth: -1, noRefs: true }));
    }
  }
  for (const version of KUBERNETES_OPENAPI.versions) {
    const document = vendorOpenApi(path.join(from, 'kubernetes-openapi', version));
    mkdirSync(path.join(out, 'kubernetes-openapi', version), { recursive: true });
    writeFileSync(path.join(out, 'kubernetes-openapi', version, 'openapi.json'), `${JSON.stringify(document)}\n`);
  }
  writeFileSync(path.join(out, 'PROVENANCE.md'), provenance());
  console.log(`wrote ${out}`);
}

main();
