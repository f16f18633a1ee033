import { isIP } from 'node:net';
import { ipToBigInt, parseCidr } from './primitives';

/**
 * Checks over every string of a config, whatever section it is in: credentials must never be
 * written into the config (it is committed and its values reach dist/), and example values must
 * not reach a real cluster unnoticed.
 */

export interface StringAt {
  readonly path: string;
  readonly value: string;
}

/** Every string in a parsed YAML tree with its dotted path (list entries by index). */
export function stringsIn(node: unknown, prefix: (string | number)[] = []): StringAt[] {
  if (typeof node === 'string') return [{ path: prefix.join('.'), value: node }];
  if (Array.isArray(node)) return node.flatMap((entry, index) => stringsIn(entry, [...prefix, index]));
  if (node !== null && typeof node === 'object') {
    return Object.entries(node as Record<string, unknown>).flatMap(([key, value]) => stringsIn(value, [...prefix, key]));
  }
  return [];
}

/**
 * Prefixes of access tokens that providers issue in a recognisable form (GitHub, GitLab, Slack,
 * AWS access key ids, Bitbucket, npm, Hugging Face); a config value containing one is a leaked secret.
 */
const TOKEN_PATTERNS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)', pattern: /\b(gh[pousr]_[A-Za-z0-9]{10,}|github_pat_[A-Za-z0-9_]{10,})/ },
  { name: 'a GitLab token (glpat-, gldt-, glrt-)', pattern: /\bgl(pat|dt|rt|ptt|cbt)-[A-Za-z0-9_-]{10,}/ },
  { name: 'a Slack token (xox…)', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'an AWS access key id (AKIA…, ASIA…)', pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { name: 'a Bitbucket app password (ATBB…)', pattern: /\bATBB[A-Za-z0-9]{20,}/ },
  { name: 'an npm token (npm_…)', pattern: /\bnpm_[A-Za-z0-9]{30,}/ },
];

/** `scheme://user:password@host` or `scheme://token@host`: user information in a URL. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*):\/\/([^/@\s]+)@/i;

/**
 * Problems in the form "path: found …; expected …". The value itself is never repeated: it may be
 * a live credential, and the message ends up in CI logs.
 */
export function credentialProblems(input: unknown): string[] {
  const problems: string[] = [];
  for (const { path, value } of stringsIn(input)) {
    const userinfo = URL_USERINFO.exec(value);
    // ssh://git@host/… names a user and no secret; over HTTP a bare user part is a token.
    const leaks = userinfo && (userinfo[2].includes(':') || userinfo[1].toLowerCase() !== 'ssh');
    if (userinfo && leaks) {
      const what = userinfo[2].includes(':') ? 'a URL with a user name and password (user:password@)' : 'a URL with a token or user name before @';
      problems.push(
        `${path}: found ${what}; expected a URL without credentials: give them to \`npm run secrets\` (docs in README, "Secrets") or your secret store, never to the config`,
      );
      continue;
    }
    const token = TOKEN_PATTERNS.find((candidate) => candidate.pattern.test(value));
    if (token) {
      problems.push(`${path}: found what looks like ${token.name}; expected no credentials in the config: remove it, revoke it, and give it to \`npm run secrets\` instead`);
    }
  }
  return problems;
}

/** Address blocks reserved for documentation (RFC 5737, RFC 3849). */
const DOCUMENTATION_NETWORKS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'];

/** Domains reserved for examples (RFC 2606, RFC 6761). */
const EXAMPLE_DOMAINS = ['example.org', 'example.com', 'example.net'];
const EXAMPLE_TLDS = ['example', 'invalid', 'test'];

function inNetwork(address: string, network: string): boolean {
  const cidr = parseCidr(network);
  if (!cidr || isIP(address) !== cidr.family) return false;
  const width = cidr.family === 4 ? 32 : 128;
  const start = ipToBigInt(cidr.address);
  const value = ipToBigInt(address);
  return value >= start && value < start + (1n << BigInt(width - cidr.prefix));
}

function documentationAddress(value: string): string | undefined {
  const candidates = value.split(/[-/\s,]+/).filter((part) => isIP(part) !== 0);
  for (const address of candidates) {
    const network = DOCUMENTATION_NETWORKS.find((candidate) => inNetwork(address, candidate));
    if (network) return network;
  }
  return undefined;
}

function exampleDomain(value: string): string | undefined {
  const hosts = value.toLowerCase().match(/[a-z0-9.-]+\.[a-z]+/g) ?? [];
  for (const host of hosts) {
    const domain = EXAMPLE_DOMAINS.find((candidate) => host === candidate || host.endsWith(`.${candidate}`));
    if (domain) return domain;
    const tld = host.slice(host.lastIndexOf('.') + 1);
    if (EXAMPLE_TLDS.includes(tld)) return `.${tld}`;
  }
  return undefined;
}

export interface Placeholder {
  readonly path: string;
  readonly value: string;
  readonly why: string;
}

/**
 * Values that only make sense in documentation: reserved example domains and documentation
 * address blocks. `extra` adds values the project itself ships as placeholders (an image that
 * does not exist, for example).
 */
export function placeholdersIn(node: unknown, extra: readonly Placeholder[] = []): Placeholder[] {
  const found: Placeholder[] = [];
  for (const { path, value } of stringsIn(node)) {
    const domain = exampleDomain(value);
    if (domain) {
      found.push({ path, value, why: `${domain} is reserved for examples` });
      continue;
    }
    const network = documentationAddress(value);
    if (network) found.push({ path, value, why: `${network} is reserved for documentation` });
  }
  return [...found, ...extra].sort((a, b) => a.path.localeCompare(b.path));
}
