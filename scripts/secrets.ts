import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { ConfigError, loadConfigFile, locateConfig, type PlatformConfig } from '../lib/config';
import {
  catalogueValueIds,
  renderSecretTemplate,
  SECRET_VALUES,
  secretCatalogue,
  type SecretGenerator,
  type SecretSpec,
} from '../lib/model';

/**
 * `npm run secrets -- --out secrets/ [--config FILE] [--bundle] [--rotate VALUE_ID]...`
 *
 * Writes the Kubernetes Secrets of the catalogue (lib/model/secrets.ts) with fresh random values
 * into a git-ignored folder, one file per namespace (or one bundle). The folder is also the state:
 * a re-run reads the values already there, keeps them, and generates only the missing ones, so a
 * value shared by several Secrets stays identical everywhere. `--rotate ID` regenerates one value
 * (in every Secret that carries it). No secret value is ever printed.
 */

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MANAGED_LABEL = 'matrix-platform/secret-bundle';
export const BUNDLE_FILE = 'secrets.yaml';

function randomAlphanumeric(length: number): string {
  // randomInt is uniform (rejection sampling inside node:crypto), so no modulo bias.
  return Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

/** The 32-byte ed25519 seed: the last 32 bytes of the PKCS#8 DER private key (RFC 8410 OneAsymmetricKey). */
export function ed25519Seed(): Buffer {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return der.subarray(der.length - 32);
}

/** Synapse's signing key file format: `ed25519 a_<version> <unpadded standard base64 of the seed>`. */
export function synapseSigningKey(): string {
  const seed = ed25519Seed().toString('base64').replace(/=+$/, '');
  return `ed25519 a_${randomAlphanumeric(4)} ${seed}`;
}

export const SYNAPSE_SIGNING_KEY_FORMAT = /^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}$/;

export function generateValue(generator: SecretGenerator): string {
  switch (generator) {
    case 'random':
      return randomBytes(32).toString('base64url');
    case 'identifier':
      return randomAlphanumeric(20);
    case 'synapse-signing-key':
      return synapseSigningKey();
    case 'admin-user':
      return 'admin';
    case 'supplied':
      throw new Error('a supplied secret value cannot be generated');
  }
}

const GENERATORS: ReadonlyMap<string, SecretGenerator> = new Map(
  Object.values(SECRET_VALUES).map((value) => [value.id, value.generator as SecretGenerator]),
);

interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function isSecretManifest(value: unknown): value is SecretManifest {
  const object = value as Partial<SecretManifest> | null;
  return !!object && object.kind === 'Secret' && typeof object.metadata?.name === 'string';
}

/** Every Secret manifest already in the folder (any .yaml/.yml file). */
export function readExistingSecrets(outDir: string): SecretManifest[] {
  if (!existsSync(outDir)) return [];
  const secrets: SecretManifest[] = [];
  for (const file of readdirSync(outDir).sort()) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const document of yaml.loadAll(readFileSync(path.join(outDir, file), 'utf8'))) {
      if (isSecretManifest(document)) secrets.push(document);
    }
  }
  return secrets;
}

function decodedData(secret: SecretManifest): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
  return { ...data, ...(secret.stringData ?? {}) };
}

/** Values found in the folder, by value id, read back through the catalogue's key -> value id mapping. */
export function existingValues(specs: readonly SecretSpec[], secrets: readonly SecretManifest[]): Map<string, string> {
  const found = new Map<string, Set<string>>();
  for (const spec of specs) {
    const secret = secrets.find((candidate) => candidate.metadata.name === spec.name && candidate.metadata.namespace === spec.namespace);
    if (!secret) continue;
    const data = decodedData(secret);
    for (const [key, valueId] of Object.entries(spec.data)) {
      const value = data[key];
      if (value === undefined || value === '') continue;
      found.set(valueId, (found.get(valueId) ?? new Set()).add(value));
    }
  }
  const values = new Map<string, string>();
  for (const [valueId, candidates] of found) {
    if (candidates.size > 1) {
      throw new Error(
        `the Secrets in the folder disagree on ${valueId}; refusing to choose. Run again with --rotate ${valueId} to replace it everywhere.`,
      );
    }
    values.set(valueId, [...candidates][0]);
  }
  return values;
}

export type ValueAction = 'kept' | 'generated' | 'rotated';

export interface SecretPlan {
  readonly values: ReadonlyMap<string, string>;
  readonly actions: ReadonlyMap<string, ValueAction>;
}

/** Keeps every existing value, generates missing ones, regenerates the rotated ones. */
export function planValues(specs: readonly SecretSpec[], existing: ReadonlyMap<string, string>, rotate: readonly string[]): SecretPlan {
  const ids = catalogueValueIds(specs);
  for (const id of rotate) {
    if (!ids.includes(id)) throw new Error(`--rotate ${id}: not a secret value of this config; known: ${ids.join(', ')}`);
  }
  const values = new Map<string, string>();
  const actions = new Map<string, ValueAction>();
  const missingSupplied: string[] = [];
  for (const id of ids) {
    const generator = GENERATORS.get(id);
    if (!generator) throw new Error(`no generator for secret value ${id} (add it to SECRET_VALUES)`);
    const current = existing.get(id);
    if (generator === 'supplied') {
      if (rotate.includes(id)) throw new Error(`--rotate ${id}: a supplied value is replaced by editing its Secret in the folder`);
      if (current === undefined) missingSupplied.push(id);
      else {
        values.set(id, current);
        actions.set(id, 'kept');
      }
      continue;
    }
    if (current !== undefined && !rotate.includes(id)) {
      values.set(id, current);
      actions.set(id, 'kept');
    } else {
      values.set(id, generateValue(generator));
      actions.set(id, current === undefined ? 'generated' : 'rotated');
    }
  }
  if (missingSupplied.length > 0) {
    const where = specs.flatMap((spec) =>
      Object.entries(spec.data)
        .filter(([, id]) => missingSupplied.includes(id))
        .map(([key, id]) => `key ${key} of Secret ${spec.namespace}/${spec.name} (${id})`),
    );
    throw new Error(
      `values only you can supply are missing: ${where.join('; ')}. Put them into a Secret manifest (stringData) in the folder and run again.`,
    );
  }
  return { values, actions };
}

export function secretManifest(spec: SecretSpec, values: ReadonlyMap<string, string>): SecretManifest {
  const plain = Object.fromEntries(values);
  const data: Record<string, string> = {};
  for (const [key, valueId] of Object.entries(spec.data)) data[key] = plain[valueId];
  for (const [key, template] of Object.entries(spec.templates ?? {})) data[key] = renderSecretTemplate(template, plain);
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((key) => [key, Buffer.from(data[key], 'utf8').toString('base64')]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: spec.name, namespace: spec.namespace, labels: { [MANAGED_LABEL]: 'true', 'app.kubernetes.io/part-of': 'matrix-platform' } },
    type: 'Opaque',
    data: encoded,
  };
}

/** File name -> manifests: one file per namespace, or one bundle. */
export function layoutFiles(specs: readonly SecretSpec[], values: ReadonlyMap<string, string>, bundle: boolean): Map<string, SecretManifest[]> {
  const files = new Map<string, SecretManifest[]>();
  const sorted = [...specs].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  for (const spec of sorted) {
    const file = bundle ? BUNDLE_FILE : `${spec.namespace}.yaml`;
    files.set(file, [...(files.get(file) ?? []), secretManifest(spec, values)]);
  }
  return files;
}

export function readme(files: readonly string[], config: PlatformConfig, folder: string): string {
  return [
    '# Secrets of the Matrix platform (generated, never commit)',
    '',
    'Written by `npm run secrets`. Every file holds Kubernetes Secrets with random values; this folder',
    'must stay out of Git (it is in .gitignore). Keep a copy in your password manager or vault.',
    '',
    '## Apply',
    '',
    'The namespaces must exist first (stage 00 of dist/), then the Secrets, before the components that read them:',
    '',
    '```sh',
    'kubectl apply -f dist/stages/00-namespaces/',
    `kubectl apply -f ${folder}`,
    '```',
    '',
    'Files:',
    '',
    ...files.map((file) => `- \`${file}\``),
    '',
    '## Re-running and rotating',
    '',
    `Running \`npm run secrets -- --out ${folder}\` again keeps every value already in this folder and only`,
    'adds missing ones (for example after enabling calls). To replace one value everywhere it is used:',
    '',
    '```sh',
    `npm run secrets -- --out ${folder} --rotate <value id>`,
    `kubectl apply -f ${folder}`,
    '```',
    '',
    'then restart the pods that read it. Value ids:',
    '',
    ...catalogueValueIds(secretCatalogue(config)).map((id) => {
      const value = Object.values(SECRET_VALUES).find((candidate) => candidate.id === id);
      return `- \`${id}\`: ${value?.description ?? ''}`;
    }),
    '',
    'Values only you have (alert receiver credentials: SMTP password, webhook URL) are never generated: put them',
    'into a Secret manifest with `stringData` in this folder and run again; they are kept from then on.',
    '',
    'Rotating `synapse-signing-key` makes remote servers distrust old signatures until they fetch the',
    'new key; keep the old key in `old_signing_keys` if you rotate it.',
    '',
  ].join('\n');
}

/** Refuses a folder inside a Git work tree that Git would track. */
function assertIgnoredByGit(outDir: string): void {
  const probe = path.join(outDir, 'probe.yaml');
  let cwd = outDir;
  while (!existsSync(cwd)) cwd = path.dirname(cwd);
  const result = spawnSync('git', ['check-ignore', '-q', probe], { cwd, encoding: 'utf8' });
  // 0: ignored; 1: not ignored; 128: not a work tree (or no git): nothing to protect.
  if (result.status === 1) {
    throw new Error(`${outDir} is inside a Git work tree and not ignored; add it to .gitignore first (secrets/ is).`);
  }
}

export interface SecretsOptions {
  readonly outDir: string;
  readonly config: PlatformConfig;
  readonly rotate: readonly string[];
  readonly bundle: boolean;
  readonly log: (line: string) => void;
}

export function writeSecrets(options: SecretsOptions): SecretPlan {
  const specs = secretCatalogue(options.config);
  assertIgnoredByGit(options.outDir);
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  const plan = planValues(specs, existingValues(specs, readExistingSecrets(options.outDir)), options.rotate);
  const files = layoutFiles(specs, plan.values, options.bundle);
  for (const [file, manifests] of files) {
    const target = path.join(options.outDir, file);
    writeFileSync(target, manifests.map((manifest) => yaml.dump(manifest, { lineWidth: -1 })).join('---\n'), { mode: 0o600 });
    chmodSync(target, 0o600);
  }
  const folder = `${path.relative(process.cwd(), options.outDir) || '.'}/`;
  writeFileSync(path.join(options.outDir, 'README.md'), readme([...files.keys()], options.config, folder), { mode: 0o600 });
  for (const [id, action] of plan.actions) options.log(`${action.padEnd(9)} ${id}`);
  options.log(`wrote ${[...files.values()].flat().length} Secrets in ${files.size} file(s) to ${options.outDir}`);
  return plan;
}

export function parseArgs(argv: readonly string[]): { outDir: string; rotate: string[]; bundle: boolean } {
  const rotate: string[] = [];
  let outDir: string | undefined;
  let bundle = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--out') outDir = argv[++index];
    else if (arg === '--rotate') {
      const id = argv[++index];
      if (!id) throw new Error('--rotate needs a value id');
      rotate.push(id);
    } else if (arg === '--bundle') bundle = true;
    else if (arg === '--config') index++;
    else if (!arg.startsWith('--config=')) throw new Error(`unknown argument ${arg}`);
  }
  if (!outDir) throw new Error('--out DIR is required (for example --out secrets/)');
  return { outDir: path.resolve(outDir), rotate, bundle };
}

function main(argv: string[]): number {
  try {
    const args = parseArgs(argv);
    const location = locateConfig(argv, process.env, path.resolve(__dirname, '..'));
    if (location.notice) console.error(location.notice);
    writeSecrets({ ...args, config: loadConfigFile(location.file), log: (line) => console.log(line) });
    return 0;
  } catch (error) {
    // Messages name value ids only, never values.
    console.error(`error: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
    return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
