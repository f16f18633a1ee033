import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildRedisProxyConfig, HAPROXY_PASSWORD_ENV } from '../charts/valkey';
import { SENTINEL_CONF, SENTINEL_START_SH, VALKEY_LIB_SH, VALKEY_START_SH, valkeyConf } from '../constructs/valkey-sentinel';
import { lkJwtRedisUrl } from '../charts/livekit';
import { LIVEKIT_REDIS_PROXY, LK_JWT_REDIS_DATABASE, SYNAPSE_REDIS_PROXY, VALKEY_SYNAPSE } from '../lib/model';
import { proxyAuthTemplate } from '../lib/model/endpoints';
import { renderSecretTemplate } from '../lib/model/secrets';
import { forLocalHaproxy, HAPROXY } from './haproxy-local';
import { waitFor } from './loopback';
import { METRICS_PORTS } from '../lib/model/metrics';
import { reportSkip } from './support/skips';

/**
 * The generated start-up scripts, run for real on loopback: three data nodes on 127.0.0.1-3 and
 * three Sentinels, each started exactly as in the pods (same scripts, same config template; only
 * the bind address differs so that the nodes can share one port, as pods do). The Synapse Redis
 * proxy (HAProxy with the generated config) runs in front of them.
 *
 * Proves: bootstrap (pod 0 master, others replicas), Sentinel auth, Sentinel failover after the
 * master is killed, the restarted former master rejoining as a replica (never a second master),
 * HAProxy routing to whichever node is master, and lk-jwt-service's Redis URL working through it. Needs redis-server/redis-cli (Debian package
 * redis-server) and haproxy; skipped loudly without them. Takes about 6 s.
 */

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
const missing = [REDIS_SERVER, REDIS_CLI, HAPROXY].filter((binary) => !existsSync(binary));
const PASSWORD = 'loopback-test-password';
const MASTER_NAME = 'valkey-master';
// Ports derived from the pid so parallel runs on one machine do not collide.
const BASE = 21000 + (process.pid % 400) * 10;
const NODE_PORT = BASE;
const SENTINEL_PORTS = [BASE + 1, BASE + 2, BASE + 3];
const PROXY_PORT = BASE + 4;
const PROXY_STATUS_PORT = BASE + 5;
const NODE_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

function cli(host: string, port: number, args: string[], password: string | null = PASSWORD): string {
  try {
    return execFileSync(REDIS_CLI, ['-h', host, '-p', String(port), '--raw', ...args], {
      encoding: 'utf8',
      timeout: 2000,
      env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (error) {
    return `ERROR ${String((error as { stdout?: string }).stdout ?? error)}`;
  }
}

function role(host: string): string {
  return /role:(\w+)/.exec(cli(host, NODE_PORT, ['INFO', 'replication']))?.[1] ?? 'down';
}

(missing.length > 0 ? describe.skip : describe)('Valkey start-up scripts on loopback (failover and rejoin)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'valkey-failover-'));
  const processes: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    VALKEY_PASSWORD_FILE: path.join(dir, 'password'),
    VALKEY_MASTER_NAME: MASTER_NAME,
    VALKEY_PORT: String(NODE_PORT),
    VALKEY_BOOTSTRAP_HOST: NODE_HOSTS[0],
    VALKEY_BOOTSTRAP_PORT: String(NODE_PORT),
    VALKEY_NODES: NODE_HOSTS.map((host) => `${host}:${NODE_PORT}`).join(' '),
    SENTINEL_ADDRESSES: SENTINEL_PORTS.map((port) => `127.0.0.1:${port}`).join(' '),
    VALKEY_SERVER: REDIS_SERVER,
    VALKEY_CLI: REDIS_CLI,
    CLI_TIMEOUT: '1',
    DISCOVERY_ATTEMPTS: '1',
    SENTINEL_QUORUM: '2',
    SENTINEL_DOWN_AFTER_MS: '1000',
    SENTINEL_FAILOVER_TIMEOUT_MS: '3000',
  };

  function start(name: string, script: string, extra: Record<string, string>): ChildProcess {
    const child = spawn('/bin/sh', [path.join(dir, script)], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    logs.set(name, '');
    const append = (chunk: Buffer) => logs.set(name, `${logs.get(name)}${chunk.toString()}`);
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    processes.push(child);
    return child;
  }

  function startNode(index: number): ChildProcess {
    const host = NODE_HOSTS[index];
    const run = path.join(dir, `node${index}-run`);
    const data = path.join(dir, `node${index}-data`);
    mkdirSync(run, { recursive: true });
    mkdirSync(data, { recursive: true });
    const template = path.join(dir, `node${index}.conf`);
    // The generated template with a loopback bind address (pods bind every address of their own IP)
    // and no 5 s wait before a diskless full sync (test timing only, like the Sentinel timeouts).
    writeFileSync(template, `${valkeyConf('256Mi').replace('bind * -::*', `bind ${host}`)}repl-diskless-sync-delay 0\n`);
    return start(`node${index}`, 'valkey-start.sh', {
      VALKEY_ANNOUNCE_HOST: host,
      VALKEY_CONFIG_TEMPLATE: template,
      VALKEY_RUN_DIR: run,
      VALKEY_DATA_DIR: data,
    });
  }

  function startSentinel(index: number): ChildProcess {
    const run = path.join(dir, `sentinel${index}-run`);
    mkdirSync(run, { recursive: true });
    const template = path.join(dir, 'sentinel.conf');
    writeFileSync(template, SENTINEL_CONF.replace('bind * -::*', 'bind 127.0.0.1'));
    return start(`sentinel${index}`, 'sentinel-start.sh', {
      SENTINEL_PORT: String(SENTINEL_PORTS[index]),
      SENTINEL_ANNOUNCE_HOST: '127.0.0.1',
      VALKEY_CONFIG_TEMPLATE: template,
      VALKEY_RUN_DIR: run,
    });
  }

  const masterBySentinel = (port: number) => cli('127.0.0.1', port, ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME]).split('\n')[0];

  beforeAll(() => {
    writeFileSync(path.join(dir, 'password'), PASSWORD, { mode: 0o600 });
    writeFileSync(path.join(dir, 'valkey-lib.sh'), VALKEY_LIB_SH);
    writeFileSync(path.join(dir, 'valkey-start.sh'), VALKEY_START_SH);
    writeFileSync(path.join(dir, 'sentinel-start.sh'), SENTINEL_START_SH);
  });

  afterAll(() => {
    for (const child of processes) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('bootstrap, failover, the former master rejoins as a replica, HAProxy follows the master', async () => {
    try {
      // Bootstrap: pod 0 first (OrderedReady), then the replicas, then the Sentinels.
      startNode(0);
      await waitFor('node 0', () => role(NODE_HOSTS[0]) === 'master', 3000);
      startNode(1);
      startNode(2);
      await waitFor('replicas in sync', () => [1, 2].every((index) => /master_link_status:up/.test(cli(NODE_HOSTS[index], NODE_PORT, ['INFO', 'replication']))), 4000);
      SENTINEL_PORTS.forEach((_, index) => startSentinel(index));
      await waitFor('Sentinels monitoring node 0', () => SENTINEL_PORTS.every((port) => masterBySentinel(port) === NODE_HOSTS[0]), 4000);

      // Sentinels require the password; the data nodes too.
      expect(cli('127.0.0.1', SENTINEL_PORTS[0], ['SENTINEL', 'masters'], null)).toMatch(/NOAUTH/);
      expect(cli(NODE_HOSTS[0], NODE_PORT, ['PING'], null)).toMatch(/NOAUTH/);
      expect(cli(NODE_HOSTS[0], NODE_PORT, ['SET', 'probe', 'before-failover'])).toBe('OK');

      // The Synapse Redis proxy, generated config, on loopback ports.
      const proxyConfig = forLocalHaproxy(buildRedisProxyConfig(NODE_HOSTS, NODE_PORT, SYNAPSE_REDIS_PROXY.port))
        .replace(`bind :${SYNAPSE_REDIS_PROXY.port}`, `bind 127.0.0.1:${PROXY_PORT}`)
        .replace(`bind :${METRICS_PORTS.haproxy}`, `bind 127.0.0.1:${PROXY_STATUS_PORT}`)
        .replace('    log stdout format raw local0 info\n', '');
      writeFileSync(path.join(dir, 'haproxy.cfg'), proxyConfig);
      // The password as the pod gets it: the catalogue's password file, read before haproxy.cfg.
      const authFile = path.join(dir, VALKEY_SYNAPSE.proxyAuthKey);
      writeFileSync(authFile, renderSecretTemplate(proxyAuthTemplate('valkey-synapse-password'), { 'valkey-synapse-password': PASSWORD }));
      const { [HAPROXY_PASSWORD_ENV]: _unset, ...environment } = process.env;
      const haproxy = spawn(HAPROXY, ['-db', '-f', authFile, '-f', path.join(dir, 'haproxy.cfg')], { env: environment, stdio: 'ignore' });
      processes.push(haproxy);
      const viaProxy = () => /role:(\w+)/.exec(cli('127.0.0.1', PROXY_PORT, ['INFO', 'replication']))?.[1];
      // Exactly one server UP (the master), as the proxy's own metrics say.
      const activeServers = async () => {
        try {
          const text = await (await fetch(`http://127.0.0.1:${PROXY_STATUS_PORT}/metrics`)).text();
          return /^haproxy_backend_active_servers\{proxy="valkey-master"\} (\d+)/m.exec(text)?.[1];
        } catch {
          return undefined;
        }
      };
      await waitFor('the proxy to see exactly the master', async () => (await activeServers()) === '1', 5000);
      // Every new connection lands on the master (round robin would show a replica among several).
      for (let attempt = 0; attempt < 6; attempt += 1) expect(viaProxy()).toBe('master');
      expect(cli('127.0.0.1', PROXY_PORT, ['GET', 'probe'])).toBe('before-failover');

      // Kill the master; the Sentinels promote a replica.
      processes[0].kill('SIGKILL');
      await waitFor('failover', () => [1, 2].map((index) => NODE_HOSTS[index]).includes(masterBySentinel(SENTINEL_PORTS[0])), 8000);
      const promoted = masterBySentinel(SENTINEL_PORTS[0]);
      await waitFor('promoted node is master', () => role(promoted) === 'master', 3000);

      // The former master restarts with the same script: it asks the Sentinels and joins the new master.
      startNode(0);
      await waitFor('former master replicating', () => /master_link_status:up/.test(cli(NODE_HOSTS[0], NODE_PORT, ['INFO', 'replication'])), 4000);
      // Its output arrives through a pipe, possibly after the replication check above succeeded.
      const rejoined = `starting as a replica of ${promoted}:${NODE_PORT} (the Sentinels)`;
      await waitFor('the restart log', () => (logs.get('node0') ?? '').includes(rejoined), 2000).catch(() => undefined);
      expect(logs.get('node0')).toContain(rejoined);
      const replication = cli(NODE_HOSTS[0], NODE_PORT, ['INFO', 'replication']);
      expect(replication).toMatch(/role:slave/);
      expect(replication).toContain(`master_host:${promoted}`);
      expect(NODE_HOSTS.map(role).filter((value) => value === 'master')).toEqual(['master']);
      expect(cli(NODE_HOSTS[0], NODE_PORT, ['GET', 'probe'])).toBe('before-failover');

      // Synapse's only address now leads to the new master, and writes go through.
      await waitFor('the proxy to follow the failover', async () => (await activeServers()) === '1' && viaProxy() === 'master', 5000);
      expect(cli('127.0.0.1', PROXY_PORT, ['SET', 'probe', 'after-failover'])).toBe('OK');
      expect(cli(promoted, NODE_PORT, ['GET', 'probe'])).toBe('after-failover');

      // lk-jwt-service's Redis URL as its pod receives it (Kubernetes expands $(VAR) from the Secret),
      // pointed at this proxy: a real client authenticates with it and writes into its own database.
      const url = lkJwtRedisUrl()
        .replace(/\$\((\w+)\)/, PASSWORD)
        .replace(`${LIVEKIT_REDIS_PROXY.host}:${LIVEKIT_REDIS_PROXY.port}`, `127.0.0.1:${PROXY_PORT}`);
      expect(url).toBe(`redis://default:${PASSWORD}@127.0.0.1:${PROXY_PORT}/${LK_JWT_REDIS_DATABASE}`);
      const viaUrl = execFileSync(REDIS_CLI, ['-u', url, '--no-auth-warning', '--raw', 'HSET', 'lk-jwt:jobs', 'job', 'stored'], { encoding: 'utf8', timeout: 2000 });
      expect(viaUrl.trim()).toBe('1');
      expect(cli(promoted, NODE_PORT, ['-n', String(LK_JWT_REDIS_DATABASE), 'HGET', 'lk-jwt:jobs', 'job'])).toBe('stored');
      expect(cli(promoted, NODE_PORT, ['-n', '0', 'EXISTS', 'lk-jwt:jobs'])).toBe('0');
    } catch (error) {
      for (const [name, log] of logs) console.log(`--- ${name}\n${log.slice(-2000)}`);
      throw error;
    }
  }, 30000);
});

if (missing.length > 0) {
  test('Valkey loopback failover test prerequisites', () => {
    reportSkip('Valkey Sentinel failover on loopback', `needs ${missing.join(', ')} (apt-get install redis-server haproxy)`);
  });
}
