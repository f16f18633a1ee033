import { isIPv6 } from 'node:net';
import { imageRef, images } from '../versions';
import { callHostPorts, requireCoturn, turnTlsEnabled } from './calls';
import { defaultNodes, helmReleaseOf, type Obj } from './capacity';
import { EDGE_GATEWAY, type EdgeHost, edgeHosts, edgePublicPorts, INGRESS_NGINX, separateFederationPort } from './edge-routes';
import { LIVEKIT } from './endpoints';
import type { Platform } from './index';
import { catalogueValueIds, SECRET_NAMES, SECRET_VALUES, secretCatalogue } from './secrets';
import { STAGES, type StageId } from './stages';
import { synapseImage } from './synapse-config';

/**
 * What the cluster needs that Git cannot give it, for one config: DNS records, node labels,
 * StorageClasses, firewall openings, the image to build and the bootstrap order. Every fact comes
 * from the model (hosts, edge routes, call ports, secrets catalogue, stages) or from the rendered
 * objects (which StorageClass each workload claims), so the runbook changes exactly where the
 * config does. lib/runbook.ts renders it as dist/RUNBOOK.md.
 */

/** Where the commands are run: the repository root, with dist/ as written by `npm run synth`. */
const DIST = 'dist';

/** Builds and pushes the project's Synapse image (images/synapse/Dockerfile). */
export const SYNAPSE_IMAGE_BUILD_COMMAND = 'bash scripts/build-synapse-image.sh --push';

export type DnsRecordType = 'A' | 'AAAA' | 'A or AAAA';

export interface DnsRecord {
  readonly name: string;
  readonly type: DnsRecordType;
  /** An address, or a description of the address when it is only known after installation. */
  readonly target: string;
  readonly why: string;
}

export interface EdgeAddress {
  /** loadBalancer.edgeAddress, when the config fixes it. */
  readonly address?: string;
  /** The LoadBalancer Service the address belongs to. */
  readonly service: string;
  /** Prints the address once MetalLB has assigned it. */
  readonly lookupCommand: string;
}

export interface NodeLabel {
  readonly component: 'coturn' | 'LiveKit';
  /** The node as named in the config; undefined when the config does not name the nodes. */
  readonly node?: string;
  readonly label: string;
  readonly command: string;
  readonly why: string;
}

export interface StorageClassNeed {
  readonly name: string;
  /** The config fields that name it (empty when only a rendered object does). */
  readonly configFields: readonly string[];
  /** `<kind> <namespace>/<name>` or `Helm release <namespace>/<release> (<chart>)` of every claimant. */
  readonly usedBy: readonly string[];
}

export type FirewallSource = 'anywhere' | 'cluster only';

export interface FirewallRule {
  readonly role: 'edge' | 'coturn' | 'LiveKit';
  /** The addresses or nodes the rule applies to. */
  readonly appliesTo: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly start: number;
  readonly end: number;
  readonly source: FirewallSource;
  readonly why: string;
}

export interface ImageToBuild {
  readonly ref: string;
  readonly buildCommand: string;
  /** True when the image is the project's own (lib/versions.ts), false when config.synapse.image names it. */
  readonly projectImage: boolean;
}

export interface BootstrapStep {
  readonly title: string;
  readonly why: string;
  readonly commands: readonly string[];
  /** Facts the step needs listed (remote keys, registries); rendered as a list. */
  readonly items?: readonly string[];
}

export interface Runbook {
  readonly serverName: string;
  readonly engine: Platform['config']['gitops']['engine'];
  readonly edge: EdgeAddress;
  readonly dnsRecords: readonly DnsRecord[];
  /** Names that need no record, and why. */
  readonly dnsNotes: readonly string[];
  readonly nodeLabels: readonly NodeLabel[];
  readonly storageClasses: readonly StorageClassNeed[];
  /** Config StorageClass fields no object of this config uses. */
  readonly unusedStorageClassFields: readonly string[];
  readonly firewall: readonly FirewallRule[];
  readonly image: ImageToBuild;
  readonly bootstrap: readonly BootstrapStep[];
  /** Known conflicts the operator must resolve by hand. */
  readonly cautions: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Edge address and DNS

export function edgeAddress(platform: Platform): EdgeAddress {
  const { config } = platform;
  const address = config.loadBalancer.edgeAddress;
  if (config.edge.controller === 'envoy-gateway') {
    return {
      ...(address ? { address } : {}),
      service: `the LoadBalancer Service Envoy Gateway creates for Gateway ${EDGE_GATEWAY.namespace}/${EDGE_GATEWAY.name}`,
      lookupCommand: `kubectl -n ${EDGE_GATEWAY.namespace} get gateway ${EDGE_GATEWAY.name} -o jsonpath='{.status.addresses[*].value}'`,
    };
  }
  return {
    ...(address ? { address } : {}),
    service: `Service ${INGRESS_NGINX.namespace}/${INGRESS_NGINX.serviceName}`,
    lookupCommand: `kubectl -n ${INGRESS_NGINX.namespace} get service ${INGRESS_NGINX.serviceName} -o jsonpath='{.status.loadBalancer.ingress[*].ip}'`,
  };
}

function recordType(address: string): 'A' | 'AAAA' {
  return isIPv6(address) ? 'AAAA' : 'A';
}

/** The record type of the edge: its fixed address, else the family of the pool MetalLB assigns it from. */
function edgeRecordType(platform: Platform): DnsRecordType {
  const fixed = platform.config.loadBalancer.edgeAddress;
  if (fixed) return recordType(fixed);
  // A pool entry is a CIDR or first-last range; its first address gives the family.
  const types = new Set(platform.config.loadBalancer.addresses.map((range) => recordType(range.split(/[/-]/)[0].trim())));
  return types.size === 1 ? [...types][0] : 'A or AAAA';
}

/** What the edge serves on a host: backends with their path prefixes, admin-only paths, the federation port. */
function describeEdgeHost(platform: Platform, host: EdgeHost): string {
  const byBackend = new Map<string, string[]>();
  for (const path of host.paths) {
    const backend = `${path.backend.namespace}/${path.backend.service}`;
    const prefix = path.access === 'admin' ? `${path.prefix} (admin.allowedCidrs only)` : path.prefix;
    byBackend.set(backend, [...(byBackend.get(backend) ?? []), prefix]);
  }
  const parts = [...byBackend].map(([backend, prefixes]) => `${prefixes.join(', ')} -> ${backend}`);
  if (host.federationPaths.length > 0) {
    parts.push(
      separateFederationPort(platform.config)
        ? `federation also on port ${platform.config.edge.federationPort}`
        : 'federation on the HTTPS port',
    );
  }
  return parts.join('; ');
}

export function dnsRecords(platform: Platform): DnsRecord[] {
  const { config, hosts } = platform;
  const edge = edgeAddress(platform);
  const records: DnsRecord[] = edgeHosts(platform).map((host) => ({
    name: host.host,
    type: edgeRecordType(platform),
    target: edge.address ?? 'the edge address (see above)',
    why: `edge: ${describeEdgeHost(platform, host)}`,
  }));
  if (turnTlsEnabled(config)) {
    const coturn = requireCoturn(config);
    for (const node of coturn.nodes) {
      records.push({
        name: hosts.turn,
        type: recordType(node.externalIp),
        target: node.externalIp,
        why: `coturn on node ${node.name}: TURN over TLS (turns:${hosts.turn}:${coturn.tlsListeningPort}) for Synapse's turn_uris and LiveKit's turn_servers; the coturn-tls certificate names it`,
      });
    }
  }
  return records;
}

function dnsNotes(platform: Platform): string[] {
  const { config, hosts } = platform;
  const notes = [
    `No SRV record: /.well-known/matrix/server on ${hosts.serverName} delegates federation to ${hosts.matrix}.`,
  ];
  if (config.calls.enabled) {
    const coturn = requireCoturn(config);
    notes.push(
      `Plain TURN (udp/tcp on port ${coturn.listeningPort}) uses each coturn node's address directly; no name needed.`,
      turnTlsEnabled(config)
        ? `${hosts.turn}: its certificate is issued by DNS-01 (tls.dns01), so the name can point at the coturn nodes.`
        : `No ${hosts.turn} record: TURN over TLS is off because tls.dns01 is not set (a certificate for a name that points at the coturn nodes cannot be validated by HTTP-01 through the edge). Clients on networks that allow only TLS cannot relay; set tls.dns01 to enable it (docs/calls.md).`,
      `LiveKit signalling (wss://${hosts.livekit}) goes through the edge to Service ${LIVEKIT.namespace}/${LIVEKIT.name}; ` +
        `media goes to each LiveKit node's own public address (${config.calls.livekit.useExternalIp ? 'discovered by STUN' : 'the node IP'}), which needs no DNS name.`,
    );
  }
  return notes;
}

const ANY_ADDRESS = new Set(['0.0.0.0/0', '::/0']);

/** Trade-offs of this config the operator should know before go-live. */
function cautions(platform: Platform): string[] {
  const { config } = platform;
  const result: string[] = [];
  if (config.calls.enabled && !turnTlsEnabled(config)) {
    result.push(
      `TURN over TLS is not served (tls.dns01 is not set): no turns: URI for Synapse and no TLS TURN server for LiveKit, so clients on networks that allow only TLS on 443 cannot relay calls. Set tls.dns01 to a DNS-01 solver for the zone of ${platform.hosts.turn} (docs/calls.md).`,
    );
  }
  const open = [
    ...(config.network.apiServer.cidrs.some((cidr) => ANY_ADDRESS.has(cidr)) ? [`network.apiServer.cidrs (ports ${config.network.apiServer.ports.join(', ')})`] : []),
    ...(config.network.nodes.cidrs.some((cidr) => ANY_ADDRESS.has(cidr)) ? ['network.nodes.cidrs (the kubelet, node-exporter, control-plane and call ports)'] : []),
  ];
  if (open.length > 0) {
    result.push(
      `The egress NetworkPolicies reach the Kubernetes API and the nodes by address, and ${open.join(' and ')} still allow any address: set the control-plane and node networks so those ports lead nowhere else (docs/security.md).`,
    );
  }
  const cutOff = ['the controllers lose the API server where it runs on the nodes', 'Prometheus the kubelets and node-exporter', ...(config.calls.enabled ? ["the edge LiveKit's signalling"] : [])];
  result.push(
    `With Cilium, ipBlock rules match node addresses only when policy-cidr-match-mode includes nodes (Cilium 1.15 and later): set it before applying 20-platform, or ${cutOff.slice(0, -1).join(', ')} and ${cutOff[cutOff.length - 1]} (docs/security.md).`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Node labels

export function nodeLabels(platform: Platform): NodeLabel[] {
  const { config } = platform;
  if (!config.calls.enabled) return [];
  const coturn = requireCoturn(config);
  const coturnLabel = `${coturn.nodeLabel.key}=${coturn.nodeLabel.value}`;
  const labels: NodeLabel[] = coturn.nodes.map((node) => ({
    component: 'coturn',
    node: node.name,
    label: coturnLabel,
    command: `kubectl label node ${node.name} ${coturnLabel}`,
    why: `coturn runs on it and advertises ${node.externalIp}${node.privateIp ? ` (behind 1:1 NAT from ${node.privateIp})` : ''} (calls.coturn.nodes)`,
  }));
  const livekit = config.calls.livekit.nodeLabel;
  const livekitLabel = `${livekit.key}=${livekit.value}`;
  const planned = (config.nodes ?? defaultNodes(config)).pools.filter((pool) => pool.labels[livekit.key] === livekit.value);
  const plannedCount = planned.reduce((sum, pool) => sum + pool.count, 0);
  const plan = config.nodes ? 'config.nodes' : 'the default capacity plan';
  labels.push({
    component: 'LiveKit',
    label: livekitLabel,
    command: `kubectl label node <node> ${livekitLabel}`,
    why:
      `the config does not name the LiveKit nodes: label every node that should run LiveKit (each needs a public address and the LiveKit firewall rows); ` +
      (plannedCount > 0
        ? `${plan} counts ${plannedCount} (pool ${planned.map((pool) => pool.name).join(', ')})`
        : `${plan} has no pool with this label`),
  });
  return labels;
}

// ---------------------------------------------------------------------------------------------
// StorageClasses

const STORAGE_CLASS_KEYS = new Set(['storageClass', 'storageClassName']);

function collectStorageClasses(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectStorageClasses(item, found);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (STORAGE_CLASS_KEYS.has(key) && typeof value === 'string' && value !== '') found.add(value);
    else collectStorageClasses(value, found);
  }
}

/** Every StorageClass a rendered object (or the Helm values it carries) claims, with its claimants. */
export function storageClassNeeds(platform: Platform, objects: readonly Obj[]): StorageClassNeed[] {
  const users = new Map<string, Set<string>>();
  for (const object of objects) {
    const release = helmReleaseOf(object);
    const found = new Set<string>();
    collectStorageClasses(release ? release.values : object, found);
    const owner = release
      ? `Helm release ${release.namespace}/${release.release} (${release.chart})`
      : `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name ?? ''}`;
    for (const name of found) users.set(name, (users.get(name) ?? new Set()).add(owner));
  }
  const fields = Object.entries(platform.config.storageClasses);
  return [...users.keys()].sort().map((name) => ({
    name,
    configFields: fields.filter(([, value]) => value === name).map(([field]) => `storageClasses.${field}`),
    usedBy: [...(users.get(name) ?? [])].sort(),
  }));
}

// ---------------------------------------------------------------------------------------------
// Firewall

function single(rule: Omit<FirewallRule, 'start' | 'end'>, port: number): FirewallRule {
  return { ...rule, start: port, end: port };
}

/** Why each host port of the call stack is open, by its owner in callHostPorts. */
const CALL_PORT_PURPOSES: Readonly<Record<string, (platform: Platform) => string>> = {
  'coturn listening (udp)': () => 'TURN/STUN (calls.coturn.listeningPort)',
  'coturn listening (tcp)': () => 'TURN over TCP (calls.coturn.listeningPort)',
  'coturn tls': (platform) => `TURN over TLS as ${platform.hosts.turn} (calls.coturn.tlsListeningPort)`,
  'coturn relay': () => 'relayed media (calls.coturn.relayPorts)',
  'coturn metrics': () => 'coturn metrics, bound to the node\'s internal address (Prometheus); block from outside',
  'livekit signal': (platform) => `signalling, bound to the node's internal address; clients come through the edge (wss://${platform.hosts.livekit})`,
  'livekit rtc tcp': () => 'WebRTC over TCP (calls.livekit.rtcTcpPort)',
  'livekit rtc udp': () => 'WebRTC media (calls.livekit.rtcUdpPorts)',
  'livekit metrics': () => 'LiveKit metrics, bound to the node\'s internal address (Prometheus); block from outside',
};

/** The host-network ports of the call stack (lib/model/calls.ts callHostPorts) as firewall rows. */
export function callFirewallRules(platform: Platform): FirewallRule[] {
  const { config } = platform;
  if (!config.calls.enabled) return [];
  const coturn = requireCoturn(config);
  const livekit = config.calls.livekit;
  const appliesTo = {
    coturn: coturn.nodes.map((node) => `${node.name} (${node.externalIp})`).join(', '),
    livekit: `nodes labelled ${livekit.nodeLabel.key}=${livekit.nodeLabel.value}`,
  };
  return callHostPorts(config).map((claim) => {
    const purpose = CALL_PORT_PURPOSES[claim.owner];
    if (!purpose) throw new Error(`no firewall purpose for host port owner "${claim.owner}"`);
    return {
      role: claim.role === 'coturn' ? 'coturn' : 'LiveKit',
      appliesTo: appliesTo[claim.role],
      protocol: claim.protocol,
      start: claim.start,
      end: claim.end,
      source: claim.exposure === 'public' ? 'anywhere' : 'cluster only',
      why: purpose(platform),
    };
  });
}

export function firewallRules(platform: Platform): FirewallRule[] {
  const edge = edgeAddress(platform);
  const appliesTo = edge.address ? `the edge address ${edge.address}` : 'the edge address';
  const edgeRules = edgePublicPorts(platform.config).map((entry) =>
    single({ role: 'edge', appliesTo, protocol: 'TCP', source: 'anywhere', why: entry.purpose }, entry.port),
  );
  return [...edgeRules, ...callFirewallRules(platform)];
}

// ---------------------------------------------------------------------------------------------
// Image and bootstrap

export function imageToBuild(platform: Platform): ImageToBuild {
  const image = synapseImage(platform);
  const ref = imageRef(image);
  // The script tags with the project's tag for the pinned versions; another tag must be asked for.
  const tagOption = image.tag === images.synapse.tag ? '' : ` --tag ${image.tag}`;
  return { ref, buildCommand: `${SYNAPSE_IMAGE_BUILD_COMMAND}${tagOption} ${image.repository}`, projectImage: platform.config.synapse.image === undefined };
}

/** Applies one stage folder; its kustomization.yaml lists the files (`kubectl apply -f` would send the kustomization itself). */
export function stageCommand(stage: StageId): string {
  return `kubectl apply -k ${DIST}/stages/${stage}`;
}

/** OCI registries of the Argo CD Helm sources: their repoURL carries no scheme (Argo CD takes none for OCI). */
function argoOciRegistries(objects: readonly Obj[]): string[] {
  const registries = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'Application') continue;
    const source = (object.spec as { source?: { repoURL?: string; chart?: string } } | undefined)?.source;
    if (source?.chart && source.repoURL && !/^[a-z]+:\/\//.test(source.repoURL)) registries.add(source.repoURL);
  }
  return [...registries].sort();
}

function engineSteps(platform: Platform, objects: readonly Obj[]): BootstrapStep[] {
  const gitops = platform.config.gitops;
  const source = `${gitops.repository.url} (branch ${gitops.repository.branch}, folder ${gitops.repository.path || '.'})`;
  if (gitops.engine === 'flux') {
    return [
      {
        title: 'Install Flux',
        why: `dist/flux creates its objects in namespace ${gitops.flux.namespace} (gitops.flux.namespace); Flux must be running there`,
        commands: [`flux install --namespace=${gitops.flux.namespace}`],
      },
      { title: 'Push dist/', why: `Flux pulls ${source}`, commands: [] },
    ];
  }
  if (gitops.engine === 'argocd') {
    const registries = argoOciRegistries(objects);
    return [
      { title: `Install Argo CD in namespace ${gitops.argocd.namespace}`, why: 'the Applications of dist/argocd live there', commands: [] },
      {
        title: 'Enable health assessment of Applications in argocd-cm',
        why: 'without resource.customizations.health.argoproj.io_Application Argo CD does not wait for a stage to be healthy before the next sync wave',
        commands: [],
      },
      ...(registries.length > 0
        ? [{ title: 'Add an Argo CD repository entry with enableOCI: "true" for each OCI chart registry', why: 'these charts are pulled over OCI', commands: [], items: registries }]
        : []),
      { title: 'Push dist/', why: `Argo CD pulls ${source}`, commands: [] },
    ];
  }
  return [{ title: 'Nothing to install', why: 'k3s and RKE2 run helm-controller, which installs the HelmChart objects of the stages', commands: [] }];
}

function secretSteps(platform: Platform): BootstrapStep[] {
  const { config } = platform;
  const catalogue = secretCatalogue(config);
  const namespaces = [...new Set(catalogue.map((spec) => spec.namespace))].sort();
  const steps: BootstrapStep[] = [];
  const store = config.secrets.externalSecrets;
  if (config.secrets.provider === 'external-secrets' && store) {
    steps.push(
      {
        title: `Install the External Secrets Operator and create the ${store.storeKind} ${store.storeName}`,
        why: `stage 20-platform holds ${catalogue.length} ExternalSecrets against it; dist/ does not install the operator`,
        commands: [],
      },
      {
        title: 'Store these keys in the secret store',
        why: `each ExternalSecret fetches its values from ${store.remoteKeyPrefix}<value id> (npm run secrets -- --out DIR generates values of the right form)`,
        commands: [],
        items: catalogueValueIds(catalogue).map((id) => `${store.remoteKeyPrefix}${id}`),
      },
    );
  } else {
    steps.push({
      title: 'Generate and apply the Secrets',
      why: `${catalogue.length} Secrets in namespaces ${namespaces.join(', ')}; secrets/ is git-ignored, keep a copy in a vault`,
      commands: ['npm run secrets -- --out secrets/', 'kubectl apply -f secrets/'],
    });
  }
  return steps;
}

function entryPointSteps(platform: Platform, stages: readonly StageId[]): BootstrapStep[] {
  const gitops = platform.config.gitops;
  if (gitops.engine === 'flux') {
    return [
      {
        title: 'Apply the Flux entry point',
        why: `a GitRepository and ${stages.length} Kustomizations (${stages.join(', ')}), each waiting for the previous one`,
        commands: [`kubectl apply -k ${DIST}/flux`],
      },
    ];
  }
  if (gitops.engine === 'argocd') {
    return [
      {
        title: 'Apply the Argo CD root application',
        why: `it syncs dist/argocd/apps: ${stages.length} Applications (${stages.join(', ')}) in increasing sync waves`,
        commands: [`kubectl apply -f ${DIST}/argocd/root.yaml`],
      },
    ];
  }
  // The namespaces stage was applied before the Secrets; the rest follow in order.
  return stages.slice(1).map((stage) => ({
    title: `Apply stage ${stage}`,
    why: `${STAGES.find((candidate) => candidate.id === stage)?.title ?? stage}; wait until its workloads are ready before the next stage`,
    commands: [stageCommand(stage)],
  }));
}

/** Where the registration shared secret the smoke test needs is found in the cluster. */
function registrationSecretSource(platform: Platform): string {
  const id = SECRET_VALUES.registrationSharedSecret.id;
  const spec = secretCatalogue(platform.config).find((candidate) => candidate.name === SECRET_NAMES.synapse);
  const key = Object.entries(spec?.data ?? {}).find(([, valueId]) => valueId === id)?.[0];
  return `key ${key} of Secret ${spec?.namespace}/${spec?.name} (value ${id})`;
}

export function bootstrapSteps(platform: Platform, objects: readonly Obj[], stages: readonly StageId[]): BootstrapStep[] {
  const { config, hosts } = platform;
  const edge = edgeAddress(platform);
  const namespaceStage = stages[0];
  return [
    ...engineSteps(platform, objects),
    {
      title: 'Build and push the Synapse image',
      why: 'every Synapse pod pulls it (section Image to build)',
      commands: [imageToBuild(platform).buildCommand],
    },
    ...(config.calls.enabled ? [{ title: 'Label the call nodes', why: 'coturn and LiveKit run only on labelled nodes (section Node labels)', commands: [] }] : []),
    { title: 'Create the namespaces', why: 'the Secrets created in the next steps live in them', commands: [stageCommand(namespaceStage)] },
    ...secretSteps(platform),
    ...entryPointSteps(platform, stages),
    {
      title: 'Create the DNS records',
      why: edge.address
        ? `section DNS records; they can exist before the edge does (${edge.address} is fixed by loadBalancer.edgeAddress); certificates are issued once they resolve`
        : `section DNS records, with the address MetalLB gave ${edge.service}; certificates are issued once they resolve`,
      commands: edge.address ? [] : [edge.lookupCommand],
    },
    {
      title: 'Smoke test',
      why: `registers a throw-away user and exercises messages, media${config.calls.enabled ? ', TURN and LiveKit' : ''} (docs/testing.md); the file holds ${registrationSecretSource(platform)}`,
      commands: [`npm run smoke -- --url https://${hosts.matrix} --server-name ${hosts.serverName} --registration-secret-file <file>`],
    },
  ];
}

/** The whole runbook of a config; `objects` are the rendered Kubernetes objects of the same config. */
export function buildRunbook(platform: Platform, objects: readonly Obj[], stages: readonly StageId[]): Runbook {
  const storageClasses = storageClassNeeds(platform, objects);
  const usedFields = new Set(storageClasses.flatMap((need) => need.configFields));
  return {
    serverName: platform.hosts.serverName,
    engine: platform.config.gitops.engine,
    edge: edgeAddress(platform),
    dnsRecords: dnsRecords(platform),
    dnsNotes: dnsNotes(platform),
    nodeLabels: nodeLabels(platform),
    storageClasses,
    unusedStorageClassFields: Object.keys(platform.config.storageClasses)
      .map((field) => `storageClasses.${field}`)
      .filter((field) => !usedFields.has(field)),
    firewall: firewallRules(platform),
    image: imageToBuild(platform),
    bootstrap: bootstrapSteps(platform, objects, stages),
    cautions: cautions(platform),
  };
}
