import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { callsSchema } from './calls';
import { databaseSchema, objectStorageSchema, valkeySchema } from './data';
import { monitoringSchema } from './monitoring';
import {
  adminSchema,
  edgeSchema,
  gitopsSchema,
  hostsSchema,
  loadBalancerSchema,
  storageClassesSchema,
  tlsSchema,
} from './platform';
import { credentialProblems } from './guards';
import { dnsName, ipToBigInt, isIpRange, parseCidr } from './primitives';
import { imagesSchema, networkSchema, nodesSchema, secretsSchema } from './security';
import { adminUiSchema, elementWebSchema, synapseSchema } from './synapse';

/**
 * The one typed config of the platform: schema, cross-field rules, loading and error reporting.
 * Sections live in small files beside this one; this module assembles them.
 */

export const configSchema = z
  .strictObject({
    serverName: dnsName.describe('The Matrix server name: the part after the colon in @alice:example.org (MATRIX_DOMAIN).'),
    hosts: hostsSchema,
    gitops: gitopsSchema,
    storageClasses: storageClassesSchema,
    tls: tlsSchema,
    loadBalancer: loadBalancerSchema,
    edge: edgeSchema,
    admin: adminSchema,
    database: databaseSchema,
    valkey: valkeySchema,
    objectStorage: objectStorageSchema,
    synapse: synapseSchema,
    elementWeb: elementWebSchema,
    adminUi: adminUiSchema,
    calls: callsSchema,
    monitoring: monitoringSchema,
    secrets: secretsSchema,
    nodes: nodesSchema,
    network: networkSchema,
    images: imagesSchema,
  })
  .superRefine((config, ctx) => {
    const require = (condition: boolean, pathTo: (string | number)[], message: string) => {
      if (!condition) ctx.addIssue({ code: 'custom', path: pathTo, message });
    };
    require(
      config.loadBalancer.mode !== 'bgp' || config.loadBalancer.bgp !== undefined,
      ['loadBalancer', 'bgp'],
      'a bgp block (myAsn and peers) because loadBalancer.mode is bgp',
    );
    require(
      config.objectStorage.provider !== 'external' || config.objectStorage.external !== undefined,
      ['objectStorage', 'external'],
      'an external block (endpoint, region) because objectStorage.provider is external',
    );
    require(
      config.secrets.provider !== 'external-secrets' || config.secrets.externalSecrets !== undefined,
      ['secrets', 'externalSecrets'],
      'an externalSecrets block (storeName) because secrets.provider is external-secrets',
    );
    require(
      !config.calls.enabled || config.calls.coturn !== undefined,
      ['calls', 'coturn'],
      'a coturn block (nodes with their external IPs) because calls.enabled is true',
    );
    const gitCredentials = config.gitops.repository.credentials;
    if (gitCredentials) {
      require(
        config.gitops.engine !== 'helm-controller',
        ['gitops', 'repository', 'credentials'],
        'no credentials with gitops.engine helm-controller (it pulls no Git repository); remove the block',
      );
      const sshUrl = /^(ssh:\/\/|git@)/.test(config.gitops.repository.url);
      require(
        (gitCredentials.type === 'ssh') === sshUrl,
        ['gitops', 'repository', 'credentials', 'type'],
        `${sshUrl ? 'ssh' : 'https'}, the scheme of gitops.repository.url`,
      );
    }
    const edgeAddress = config.loadBalancer.edgeAddress;
    if (edgeAddress !== undefined) {
      require(
        config.loadBalancer.addresses.some((range) => rangeContains(range, edgeAddress)),
        ['loadBalancer', 'edgeAddress'],
        'an address inside one of loadBalancer.addresses',
      );
    }
    const minio = config.objectStorage.minio;
    const drives = minio.servers * minio.volumesPerServer;
    const parity = Number(minio.parity.slice(3));
    require(
      config.objectStorage.provider !== 'minio' || (parity >= 2 && parity <= drives / 2),
      ['objectStorage', 'minio', 'parity'],
      `a parity between EC:2 and EC:${Math.floor(drives / 2)} for ${drives} drives (servers x volumesPerServer)`,
    );
    const coturn = config.calls.coturn;
    if (config.calls.enabled && coturn) {
      const livekitUdp = config.calls.livekit.rtcUdpPorts;
      require(
        coturn.relayPorts.end < livekitUdp.start || livekitUdp.end < coturn.relayPorts.start,
        ['calls', 'coturn', 'relayPorts'],
        `a relay range that does not overlap calls.livekit.rtcUdpPorts (${livekitUdp.start}-${livekitUdp.end})`,
      );
      const hostPorts = new Map<number, string>();
      const claim = (portNumber: number, owner: string, pathTo: (string | number)[]) => {
        const previous = hostPorts.get(portNumber);
        require(previous === undefined, pathTo, `a port not already used on the host network by ${previous}`);
        hostPorts.set(portNumber, owner);
      };
      claim(coturn.listeningPort, 'calls.coturn.listeningPort', ['calls', 'coturn', 'listeningPort']);
      claim(coturn.tlsListeningPort, 'calls.coturn.tlsListeningPort', ['calls', 'coturn', 'tlsListeningPort']);
      claim(config.calls.livekit.signalPort, 'calls.livekit.signalPort', ['calls', 'livekit', 'signalPort']);
      claim(config.calls.livekit.rtcTcpPort, 'calls.livekit.rtcTcpPort', ['calls', 'livekit', 'rtcTcpPort']);
      for (const [name, range] of [
        ['calls.coturn.relayPorts', coturn.relayPorts],
        ['calls.livekit.rtcUdpPorts', livekitUdp],
      ] as const) {
        for (const [portNumber, owner] of hostPorts) {
          require(
            portNumber < range.start || portNumber > range.end,
            owner.split('.'),
            `a port outside ${name} (${range.start}-${range.end})`,
          );
        }
      }
      const nodeNames = coturn.nodes.map((node) => node.name);
      require(
        new Set(nodeNames).size === nodeNames.length,
        ['calls', 'coturn', 'nodes'],
        'each node listed once',
      );
    }
  });

export type PlatformConfig = z.infer<typeof configSchema>;
export type PlatformConfigInput = z.input<typeof configSchema>;

function rangeContains(range: string, address: string): boolean {
  if (!isIpRange(range)) return false;
  const value = ipToBigInt(address);
  const cidr = parseCidr(range);
  if (cidr) {
    const width = cidr.family === 4 ? 32 : 128;
    const size = 1n << BigInt(width - cidr.prefix);
    const start = ipToBigInt(cidr.address);
    return value >= start && value < start + size;
  }
  const [first, last] = range.split('-').map((part) => ipToBigInt(part.trim()));
  return value >= first && value <= last;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function valueAt(input: unknown, pathTo: PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of pathTo) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

interface ZodInternals {
  _zod: { def: { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown; in?: unknown } };
}

/** The object shape reached by following a path through wrappers, for "expected one of" hints. */
function keysAt(schema: unknown, pathTo: PropertyKey[]): string[] | undefined {
  let current = schema as ZodInternals | undefined;
  const unwrap = () => {
    while (current) {
      const def = current._zod.def;
      if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)) {
        current = def.innerType as ZodInternals;
      } else if (def.type === 'pipe') {
        current = def.in as ZodInternals;
      } else return;
    }
  };
  unwrap();
  for (const key of pathTo) {
    const def = current?._zod.def;
    if (def?.type === 'object' && def.shape) current = def.shape[String(key)] as ZodInternals;
    else if (def?.type === 'array') current = def.element as ZodInternals;
    else return undefined;
    unwrap();
  }
  const def = current?._zod.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a value of type ${issue.expected}`;
    case 'too_small':
      if (issue.origin === 'array') return `a list with at least ${issue.minimum} entries`;
      if (issue.origin === 'string') return `a non-empty string`;
      return `a whole number >= ${issue.minimum}`;
    case 'too_big':
      return `a number <= ${issue.maximum}`;
    case 'invalid_value':
      return `one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    default:
      return issue.message;
  }
}

export function formatIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(configSchema, issue.path);
      for (const key of issue.keys) {
        const where = [...issue.path, key].join('.');
        problems.push(
          `${where}: unknown key ${JSON.stringify(key)}; expected one of ${allowed ? allowed.join(', ') : 'the documented keys'}`,
        );
      }
      continue;
    }
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    problems.push(`${where}: found ${describeFound(valueAt(input, issue.path))}; expected ${describeExpected(issue)}`);
  }
  return problems;
}

export function parseConfig(input: unknown, source = '(inline)'): PlatformConfig {
  const leaks = credentialProblems(input);
  const result = configSchema.safeParse(input);
  if (!result.success || leaks.length > 0) {
    // A schema complaint about a field holding a credential would repeat the value: say only the leak.
    const leakPaths = leaks.map((problem) => problem.slice(0, problem.indexOf(':')));
    const schemaProblems = result.success ? [] : formatIssues(result.error.issues, input).filter((problem) => !leakPaths.some((leak) => problem.startsWith(`${leak}:`)));
    throw new ConfigError(source, [...leaks, ...schemaProblems]);
  }
  return result.data;
}

export const EXAMPLE_CONFIG = 'config/deployment.example.yaml';
export const USER_CONFIG = 'config/deployment.yaml';

export interface ConfigLocation {
  file: string;
  notice?: string;
}

/** `--config PATH`, else MATRIX_CONFIG, else config/deployment.yaml, else the example (with a notice). */
export function locateConfig(configOption: string | undefined, env: NodeJS.ProcessEnv, root: string): ConfigLocation {
  if (configOption) return { file: path.resolve(configOption) };
  if (env.MATRIX_CONFIG) return { file: path.resolve(env.MATRIX_CONFIG) };
  const user = path.join(root, USER_CONFIG);
  if (existsSync(user)) return { file: user };
  return {
    file: path.join(root, EXAMPLE_CONFIG),
    notice: `notice: ${USER_CONFIG} not found, using the built-in example ${EXAMPLE_CONFIG}`,
  };
}

/** The `--config` option every command that reads the config takes. */
export const CONFIG_OPTION = {
  config: { takesValue: true, help: `config file (default: $MATRIX_CONFIG, else ${USER_CONFIG}, else ${EXAMPLE_CONFIG})` },
} as const;

export function loadConfigFile(file: string): PlatformConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  let input: unknown;
  try {
    input = yaml.load(text, { filename: file });
  } catch (error) {
    throw new ConfigError(file, [`not valid YAML: ${(error as Error).message}`]);
  }
  return parseConfig(input, file);
}
