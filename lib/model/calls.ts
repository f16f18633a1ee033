import { isIPv4 } from 'node:net';
import type { PlatformConfig } from '../config';
import { ipToBigInt, parseCidr } from '../config/primitives';
import { LIVEKIT, LK_JWT, sentinelAddresses, VALKEY_LIVEKIT } from './endpoints';
import type { Platform } from './index';
import { METRICS_PORTS } from './metrics-ports';
import { NAMESPACES, serviceHost } from './platform';

/**
 * Everything the call stack derives from `config.calls`: coturn's turnserver.conf, LiveKit's
 * config.yaml, the host ports both claim, and what other components publish about calls (Synapse
 * turn_uris and MatrixRTC settings, the client well-known rtc_foci, Element Web's Element Call
 * settings). One source, so `calls.enabled: false` removes all of it and nothing can disagree.
 */

export const COTURN = { name: 'coturn', namespace: NAMESPACES.coturn.name } as const;

const COTURN_TEMPLATE_DIR = '/etc/coturn-template';
const COTURN_SECRET_DIR = '/secrets/turn';
const COTURN_TLS_DIR = '/etc/coturn/tls';
const COTURN_RUNTIME_DIR = '/run/coturn';

/** Files inside the coturn pod. The init container writes `runtimeConfig`; nothing else is writable. */
export const COTURN_PATHS = {
  templateDir: COTURN_TEMPLATE_DIR,
  /** turnserver.conf without the node's external IP and without the secret (from the ConfigMap). */
  template: `${COTURN_TEMPLATE_DIR}/turnserver.conf`,
  /** `<node name> <external-ip>[/<private-ip>]` lines (from the ConfigMap). */
  nodeTable: `${COTURN_TEMPLATE_DIR}/nodes`,
  secretDir: COTURN_SECRET_DIR,
  secret: `${COTURN_SECRET_DIR}/secret`,
  tlsDir: COTURN_TLS_DIR,
  cert: `${COTURN_TLS_DIR}/tls.crt`,
  pkey: `${COTURN_TLS_DIR}/tls.key`,
  /** Memory-backed emptyDir: the rendered config (with the secret) and the pid file. */
  runtimeDir: COTURN_RUNTIME_DIR,
  runtimeConfig: `${COTURN_RUNTIME_DIR}/turnserver.conf`,
  pidfile: `${COTURN_RUNTIME_DIR}/turnserver.pid`,
} as const;

/**
 * Peer networks the relay must never reach: the cluster (pods, services, nodes on private ranges)
 * and anything that is not a public unicast address. coturn 4.17 takes only `IP` or `IP-IP`
 * (CIDR is a fatal error), so these CIDRs are turned into ranges by `cidrToRange`.
 */
export const DENIED_PEER_NETWORKS: readonly { readonly cidr: string; readonly why: string }[] = [
  { cidr: '0.0.0.0/8', why: '"this" network' },
  { cidr: '10.0.0.0/8', why: 'RFC 1918 private' },
  { cidr: '100.64.0.0/10', why: 'carrier-grade NAT (RFC 6598), used by some CNIs' },
  { cidr: '127.0.0.0/8', why: 'loopback' },
  { cidr: '169.254.0.0/16', why: 'link-local (cloud metadata services)' },
  { cidr: '172.16.0.0/12', why: 'RFC 1918 private' },
  { cidr: '192.0.0.0/24', why: 'IETF protocol assignments' },
  { cidr: '192.168.0.0/16', why: 'RFC 1918 private' },
  { cidr: '198.18.0.0/15', why: 'benchmarking' },
  { cidr: '224.0.0.0/4', why: 'multicast' },
  { cidr: '240.0.0.0/4', why: 'reserved and broadcast' },
  { cidr: '::/128', why: 'unspecified' },
  { cidr: '::1/128', why: 'loopback' },
  { cidr: '::ffff:0:0/96', why: 'IPv4-mapped (would bypass the IPv4 list)' },
  { cidr: '64:ff9b::/96', why: 'NAT64 (maps to IPv4 addresses)' },
  { cidr: '64:ff9b:1::/48', why: 'local-use NAT64 (RFC 8215, maps to IPv4 addresses)' },
  { cidr: '2001::/32', why: 'Teredo (embeds an IPv4 server and client address)' },
  { cidr: '2002::/16', why: '6to4 (embeds an IPv4 address, RFC 3056)' },
  { cidr: 'fc00::/7', why: 'unique local' },
  { cidr: 'fe80::/10', why: 'link-local' },
  { cidr: 'ff00::/8', why: 'multicast' },
];

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
}

function formatIpv6(value: bigint): string {
  // Full 8-group form: unambiguous, and coturn parses it with inet_pton.
  return Array.from({ length: 8 }, (_, index) => ((value >> BigInt(112 - index * 16)) & 0xffffn).toString(16)).join(':');
}

/** `10.0.0.0/8` -> `10.0.0.0-10.255.255.255` (coturn's denied-peer-ip syntax). */
export function cidrToRange(cidr: string): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
  const width = parsed.family === 4 ? 32 : 128;
  const hostMask = (1n << BigInt(width - parsed.prefix)) - 1n;
  const first = ipToBigInt(parsed.address) & ~hostMask;
  const last = first | hostMask;
  const format = parsed.family === 4 ? formatIpv4 : formatIpv6;
  return `${format(first)}-${format(last)}`;
}

/**
 * `192.0.2.10-192.0.2.20` (or a CIDR) -> the fewest CIDRs covering exactly that range, for ipBlock peers
 * (MetalLB pools may be written as ranges).
 */
export function rangeToCidrs(range: string): string[] {
  if (parseCidr(range)) return [range];
  const [firstText, lastText] = range.split('-').map((part) => part.trim());
  const family = isIPv4(firstText) ? 4 : 6;
  const width = family === 4 ? 32 : 128;
  const format = family === 4 ? formatIpv4 : formatIpv6;
  let first = ipToBigInt(firstText);
  const last = ipToBigInt(lastText);
  const cidrs: string[] = [];
  while (first <= last) {
    let size = 0;
    // Grow the block while it stays aligned on `first` and inside the range.
    while (size < width && (first & ((1n << BigInt(size + 1)) - 1n)) === 0n && first + (1n << BigInt(size + 1)) - 1n <= last) size += 1;
    cidrs.push(`${format(first)}/${width - size}`);
    first += 1n << BigInt(size);
  }
  return cidrs;
}

type CoturnConfig = NonNullable<PlatformConfig['calls']['coturn']>;

export function requireCoturn(config: PlatformConfig): CoturnConfig {
  const coturn = config.calls.coturn;
  if (!coturn) throw new Error('calls.coturn is required when calls are enabled (config validation enforces it)');
  return coturn;
}

/**
 * TURN over TLS is served only with a DNS-01 solver (tls.dns01). TURN-TLS clients connect to
 * hosts.turn, so that name must resolve to the coturn nodes; Let's Encrypt validates HTTP-01 on
 * port 80 of the very same name, which no coturn node serves (the edge does, at another address).
 * Only DNS-01 proves control of the name without serving it. Without a solver, the coturn-tls
 * Certificate, coturn's TLS listener, Synapse's `turns:` URI and LiveKit's TLS TURN server are all
 * left out (callNotices says so at synth time), instead of advertising a listener whose certificate
 * can never be issued.
 */
export function turnTlsEnabled(config: PlatformConfig): boolean {
  return config.calls.enabled && config.tls.dns01 !== undefined;
}

/** What `npm run synth` tells the operator about the call stack (printed after a successful synth). */
export function callNotices(config: PlatformConfig): string[] {
  if (!config.calls.enabled || turnTlsEnabled(config)) return [];
  return [
    'notice: tls.dns01 is not set, so coturn serves no TURN over TLS: no coturn-tls certificate, no turns: URI for Synapse, no TLS TURN server in LiveKit. ' +
      'Clients on networks that allow only TLS cannot relay. Set tls.dns01 to a DNS-01 solver for the zone of hosts.turn (docs/calls.md).',
  ];
}

/**
 * The node's internal address as the downward API gives it to a host-network pod (`status.hostIP`:
 * the address the kubelet registered, the node's InternalIP). Listeners that only the cluster needs
 * (metrics, LiveKit signalling behind the edge) bind to it instead of every interface, so they are
 * not reachable on the node's public address. Both call charts set this variable.
 */
export const NODE_INTERNAL_IP_ENV = 'NODE_INTERNAL_IP';
export const NODE_INTERNAL_IP_FIELD = 'status.hostIP';

/**
 * turnserver.conf shared by every coturn pod. Node-specific and secret lines (external-ip,
 * prometheus-address, static-auth-secret) are appended at pod start by COTURN_INIT_SCRIPT. Options
 * checked against coturn 4.17.1 src/apps/relay/mainrelay.c `long_options` (`no-tls` and
 * `prometheus-address` included); `no-cli` is left out (deprecated, the CLI is off by default since
 * 4.10), and so are `no-tlsv1`/`no-tlsv1_1` (removed in 4.7: old TLS is off by default) and
 * `no-dtls` (4.17 starts DTLS only with `--dtls`).
 */
export function coturnConfig(platform: Platform): string {
  const coturn = requireCoturn(platform.config);
  const tls = turnTlsEnabled(platform.config)
    ? [`tls-listening-port=${coturn.tlsListeningPort}`, `cert=${COTURN_PATHS.cert}`, `pkey=${COTURN_PATHS.pkey}`]
    : // No certificate can be issued for hosts.turn without DNS-01 (turnTlsEnabled): no TLS listener at all.
      ['no-tls'];
  const lines = [
    '# Generated from config.calls.coturn. The node addresses and the shared secret are appended at pod start.',
    `listening-port=${coturn.listeningPort}`,
    ...tls,
    `min-port=${coturn.relayPorts.start}`,
    `max-port=${coturn.relayPorts.end}`,
    // TURN REST API (the scheme Synapse's /voip/turnServer implements): HMAC-SHA1 over "<expiry>:<user>".
    'use-auth-secret',
    `realm=${platform.hosts.serverName}`,
    'fingerprint',
    // Clients get a relay to public peers only; TCP relay is not used by WebRTC.
    'no-tcp-relay',
    'no-multicast-peers',
    ...DENIED_PEER_NETWORKS.map((network) => `denied-peer-ip=${cidrToRange(network.cidr)}`),
    // Bound per-user and total allocations so one account cannot exhaust the relay ports.
    'user-quota=12',
    `total-quota=${coturn.relayPorts.end - coturn.relayPorts.start + 1}`,
    'prometheus',
    `prometheus-port=${METRICS_PORTS.coturn}`,
    'log-file=stdout',
    `pidfile=${COTURN_PATHS.pidfile}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `<node name> <external-ip>[/<private-ip>]`, one line per coturn node, sorted by name. */
export function coturnNodeTable(config: PlatformConfig): string {
  const nodes = [...requireCoturn(config).nodes].sort((a, b) => a.name.localeCompare(b.name));
  return `${nodes.map((node) => `${node.name} ${node.externalIp}${node.privateIp ? `/${node.privateIp}` : ''}`).join('\n')}\n`;
}

/**
 * Init step of every coturn pod (POSIX sh, run by the coturn image's /bin/sh): picks THIS node's
 * external IP from the node table by NODE_NAME (downward API spec.nodeName), binds the Prometheus
 * exporter to the node's internal address (NODE_INTERNAL_IP, downward API status.hostIP; coturn's
 * default is every interface, public ones included) and writes the final turnserver.conf with the
 * shared secret into the memory-backed runtime directory. Paths come from the environment so
 * test/coturn-run.test.ts runs the very same script.
 */
export const COTURN_INIT_SCRIPT = `set -eu
external=""
while read -r name address; do
  if [ "$name" = "$NODE_NAME" ]; then external="$address"; fi
done < "$COTURN_NODE_TABLE"
if [ -z "$external" ]; then
  echo "node $NODE_NAME is not listed in calls.coturn.nodes" >&2
  exit 1
fi
internal="\${${NODE_INTERNAL_IP_ENV}:-}"
if [ -z "$internal" ]; then
  echo "${NODE_INTERNAL_IP_ENV} (the node's internal address) is empty" >&2
  exit 1
fi
secret="$(cat "$TURN_SECRET_FILE")"
if [ -z "$secret" ]; then
  echo "the TURN shared secret is empty" >&2
  exit 1
fi
umask 077
{
  cat "$COTURN_TEMPLATE"
  printf 'external-ip=%s\\n' "$external"
  printf 'prometheus-address=%s\\n' "$internal"
  printf 'static-auth-secret=%s\\n' "$secret"
} > "$COTURN_CONFIG.tmp"
mv "$COTURN_CONFIG.tmp" "$COTURN_CONFIG"
echo "coturn config rendered for node $NODE_NAME (external-ip $external, metrics on $internal)"
`;

/** How often the certificate watcher compares the mounted certificate and key with what it last saw. */
export const COTURN_CERT_CHECK_SECONDS = 30;

/**
 * The certificate watcher beside turnserver (same pod, shared process namespace): turnserver reads
 * cert/pkey only at start and on SIGUSR2 (coturn mainrelay.c reload_ssl_certs, "Reloading TLS
 * certificates and keys"), and cert-manager renews coturn-tls every two months. The Secret volume
 * swaps both files at once; when their checksum changes, the watcher signals the pid in turnserver's
 * pidfile, so the TLS listener serves the new certificate without dropping a relay. POSIX sh; paths
 * and interval from the environment (COTURN_TLS_CERT, COTURN_TLS_KEY, COTURN_PIDFILE,
 * COTURN_CERT_CHECK_SECONDS), so test/coturn-run.test.ts runs the very same script.
 */
export const COTURN_CERT_RELOAD_SCRIPT = `set -u
fingerprint() { cat "$COTURN_TLS_CERT" "$COTURN_TLS_KEY" 2>/dev/null | cksum; }
last="$(fingerprint)"
echo "watching $COTURN_TLS_CERT and $COTURN_TLS_KEY every $COTURN_CERT_CHECK_SECONDS s"
while sleep "$COTURN_CERT_CHECK_SECONDS"; do
  current="$(fingerprint)"
  [ "$current" = "$last" ] && continue
  pid="$(cat "$COTURN_PIDFILE" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -USR2 "$pid" 2>/dev/null; then
    echo "certificate changed: asked turnserver (pid $pid) to reload it"
    last="$current"
  else
    echo "certificate changed, but no turnserver to signal yet; trying again" >&2
  fi
done
`;

/**
 * How long a stopping coturn pod may drain: new allocations go to the other TURN nodes while the
 * relays in use finish; a relay still open after this is cut (the client's ICE restart moves it).
 */
export const COTURN_DRAIN_SECONDS = 300;

/**
 * preStop of the turnserver container: SIGUSR1 puts coturn (4.17: drain_handler) into drain mode,
 * which refuses new allocations ("Server is draining") and exits once the last allocation is gone;
 * the hook waits for that exit, so the kubelet's SIGTERM comes only after the drain (or at the end of
 * the grace period). The pidfile path comes from the container's COTURN_PIDFILE variable.
 */
export const COTURN_DRAIN_SCRIPT = `pid="$(cat "$COTURN_PIDFILE" 2>/dev/null)" || exit 0
kill -USR1 "$pid" 2>/dev/null || exit 0
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
`;

function bracketIpv6(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * Synapse `turn_uris`: udp and tcp at every coturn node's public address, and, with TURN over TLS
 * (turnTlsEnabled), TLS at the TURN host name (the coturn-tls certificate names it; DNS must resolve
 * it to the coturn nodes).
 */
export function turnUris(platform: Platform): string[] {
  const { config, hosts } = platform;
  if (!config.calls.enabled) return [];
  const coturn = requireCoturn(config);
  const uris = coturn.nodes.flatMap((node) => {
    const address = `${bracketIpv6(node.externalIp)}:${coturn.listeningPort}`;
    return [`turn:${address}?transport=udp`, `turn:${address}?transport=tcp`];
  });
  if (turnTlsEnabled(config)) uris.push(`turns:${hosts.turn}:${coturn.tlsListeningPort}?transport=tcp`);
  return uris;
}

/** Node roles of the call stack: the nodes labelled calls.coturn.nodeLabel / calls.livekit.nodeLabel. */
export type CallNodeRole = 'coturn' | 'livekit';

/** Who inside the cluster connects to an internal host port (lib/model/network-policies.ts maps these to flows). */
export type InternalPortClient = 'edge' | 'prometheus';

interface HostPortBase {
  readonly role: CallNodeRole;
  readonly owner: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly start: number;
  readonly end: number;
}

/**
 * `public`: bound on every interface and meant for the internet (TURN, relay, media): open it on the
 * node firewall. `internal`: bound to the node's internal address only (NODE_INTERNAL_IP) and reached
 * from inside the cluster by `reachedFrom`; block it on the node firewall for everything else anyway
 * (on a node whose internal address is itself public, the firewall is the only barrier).
 */
export type HostPortClaim = HostPortBase & ({ readonly exposure: 'public' } | { readonly exposure: 'internal'; readonly reachedFrom: InternalPortClient });

/**
 * Every host port (or range) the call stack binds on the host network, per node role: the firewall
 * table of the coturn and LiveKit nodes. The charts bind exactly these (test/calls.test.ts), and the
 * internal ones are the flows from the edge and Prometheus in lib/model/network-policies.ts.
 */
export function callHostPorts(config: PlatformConfig): HostPortClaim[] {
  if (!config.calls.enabled) return [];
  const coturn = requireCoturn(config);
  const livekit = config.calls.livekit;
  const publicPort = (role: CallNodeRole, owner: string, protocol: 'TCP' | 'UDP', start: number, end = start): HostPortClaim => ({ role, owner, protocol, start, end, exposure: 'public' });
  const internalPort = (role: CallNodeRole, owner: string, port: number, reachedFrom: InternalPortClient): HostPortClaim => ({ role, owner, protocol: 'TCP', start: port, end: port, exposure: 'internal', reachedFrom });
  return [
    publicPort('coturn', 'coturn listening (udp)', 'UDP', coturn.listeningPort),
    publicPort('coturn', 'coturn listening (tcp)', 'TCP', coturn.listeningPort),
    ...(turnTlsEnabled(config) ? [publicPort('coturn', 'coturn tls', 'TCP', coturn.tlsListeningPort)] : []),
    publicPort('coturn', 'coturn relay', 'UDP', coturn.relayPorts.start, coturn.relayPorts.end),
    internalPort('coturn', 'coturn metrics', METRICS_PORTS.coturn, 'prometheus'),
    // Signalling reaches LiveKit only through the edge (hosts.livekit), which owns TLS and the public address.
    internalPort('livekit', 'livekit signal', livekit.signalPort, 'edge'),
    publicPort('livekit', 'livekit rtc tcp', 'TCP', livekit.rtcTcpPort),
    publicPort('livekit', 'livekit rtc udp', 'UDP', livekit.rtcUdpPorts.start, livekit.rtcUdpPorts.end),
    internalPort('livekit', 'livekit metrics', METRICS_PORTS.livekit, 'prometheus'),
  ];
}

// ---------------------------------------------------------------------------------------------
// LiveKit

/** Files and environment inside the LiveKit pod. */
const LIVEKIT_CONFIG_DIR = '/etc/livekit';
const LIVEKIT_TURN_SECRET_DIR = '/secrets/turn';
const LIVEKIT_KEYS_DIR = '/secrets/livekit-keys';

export const LIVEKIT_PATHS = {
  configDir: LIVEKIT_CONFIG_DIR,
  config: `${LIVEKIT_CONFIG_DIR}/config.yaml`,
  turnSecretDir: LIVEKIT_TURN_SECRET_DIR,
  turnSecret: `${LIVEKIT_TURN_SECRET_DIR}/secret`,
  keysDir: LIVEKIT_KEYS_DIR,
  /** `<api key>: <api secret>` (YAML), the livekit-api-keys Secret's derived `keys.yaml` key. */
  keyFile: `${LIVEKIT_KEYS_DIR}/keys.yaml`,
} as const;

/** Key of the livekit-api-keys Secret (LiveKit's namespace) holding the key pair as LiveKit's key_file. */
export const LIVEKIT_KEY_FILE_KEY = 'keys.yaml';

/** lk-jwt-service receives LiveKit's webhooks (delegated MatrixRTC leave, lk-jwt-service 0.6.0). */
export function lkJwtWebhookUrl(): string {
  return `http://${serviceHost(LK_JWT.name, LK_JWT.namespace)}:${LK_JWT.port}/sfu_webhook`;
}

/**
 * LiveKit config.yaml. No secret is in it: API keys come from key_file (a mounted Secret key), the Redis password
 * from LIVEKIT_REDIS_PASSWORD, the webhook key from LIVEKIT_WEBHOOK_API_KEY (generated env flags of
 * livekit-server, applied after the YAML is parsed) and the TURN secret from a mounted file.
 * Every key is checked against livekit-server v1.13.11 (test/calls.test.ts LIVEKIT_KNOWN_KEYS).
 */
export function livekitConfig(platform: Platform): Record<string, unknown> {
  const { config, hosts } = platform;
  const livekit = config.calls.livekit;
  const coturn = requireCoturn(config);
  return {
    port: livekit.signalPort,
    prometheus: { port: METRICS_PORTS.livekit },
    logging: { json: true, level: 'info' },
    rtc: {
      tcp_port: livekit.rtcTcpPort,
      port_range_start: livekit.rtcUdpPorts.start,
      port_range_end: livekit.rtcUdpPorts.end,
      use_external_ip: livekit.useExternalIp,
      // Clients that cannot reach the SFU directly go through coturn, with credentials LiveKit
      // derives from the shared secret (TURN REST API, same as Synapse).
      turn_servers: [
        ...(turnTlsEnabled(config) ? [{ host: hosts.turn, port: coturn.tlsListeningPort, protocol: 'tls', secret_file: LIVEKIT_PATHS.turnSecret }] : []),
        ...coturn.nodes.map((node) => ({ host: node.externalIp, port: coturn.listeningPort, protocol: 'udp', secret_file: LIVEKIT_PATHS.turnSecret })),
      ],
    },
    redis: {
      sentinel_master_name: VALKEY_LIVEKIT.masterName,
      sentinel_addresses: sentinelAddresses(VALKEY_LIVEKIT, config.valkey.livekit.sentinels),
    },
    // coturn serves TURN (its own nodes, ports and certificate); LiveKit's embedded TURN stays off.
    turn: { enabled: false },
    // lk-jwt-service creates rooms for authorised MatrixRTC sessions; no client may create one directly.
    room: { auto_create: false },
    webhook: { urls: [lkJwtWebhookUrl()] },
    // Must have no "others" permission bit (ValidateKeys); preferred over LIVEKIT_KEYS.
    key_file: LIVEKIT_PATHS.keyFile,
  };
}

/**
 * livekit-server's arguments. `--bind` takes the node's internal address (Kubernetes expands the
 * `$(VAR)` from the container environment): the signal port is reached only through the edge and the
 * metrics port only by Prometheus, so neither listens on the node's public address (callHostPorts:
 * internal). The RTC ports (rtc.tcp_port, the UDP range) are not affected by it and stay public.
 */
export function livekitArgs(): string[] {
  return ['--config', LIVEKIT_PATHS.config, '--bind', `$(${NODE_INTERNAL_IP_ENV})`];
}

/** Service and probe port of LiveKit (the edge routes hosts.livekit to the port named `signal`). */
export const LIVEKIT_SIGNAL_PORT_NAME = 'signal';
export { LIVEKIT };

// ---------------------------------------------------------------------------------------------
// Discovery: what Synapse, the well-known and Element Web publish about calls

/** MSC4143 foci: the LiveKit authorisation service (lk-jwt-service). */
export function rtcFoci(platform: Platform): { type: 'livekit'; livekit_service_url: string }[] {
  if (!platform.config.calls.enabled) return [];
  return [{ type: 'livekit', livekit_service_url: `https://${platform.hosts.livekitJwt}` }];
}

/**
 * Synapse settings Element Call needs, checked against matrix-synapse 1.163.2 (PyPI sdist):
 * experimental_features.msc4143_enabled (config/experimental.py, RTC transports endpoint),
 * experimental_features.msc4222_enabled (state_after in sync v2), matrix_rtc.transports
 * (config/matrixrtc.py: type + livekit_service_url), max_event_delay_duration (config/server.py,
 * MSC4140 delayed events for leave-on-disconnect), rc_message and rc_delayed_event_mgmt
 * (config/ratelimiting.py). msc3266 (room summary) is no longer an experimental flag in 1.163.
 * Values as in element-hq/ess-helm (synapse-01-shared-underrides / -04-homeserver-overrides).
 */
export function matrixRtcHomeserverSettings(platform: Platform): Record<string, unknown> {
  if (!platform.config.calls.enabled) return {};
  return {
    experimental_features: { msc4143_enabled: true, msc4222_enabled: true },
    matrix_rtc: { transports: rtcFoci(platform) },
    max_event_delay_duration: '24h',
    // Key-sharing bursts of encrypted calls and the 5 s delayed-event heartbeat need headroom.
    rc_message: { per_second: 0.5, burst_count: 30 },
    rc_delayed_event_mgmt: { per_second: 1, burst_count: 20 },
  };
}

/**
 * Element Web config.json fragment (apps/web/src/IConfigOptions.ts, settings/Settings.tsx):
 * group calls through the embedded Element Call, which finds the SFU through rtc_foci.
 */
export function elementWebCallSettings(platform: Platform): Record<string, unknown> {
  const { config } = platform;
  if (!config.calls.enabled) return { features: { feature_group_calls: false } };
  return {
    features: { feature_group_calls: true, feature_video_rooms: true, feature_element_call_video_rooms: true },
    element_call: {
      brand: 'Element Call',
      ...(config.calls.elementCallUrl ? { guest_spa_url: config.calls.elementCallUrl } : {}),
    },
  };
}
