import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as yaml from 'js-yaml';

/**
 * Strict schema validation of rendered objects: Kubernetes OpenAPI v3 documents for core kinds and
 * upstream CRD schemas for custom resources. Unknown fields are rejected everywhere except where the
 * schema itself says `x-kubernetes-preserve-unknown-fields` (such as Helm values). CEL rules
 * (`x-kubernetes-validations`) are not evaluated.
 */

type Schema = Record<string, unknown>;

const OPENAPI_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'int-or-string', 'password', 'quantity'];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export function parseApiVersion(apiVersion: string, kind: string): GroupVersionKind {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion, kind }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind };
}

const gvkKey = (gvk: GroupVersionKind) => `${gvk.group}/${gvk.version}/${gvk.kind}`;

function isObject(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Go (RE2) patterns may switch on case-insensitivity inline with `(?i)`, which JavaScript lacks.
 * The flag is dropped and every ASCII letter outside a character class becomes a two-case class.
 */
export function toJavaScriptPattern(pattern: string): string {
  if (!pattern.includes('(?i)')) return pattern;
  let result = '';
  let inClass = false;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') {
      result += char + (pattern[index + 1] ?? '');
      index++;
    } else if (pattern.startsWith('(?i)', index)) {
      index += 3;
    } else if (char === '[' && !inClass) {
      inClass = true;
      result += char;
    } else if (char === ']' && inClass) {
      inClass = false;
      result += char;
    } else if (!inClass && /[a-zA-Z]/.test(char)) {
      result += `[${char.toLowerCase()}${char.toUpperCase()}]`;
    } else {
      result += char;
    }
  }
  return result;
}

/**
 * Makes a schema strict the way the API server's field validation is: an object schema that lists
 * properties and says nothing about extra ones rejects them.
 */
export function tighten(schema: unknown, objectMetaRef?: string): unknown {
  if (Array.isArray(schema)) return schema.map((entry) => tighten(entry, objectMetaRef));
  if (!isObject(schema)) return schema;
  const result: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      result.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, tighten(sub, objectMetaRef)]));
    } else if (key === 'pattern' && typeof value === 'string') {
      result.pattern = toJavaScriptPattern(value);
    } else if (key === 'description' || key === 'example' || key === 'x-kubernetes-validations') {
      // Descriptions are long and unused; CEL rules cannot be evaluated here.
    } else {
      result[key] = tighten(value, objectMetaRef);
    }
  }
  if (result['x-kubernetes-int-or-string'] === true) {
    delete result.type;
    delete result.format;
    return { ...result, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  const preserves = result['x-kubernetes-preserve-unknown-fields'] === true;
  if (isObject(result.properties) && result.additionalProperties === undefined && !preserves) {
    if (result['x-kubernetes-embedded-resource'] === true) {
      result.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...result.properties };
    }
    result.additionalProperties = false;
  }
  return result;
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, Schema> };
}

export interface SchemaSetOptions {
  /** The schemas/ folder: crds/<source>/*.yaml and kubernetes-openapi/<X.Y>/*.json. */
  readonly schemasDir: string;
  /** Kubernetes versions whose OpenAPI documents are used, e.g. ['1.33', '1.35']. */
  readonly kubernetesVersions: readonly string[];
}

interface CrdVersionSchema {
  readonly served: boolean;
  readonly schema: Schema;
}

/** Lazily compiled validators for one Kubernetes version plus all CRDs. */
export class SchemaSet {
  private readonly ajv: Ajv;
  private readonly coreIndex = new Map<string, { documentId: string; schemaName: string }>();
  private readonly crdIndex = new Map<string, CrdVersionSchema>();
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly objectMetaRef: string | undefined;

  constructor(
    readonly kubernetesVersion: string,
    openapiDir: string,
    crdFiles: string[],
  ) {
    // code.optimize off: Ajv's passes over the generated code take most of the compile time of the large
    // CRD schemas (EnvoyProxy, Tenant, ClusterIssuer: about 2.5 times faster without), and they only
    // simplify code, they never change what it accepts.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { optimize: false } });
    addFormats(this.ajv);
    for (const format of OPENAPI_FORMATS) this.ajv.addFormat(format, true);
    for (const file of listFiles(openapiDir, '.json')) {
      const document = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
      const schemas = document.components?.schemas ?? {};
      const documentId = `k8s-${kubernetesVersion}/${path.relative(openapiDir, file)}`;
      const tightened = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, tighten(schema)]));
      this.ajv.addSchema({ $id: documentId, components: { schemas: tightened } });
      for (const [name, schema] of Object.entries(schemas)) {
        const gvks = schema['x-kubernetes-group-version-kind'];
        if (!Array.isArray(gvks)) continue;
        for (const gvk of gvks as GroupVersionKind[]) {
          if (!this.coreIndex.has(gvkKey(gvk))) this.coreIndex.set(gvkKey(gvk), { documentId, schemaName: name });
        }
      }
    }
    const objectMeta = this.findCoreSchema('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    this.objectMetaRef = objectMeta;
    for (const file of crdFiles) this.addCrdFile(file);
  }

  private findCoreSchema(name: string): string | undefined {
    for (const { documentId } of this.coreIndex.values()) {
      const schema = this.ajv.getSchema(`${documentId}#/components/schemas/${name}`);
      if (schema) return `${documentId}#/components/schemas/${name}`;
    }
    return undefined;
  }

  private addCrdFile(file: string): void {
    for (const document of yaml.loadAll(readFileSync(file, 'utf8'))) {
      if (!isObject(document) || document.kind !== 'CustomResourceDefinition') continue;
      const spec = document.spec as {
        group: string;
        names: { kind: string };
        versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[];
      };
      for (const version of spec.versions) {
        const raw = version.schema?.openAPIV3Schema;
        if (!raw) continue;
        const schema = tighten(raw) as Schema;
        const properties = (schema.properties ?? {}) as Schema;
        // CRD schemas leave metadata open; the API server validates it as ObjectMeta.
        if (this.objectMetaRef) properties.metadata = { $ref: this.objectMetaRef };
        schema.properties = properties;
        this.crdIndex.set(gvkKey({ group: spec.group, version: version.name, kind: spec.names.kind }), {
          served: version.served,
          schema,
        });
      }
    }
  }

  /** undefined when the kind is unknown to this schema set. */
  validatorFor(gvk: GroupVersionKind): ValidateFunction | { unserved: true } | undefined {
    const key = gvkKey(gvk);
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const core = this.coreIndex.get(key);
    let validator: ValidateFunction | undefined;
    if (core) {
      validator = this.ajv.compile({ $ref: `${core.documentId}#/components/schemas/${core.schemaName}` });
    } else {
      const crd = this.crdIndex.get(key);
      if (!crd) return undefined;
      if (!crd.served) return { unserved: true };
      validator = this.ajv.compile(crd.schema);
    }
    this.compiled.set(key, validator);
    return validator;
  }

  get crdKinds(): number {
    return this.crdIndex.size;
  }
}

export function listFiles(dir: string, extension: string): string[] {
  if (!existsSync(dir)) return [];
  const result: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) result.push(...listFiles(full, extension));
    else if (entry.endsWith(extension)) result.push(full);
  }
  return result;
}

export function crdFilesIn(schemasDir: string): string[] {
  return listFiles(schemasDir, '.yaml').filter((file) => !file.includes(`${path.sep}kubernetes-openapi${path.sep}`));
}
