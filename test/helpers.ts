import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { parseConfig, type PlatformConfig } from '../lib/config';
import { INTERNAL_CA } from '../lib/model';
import { type DistFiles, isManifestFile, type KubeObject, renderDist } from '../lib/synth';
import { nativeRenderer, type NativeRenderer } from './support/native-render';
import { RenderCache } from './support/render-cache';

export const ROOT = path.resolve(__dirname, '..');

/**
 * Runs a TypeScript entry point the way its npm script does (scripts/run-fresh.cjs), with no
 * MATRIX_CONFIG from the caller's environment.
 */
export function runEntry(entry: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'run-fresh.cjs'), path.join(ROOT, entry), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, MATRIX_CONFIG: '' },
  });
}

/** The example config as plain data, for tests to modify. */
export function exampleInput(): Record<string, unknown> {
  return yaml.load(readFileSync(path.join(ROOT, 'config/deployment.example.yaml'), 'utf8')) as Record<string, unknown>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    result[key] = isPlainObject(value) && isPlainObject(base[key]) ? deepMerge(base[key] as Record<string, unknown>, value) : value;
  }
  return result;
}

/** A DNS-01 solver for hosts.turn, which turns TURN over TLS on (lib/model/calls.ts turnTlsEnabled). */
export const TURN_DNS01 = { tls: { dns01: { cloudflare: { apiTokenSecretRef: { name: 'cloudflare-api-token', key: 'api-token' } } } } };

/** The example config with overrides merged in (lists are replaced, not merged). */
export function configWith(overrides: Record<string, unknown> = {}): PlatformConfig {
  return parseConfig(deepMerge(exampleInput(), overrides), '(test)');
}

export interface RenderedObject {
  readonly file: string;
  readonly object: KubeObject;
}

export function objectsOf(files: DistFiles): RenderedObject[] {
  const result: RenderedObject[] = [];
  for (const [file, content] of files) {
    if (!isManifestFile(file)) continue;
    for (const document of yaml.loadAll(content)) {
      if (document && typeof document === 'object') result.push({ file, object: document as KubeObject });
    }
  }
  return result;
}

const renderCache = new RenderCache(ROOT);
export const parseObjects = (files: [string, string][]) => objectsOf(new Map(files)).map((entry) => entry.object);

/** undefined until first needed, null where there is none (test/support/native-render.ts). */
let renderer: NativeRenderer | null | undefined;

/** A missing cache entry rendered by the worker's long-lived renderer; undefined leaves it to render() here. */
function renderNatively(key: string): string | undefined {
  if (renderer === undefined) renderer = nativeRenderer(ROOT) ?? null;
  try {
    return renderer?.(key);
  } catch {
    // Rendering here again throws the same error, as an error of the test file's own classes.
    return undefined;
  }
}

/**
 * Renders dist/ in memory for the example config plus overrides. Outputs are shared between test files
 * (test/support/render-cache.ts); each call returns its own copy. The config is always parsed here, so
 * an invalid override throws as before.
 */
export function render(overrides: Record<string, unknown> = {}): { files: DistFiles; objects: KubeObject[]; config: PlatformConfig } {
  const config = configWith(overrides);
  const output = renderCache.get(overrides, () => [...renderDist(config)], parseObjects, renderNatively);
  return { files: new Map(output.files), config, objects: (output.objects ?? parseObjects(output.files)) as KubeObject[] };
}

export function find(objects: KubeObject[], kind: string, name?: string, namespace?: string): KubeObject[] {
  return objects.filter(
    (object) =>
      object.kind === kind &&
      (name === undefined || object.metadata?.name === name) &&
      (namespace === undefined || object.metadata?.namespace === namespace),
  );
}

/** Certificates for public hosts: every one but the internal CA's own and those it signs (lib/model/internal-ca.ts). */
export function publicCertificates(objects: KubeObject[]): KubeObject[] {
  const internalIssuers: string[] = [INTERNAL_CA.issuer, INTERNAL_CA.bootstrapIssuer];
  return find(objects, 'Certificate').filter((certificate) => !internalIssuers.includes((certificate as unknown as { spec: { issuerRef: { name: string } } }).spec.issuerRef.name));
}

export function findOne(objects: KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
  const matches = find(objects, kind, name, namespace);
  if (matches.length !== 1) throw new Error(`expected exactly one ${kind} ${namespace ?? '*'}/${name}, found ${matches.length}`);
  return matches[0];
}

export type { DeepPartial };

/** `Kind namespace/name`, the key distChanges reports under. */
export function objectIdentity(object: KubeObject): string {
  return `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** Every leaf path where two JSON values differ. */
function leafDifferences(before: unknown, after: unknown, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (typeof before !== 'object' || typeof after !== 'object' || before === null || after === null) return [path];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].flatMap((key) =>
    leafDifferences((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key], `${path}/${key}`),
  );
}

/**
 * What a config change does to dist/: `Kind namespace/name` -> the JSON paths that differ. Both
 * renders must hold the same files and objects in the same order (a config change that adds or
 * removes an object fails here).
 */
export function distChanges(before: DistFiles, after: DistFiles): Map<string, string[]> {
  const keyed = (files: DistFiles) => objectsOf(files).map(({ file, object }) => [`${file}: ${objectIdentity(object)}`, object] as const);
  const old = keyed(before);
  const updated = keyed(after);
  const oldKeys = old.map(([key]) => key);
  const newKeys = updated.map(([key]) => key);
  if (JSON.stringify(oldKeys) !== JSON.stringify(newKeys)) {
    throw new Error(`objects differ: removed ${oldKeys.filter((key) => !newKeys.includes(key)).join(', ') || 'none'}; added ${newKeys.filter((key) => !oldKeys.includes(key)).join(', ') || 'none'}`);
  }
  const changes = new Map<string, string[]>();
  old.forEach(([, object], index) => {
    const paths = leafDifferences(object, updated[index][1]);
    if (paths.length > 0) changes.set(objectIdentity(object), paths);
  });
  return changes;
}
