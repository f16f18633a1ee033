import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { elementWebConfig } from '../charts/element-web';
import { CALL_METRICS_PORTS } from '../lib/config/calls';
import { edgeProxyPod } from '../lib/model/chart-pods';
import { METRICS_PORTS } from '../lib/model/metrics';
import { LK_JWT_PARTICIPANT_CHECK_SECONDS } from '../charts/livekit';
import { FAST_EVICTION_SECONDS } from '../constructs/workload';
import { buildPlatform, LIVEKIT_REDIS_PROXY, LK_JWT_REDIS_DATABASE, SECRET_NAMES, secretCatalogue, VALKEY_LIVEKIT, VALKEY_SYNAPSE, sentinelAddresses } from '../lib/model';
import {
  callHostPorts,
  callNotices,
  cidrToRange,
  COTURN_INIT_SCRIPT,
  coturnConfig,
  coturnNodeTable,
  DENIED_PEER_NETWORKS,
  livekitArgs,
  livekitConfig,
  matrixRtcHomeserverSettings,
  NODE_INTERNAL_IP_ENV,
  rtcFoci,
  turnTlsEnabled,
  turnUris,
  LIVEKIT_PATHS,
} from '../lib/model/calls';
import { flows } from '../lib/model/network-policies';
import { buildHomeserverConfig } from '../lib/model/synapse-config';
import { wellKnownClient } from '../lib/model/well-known';
import type { KubeObject } from '../lib/synth';
import { configWith, find, findOne, render, TURN_DNS01 } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/**
 * Every YAML path livekit-server v1.13.11 accepts for the keys we emit, transcribed from the struct
 * yaml tags (strict decoding: an unknown key stops the server with "could not parse config"):
 * - pkg/config/config.go `Config`: port, prometheus, logging, rtc, redis, turn, room, webhook
 * - pkg/config/config.go `PrometheusConfig`: port
 * - pkg/config/config.go `LoggingConfig` inlines protocol logger/config.go `Config`: json, level
 * - pkg/config/config.go `RTCConfig` inlines mediatransportutil@v0.0.0-20261014192331-dd8e31a0adc0
 *   pkg/rtcconfig/config.go `RTCConfig`: tcp_port, port_range_start, port_range_end, use_external_ip;
 *   and adds turn_servers (`TURNServer`: host, port, protocol, secret_file)
 * - protocol@v1.53.1-0.20261023175527-46332a036e25 redis/redis.go `RedisConfig`: sentinel_master_name, sentinel_addresses
 * - pkg/config/config.go `TURNConfig`: enabled
 * - pkg/config/config.go `RoomConfig`: auto_create
 * - protocol webhook/notifier.go `WebHookConfig`: urls (api_key comes from LIVEKIT_WEBHOOK_API_KEY)
 * - pkg/config/config.go `Config`: key_file (ValidateKeys: YAML key: secret, no "others" permission bit)
 */
const LIVEKIT_KNOWN_KEYS = new Set([
  'port',
  'key_file',
  'prometheus',
  'prometheus.port',
  'logging',
  'logging.json',
  'logging.level',
  'rtc',
  'rtc.tcp_port',
  'rtc.port_range_start',
  'rtc.port_range_end',
  'rtc.use_external_ip',
  'rtc.turn_servers',
  'rtc.turn_servers[].host',
  'rtc.turn_servers[].port',
  'rtc.turn_servers[].protocol',
  'rtc.turn_servers[].secret_file',
  'redis',
  'redis.sentinel_master_name',
  'redis.sentinel_addresses',
  'turn',
  'turn.enabled',
  'room',
  'room.auto_create',
  'webhook',
  'webhook.urls',
]);

/** Scalar env names livekit-server derives from those tags (GenerateCLIFlags: LIVEKIT_<PATH>). */
// redis.sentinel_password: protocol redis/redis.go RedisConfig.SentinelPassword (yaml sentinel_password).
const LIVEKIT_KNOWN_ENV = new Set(['LIVEKIT_KEYS', 'LIVEKIT_REDIS_PASSWORD', 'LIVEKIT_REDIS_SENTINEL_PASSWORD', 'LIVEKIT_WEBHOOK_API_KEY', 'NODE_IP']);

function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => (item && typeof item === 'object' ? keyPaths(item, `${prefix}[]`) : []));
  }
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...keyPaths(child, path)];
  });
}

function podSpec(object: KubeObject): Any {
  return (object as Any).spec.template.spec;
}

const CUSTOM = {
  ...TURN_DNS01,
  calls: {
    coturn: {
      nodeLabel: { key: 'example.org/turn', value: 'relay' },
      nodes: [
        { name: 'edge-b', externalIp: '198.51.100.20', privateIp: '10.1.0.20' },
        { name: 'edge-a', externalIp: '2001:db8::10' },
        { name: 'edge-c', externalIp: '198.51.100.30' },
      ],
      listeningPort: 3479,
      tlsListeningPort: 5350,
      relayPorts: { start: 20000, end: 29999 },
    },
    livekit: {
      nodeLabel: { key: 'example.org/sfu', value: 'yes' },
      signalPort: 7890,
      rtcTcpPort: 7891,
      rtcUdpPorts: { start: 30000, end: 39999 },
      useExternalIp: false,
    },
  },
};

describe.each([
  ['example config', {}],
  ['custom labels, ports and nodes', CUSTOM],
])('calls (%s)', (_, overrides) => {
  const { objects, config } = render(overrides);
  const platform = buildPlatform(config);
  const coturn = config.calls.coturn!;
  const livekit = config.calls.livekit;

  test('coturn: DaemonSet on the host network of the labelled nodes, secret and external IP rendered at start', () => {
    const spec = podSpec(findOne(objects, 'DaemonSet', 'coturn', 'coturn'));
    expect(spec.hostNetwork).toBe(true);
    expect(spec.nodeSelector).toEqual({ [coturn.nodeLabel.key]: coturn.nodeLabel.value });
    const init = spec.initContainers[0];
    expect(init.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    const volumes = Object.fromEntries(spec.volumes.map((volume: Any) => [volume.name, volume]));
    expect(volumes['turn-secret'].secret).toEqual({ secretName: SECRET_NAMES.turn, defaultMode: 0o440 });
    expect(volumes.runtime.emptyDir.medium).toBe('Memory');
    const main = spec.containers[0];
    expect(main.ports.map((entry: Any) => entry.containerPort)).toEqual(expect.arrayContaining([coturn.listeningPort, 9641]));
    // TLS pieces exactly when a DNS-01 solver can issue the certificate.
    const tls = turnTlsEnabled(config);
    expect(volumes.tls?.secret.secretName).toBe(tls ? 'coturn-tls' : undefined);
    expect(main.ports.some((entry: Any) => entry.containerPort === coturn.tlsListeningPort)).toBe(tls);
    expect(spec.containers.map((entry: Any) => entry.name)).toEqual(tls ? ['coturn', 'reload-certificate'] : ['coturn']);
    expect(Boolean(spec.shareProcessNamespace)).toBe(tls);
  });

  test('coturn: turnserver.conf from the config, node table from calls.coturn.nodes', () => {
    const configMap = findOne(objects, 'ConfigMap', 'coturn-config', 'coturn') as Any;
    const conf: string = configMap.data['turnserver.conf'];
    expect(conf).toBe(coturnConfig(platform));
    const lines = conf.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      'use-auth-secret',
      `realm=${config.serverName}`,
      `listening-port=${coturn.listeningPort}`,
      `min-port=${coturn.relayPorts.start}`,
      `max-port=${coturn.relayPorts.end}`,
      'prometheus',
    ]));
    const tlsLines = [`tls-listening-port=${coturn.tlsListeningPort}`, 'cert=/etc/coturn/tls/tls.crt', 'pkey=/etc/coturn/tls/tls.key'];
    if (turnTlsEnabled(config)) {
      expect(lines).toEqual(expect.arrayContaining(tlsLines));
      expect(lines).not.toContain('no-tls');
    } else {
      expect(lines).toContain('no-tls');
      expect(conf).not.toMatch(/^(tls-listening-port|cert|pkey)=/m);
    }
    // Never a secret or a node-specific address in the shared file; no option 4.17 dropped.
    expect(conf).not.toMatch(/^(static-auth-secret|external-ip|prometheus-address)\b/m);
    expect(conf).not.toMatch(/^(no-tlsv1|no-tlsv1_1|no-cli|no-dtls)$/m);
    const table: string = configMap.data.nodes;
    expect(table).toBe(coturnNodeTable(config));
    for (const node of coturn.nodes) {
      expect(table).toContain(`${node.name} ${node.externalIp}${node.privateIp ? `/${node.privateIp}` : ''}\n`);
    }
  });

  test('LiveKit: DaemonSet on the host network, Redis via the LiveKit Valkey sentinels, secrets only from Secrets', () => {
    const spec = podSpec(findOne(objects, 'DaemonSet', 'livekit', 'livekit'));
    expect(spec.hostNetwork).toBe(true);
    expect(spec.nodeSelector).toEqual({ [livekit.nodeLabel.key]: livekit.nodeLabel.value });
    const container = spec.containers[0];
    const env = Object.fromEntries(container.env.map((entry: Any) => [entry.name, entry]));
    // The key pair comes from key_file (the Secret's derived keys.yaml, mounted without "others" bits).
    expect(env.LIVEKIT_KEYS).toBeUndefined();
    expect(container.env.some((entry: Any) => entry.valueFrom?.secretKeyRef?.key === 'api-secret')).toBe(false);
    const keysMount = container.volumeMounts.find((mount: Any) => LIVEKIT_PATHS.keyFile.startsWith(`${mount.mountPath}/`));
    const keysVolume = spec.volumes.find((volume: Any) => volume.name === keysMount.name);
    expect(keysVolume.secret).toEqual({ secretName: SECRET_NAMES.livekitKeys, defaultMode: 0o440, items: [{ key: 'keys.yaml', path: 'keys.yaml' }] });
    expect(env.LIVEKIT_WEBHOOK_API_KEY.valueFrom.secretKeyRef).toEqual({ name: SECRET_NAMES.livekitKeys, key: 'api-key' });
    expect(env.LIVEKIT_REDIS_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: SECRET_NAMES.livekitRedis, key: 'password' });
    expect(env.LIVEKIT_REDIS_SENTINEL_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: SECRET_NAMES.livekitRedis, key: 'password' });
    for (const name of Object.keys(env).filter((entry) => entry.startsWith('LIVEKIT_') || entry === 'NODE_IP')) {
      expect(LIVEKIT_KNOWN_ENV).toContain(name);
    }
    expect(Boolean(env.NODE_IP)).toBe(!livekit.useExternalIp);
    expect(container.readinessProbe.httpGet.path).toBe('/');

    const parsed = yaml.load((findOne(objects, 'ConfigMap', 'livekit-config', 'livekit') as Any).data['config.yaml']) as Any;
    expect(parsed).toEqual(livekitConfig(platform));
    expect(parsed.redis.sentinel_master_name).toBe(VALKEY_LIVEKIT.masterName);
    expect(parsed.redis.sentinel_addresses).toEqual(sentinelAddresses(VALKEY_LIVEKIT, config.valkey.livekit.sentinels));
    for (const address of parsed.redis.sentinel_addresses) {
      expect(address).toContain(`.${VALKEY_LIVEKIT.namespace}.svc`);
      expect(address).not.toContain(`.${VALKEY_SYNAPSE.namespace}.`);
    }
    expect(parsed.redis.address).toBeUndefined();
    expect(parsed.rtc).toMatchObject({
      tcp_port: livekit.rtcTcpPort,
      port_range_start: livekit.rtcUdpPorts.start,
      port_range_end: livekit.rtcUdpPorts.end,
      use_external_ip: livekit.useExternalIp,
    });
    expect(parsed.port).toBe(livekit.signalPort);
    expect(parsed.prometheus.port).toBe(6789);
    expect(parsed.turn.enabled).toBe(false);
    expect(parsed.room.auto_create).toBe(false);
  });

  test('nothing but TURN and media listens on public node addresses: metrics and signalling bind to status.hostIP', () => {
    const internalIp = { name: NODE_INTERNAL_IP_ENV, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } };
    // coturn: the init container renders prometheus-address from the node's internal address.
    const coturnSpec = podSpec(findOne(objects, 'DaemonSet', 'coturn', 'coturn'));
    expect(coturnSpec.initContainers[0].env).toContainEqual(internalIp);
    const work = mkdtempSync(path.join(tmpdir(), 'coturn-init-'));
    try {
      writeFileSync(path.join(work, 'template'), coturnConfig(platform));
      writeFileSync(path.join(work, 'nodes'), coturnNodeTable(config));
      writeFileSync(path.join(work, 'secret'), 'made-up');
      const run = (internal: string) =>
        spawnSync('/bin/sh', ['-c', COTURN_INIT_SCRIPT], {
          env: { PATH: process.env.PATH, NODE_NAME: coturn.nodes[0].name, [NODE_INTERNAL_IP_ENV]: internal, COTURN_NODE_TABLE: path.join(work, 'nodes'), COTURN_TEMPLATE: path.join(work, 'template'), TURN_SECRET_FILE: path.join(work, 'secret'), COTURN_CONFIG: path.join(work, 'out') },
          encoding: 'utf8',
        });
      expect(run('10.20.30.40').status).toBe(0);
      const rendered = readFileSync(path.join(work, 'out'), 'utf8').split('\n');
      expect(rendered.filter((line) => line.startsWith('prometheus-address='))).toEqual(['prometheus-address=10.20.30.40']);
      expect(rendered).toContain(`prometheus-port=${METRICS_PORTS.coturn}`);
      // Without the address the pod fails instead of falling back to every interface.
      const missing = run('');
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain(NODE_INTERNAL_IP_ENV);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // LiveKit: --bind covers the signal and the Prometheus listener (server.go Start).
    const livekitContainer = podSpec(findOne(objects, 'DaemonSet', 'livekit', 'livekit')).containers[0];
    expect(livekitContainer.env).toContainEqual(internalIp);
    expect(livekitContainer.args).toEqual(livekitArgs());
    expect(livekitContainer.args.slice(-2)).toEqual(['--bind', `$(${NODE_INTERNAL_IP_ENV})`]);
    expect(livekitConfig(platform)).not.toHaveProperty('bind_addresses');
  });

  test('the firewall table (callHostPorts) is exactly what the call pods bind, and its internal ports are the flows', () => {
    const table = callHostPorts(config);
    for (const role of ['coturn', 'livekit'] as const) {
      const spec = podSpec(findOne(objects, 'DaemonSet', role, role));
      const bound = spec.containers.flatMap((entry: Any) => (entry.ports ?? []).map((port: Any) => `${port.protocol}/${port.containerPort}`)).sort();
      // Ranges (relay, ICE UDP) are bound directly on the host network and are not container ports.
      const single = table.filter((claim) => claim.role === role && claim.start === claim.end).map((claim) => `${claim.protocol}/${claim.start}`).sort();
      expect(bound).toEqual(single);
    }
    expect(table.filter((claim) => claim.exposure === 'internal').map((claim) => [claim.owner, claim.start])).toEqual([
      ['coturn metrics', METRICS_PORTS.coturn],
      ['livekit signal', livekit.signalPort],
      ['livekit metrics', METRICS_PORTS.livekit],
    ]);
    const hostFlows = flows(config).filter((flow) => flow.hostNetwork);
    const fromFlows = hostFlows.flatMap((flow) => flow.ports.map((port) => `${flow.id} ${flow.to.namespace} ${port.port}`)).sort();
    const fromTable = table.flatMap((claim) => (claim.exposure === 'internal' ? [`${claim.reachedFrom}-to-${claim.role} ${claim.role} ${claim.start}`] : [])).sort();
    expect(fromFlows).toEqual(fromTable);
    const edgeProxy = edgeProxyPod(config);
    expect(hostFlows.find((flow) => flow.id === 'edge-to-livekit')?.from).toEqual([{ namespace: config.edge.controller === 'envoy-gateway' ? 'envoy-gateway-system' : 'ingress-nginx', pods: edgeProxy.labels }]);
    // The TURN TLS port is public exactly when TURN over TLS is served.
    expect(table.some((claim) => claim.owner === 'coturn tls' && claim.exposure === 'public')).toBe(turnTlsEnabled(config));
  });

  test('LiveKit config: every emitted key exists in livekit-server v1.13.11 (strict YAML)', () => {
    const unknown = keyPaths(livekitConfig(platform)).filter((path) => !LIVEKIT_KNOWN_KEYS.has(path));
    expect(unknown).toEqual([]);
  });

  test('LiveKit Service for the edge: port named signal on the signal port', () => {
    const service = findOne(objects, 'Service', 'livekit', 'livekit') as Any;
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'signal', port: livekit.signalPort })]);
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'livekit' });
  });

  test('lk-jwt-service: one replica in the matrix namespace, keys from files, full access for our server', () => {
    const deployment = findOne(objects, 'Deployment', 'lk-jwt-service', 'matrix') as Any;
    expect(deployment.spec.replicas).toBe(1);
    const container = deployment.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((entry: Any) => [entry.name, entry.value]));
    expect(env).toMatchObject({
      LIVEKIT_URL: `wss://${platform.hosts.livekit}`,
      LIVEKIT_KEY_FROM_FILE: '/secrets/livekit/api-key',
      LIVEKIT_SECRET_FROM_FILE: '/secrets/livekit/api-secret',
      LIVEKIT_FULL_ACCESS_HOMESERVERS: config.serverName,
    });
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'livekit-keys',
      secret: { secretName: SECRET_NAMES.livekitKeys, defaultMode: 0o440 },
    });
    expect(container.readinessProbe.httpGet.path).toBe('/healthz');
    findOne(objects, 'Service', 'lk-jwt-service', 'matrix');
  });

  test('lk-jwt-service: never two instances (Recreate), moved off a lost node after 30 s, jobs checked against LiveKit', () => {
    const deployment = findOne(objects, 'Deployment', 'lk-jwt-service', 'matrix') as Any;
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const tolerations = deployment.spec.template.spec.tolerations as Any[];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      expect(tolerations).toContainEqual({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS });
    }
    expect(FAST_EVICTION_SECONDS).toBeLessThan(60);
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((entry: Any) => [entry.name, entry]));
    expect(env.LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS.value).toBe(String(LK_JWT_PARTICIPANT_CHECK_SECONDS));
    expect(LK_JWT_PARTICIPANT_CHECK_SECONDS).toBeGreaterThan(0);
  });

  test('lk-jwt-service stores its jobs in the LiveKit Valkey through its master proxy, password only by reference', () => {
    const deployment = findOne(objects, 'Deployment', 'lk-jwt-service', 'matrix') as Any;
    const env = deployment.spec.template.spec.containers[0].env as Any[];
    const names = env.map((entry) => entry.name);
    const url = env.find((entry) => entry.name === 'LIVEKIT_REDIS_URL');
    const password = env.find((entry) => entry.name === 'LK_JWT_REDIS_PASSWORD');
    expect(url.value).toBe(`redis://default:$(LK_JWT_REDIS_PASSWORD)@valkey-master-proxy.redis-livekit.svc.cluster.local:6379/${LK_JWT_REDIS_DATABASE}`);
    // Kubernetes expands $(VAR) only from variables defined earlier in the list.
    expect(names.indexOf('LK_JWT_REDIS_PASSWORD')).toBeLessThan(names.indexOf('LIVEKIT_REDIS_URL'));
    expect(password.valueFrom.secretKeyRef).toEqual({ name: SECRET_NAMES.livekitRedis, key: 'password' });
    // LiveKit keeps database 0 (no redis.db set); lk-jwt-service's hash must not share it.
    expect(LK_JWT_REDIS_DATABASE).not.toBe(0);
    expect(livekitConfig(platform).redis).not.toHaveProperty('db');
    // The proxy exists in the LiveKit Valkey namespace and the Secret copy in lk-jwt-service's namespace.
    findOne(objects, 'Service', LIVEKIT_REDIS_PROXY.name, LIVEKIT_REDIS_PROXY.namespace);
    findOne(objects, 'Deployment', LIVEKIT_REDIS_PROXY.name, LIVEKIT_REDIS_PROXY.namespace);
    expect(secretCatalogue(config).map((spec) => `${spec.namespace}/${spec.name}`)).toContain(`matrix/${SECRET_NAMES.livekitRedis}`);
  });

  test('host ports: coturn and LiveKit never overlap', () => {
    const claims = callHostPorts(config);
    for (const [index, a] of claims.entries()) {
      for (const b of claims.slice(index + 1)) {
        if (a.protocol !== b.protocol) continue;
        expect({ a, b, overlap: a.start <= b.end && b.start <= a.end }).toEqual({ a, b, overlap: false });
      }
    }
  });

  test('discovery: every coturn node in turn_uris, foci in the well-known and Synapse, Element Call on', () => {
    const homeserver = buildHomeserverConfig(platform) as Any;
    expect(homeserver.turn_uris).toEqual(turnUris(platform));
    for (const node of coturn.nodes) {
      const host = node.externalIp.includes(':') ? `[${node.externalIp}]` : node.externalIp;
      for (const transport of ['udp', 'tcp']) expect(homeserver.turn_uris).toContain(`turn:${host}:${coturn.listeningPort}?transport=${transport}`);
    }
    const turns = `turns:${platform.hosts.turn}:${coturn.tlsListeningPort}?transport=tcp`;
    if (turnTlsEnabled(config)) expect(homeserver.turn_uris).toContain(turns);
    else expect(homeserver.turn_uris.filter((uri: string) => uri.startsWith('turns:'))).toEqual([]);
    expect(homeserver.experimental_features).toMatchObject({ msc4143_enabled: true, msc4222_enabled: true });
    expect(homeserver.matrix_rtc).toEqual({ transports: rtcFoci(platform) });
    expect(homeserver.max_event_delay_duration).toBe('24h');
    expect(wellKnownClient(platform)['org.matrix.msc4143.rtc_foci']).toEqual([
      { type: 'livekit', livekit_service_url: `https://${platform.hosts.livekitJwt}` },
    ]);
    expect(elementWebConfig(platform)).toMatchObject({ features: { feature_group_calls: true }, element_call: { brand: 'Element Call' } });
  });

  test('no secret value in any call ConfigMap or env literal', () => {
    const callObjects = objects.filter((object) => ['coturn', 'livekit'].includes(object.metadata?.namespace ?? '') || object.metadata?.name === 'lk-jwt-service');
    for (const configMap of find(callObjects, 'ConfigMap')) {
      expect(JSON.stringify(configMap)).not.toMatch(/static-auth-secret|password|api_key|keys:/i);
    }
    for (const workload of callObjects.filter((object) => ['DaemonSet', 'Deployment'].includes(object.kind))) {
      const spec = podSpec(workload);
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const entry of container.env ?? []) {
          if (entry.value === undefined) continue;
          // Literal values are config (URLs, paths, names) or $(VAR) references to Secret-backed variables.
          expect(entry.value.replace(/\$\([A-Z_]+\)/g, '')).not.toMatch(/[A-Za-z0-9_-]{32,}/);
        }
      }
    }
  });
});

describe('calls switched off', () => {
  const { objects, config } = render({ calls: { enabled: false } });
  const platform = buildPlatform(config);

  test('no coturn, LiveKit or lk-jwt-service object remains', () => {
    const leftovers = objects.filter((object) => {
      const text = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
      return /coturn|livekit|lk-jwt/.test(text) && object.kind !== 'NetworkPolicy';
    });
    expect(leftovers.map((object) => `${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`)).toEqual([]);
  });

  test('no turn_uris, no MatrixRTC settings, no rtc_foci, Element Call off', () => {
    const homeserver = buildHomeserverConfig(platform) as Any;
    expect(homeserver.turn_uris).toBeUndefined();
    expect(homeserver.turn_shared_secret_path).toBeUndefined();
    expect(homeserver.matrix_rtc).toBeUndefined();
    expect(matrixRtcHomeserverSettings(platform)).toEqual({});
    expect(turnUris(platform)).toEqual([]);
    expect(rtcFoci(platform)).toEqual([]);
    expect(wellKnownClient(platform)['org.matrix.msc4143.rtc_foci']).toBeUndefined();
    expect(elementWebConfig(platform)).toMatchObject({ features: { feature_group_calls: false } });
    expect(elementWebConfig(platform).element_call).toBeUndefined();
    // The rendered well-known ConfigMap (edge) carries no foci either.
    expect(JSON.stringify(objects)).not.toContain('rtc_foci');
  });
});

describe('calls config rules', () => {
  test.each([
    ['coturn relay overlapping LiveKit UDP', { calls: { coturn: { relayPorts: { start: 55000, end: 57000 } } } }],
    ['LiveKit signal inside the coturn relay range', { calls: { livekit: { signalPort: 50000 } } }],
    ['a privileged port', { calls: { coturn: { listeningPort: 443 } } }],
    ['a relay range over the coturn metrics port', { calls: { coturn: { relayPorts: { start: 9000, end: 10000 } } } }],
    ['a LiveKit range over the LiveKit metrics port', { calls: { livekit: { rtcUdpPorts: { start: 6000, end: 7000 } } } }],
    ['a node listed twice', { calls: { coturn: { nodes: [{ name: 'a', externalIp: '203.0.113.1' }, { name: 'a', externalIp: '203.0.113.2' }] } } }],
  ])('rejects %s', (_, overrides) => {
    expect(() => configWith(overrides)).toThrow();
  });

  test('the schema knows the metrics ports the charts bind', () => {
    expect(CALL_METRICS_PORTS).toEqual({ livekit: METRICS_PORTS.livekit, coturn: METRICS_PORTS.coturn });
  });

  test('denied peer ranges are IP-IP ranges (coturn has no CIDR) covering the private, loopback, link-local, CGNAT and multicast space', () => {
    expect(cidrToRange('10.0.0.0/8')).toBe('10.0.0.0-10.255.255.255');
    expect(cidrToRange('100.64.0.0/10')).toBe('100.64.0.0-100.127.255.255');
    expect(cidrToRange('fe80::/10')).toBe('fe80:0:0:0:0:0:0:0-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    const conf = coturnConfig(buildPlatform(configWith()));
    const denied = conf.split('\n').filter((line) => line.startsWith('denied-peer-ip='));
    expect(denied).toHaveLength(DENIED_PEER_NETWORKS.length);
    for (const line of denied) expect(line).not.toContain('/');
    for (const range of ['10.0.0.0-10.255.255.255', '172.16.0.0-172.31.255.255', '192.168.0.0-192.168.255.255', '127.0.0.0-127.255.255.255', '169.254.0.0-169.254.255.255', '100.64.0.0-100.127.255.255', '224.0.0.0-239.255.255.255']) {
      expect(denied).toContain(`denied-peer-ip=${range}`);
    }
    expect(denied.some((line) => line.includes('fc00:0:0:0:0:0:0:0-fdff:'))).toBe(true);
    // IPv6 prefixes that carry an IPv4 address (NAT64 local use, Teredo, 6to4) would reach the IPv4 ranges above.
    for (const range of [
      '64:ff9b:1:0:0:0:0:0-64:ff9b:1:ffff:ffff:ffff:ffff:ffff',
      '2001:0:0:0:0:0:0:0-2001:0:ffff:ffff:ffff:ffff:ffff:ffff',
      '2002:0:0:0:0:0:0:0-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]) {
      expect(denied).toContain(`denied-peer-ip=${range}`);
    }
  });
});

describe('TURN over TLS only with a DNS-01 solver for hosts.turn', () => {
  // hosts.turn must resolve to the coturn nodes for TURN-TLS clients, while HTTP-01 would need it on the edge.
  const cases = [
    ['without tls.dns01', render(), false],
    ['with tls.dns01', render(TURN_DNS01), true],
  ] as const;

  test.each(cases)('%s: the certificate, the listener and every advertisement agree', (_, rendered, served) => {
    const { objects, config } = rendered;
    const platform = buildPlatform(config);
    const turnHost = platform.hosts.turn;
    expect(turnTlsEnabled(config)).toBe(served);
    // Synapse and LiveKit advertise TURN over TLS only when coturn can serve it.
    const homeserver = buildHomeserverConfig(platform) as Any;
    expect(homeserver.turn_uris.some((uri: string) => uri.startsWith(`turns:${turnHost}:`))).toBe(served);
    expect(homeserver.turn_uris.filter((uri: string) => uri.startsWith('turn:')).length).toBeGreaterThan(0);
    const livekit = yaml.load((findOne(objects, 'ConfigMap', 'livekit-config', 'livekit') as Any).data['config.yaml']) as Any;
    expect(livekit.rtc.turn_servers.some((server: Any) => server.protocol === 'tls')).toBe(served);
    expect(livekit.rtc.turn_servers.filter((server: Any) => server.protocol === 'udp').length).toBe(config.calls.coturn!.nodes.length);
    // The certificate exists only with a solver that can issue it, and only then does coturn mount it.
    expect(find(objects, 'Certificate', 'coturn-tls', 'coturn')).toHaveLength(served ? 1 : 0);
    const coturnConf: string = (findOne(objects, 'ConfigMap', 'coturn-config', 'coturn') as Any).data['turnserver.conf'];
    expect(/^tls-listening-port=/m.test(coturnConf)).toBe(served);
    expect(/^no-tls$/m.test(coturnConf)).toBe(!served);
    // Said at synth time (main.ts prints callNotices after writing dist/).
    expect(callNotices(config).some((notice) => notice.includes('tls.dns01'))).toBe(!served);
  });
});
