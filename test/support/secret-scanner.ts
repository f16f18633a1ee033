import * as yaml from 'js-yaml';

/**
 * Finds secret-like values in rendered manifests and log text. Used by test/secrets.test.ts on all
 * of dist/ and on synth's stdout/stderr; test/secrets.test.ts also proves it catches planted secrets.
 *
 * What counts as a finding:
 * - a Secret object carrying data or stringData (dist/ may only name Secrets);
 * - a PEM block (`-----BEGIN ... PRIVATE KEY-----` or any BEGIN block other than a certificate);
 * - a Synapse signing key line (`ed25519 a_XXXX <base64>`);
 * - a high-entropy token: 20+ characters of a base64/base64url/hex alphabet with Shannon entropy
 *   above 4 bits per character and letters of both cases plus digits (random values look like this;
 *   names, hosts, image tags and hex digests do not);
 * - a URL with a password in its user info (`redis://user:PASSWORD@host`), unless the password is a
 *   reference expanded at run time (`$(VAR)`, `${VAR}`, `{{value}}`);
 * - a password-ish key (password, secret, token, api key, access key, macaroon...) with a literal
 *   value, in any object field, in env vars and inside ConfigMap file contents (YAML, key=value,
 *   key: value lines). Keys that name a file, a Secret or a reference (…_path, …File, existingSecret,
 *   secretName, secretKeyRef, …Ref) and values that are file paths or known Secret names are fine.
 */

export interface Finding {
  readonly where: string;
  readonly rule: 'secret-with-data' | 'pem-block' | 'signing-key' | 'high-entropy' | 'password-literal' | 'url-credentials';
  /** Never the value itself: a short redacted hint. */
  readonly hint: string;
}

export interface ScanOptions {
  /** Values that are allowed although they match (exact string), with the reason in the caller. */
  readonly allowedValues?: ReadonlySet<string>;
  /** Secret names the manifests may mention as values of password-ish keys. */
  readonly secretNames?: ReadonlySet<string>;
}

const PASSWORDISH_KEY = /(pass(word|wd)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|macaroon|credential|auth[-_]?key|signing[-_]?key)/i;
/** Keys that point at where a secret lives rather than holding it. */
const REFERENCE_KEY =
  /(path|file|files|ref|refs|name|names|existing[-_]?secret.*|secret[-_]?name|selector|mount.*|volume.*|provider|type|kind|enabled|key[-_]?ref|from|source|store.*|policy|interval|template)$/i;
/** Exact key names that are references in Kubernetes and External Secrets objects. */
const REFERENCE_EXACT = new Set(['secretKey', 'secretKeyRef', 'secretRef', 'key']);
const SIGNING_KEY = /ed25519 a_[A-Za-z0-9_]+ [A-Za-z0-9+/]{40,}/;
const PEM = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const TOKEN = /[A-Za-z0-9+/_=-]{20,}/g;
/** scheme://user:password@ — the password group is what must not be a literal. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*:([^\s/@'"]+)@/gi;
const RUNTIME_REFERENCE = /^(\$\(\w+\)|\$\{\w+\}|\{\{[A-Za-z0-9._-]+\}\})$/;

function redact(value: string): string {
  return `${value.length} chars`;
}

export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A checkov exception annotation value starts with the check id and `=` (`CKV_K8S_15=reason`): the id is a name. */
const CHECK_ID_PREFIX = /^CKV2?_K8S_[0-9]+=/;

export function looksRandom(token: string): boolean {
  const core = token.replace(CHECK_ID_PREFIX, '').replace(/=+$/, '');
  if (core.length < 20) return false;
  // URL paths (/_matrix/client/v3/...) are path segments, not tokens.
  if (core.startsWith('/') || core.includes('/_')) return false;
  if (/^[0-9a-f]+$/i.test(core)) return false; // hex digests (image digests, hashes) are not secrets here
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((pattern) => pattern.test(core)).length;
  if (classes < 3) return false;
  return shannonEntropy(core) > 4.0;
}

/** Text-level rules: PEM blocks, signing keys, high-entropy tokens. */
export function scanText(text: string, where: string, options: ScanOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const match of text.matchAll(PEM)) {
    if (match[1] !== 'CERTIFICATE') findings.push({ where, rule: 'pem-block', hint: `BEGIN ${match[1]}` });
  }
  if (SIGNING_KEY.test(text)) findings.push({ where, rule: 'signing-key', hint: 'ed25519 a_… key line' });
  for (const match of text.matchAll(URL_CREDENTIALS)) {
    if (!RUNTIME_REFERENCE.test(match[1])) findings.push({ where, rule: 'url-credentials', hint: `URL with a ${redact(match[1])} password` });
  }
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    if (options.allowedValues?.has(token)) continue;
    if (looksRandom(token)) findings.push({ where, rule: 'high-entropy', hint: `${redact(token)} starting ${token.slice(0, 3)}…` });
  }
  return findings;
}

function isLiteralSecretValue(value: unknown, options: ScanOptions): boolean {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.startsWith('/') || trimmed.startsWith('$')) return false;
  if (/^\{\{.*\}\}$/.test(trimmed)) return false; // a template placeholder, filled from a Secret at run time
  if (options.secretNames?.has(trimmed)) return false;
  if (options.allowedValues?.has(trimmed)) return false;
  return true;
}

function isPasswordishKey(key: string): boolean {
  // camelCase `…Key` (passwordKey, userKey) is the Helm convention for "which key of the Secret".
  return PASSWORDISH_KEY.test(key) && !REFERENCE_KEY.test(key) && !REFERENCE_EXACT.has(key) && !/[a-z0-9]Keys?$/.test(key);
}

/** key: value / key=value / KEY="value" lines inside a file carried by a ConfigMap or a values string. */
function scanEmbeddedFile(content: string, where: string, options: ScanOptions): Finding[] {
  const findings: Finding[] = [];
  try {
    const parsed = yaml.load(content);
    if (parsed && typeof parsed === 'object') findings.push(...scanFields(parsed, where, options, false));
  } catch {
    // not YAML: fall through to line rules
  }
  const lines = content.split('\n');
  lines.forEach((line, index) => {
    const match = /^\s*(?:export\s+)?([A-Za-z0-9_.-]+)\s*[=:]\s*"?([^"#\s]+)"?\s*$/.exec(line);
    if (!match) return;
    const [, key, value] = match;
    if (isPasswordishKey(key) && isLiteralSecretValue(value, options)) {
      findings.push({ where: `${where}:${index + 1}`, rule: 'password-literal', hint: `${key} = <${redact(value)}>` });
    }
  });
  // A YAML file would report the same key twice (fields and lines): keep one per location+key.
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const id = `${finding.hint}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function scanFields(node: unknown, where: string, options: ScanOptions, embedded = true): Finding[] {
  const findings: Finding[] = [];
  const visit = (value: unknown, at: string, key: string | undefined) => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${at}[${index}]`, undefined));
      return;
    }
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      // env var { name: DB_PASSWORD, value: literal }
      if (typeof record.name === 'string' && 'value' in record && isPasswordishKey(record.name) && isLiteralSecretValue(record.value, options)) {
        findings.push({ where: at, rule: 'password-literal', hint: `env ${record.name} = <${redact(String(record.value))}>` });
      }
      for (const [childKey, child] of Object.entries(record)) visit(child, `${at}.${childKey}`, childKey);
      return;
    }
    // A multi-line template (External Secrets target.template data: a credentials or password file built
    // from `{{ ... }}` placeholders) is a file, not a value: its lines are checked by scanEmbeddedFile below.
    const fileTemplate = typeof value === 'string' && value.includes('\n') && /\{\{[^}]+\}\}/.test(value);
    if (key !== undefined && isPasswordishKey(key) && !fileTemplate && isLiteralSecretValue(value, options)) {
      findings.push({ where: at, rule: 'password-literal', hint: `${key} = <${redact(String(value))}>` });
    }
    // Multi-line strings are files (ConfigMap data, Helm valuesContent, inline configs).
    if (embedded && typeof value === 'string' && value.includes('\n')) findings.push(...scanEmbeddedFile(value, at, options));
  };
  visit(node, where, undefined);
  return findings;
}

export interface ScannedObject {
  readonly file: string;
  readonly object: Record<string, unknown>;
}

/** Object-level rules on parsed manifests plus text rules on each manifest's YAML. */
export function scanObjects(objects: readonly ScannedObject[], options: ScanOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const { file, object } of objects) {
    const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
    const where = `${file}: ${String(object.kind)} ${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
    if (object.kind === 'Secret') {
      const data = { ...((object.data as object) ?? {}), ...((object.stringData as object) ?? {}) };
      if (Object.keys(data).length > 0) findings.push({ where, rule: 'secret-with-data', hint: `${Object.keys(data).length} keys` });
    }
    findings.push(...scanFields(object, where, options));
    findings.push(...scanText(yaml.dump(object, { lineWidth: -1 }), where, options));
  }
  return findings;
}

/** Names of Secrets the manifests refer to (volumes, env, envFrom, secretName fields). */
export function referencedSecretNames(objects: readonly ScannedObject[]): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown, parentKey: string | undefined) => {
    if (Array.isArray(value)) return value.forEach((item) => visit(item, parentKey));
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if ((parentKey === 'secretKeyRef' || parentKey === 'secretRef') && typeof record.name === 'string') names.add(record.name);
    for (const [key, child] of Object.entries(record)) {
      if (/secretName$/i.test(key) && typeof child === 'string') names.add(child);
      visit(child, key);
    }
  };
  for (const { object } of objects) visit(object, undefined);
  return names;
}
