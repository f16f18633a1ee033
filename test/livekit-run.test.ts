import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { SECRET_NAMES } from '../lib/model';
import * as net from 'node:net';
import { LIVEKIT_PATHS, livekitArgs, NODE_INTERNAL_IP_ENV } from '../lib/model/calls';
import { images } from '../lib/versions';
import { findOne, render } from './helpers';
import { freePort, waitFor } from './loopback';
import { reportSkip } from './support/skips';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/**
 * The real livekit-server (the pinned version, built by scripts/build-livekit.sh) loads the generated
 * config.yaml with the environment of the rendered DaemonSet (Kubernetes $(VAR) expansion, Secret
 * values made up here), finds its master through a password-protected Sentinel on loopback and serves
 * GET / on the signal port. It also refuses the same config with a planted unknown key, and without
 * the Sentinel password that the DaemonSet passes.
 *
 * Rewrites of the rendered config, and why (values only, every key stays): the Sentinel addresses
 * become the loopback Sentinel; the signal, ICE TCP, metrics and ICE UDP ports become free high
 * ports; secret_file points at a file here. calls.livekit.useExternalIp is false in the rendered
 * config (a supported setting) so the server never sends a STUN request off this machine; the
 * downward API's status.hostIP (NODE_IP and the bind address) is 127.0.0.2 as the node's internal
 * address, so a listener on every interface would also answer on 127.0.0.1 and is told apart.
 */
const NODE_INTERNAL_IP = '127.0.0.2';
const OTHER_LOCAL_ADDRESS = '127.0.0.1';

/** The DaemonSet's args with $(VAR) expanded from the container environment, as the kubelet does. */
function expandArgs(args: string[], env: Record<string, string>): string[] {
  return args.map((arg) => arg.replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole));
}

/** True when a TCP connection to address:port is accepted. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(2000, () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

const BINARY = path.join(process.env.MATRIX_IT_CACHE ?? '/var/cache/matrix-platform-it', `livekit-server-${images.livekit.tag}`);
const REDIS_SERVER = '/usr/bin/redis-server';
const missing = [BINARY, REDIS_SERVER].filter((file) => !existsSync(file));
if (missing.length > 0) {
  reportSkip('livekit-run (livekit-server loads the generated config)', `missing ${missing.join(', ')} (bash scripts/build-livekit.sh; apt-get install redis-server)`);
}
const describeIfLivekit = missing.length === 0 ? describe : describe.skip;

const PASSWORD = 'loopback-sentinel-password';
const API_KEY = 'APIloopback';
const API_SECRET = 'loopback-api-secret-at-least-32-characters';

interface Run {
  readonly process: ChildProcess;
  readonly log: () => string;
  readonly exited: Promise<number | null>;
}

function start(binary: string, args: string[], env: Record<string, string>): Run {
  let log = '';
  const child = spawn(binary, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, log: () => log, exited };
}

/** The container environment as Kubernetes builds it: literal values with $(VAR) expanded from earlier entries, Secret keys from `secrets`. */
function containerEnvironment(container: Any, secrets: Record<string, Record<string, string>>, fields: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env as Any[]) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value).replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole);
    else if (entry.valueFrom?.secretKeyRef) env[entry.name] = secrets[entry.valueFrom.secretKeyRef.name][entry.valueFrom.secretKeyRef.key];
    else if (entry.valueFrom?.fieldRef) env[entry.name] = fields[entry.valueFrom.fieldRef.fieldPath];
  }
  return env;
}

describeIfLivekit(`livekit-server ${images.livekit.tag} runs the generated config`, () => {
  const { objects } = render({ calls: { livekit: { useExternalIp: false } } });
  const daemonSet = findOne(objects, 'DaemonSet', 'livekit', 'livekit') as Any;
  const container = daemonSet.spec.template.spec.containers[0];
  const rendered = yaml.load((findOne(objects, 'ConfigMap', 'livekit-config', 'livekit') as Any).data['config.yaml']) as Any;
  let work: string;
  const runs: ChildProcess[] = [];
  let configFile: string;
  let signalPort: number;
  let metricsPort: number;
  let environment: Record<string, string>;
  let serverArgs: string[];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'livekit-run-'));
    const [redisPort, sentinelPort] = [await freePort(), await freePort()];
    const redis = start(REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--save', '', '--dir', work], {});
    runs.push(redis.process);
    const sentinelConf = path.join(work, 'sentinel.conf');
    writeFileSync(
      sentinelConf,
      [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${work}`, `sentinel monitor ${rendered.redis.sentinel_master_name} 127.0.0.1 ${redisPort} 1`, `sentinel auth-pass ${rendered.redis.sentinel_master_name} ${PASSWORD}`, `requirepass ${PASSWORD}`, ''].join('\n'),
    );
    const sentinel = start(REDIS_SERVER, [sentinelConf, '--sentinel'], {});
    runs.push(sentinel.process);
    await waitFor('the Sentinel', async () => /monitor master/.test(sentinel.log()) || /\+monitor/.test(sentinel.log()), 10_000);

    const turnSecret = path.join(work, 'turn-secret');
    writeFileSync(turnSecret, 'loopback-turn-secret', { mode: 0o440 });
    signalPort = await freePort();
    // ICE UDP ports below both the ephemeral range and the other tests' ports.
    const udpStart = 20000 + (signalPort % 900);
    const config = structuredClone(rendered);
    config.port = signalPort;
    metricsPort = await freePort();
    config.prometheus.port = metricsPort;
    config.rtc.tcp_port = await freePort();
    config.rtc.port_range_start = udpStart;
    config.rtc.port_range_end = udpStart + 20;
    config.redis.sentinel_addresses = [`127.0.0.1:${sentinelPort}`];
    expect(config.key_file).toBe(LIVEKIT_PATHS.keyFile);
    config.key_file = path.join(work, 'keys.yaml');
    writeFileSync(config.key_file, `${API_KEY}: ${API_SECRET}\n`, { mode: 0o440 });
    for (const server of config.rtc.turn_servers) {
      expect(server.secret_file).toBe(LIVEKIT_PATHS.turnSecret);
      server.secret_file = turnSecret;
    }
    configFile = path.join(work, 'config.yaml');
    writeFileSync(configFile, yaml.dump(config));
    environment = containerEnvironment(
      container,
      { [SECRET_NAMES.livekitKeys]: { 'api-key': API_KEY, 'api-secret': API_SECRET }, [SECRET_NAMES.livekitRedis]: { password: PASSWORD } },
      { 'status.hostIP': NODE_INTERNAL_IP },
    );
    // The rendered args, only the config path moved here.
    serverArgs = expandArgs(container.args, environment).map((arg) => (arg === LIVEKIT_PATHS.config ? configFile : arg));
  }, 30_000);

  afterAll(async () => {
    for (const child of runs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the DaemonSet environment gives the webhook key and both Redis passwords, never the API secret', () => {
    expect(environment.LIVEKIT_KEYS).toBeUndefined();
    expect(Object.values(environment)).not.toContain(API_SECRET);
    expect(environment.LIVEKIT_WEBHOOK_API_KEY).toBe(API_KEY);
    expect(environment.LIVEKIT_REDIS_PASSWORD).toBe(PASSWORD);
    expect(environment.LIVEKIT_REDIS_SENTINEL_PASSWORD).toBe(PASSWORD);
    expect(environment.NODE_IP).toBe(NODE_INTERNAL_IP);
    expect(environment[NODE_INTERNAL_IP_ENV]).toBe(NODE_INTERNAL_IP);
    expect(container.args).toEqual(livekitArgs());
    expect(serverArgs).toEqual(['--config', configFile, '--bind', NODE_INTERNAL_IP]);
  });

  test('it parses the config, finds the master through the Sentinel, and serves signalling and metrics on the node internal address only', async () => {
    const server = start(BINARY, serverArgs, environment);
    runs.push(server.process);
    // Each request gives up after 2 s, so a slow start cannot stall the wait.
    try {
      await waitFor('GET / on the signal port', async () => {
        try {
          return (await fetch(`http://${NODE_INTERNAL_IP}:${signalPort}/`, { signal: AbortSignal.timeout(2000) })).status === 200;
        } catch {
          return false;
        }
      }, 20_000);
    } catch (error) {
      console.log(server.log().slice(-3000));
      throw error;
    }
    expect(server.log()).toMatch(/"msg":"connecting to redis","sentinel":true/);
    expect(server.log()).toMatch(/"msg":"starting LiveKit server"/);
    expect(server.log()).toContain(`"bindAddresses":["${NODE_INTERNAL_IP}"]`);
    // Metrics answer on the internal address; neither listener answers on another local address
    // (a 0.0.0.0 listener would: every 127/8 address reaches it).
    const metrics = await fetch(`http://${NODE_INTERNAL_IP}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^livekit_/m);
    expect(await accepts(OTHER_LOCAL_ADDRESS, signalPort)).toBe(false);
    expect(await accepts(OTHER_LOCAL_ADDRESS, metricsPort)).toBe(false);
    // Not SIGTERM: LiveKit then drains gracefully, which can take long right after start (the pod's
    // 900 s grace period is for that); how it stops is not what this test checks.
    server.process.kill('SIGKILL');
    await server.exited;
  }, 40_000);

  test('a planted unknown key stops it: the server decodes its config strictly', async () => {
    const planted = path.join(work, 'planted.yaml');
    writeFileSync(planted, yaml.dump({ ...(yaml.load(readFileSync(configFile, 'utf8')) as object), room_typo: {} }));
    const server = start(BINARY, serverArgs.map((arg) => (arg === configFile ? planted : arg)), environment);
    runs.push(server.process);
    expect(await server.exited).not.toBe(0);
    expect(server.log()).toMatch(/could not parse config[\s\S]*field room_typo not found/);
  }, 20_000);

  test('a key_file readable by others stops it (why the Secret volume has mode 0440)', async () => {
    const config = yaml.load(readFileSync(configFile, 'utf8')) as Any;
    const readable = path.join(work, 'keys-readable.yaml');
    writeFileSync(readable, `${API_KEY}: ${API_SECRET}\n`, { mode: 0o444 });
    chmodSync(readable, 0o444);
    const planted = path.join(work, 'planted-keys.yaml');
    writeFileSync(planted, yaml.dump({ ...config, key_file: readable }));
    const server = start(BINARY, ['--config', planted], environment);
    runs.push(server.process);
    expect(await server.exited).not.toBe(0);
    expect(server.log()).toMatch(/key file others permissions must be set to 0/);
  }, 20_000);

  test('without the Sentinel password the DaemonSet passes, it cannot find the master', async () => {
    const { LIVEKIT_REDIS_SENTINEL_PASSWORD: _dropped, ...withoutSentinelPassword } = environment;
    const server = start(BINARY, serverArgs, withoutSentinelPassword);
    runs.push(server.process);
    expect(await server.exited).not.toBe(0);
    expect(server.log()).toMatch(/NOAUTH/);
  }, 30_000);
});
