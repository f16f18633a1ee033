import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { type CommandSpec, CommandLineError, helpText, parseArguments } from '../lib/cli';
import { CONFIG_OPTION, ConfigError, loadConfigFile, locateConfig, type PlatformConfig } from '../lib/config';
import {
  catalogueValueIds,
  externalValueSources,
  renderSecretTemplate,
  SECRET_VALUES,
  secretCatalogue,
  type SecretGenerator,
  type SecretSpec,
  STAGES,
} from '../lib/model';
import { stageCommand } from '../lib/model/runbook';

/**
 * `npm run secrets -- --out secrets/ [--config FILE] [--bundle] [--rotate VALUE_ID]... [--credentials-file FILE]`
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
    case 'external':
      throw new Error('a value issued elsewhere cannot be generated');
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

export type ValueAction = 'kept' | 'generated' | 'rotated' | 'imported' | 'replaced';

export interface SecretPlan {
  readonly values: ReadonlyMap<string, string>;
  readonly actions: ReadonlyMap<string, ValueAction>;
}

/**
 * Keeps every existing value, generates missing ones, regenerates the rotated ones. Values issued
 * elsewhere (`external`: id -> environment variable) are taken from `provided` when given there,
 * else kept, and are an error when neither has them: they are never invented.
 */
export function planValues(
  specs: readonly SecretSpec[],
  existing: ReadonlyMap<string, string>,
  rotate: readonly string[],
  external: ReadonlyMap<string, string> = new Map(),
  provided: ReadonlyMap<string, string> = new Map(),
): SecretPlan {
  const ids = catalogueValueIds(specs);
  for (const id of rotate) {
    if (!ids.includes(id)) throw new Error(`--rotate ${id}: not a secret value of this config; known: ${ids.join(', ')}`);
    const variable = external.get(id);
    if (variable) throw new Error(`--rotate ${id}: this value is issued elsewhere; give the new one as ${variable} instead`);
  }
  const values = new Map<string, string>();
  const actions = new Map<string, ValueAction>();
  const missing: string[] = [];
  for (const id of ids) {
    const variable = external.get(id);
    if (variable) {
      const given = provided.get(variable);
      const current = existing.get(id);
      if (given !== undefined) {
        values.set(id, given);
        actions.set(id, current === undefined ? 'imported' : current === given ? 'kept' : 'replaced');
      } else if (current !== undefined) {
        values.set(id, current);
        actions.set(id, 'kept');
      } else {
        missing.push(`${id} (${variable})`);
      }
      continue;
    }
    const generator = GENERATORS.get(id);
    if (!generator) throw new Error(`no generator for secret value ${id} (add it to SECRET_VALUES)`);
    const current = existing.get(id);
    if (current !== undefined && !rotate.includes(id)) {
      values.set(id, current);
      actions.set(id, 'kept');
    } else {
      values.set(id, generateValue(generator));
      actions.set(id, current === undefined ? 'generated' : 'rotated');
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `values issued elsewhere are missing: ${missing.join(', ')}. Set each variable in the environment or in a file given with --credentials-file (KEY=VALUE lines); nothing was written.`,
    );
  }
  return { values, actions };
}

/**
 * `KEY=VALUE` lines (blank lines and # comments ignored; a value may be quoted, and `\n` in a
 * double-quoted value is a newline, for SSH keys), then the environment, which wins. Only the
 * variables this config needs are read.
 */
export function providedValues(wanted: Iterable<string>, env: NodeJS.ProcessEnv, fileText?: string): Map<string, string> {
  const fromFile = new Map<string, string>();
  for (const [index, raw] of (fileText ?? '').split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`credentials file, line ${index + 1}: expected KEY=VALUE`);
    let value = match[2];
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\n/g, '\n');
    else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    fromFile.set(match[1], value);
  }
  const result = new Map<string, string>();
  for (const variable of wanted) {
    const value = env[variable] ?? fromFile.get(variable);
    if (value !== undefined && value !== '') result.set(variable, value);
  }
  return result;
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
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { [MANAGED_LABEL]: 'true', 'app.kubernetes.io/part-of': 'matrix-platform', ...(spec.labels ?? {}) },
    },
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
    stageCommand(STAGES[0].id),
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
  /** Values issued elsewhere, by environment variable name (providedValues). */
  readonly provided?: ReadonlyMap<string, string>;
  readonly log: (line: string) => void;
}

export function writeSecrets(options: SecretsOptions): SecretPlan {
  const specs = secretCatalogue(options.config);
  assertIgnoredByGit(options.outDir);
  const external = externalValueSources(options.config);
  const plan = planValues(specs, existingValues(specs, readExistingSecrets(options.outDir)), options.rotate, external, options.provided);
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
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

export const SECRETS_COMMAND: CommandSpec = {
  usage: 'npm run secrets -- --out DIR [--config PATH] [--bundle] [--rotate VALUE_ID]... [--credentials-file FILE]',
  description:
    'Writes the Kubernetes Secrets of the platform with fresh random values into DIR (git-ignored), one file per namespace. A re-run keeps every value already in DIR. Values issued elsewhere (an external S3 provider\'s keys, Git credentials) are read from the environment or from --credentials-file, never from the command line. No value is ever printed.',
  options: {
    out: { takesValue: true, help: 'folder to write (required), for example secrets/' },
    ...CONFIG_OPTION,
    bundle: { help: 'write one secrets.yaml instead of one file per namespace' },
    rotate: { takesValue: true, repeatable: true, help: 'generate a new value for this value id everywhere it is used' },
    'credentials-file': { takesValue: true, help: 'KEY=VALUE lines with values issued elsewhere (the environment wins)' },
  },
  epilog: [
    'Values issued elsewhere, by config:',
    '  objectStorage.provider: external      MATRIX_S3_ACCESS_KEY_ID, MATRIX_S3_SECRET_ACCESS_KEY',
    '  gitops.repository.credentials (https) MATRIX_GIT_USERNAME, MATRIX_GIT_PASSWORD',
    '  gitops.repository.credentials (ssh)   MATRIX_GIT_SSH_PRIVATE_KEY, MATRIX_GIT_SSH_KNOWN_HOSTS',
    '  monitoring.alertmanager.email.username MATRIX_ALERT_SMTP_PASSWORD',
    '  monitoring.alertmanager.webhook        MATRIX_ALERT_WEBHOOK_URL',
  ].join('\n'),
};

export function parseArgs(argv: readonly string[]): { outDir: string; rotate: string[]; bundle: boolean; config?: string; credentialsFile?: string } {
  const { options, lists } = parseArguments(argv, SECRETS_COMMAND);
  if (!options.out) throw new CommandLineError('--out DIR is required (for example --out secrets/)');
  return {
    outDir: path.resolve(options.out),
    rotate: [...(lists.rotate ?? [])],
    bundle: options.bundle === 'true',
    config: options.config,
    credentialsFile: options['credentials-file'],
  };
}

function main(argv: string[]): number {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(helpText(SECRETS_COMMAND));
      return 0;
    }
    const args = parseArgs(argv);
    const location = locateConfig(args.config, process.env, path.resolve(__dirname, '..'));
    if (location.notice) console.error(location.notice);
    const config = loadConfigFile(location.file);
    const fileText = args.credentialsFile ? readFileSync(args.credentialsFile, 'utf8') : undefined;
    const provided = providedValues(externalValueSources(config).values(), process.env, fileText);
    writeSecrets({ ...args, config, provided, log: (line) => console.log(line) });
    return 0;
  } catch (error) {
    // Messages name value ids and variables only, never values.
    console.error(`error: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
    return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
