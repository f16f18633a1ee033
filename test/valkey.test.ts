import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildRedisProxyConfig, HAPROXY_PASSWORD_ENV } from '../charts/valkey';
import { sentinelQuorum, valkeyNodeHosts, VALKEY_EXPORTER_PORT } from '../constructs/valkey-sentinel';
import { buildPlatform, sentinelAddresses, SYNAPSE_REDIS_PROXY, VALKEY_LIVEKIT, VALKEY_SYNAPSE } from '../lib/model';
import { alertRuleGroups } from '../lib/model/alert-rules';
import { proxyAuthTemplate } from '../lib/model/endpoints';
import { renderSecretTemplate, secretCatalogue } from '../lib/model/secrets';
import { scrapeTargets } from '../lib/model/metrics';
import { forLocalHaproxy, HAPROXY, withoutStartupResolution } from './haproxy-local';
import { configWith, find, findOne, render } from './helpers';
import { reportSkip } from './support/skips';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function envOf(container: Any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((entry: Any) => entry.value !== undefined).map((entry: Any) => [entry.name, entry.value]));
}

describe('two Valkey Sentinel clusters', () => {
  test('one in redis-synapse and one in redis-livekit, each with data pods and Sentinels', () => {
    const { objects } = render();
    for (const cluster of [VALKEY_SYNAPSE, VALKEY_LIVEKIT]) {
      expect(findOne(objects, 'StatefulSet', cluster.name, cluster.namespace)).toBeDefined();
      expect(findOne(objects, 'StatefulSet', cluster.sentinelService, cluster.namespace)).toBeDefined();
    }
    expect(VALKEY_SYNAPSE.namespace).not.toBe(VALKEY_LIVEKIT.namespace);
  });

  test('LiveKit cluster only when calls are enabled', () => {
    const { objects } = render({ calls: { enabled: false } });
    expect(find(objects, 'StatefulSet', undefined, VALKEY_LIVEKIT.namespace)).toHaveLength(0);
    expect(find(objects, 'StatefulSet', VALKEY_SYNAPSE.name, VALKEY_SYNAPSE.namespace)).toHaveLength(1);
  });

  test('replica and sentinel counts, quorum, general storage class and PDBs follow config', () => {
    const { objects } = render({ valkey: { synapse: { replicas: 5, sentinels: 5, storageSize: '20Gi' } }, storageClasses: { general: 'std-x' } });
    const data = findOne(objects, 'StatefulSet', VALKEY_SYNAPSE.name, VALKEY_SYNAPSE.namespace) as Any;
    const sentinels = findOne(objects, 'StatefulSet', VALKEY_SYNAPSE.sentinelService, VALKEY_SYNAPSE.namespace) as Any;
    expect(data.spec.replicas).toBe(5);
    expect(sentinels.spec.replicas).toBe(5);
    expect(data.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'std-x', resources: { requests: { storage: '20Gi' } } });
    expect(envOf(sentinels.spec.template.spec.containers[0]).SENTINEL_QUORUM).toBe(String(sentinelQuorum(5)));
    expect(sentinelQuorum(5)).toBe(3);
    expect(sentinelQuorum(3)).toBe(2);
    expect(envOf(data.spec.template.spec.containers[0]).VALKEY_NODES.split(' ')).toHaveLength(5);
    for (const name of [VALKEY_SYNAPSE.name, VALKEY_SYNAPSE.sentinelService]) {
      expect(find(objects, 'PodDisruptionBudget', name, VALKEY_SYNAPSE.namespace)).toHaveLength(1);
    }
    // LiveKit's cluster keeps its own defaults.
    expect((findOne(objects, 'StatefulSet', VALKEY_LIVEKIT.name, VALKEY_LIVEKIT.namespace) as Any).spec.replicas).toBe(3);
  });

  test('data pods and Sentinels never share a node', () => {
    const { objects } = render();
    for (const name of [VALKEY_SYNAPSE.name, VALKEY_SYNAPSE.sentinelService]) {
      const set = findOne(objects, 'StatefulSet', name, VALKEY_SYNAPSE.namespace) as Any;
      expect(set.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    }
  });

  test('the password is read from the Secret at start, never written into the ConfigMap', () => {
    const { objects } = render();
    const cm = findOne(objects, 'ConfigMap', 'valkey-config', VALKEY_SYNAPSE.namespace) as Any;
    const text = Object.values(cm.data).join('\n');
    expect(cm.data['valkey.conf']).not.toMatch(/^requirepass/m);
    expect(cm.data['valkey-start.sh']).toMatch(/requirepass/);
    expect(cm.data['valkey-start.sh']).toMatch(/masterauth/);
    expect(cm.data['sentinel-start.sh']).toMatch(/sentinel auth-pass/);
    expect(text).not.toMatch(/password:\s*\S/);
    const data = findOne(objects, 'StatefulSet', VALKEY_SYNAPSE.name, VALKEY_SYNAPSE.namespace) as Any;
    const secretVolume = data.spec.template.spec.volumes.find((volume: Any) => volume.secret);
    expect(secretVolume.secret.secretName).toBe(VALKEY_SYNAPSE.passwordSecret);
    const run = data.spec.template.spec.volumes.find((volume: Any) => volume.name === 'run');
    expect(run.emptyDir.medium).toBe('Memory');
  });

  test('start-up: ask the Sentinels first, pod 0 is master only when nobody knows one', () => {
    const cm = findOne(render().objects, 'ConfigMap', 'valkey-config', VALKEY_SYNAPSE.namespace) as Any;
    const start = cm.data['valkey-start.sh'] as string;
    const lib = cm.data['valkey-lib.sh'] as string;
    expect(start.startsWith('#!/bin/sh')).toBe(true);
    expect(lib).toMatch(/SENTINEL get-master-addr-by-name/);
    expect(lib.indexOf('sentinel_master)')).toBeLessThan(lib.indexOf('node_master)'));
    expect(start).toMatch(/elif is_self "\$VALKEY_BOOTSTRAP_HOST" "\$VALKEY_BOOTSTRAP_PORT"/);
    expect(start).toMatch(/replicaof/);
    expect(cm.data['sentinel.conf']).toMatch(/sentinel resolve-hostnames yes/);
    expect(cm.data['sentinel.conf']).toMatch(/sentinel announce-hostnames yes/);
    for (const line of ['sentinel monitor', 'sentinel down-after-milliseconds', 'sentinel failover-timeout']) {
      expect(cm.data['sentinel-start.sh']).toContain(line);
    }
    expect(cm.data['valkey.conf']).toMatch(/^appendonly yes$/m);
  });

  test('Sentinels require the data password: script, probes and exporter authenticate', () => {
    const { objects } = render();
    for (const cluster of [VALKEY_SYNAPSE, VALKEY_LIVEKIT]) {
      // One password for both: data pods and Sentinels mount the same Secret.
      const secretsOf = (name: string) =>
        ((findOne(objects, 'StatefulSet', name, cluster.namespace) as Any).spec.template.spec.volumes as Any[]).filter((volume) => volume.secret).map((volume) => volume.secret.secretName);
      expect(secretsOf(cluster.sentinelService)).toEqual(secretsOf(cluster.name));
      expect(secretsOf(cluster.name)).toContain(cluster.passwordSecret);
      const cm = findOne(objects, 'ConfigMap', 'valkey-config', cluster.namespace) as Any;
      expect(cm.data['sentinel-start.sh']).toContain(`printf 'requirepass "%s"\\n' "$VALKEY_PASSWORD"`);
      expect(cm.data['sentinel.conf']).not.toMatch(/^requirepass/m);
      expect(cm.data['valkey-lib.sh']).toMatch(/sentinel_cli\(\) \{\n  authed_cli "\$@"/);
      const sentinels = findOne(objects, 'StatefulSet', cluster.sentinelService, cluster.namespace) as Any;
      const [sentinel, exporter] = sentinels.spec.template.spec.containers;
      for (const probe of [sentinel.livenessProbe, sentinel.readinessProbe]) expect(probe.exec.command.join(' ')).toMatch(/REDISCLI_AUTH=/);
      // The password file (JSON by target URI) comes from the same Secret: test/secret-files.test.ts.
      const passwordFile = exporter.env.find((entry: Any) => entry.name === 'REDIS_PASSWORD_FILE');
      expect(passwordFile.value).toMatch(new RegExp(`/${cluster.exporterPasswordsKey}$`));
    }
  });

  test('a master without any replica in sync stops accepting writes (min-replicas-to-write)', () => {
    const cm = findOne(render().objects, 'ConfigMap', 'valkey-config', VALKEY_SYNAPSE.namespace) as Any;
    expect(cm.data['valkey.conf']).toMatch(/^min-replicas-to-write 1$/m);
    expect(cm.data['valkey.conf']).toMatch(/^min-replicas-max-lag 10$/m);
    // So a master without replicas is an outage of writes, alerted as such.
    const rule = alertRuleGroups(buildPlatform(configWith())).flatMap((group) => group.rules).find((candidate) => candidate.alert === 'ValkeyMasterWithoutReplicas');
    expect(rule).toMatchObject({ severity: 'critical', for: '2m' });
    expect(rule!.description).toMatch(/refuses writes/);
  });

  test('every LiveKit consumer of the Sentinels also gets the Sentinel password', () => {
    // The calls chart renders LiveKit; whatever form its config takes, a workload or ConfigMap in
    // the LiveKit namespace naming the Sentinels must also carry the Sentinel password.
    const { objects } = render();
    const livekitObjects = (objects as Any[]).filter((object) => object.metadata?.namespace === 'livekit');
    const text = (object: Any) => JSON.stringify(object);
    const consumers = livekitObjects.filter((object) => text(object).includes(VALKEY_LIVEKIT.sentinelService));
    const withPassword = livekitObjects.filter((object) => /LIVEKIT_REDIS_SENTINEL_PASSWORD|sentinel_password/.test(text(object)));
    expect(consumers.length).toBeGreaterThan(0);
    expect(withPassword.length).toBeGreaterThan(0);
  });

  test('scripts are POSIX sh (dash -n)', () => {
    if (!existsSync('/usr/bin/dash')) {
      reportSkip('dash -n on the Valkey start-up scripts', '/usr/bin/dash not found');
      return;
    }
    const cm = findOne(render().objects, 'ConfigMap', 'valkey-config', VALKEY_SYNAPSE.namespace) as Any;
    const dir = mkdtempSync(path.join(tmpdir(), 'valkey-'));
    for (const name of ['valkey-lib.sh', 'valkey-start.sh', 'sentinel-start.sh']) {
      const file = path.join(dir, name);
      writeFileSync(file, cm.data[name]);
      execFileSync('/usr/bin/dash', ['-n', file]);
    }
  });

  test('a redis_exporter sidecar on every pod, matched by the scrape target of the metrics model', () => {
    const { objects, config } = render();
    const targets = scrapeTargets(buildPlatform(config));
    for (const cluster of [VALKEY_SYNAPSE, VALKEY_LIVEKIT]) {
      const target = targets.find((candidate) => candidate.namespace === cluster.namespace && candidate.port === VALKEY_EXPORTER_PORT);
      expect(target).toBeDefined();
      for (const name of [cluster.name, cluster.sentinelService]) {
        const pod = (findOne(objects, 'StatefulSet', name, cluster.namespace) as Any).spec.template;
        expect(matches(target!.selector, pod.metadata.labels)).toBe(true);
        const ports = pod.spec.containers.flatMap((container: Any) => (container.ports ?? []).map((port: Any) => port.containerPort));
        expect(ports).toContain(VALKEY_EXPORTER_PORT);
      }
    }
  });

  test('LiveKit gets the Sentinel addresses of its own cluster, which are real pod names', () => {
    const { objects, config } = render();
    const sentinels = findOne(objects, 'StatefulSet', VALKEY_LIVEKIT.sentinelService, VALKEY_LIVEKIT.namespace) as Any;
    const addresses = sentinelAddresses(VALKEY_LIVEKIT, config.valkey.livekit.sentinels);
    expect(addresses).toHaveLength(sentinels.spec.replicas);
    expect(envOf(sentinels.spec.template.spec.containers[0]).SENTINEL_ADDRESSES.split(' ')).toEqual(addresses);
  });
});

describe('Synapse Redis proxy (HAProxy)', () => {
  test('Synapse reaches Redis only through the HAProxy Service, which never selects a Valkey pod', () => {
    const { objects } = render();
    const proxyService = findOne(objects, 'Service', SYNAPSE_REDIS_PROXY.name, SYNAPSE_REDIS_PROXY.namespace) as Any;
    const proxy = findOne(objects, 'Deployment', SYNAPSE_REDIS_PROXY.name, SYNAPSE_REDIS_PROXY.namespace) as Any;
    expect(matches(proxyService.spec.selector, proxy.spec.template.metadata.labels)).toBe(true);
    for (const set of find(objects, 'StatefulSet', undefined, VALKEY_SYNAPSE.namespace) as Any[]) {
      expect(matches(proxyService.spec.selector, set.spec.template.metadata.labels)).toBe(false);
    }
    expect(SYNAPSE_REDIS_PROXY.host).toBe(`${SYNAPSE_REDIS_PROXY.name}.${VALKEY_SYNAPSE.namespace}.svc.cluster.local`);
    // Synapse's generated config (if rendered) points at the proxy.
    const synapseConfigs = find(objects, 'ConfigMap', undefined, 'matrix').map((cm: Any) => Object.values(cm.data ?? {}).join('\n'));
    const withRedis = synapseConfigs.filter((text) => /redis:/.test(text) && /host:/.test(text));
    for (const text of withRedis) expect(text).not.toMatch(/valkey-headless|valkey-\d\./);
  });

  test('replicas, PDB and password from the Secret through a file haproxy reads before its config', () => {
    const { objects } = render({ valkey: { haproxyReplicas: 3 } });
    const proxy = findOne(objects, 'Deployment', SYNAPSE_REDIS_PROXY.name, SYNAPSE_REDIS_PROXY.namespace) as Any;
    expect(proxy.spec.replicas).toBe(3);
    expect(find(objects, 'PodDisruptionBudget', SYNAPSE_REDIS_PROXY.name, SYNAPSE_REDIS_PROXY.namespace)).toHaveLength(1);
    const container = proxy.spec.template.spec.containers[0];
    expect(container.env).toBeUndefined();
    const files = container.command.filter((_: string, index: number) => container.command[index - 1] === '-f');
    expect(files).toEqual([`/secrets/haproxy/${VALKEY_SYNAPSE.proxyAuthKey}`, '/usr/local/etc/haproxy/haproxy.cfg']);
    const auth = proxy.spec.template.spec.volumes.find((volume: Any) => volume.name === 'auth');
    expect(auth.secret).toEqual({ secretName: VALKEY_SYNAPSE.passwordSecret, defaultMode: 0o440, items: [{ key: VALKEY_SYNAPSE.proxyAuthKey, path: VALKEY_SYNAPSE.proxyAuthKey }] });
    const spec = secretCatalogue(configWith()).find((candidate) => candidate.name === VALKEY_SYNAPSE.passwordSecret && candidate.namespace === VALKEY_SYNAPSE.namespace);
    expect(renderSecretTemplate(spec?.templates?.[VALKEY_SYNAPSE.proxyAuthKey] ?? '', { 'valkey-synapse-password': 'pw' })).toBe(`global\n    setenv ${HAPROXY_PASSWORD_ENV} "pw"\n`);
  });

  test('haproxy.cfg: TCP mode, one checked server per Valkey pod, AUTH + INFO replication expecting role:master', () => {
    const config = configWith({ valkey: { synapse: { replicas: 5 } } });
    const { objects } = render({ valkey: { synapse: { replicas: 5 } } });
    const cfg = (findOne(objects, 'ConfigMap', `${SYNAPSE_REDIS_PROXY.name}-config`, SYNAPSE_REDIS_PROXY.namespace) as Any).data['haproxy.cfg'] as string;
    expect(cfg).toMatch(/^\s+mode tcp$/m);
    expect(cfg).toContain('tcp-check send "AUTH ${VALKEY_PASSWORD}\\r\\n"');
    expect(cfg).toContain('tcp-check send "INFO replication\\r\\n"');
    expect(cfg).toContain('tcp-check expect string role:master');
    const servers = cfg.match(/^\s+server valkey-\d+ (\S+) init-state down$/gm) ?? [];
    expect(servers).toHaveLength(config.valkey.synapse.replicas);
    for (const host of valkeyNodeHosts(VALKEY_SYNAPSE, 5)) expect(cfg).toContain(`${host}:${VALKEY_SYNAPSE.port}`);
    expect(cfg).not.toMatch(/requirepass|AUTH [^$]/);
  });

  test('haproxy -c accepts the generated config after the password file', () => {
    if (!existsSync(HAPROXY)) {
      reportSkip('haproxy -c on the Redis proxy config', `${HAPROXY} not found (apt-get install haproxy)`);
      return;
    }
    for (const replicas of [3, 5]) {
      const dir = mkdtempSync(path.join(tmpdir(), 'redis-proxy-'));
      const file = path.join(dir, 'haproxy.cfg');
      writeFileSync(file, withoutStartupResolution(forLocalHaproxy(buildRedisProxyConfig(valkeyNodeHosts(VALKEY_SYNAPSE, replicas), VALKEY_SYNAPSE.port, SYNAPSE_REDIS_PROXY.port))));
      const auth = path.join(dir, VALKEY_SYNAPSE.proxyAuthKey);
      writeFileSync(auth, proxyAuthTemplate('not-a-secret').replace('{{not-a-secret}}', 'not-a-secret'));
      const output = execFileSync(HAPROXY, ['-c', '-f', auth, '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(output).toMatch(/Configuration file is valid/);
    }
  });
});
