import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { type DistFiles, isManifestFile } from '../synth';
import { crdFilesIn, parseApiVersion, SchemaSet } from './schemas';

/** The vendored schema data (schemas/PROVENANCE.md), part of the repository. */
export const DEFAULT_SCHEMAS_DIR = path.resolve(__dirname, '..', '..', 'schemas');
export const KUBERNETES_VERSIONS = ['1.33', '1.35'] as const;

/** Files in dist/ that are kustomize build instructions, not objects applied to the cluster. */
const NOT_APPLIED = /(^|\/)kustomization\.yaml$/;

export interface ValidationProblem {
  readonly file: string;
  readonly object: string;
  readonly kubernetesVersion: string;
  readonly message: string;
}

export interface ValidationReport {
  readonly checkedObjects: number;
  readonly problems: ValidationProblem[];
}

const schemaSets = new Map<string, SchemaSet>();

function schemaSetFor(schemasDir: string, version: string): SchemaSet {
  const key = `${schemasDir}@${version}`;
  let set = schemaSets.get(key);
  if (!set) {
    set = new SchemaSet(version, path.join(schemasDir, 'kubernetes-openapi', version), crdFilesIn(schemasDir));
    schemaSets.set(key, set);
  }
  return set;
}

export function validateFiles(
  files: DistFiles,
  options: { schemasDir?: string; kubernetesVersions?: readonly string[] } = {},
): ValidationReport {
  const schemasDir = options.schemasDir ?? DEFAULT_SCHEMAS_DIR;
  const versions = options.kubernetesVersions ?? KUBERNETES_VERSIONS;
  // The schemas are part of the repository: a missing folder is a broken checkout, never a skip.
  for (const version of versions) {
    const openapiDir = path.join(schemasDir, 'kubernetes-openapi', version);
    if (!existsSync(openapiDir)) throw new Error(`${openapiDir} is missing: the vendored schemas (schemas/PROVENANCE.md) are needed to validate`);
  }
  const problems: ValidationProblem[] = [];
  let checkedObjects = 0;
  for (const [file, content] of files) {
    if (!isManifestFile(file) || NOT_APPLIED.test(file)) continue;
    let documents: unknown[];
    try {
      documents = yaml.loadAll(content);
    } catch (error) {
      problems.push({ file, object: '(file)', kubernetesVersion: '-', message: `not valid YAML: ${(error as Error).message}` });
      continue;
    }
    for (const document of documents) {
      if (document === null || document === undefined) continue;
      checkedObjects++;
      problems.push(...validateObject(file, document, versions, schemasDir));
    }
  }
  return { checkedObjects, problems };
}

function validateObject(file: string, document: unknown, versions: readonly string[], schemasDir: string): ValidationProblem[] {
  const object = document as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const label = `${String(object.kind)}/${object.metadata?.namespace ? `${String(object.metadata.namespace)}/` : ''}${String(object.metadata?.name)}`;
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return [{ file, object: label, kubernetesVersion: '-', message: 'apiVersion and kind must be strings' }];
  }
  const gvk = parseApiVersion(object.apiVersion, object.kind);
  const problems: ValidationProblem[] = [];
  for (const version of versions) {
    const validator = schemaSetFor(schemasDir, version).validatorFor(gvk);
    if (validator === undefined) {
      problems.push({ file, object: label, kubernetesVersion: version, message: `no schema for ${object.apiVersion} ${object.kind}` });
      continue;
    }
    if ('unserved' in validator) {
      problems.push({ file, object: label, kubernetesVersion: version, message: `${object.apiVersion} is not a served version of ${object.kind}` });
      continue;
    }
    if (!validator(document)) {
      for (const error of validator.errors ?? []) {
        const where = error.instancePath || '(root)';
        const detail =
          error.keyword === 'additionalProperties'
            ? `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`
            : error.keyword === 'enum'
              ? `${error.message}: ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`
              : error.message ?? error.keyword;
        problems.push({ file, object: label, kubernetesVersion: version, message: `${where}: ${detail}` });
      }
    }
  }
  return dedupe(problems);
}

/** The same mistake reported by both Kubernetes versions is shown once. */
function dedupe(problems: ValidationProblem[]): ValidationProblem[] {
  const seen = new Map<string, ValidationProblem>();
  for (const problem of problems) {
    const key = `${problem.file}|${problem.object}|${problem.message}`;
    const previous = seen.get(key);
    seen.set(key, previous ? { ...previous, kubernetesVersion: `${previous.kubernetesVersion}, ${problem.kubernetesVersion}` } : problem);
  }
  return [...seen.values()];
}

export function formatProblem(problem: ValidationProblem): string {
  return `${problem.file}: ${problem.object}: ${problem.message} (Kubernetes ${problem.kubernetesVersion})`;
}
