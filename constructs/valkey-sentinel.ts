import { RUN_AS } from '../lib/model/run-as';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Resources } from '../lib/config/primitives';
import { exporterTarget, type ValkeyClusterEndpoints } from '../lib/model/endpoints';
import { METRICS_PORTS } from '../lib/model/metrics';
import { quantityBytes } from '../lib/model/postgres-sizing';
import { images } from '../lib/versions';
import { componentLabels, configMap, container, contentHash, execProbe, service, tcpProbe, Workload } from './workload';

/**
 * Valkey with Sentinel as our own construct (official valkey/valkey image): N data pods and M
 * Sentinels in two StatefulSets, password from a Secret, AOF persistence, redis_exporter sidecars.
 *
 * The generated valkey.conf, sentinel.conf and start-up scripts are plain files in a ConfigMap and
 * are exactly what the integration suite runs on loopback: the scripts are POSIX sh and take every
 * host name, port and path from the environment variables listed in VALKEY_SCRIPT_ENVIRONMENT.
 * No secret is ever written into the ConfigMap: the scripts append `requirepass`, `masterauth` and
 * `sentinel auth-pass` at start from the mounted Secret file into a memory-backed emptyDir.
 *
 * Sentinels require the same password as the data nodes (`requirepass` in sentinel.conf): an
 * unauthenticated Sentinel would let any pod that reaches port 26379 read the topology or run
 * SENTINEL FAILOVER / SENTINEL SET. Sentinel uses its own requirepass when it talks to the other
 * Sentinels, so every Sentinel of a cluster must have the same one (Redis/Valkey Sentinel docs).
 * Clients therefore authenticate to the Sentinels too (LiveKit: redis.sentinel_password, see
 * ValkeyClusterEndpoints.passwordSecret in lib/model/endpoints.ts).
 */

export const VALKEY_UID = RUN_AS.valkey;

/** Where the redis_exporter sidecars read their password file (JSON map by target URI). */
const EXPORTER_PASSWORD_DIR = '/secrets/redis-exporter';
/**
 * redis_exporter listens on the same port in data and Sentinel pods (different pods), so the one
 * scrape target of lib/model/metrics.ts (pods named after the cluster, this port) covers both.
 */
export const VALKEY_EXPORTER_PORT = METRICS_PORTS.redisExporter;

/** Sentinel timings: a master is considered down after 5 s; a failover attempt times out after 60 s. */
export const SENTINEL_DOWN_AFTER_MS = 5000;
export const SENTINEL_FAILOVER_TIMEOUT_MS = 60000;

/** Writes need one replica at most this many seconds behind (valkey.conf min-replicas-*). */
export const MIN_REPLICAS_TO_WRITE = 1;
export const MIN_REPLICAS_MAX_LAG_SECONDS = 10;

/** A majority of the Sentinels must agree that the master is down. */
export function sentinelQuorum(sentinels: number): number {
  return Math.floor(sentinels / 2) + 1;
}

/** Stable DNS name of data pod `ordinal` (StatefulSet pod behind the headless Service). */
export function valkeyNodeHost(cluster: ValkeyClusterEndpoints, ordinal: number): string {
  return `${cluster.name}-${ordinal}.${cluster.headlessService}.${cluster.namespace}.svc.cluster.local`;
}

export function valkeyNodeHosts(cluster: ValkeyClusterEndpoints, replicas: number): string[] {
  return Array.from({ length: replicas }, (_, ordinal) => valkeyNodeHost(cluster, ordinal));
}

/** Every environment variable the scripts read, with its meaning (docs/data-layer.md repeats this table). */
export const VALKEY_SCRIPT_ENVIRONMENT: Readonly<Record<string, string>> = {
  VALKEY_PASSWORD_FILE: 'file holding the password (mounted Secret key `password`); required',
  VALKEY_MASTER_NAME: 'Sentinel master name; required',
  VALKEY_PORT: 'port of this data node (default 6379)',
  VALKEY_ANNOUNCE_HOST: 'host name (or address) under which this node is reached by the others; required for data nodes',
  VALKEY_BOOTSTRAP_HOST: 'host of the data node that starts as master when nobody knows a master (pod 0); required',
  VALKEY_BOOTSTRAP_PORT: 'its port (default 6379)',
  VALKEY_NODES: 'space-separated host:port of every data node (asked for role:master when no Sentinel answers)',
  SENTINEL_ADDRESSES: 'space-separated host:port of every Sentinel; required',
  SENTINEL_PORT: 'port of this Sentinel (default 26379)',
  SENTINEL_ANNOUNCE_HOST: 'host name under which this Sentinel is reached; required for Sentinels',
  SENTINEL_QUORUM: 'Sentinels that must agree a master is down; required for Sentinels',
  SENTINEL_DOWN_AFTER_MS: `master unreachable this long counts as down (default ${SENTINEL_DOWN_AFTER_MS})`,
  SENTINEL_FAILOVER_TIMEOUT_MS: `failover timeout (default ${SENTINEL_FAILOVER_TIMEOUT_MS})`,
  VALKEY_CONFIG_TEMPLATE: 'path of valkey.conf or sentinel.conf as generated (read-only); required',
  VALKEY_RUN_DIR: 'writable directory for the rendered config (memory emptyDir in Kubernetes); required',
  VALKEY_DATA_DIR: 'data directory of a data node (AOF files); required for data nodes',
  VALKEY_SERVER: 'server binary (default valkey-server; redis-server works too)',
  VALKEY_CLI: 'client binary (default valkey-cli; redis-cli works too)',
  CLI_TIMEOUT: 'seconds one discovery command may take (default 3; needs `timeout` in PATH, else unbounded)',
  DISCOVERY_ATTEMPTS: 'rounds of asking Sentinels and nodes before falling back to the bootstrap node (default 3)',
};

/** Functions shared by both start-up scripts. Sourced, never executed. */
export const VALKEY_LIB_SH = `# Shared by valkey-start.sh and sentinel-start.sh (POSIX sh). Sourced, not executed.
: "\${VALKEY_PORT:=6379}"
: "\${VALKEY_BOOTSTRAP_PORT:=6379}"
: "\${SENTINEL_PORT:=26379}"
: "\${VALKEY_NODES:=}"
: "\${VALKEY_SERVER:=valkey-server}"
: "\${VALKEY_CLI:=valkey-cli}"
: "\${CLI_TIMEOUT:=3}"
: "\${DISCOVERY_ATTEMPTS:=3}"
: "\${SENTINEL_DOWN_AFTER_MS:=${SENTINEL_DOWN_AFTER_MS}}"
: "\${SENTINEL_FAILOVER_TIMEOUT_MS:=${SENTINEL_FAILOVER_TIMEOUT_MS}}"

log() {
  printf '%s: %s\\n' "\${LOG_PREFIX:-valkey}" "$*" >&2
}

require() {
  for name in "$@"; do
    eval "value=\\\${$name:-}"
    if [ -z "$value" ]; then
      log "environment variable $name is required"
      exit 64
    fi
  done
}

read_password() {
  if [ ! -r "$VALKEY_PASSWORD_FILE" ]; then
    log "cannot read the password file $VALKEY_PASSWORD_FILE"
    exit 66
  fi
  VALKEY_PASSWORD=$(cat "$VALKEY_PASSWORD_FILE")
  if [ -z "$VALKEY_PASSWORD" ]; then
    log "the password file $VALKEY_PASSWORD_FILE is empty"
    exit 66
  fi
}

# bounded HOST PORT ARGS...: one client command that cannot hang the start-up.
bounded() {
  if command -v timeout >/dev/null 2>&1; then
    timeout "$CLI_TIMEOUT" "$VALKEY_CLI" "$@"
  else
    "$VALKEY_CLI" "$@"
  fi
}

# authed_cli HOST PORT ARGS...: data nodes and Sentinels share one password; it travels in the
# environment, never in argv.
authed_cli() {
  host=$1
  port=$2
  shift 2
  REDISCLI_AUTH="$VALKEY_PASSWORD" VALKEYCLI_AUTH="$VALKEY_PASSWORD" bounded -h "$host" -p "$port" --raw "$@"
}

sentinel_cli() {
  authed_cli "$@"
}

node_cli() {
  authed_cli "$@"
}

# Prints "host port" of the master the first answering Sentinel knows; fails when none knows one.
sentinel_master() {
  for address in $SENTINEL_ADDRESSES; do
    reply=$(sentinel_cli "\${address%:*}" "\${address##*:}" SENTINEL get-master-addr-by-name "$VALKEY_MASTER_NAME" 2>/dev/null) || continue
    set -- $reply
    if [ $# -eq 2 ]; then
      printf '%s %s\\n' "$1" "$2"
      return 0
    fi
  done
  return 1
}

# Prints "host port" of a data node (other than this one) that reports role:master.
node_master() {
  for address in $VALKEY_NODES; do
    host=\${address%:*}
    port=\${address##*:}
    if is_self "$host" "$port"; then
      continue
    fi
    if node_cli "$host" "$port" INFO replication 2>/dev/null | tr -d '\\r' | grep -qx 'role:master'; then
      printf '%s %s\\n' "$host" "$port"
      return 0
    fi
  done
  return 1
}

# is_self HOST PORT: true when HOST:PORT is this data node (Sentinels have no VALKEY_ANNOUNCE_HOST).
is_self() {
  [ "$1" = "\${VALKEY_ANNOUNCE_HOST:-}" ] && [ "$2" = "$VALKEY_PORT" ]
}

# discover_master: asks the Sentinels first, then the data nodes, DISCOVERY_ATTEMPTS rounds.
# Sets MASTER ("host port") and MASTER_SOURCE; fails when nobody knows a master.
discover_master() {
  attempt=1
  while [ "$attempt" -le "$DISCOVERY_ATTEMPTS" ]; do
    if MASTER=$(sentinel_master); then
      MASTER_SOURCE="the Sentinels"
      return 0
    fi
    if MASTER=$(node_master); then
      MASTER_SOURCE="a data node reporting role:master"
      return 0
    fi
    if [ "$attempt" -lt "$DISCOVERY_ATTEMPTS" ]; then
      sleep 2
    fi
    attempt=$((attempt + 1))
  done
  return 1
}
`;

/** Start one data node: render the config, then join the current master or (pod 0 only) become it. */
export const VALKEY_START_SH = `#!/bin/sh
# Starts one Valkey data node. A restarted node rejoins as a replica of the current master: it asks
# the Sentinels first, then the other data nodes; only when nobody knows a master and this node is
# the bootstrap node (pod 0) does it start as master. Every other node replicates the bootstrap node.
set -eu
LOG_PREFIX="valkey-start"
. "$(dirname "$0")/valkey-lib.sh"

require VALKEY_PASSWORD_FILE VALKEY_MASTER_NAME VALKEY_ANNOUNCE_HOST VALKEY_BOOTSTRAP_HOST \\
  SENTINEL_ADDRESSES VALKEY_CONFIG_TEMPLATE VALKEY_RUN_DIR VALKEY_DATA_DIR
read_password

umask 077
config="$VALKEY_RUN_DIR/valkey.conf"
cp "$VALKEY_CONFIG_TEMPLATE" "$config"
{
  printf 'port %s\\n' "$VALKEY_PORT"
  printf 'dir %s\\n' "$VALKEY_DATA_DIR"
  printf 'replica-announce-ip %s\\n' "$VALKEY_ANNOUNCE_HOST"
  printf 'replica-announce-port %s\\n' "$VALKEY_PORT"
  printf 'requirepass "%s"\\n' "$VALKEY_PASSWORD"
  printf 'masterauth "%s"\\n' "$VALKEY_PASSWORD"
} >>"$config"

if discover_master; then
  set -- $MASTER
  # The Sentinels may still name this node if it restarted before they noticed (down-after). If
  # another node already acts as master meanwhile, join it rather than be a second master.
  if is_self "$1" "$2" && OTHER=$(node_master); then
    MASTER=$OTHER
    MASTER_SOURCE="another data node reports role:master although the Sentinels still name this node"
  fi
elif is_self "$VALKEY_BOOTSTRAP_HOST" "$VALKEY_BOOTSTRAP_PORT"; then
  MASTER=""
  MASTER_SOURCE="nobody knows a master and this is the bootstrap node"
else
  MASTER="$VALKEY_BOOTSTRAP_HOST $VALKEY_BOOTSTRAP_PORT"
  MASTER_SOURCE="nobody knows a master yet: the bootstrap node"
fi

set -- $MASTER
if [ $# -eq 2 ] && ! is_self "$1" "$2"; then
  printf 'replicaof %s %s\\n' "$1" "$2" >>"$config"
  log "starting as a replica of $1:$2 ($MASTER_SOURCE)"
else
  log "starting as master ($MASTER_SOURCE)"
fi
exec "$VALKEY_SERVER" "$config"
`;

/** Start one Sentinel: monitor the current master (same discovery as the data nodes). */
export const SENTINEL_START_SH = `#!/bin/sh
# Starts one Sentinel. Sentinels keep their state in a writable copy of sentinel.conf in an emptyDir,
# so a restarted Sentinel learns the current master again: from the other Sentinels, then from the
# data nodes (role:master), and only on a fresh cluster from the bootstrap node.
set -eu
LOG_PREFIX="sentinel-start"
. "$(dirname "$0")/valkey-lib.sh"

require VALKEY_PASSWORD_FILE VALKEY_MASTER_NAME VALKEY_BOOTSTRAP_HOST SENTINEL_ADDRESSES \\
  SENTINEL_ANNOUNCE_HOST SENTINEL_QUORUM VALKEY_CONFIG_TEMPLATE VALKEY_RUN_DIR
read_password

if ! discover_master; then
  MASTER="$VALKEY_BOOTSTRAP_HOST $VALKEY_BOOTSTRAP_PORT"
  MASTER_SOURCE="nobody knows a master yet: the bootstrap node"
fi
set -- $MASTER

umask 077
config="$VALKEY_RUN_DIR/sentinel.conf"
cp "$VALKEY_CONFIG_TEMPLATE" "$config"
{
  printf 'port %s\\n' "$SENTINEL_PORT"
  printf 'requirepass "%s"\\n' "$VALKEY_PASSWORD"
  printf 'sentinel announce-ip %s\\n' "$SENTINEL_ANNOUNCE_HOST"
  printf 'sentinel announce-port %s\\n' "$SENTINEL_PORT"
  printf 'sentinel monitor %s %s %s %s\\n' "$VALKEY_MASTER_NAME" "$1" "$2" "$SENTINEL_QUORUM"
  printf 'sentinel auth-pass %s "%s"\\n' "$VALKEY_MASTER_NAME" "$VALKEY_PASSWORD"
  printf 'sentinel down-after-milliseconds %s %s\\n' "$VALKEY_MASTER_NAME" "$SENTINEL_DOWN_AFTER_MS"
  printf 'sentinel failover-timeout %s %s\\n' "$VALKEY_MASTER_NAME" "$SENTINEL_FAILOVER_TIMEOUT_MS"
  printf 'sentinel parallel-syncs %s 1\\n' "$VALKEY_MASTER_NAME"
} >>"$config"
log "monitoring $VALKEY_MASTER_NAME at $1:$2 ($MASTER_SOURCE), quorum $SENTINEL_QUORUM"
exec "$VALKEY_SERVER" "$config" --sentinel
`;

/**
 * valkey.conf of a data node. maxmemory leaves a quarter of the memory limit for copy-on-write
 * during AOF rewrites and replica syncs; noeviction because Synapse and LiveKit keep state here,
 * so a full instance must refuse writes rather than drop keys.
 */
export function valkeyConf(memoryLimit: string): string {
  const maxmemory = Math.floor((quantityBytes(memoryLimit) * 0.75) / 2 ** 20);
  return [
    '# Valkey data node. valkey-start.sh appends port, dir, announce address, password and replicaof.',
    'bind * -::*',
    'protected-mode no',
    'daemonize no',
    'appendonly yes',
    'appendfsync everysec',
    'appenddirname appendonlydir',
    'repl-diskless-sync yes',
    'replica-read-only yes',
    'replica-serve-stale-data yes',
    'tcp-keepalive 60',
    'timeout 0',
    `maxmemory ${maxmemory}mb`,
    'maxmemory-policy noeviction',
    // A master cut off from every replica (a partition, or a former master that still believes it
    // is one) stops accepting writes after 10 s instead of accepting writes a failover discards.
    // With at least two replicas (config minimum 3 data pods) one may be down without effect.
    `min-replicas-to-write ${MIN_REPLICAS_TO_WRITE}`,
    `min-replicas-max-lag ${MIN_REPLICAS_MAX_LAG_SECONDS}`,
    '',
  ].join('\n');
}

/** sentinel.conf: host names instead of pod IPs (pods get new IPs on restart). */
export const SENTINEL_CONF = [
  '# Sentinel. sentinel-start.sh appends port, requirepass, announce address and the monitor/auth-pass lines.',
  'bind * -::*',
  'protected-mode no',
  'daemonize no',
  'sentinel resolve-hostnames yes',
  'sentinel announce-hostnames yes',
  '',
].join('\n');

export interface ValkeySentinelProps {
  readonly cluster: ValkeyClusterEndpoints;
  readonly replicas: number;
  readonly sentinels: number;
  readonly storageClass: string;
  readonly storageSize: string;
  readonly resources?: Resources;
}

/** Default sizes; config.valkey.<cluster>.resources overrides the data pods. */
export const VALKEY_SIZING = {
  data: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } },
  sentinel: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
  exporter: { requests: { cpu: '25m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
} as const satisfies Record<string, Resources>;

const SCRIPTS_DIR = '/opt/valkey';
const RUN_DIR = '/run/valkey';
const DATA_DIR = '/data';
const PASSWORD_DIR = '/etc/valkey-auth';

export class ValkeySentinel extends Construct {
  readonly dataSelector: Record<string, string>;
  readonly sentinelSelector: Record<string, string>;
  readonly configMapData: Record<string, string>;

  constructor(scope: Construct, id: string, props: ValkeySentinelProps) {
    super(scope, id);
    const { cluster } = props;
    const namespace = cluster.namespace;
    const dataResources = props.resources ?? VALKEY_SIZING.data;
    this.dataSelector = componentLabels(cluster.name, 'data');
    this.sentinelSelector = componentLabels(cluster.name, 'sentinel');
    const sentinelName = cluster.sentinelService;
    const nodeHosts = valkeyNodeHosts(cluster, props.replicas);
    const sentinelHosts = Array.from(
      { length: props.sentinels },
      (_, ordinal) => `${sentinelName}-${ordinal}.${sentinelName}.${namespace}.svc.cluster.local`,
    );

    this.configMapData = {
      'valkey.conf': valkeyConf(dataResources.limits.memory),
      'sentinel.conf': SENTINEL_CONF,
      'valkey-lib.sh': VALKEY_LIB_SH,
      'valkey-start.sh': VALKEY_START_SH,
      'sentinel-start.sh': SENTINEL_START_SH,
    };
    const configName = `${cluster.name}-config`;
    configMap(this, 'config', { name: configName, namespace, data: this.configMapData, labels: componentLabels(cluster.name, 'config') });
    const configHash = contentHash(...Object.values(this.configMapData));

    const commonEnv: k8s.EnvVar[] = [
      { name: 'VALKEY_PASSWORD_FILE', value: `${PASSWORD_DIR}/password` },
      { name: 'VALKEY_MASTER_NAME', value: cluster.masterName },
      { name: 'VALKEY_PORT', value: String(cluster.port) },
      { name: 'VALKEY_BOOTSTRAP_HOST', value: nodeHosts[0] },
      { name: 'VALKEY_BOOTSTRAP_PORT', value: String(cluster.port) },
      { name: 'VALKEY_NODES', value: nodeHosts.map((host) => `${host}:${cluster.port}`).join(' ') },
      { name: 'SENTINEL_ADDRESSES', value: sentinelHosts.map((host) => `${host}:${cluster.sentinelPort}`).join(' ') },
      { name: 'SENTINEL_PORT', value: String(cluster.sentinelPort) },
      { name: 'VALKEY_RUN_DIR', value: RUN_DIR },
    ];
    const volumes: k8s.Volume[] = [
      { name: 'config', configMap: { name: configName, defaultMode: 0o555 } },
      // The rendered config holds the password: memory only, never on a node disk.
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
      { name: 'password', secret: { secretName: cluster.passwordSecret, defaultMode: 0o440, items: [{ key: 'password', path: 'password' }] } },
      {
        name: 'exporter-password',
        secret: { secretName: cluster.passwordSecret, defaultMode: 0o440, items: [{ key: cluster.exporterPasswordsKey, path: cluster.exporterPasswordsKey }] },
      },
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: 'config', mountPath: SCRIPTS_DIR, readOnly: true },
      { name: 'run', mountPath: RUN_DIR },
      { name: 'password', mountPath: PASSWORD_DIR, readOnly: true },
    ];
    // Liveness/readiness: PING with the password read from the mounted file, never from argv.
    const ping = (port: number) =>
      execProbe([
        'sh',
        '-c',
        `REDISCLI_AUTH="$(cat ${PASSWORD_DIR}/password)" VALKEYCLI_AUTH="$(cat ${PASSWORD_DIR}/password)" valkey-cli -p ${port} ping | grep -q PONG`,
      ]);
    const exporter = (name: string, port: number, listen: number) =>
      container({
        name,
        image: images.redisExporter,
        resources: VALKEY_SIZING.exporter,
        env: [
          { name: 'REDIS_ADDR', value: exporterTarget(port) },
          { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${listen}` },
          { name: 'REDIS_PASSWORD_FILE', value: `${EXPORTER_PASSWORD_DIR}/${cluster.exporterPasswordsKey}` },
        ],
        volumeMounts: [{ name: 'exporter-password', mountPath: EXPORTER_PASSWORD_DIR, readOnly: true }],
        ports: [{ name: 'metrics', containerPort: listen }],
        livenessProbe: tcpProbe('metrics'),
        readinessProbe: tcpProbe('metrics'),
      });

    new Workload(this, 'data', {
      kind: 'StatefulSet',
      name: cluster.name,
      namespace,
      selector: this.dataSelector,
      replicas: props.replicas,
      serviceName: cluster.headlessService,
      podManagementPolicy: 'OrderedReady',
      spread: 'required',
      identity: { runAsUser: VALKEY_UID },
      configHash: configHash,
      terminationGracePeriodSeconds: 30,
      containers: [
        container({
          name: 'valkey',
          image: images.valkey,
          resources: dataResources,
          command: ['sh', `${SCRIPTS_DIR}/valkey-start.sh`],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ...commonEnv,
            { name: 'VALKEY_ANNOUNCE_HOST', value: `$(POD_NAME).${cluster.headlessService}.${namespace}.svc.cluster.local` },
            { name: 'VALKEY_CONFIG_TEMPLATE', value: `${SCRIPTS_DIR}/valkey.conf` },
            { name: 'VALKEY_DATA_DIR', value: DATA_DIR },
          ],
          ports: [{ name: 'valkey', containerPort: cluster.port }],
          volumeMounts: [...mounts, { name: 'data', mountPath: DATA_DIR }],
          startupProbe: ping(cluster.port),
          livenessProbe: ping(cluster.port),
          readinessProbe: ping(cluster.port),
        }),
        exporter('metrics', cluster.port, VALKEY_EXPORTER_PORT),
      ],
      volumes,
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: props.storageClass,
            resources: { requests: { storage: k8s.Quantity.fromString(props.storageSize) } },
          },
        },
      ],
    });

    new Workload(this, 'sentinel', {
      kind: 'StatefulSet',
      name: sentinelName,
      namespace,
      selector: this.sentinelSelector,
      replicas: props.sentinels,
      serviceName: sentinelName,
      podManagementPolicy: 'Parallel',
      spread: 'required',
      identity: { runAsUser: VALKEY_UID },
      configHash: configHash,
      containers: [
        container({
          name: 'sentinel',
          image: images.valkey,
          resources: VALKEY_SIZING.sentinel,
          command: ['sh', `${SCRIPTS_DIR}/sentinel-start.sh`],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ...commonEnv,
            { name: 'SENTINEL_ANNOUNCE_HOST', value: `$(POD_NAME).${sentinelName}.${namespace}.svc.cluster.local` },
            { name: 'SENTINEL_QUORUM', value: String(sentinelQuorum(props.sentinels)) },
            { name: 'SENTINEL_DOWN_AFTER_MS', value: String(SENTINEL_DOWN_AFTER_MS) },
            { name: 'SENTINEL_FAILOVER_TIMEOUT_MS', value: String(SENTINEL_FAILOVER_TIMEOUT_MS) },
            { name: 'VALKEY_CONFIG_TEMPLATE', value: `${SCRIPTS_DIR}/sentinel.conf` },
          ],
          ports: [{ name: 'sentinel', containerPort: cluster.sentinelPort }],
          volumeMounts: mounts,
          livenessProbe: ping(cluster.sentinelPort),
          readinessProbe: ping(cluster.sentinelPort),
        }),
        exporter('metrics', cluster.sentinelPort, VALKEY_EXPORTER_PORT),
      ],
      volumes,
    });

    // Headless Services give every pod a stable name, resolvable before it is ready (the start-up
    // scripts and the Sentinels need it while a pod is still starting).
    service(this, 'headless', {
      name: cluster.headlessService,
      namespace,
      selector: this.dataSelector,
      headless: true,
      publishNotReadyAddresses: true,
      ports: [
        { name: 'valkey', port: cluster.port },
        { name: 'metrics', port: VALKEY_EXPORTER_PORT },
      ],
    });
    service(this, 'sentinel-service', {
      name: sentinelName,
      namespace,
      selector: this.sentinelSelector,
      headless: true,
      publishNotReadyAddresses: true,
      ports: [
        { name: 'sentinel', port: cluster.sentinelPort },
        { name: 'metrics', port: VALKEY_EXPORTER_PORT },
      ],
    });
  }
}
