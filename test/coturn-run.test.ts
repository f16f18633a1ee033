import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { buildPlatform } from '../lib/model';
import { COTURN_CERT_RELOAD_SCRIPT, COTURN_DRAIN_SCRIPT, COTURN_INIT_SCRIPT, coturnConfig, coturnNodeTable, NODE_INTERNAL_IP_ENV } from '../lib/model/calls';
import { configWith, TURN_DNS01 } from './helpers';
import { freePort, waitFor } from './loopback';
import { reportSkip } from './support/skips';

/**
 * Starts the real turnserver (Debian's coturn, /usr/bin/turnserver) with the generated turnserver.conf,
 * rendered by the DaemonSet's own init script, and allocates a relay with TURN REST credentials
 * computed the way Synapse does (synapse/rest/client/voip.py): username "<expiry>:<user id>",
 * password base64(HMAC-SHA1(shared secret, username)). Loopback only.
 *
 * Rewrites of the rendered file, and why (each is the minimum to run on loopback in a test):
 * - external-ip removed (a documentation address that is not on this machine), after checking the
 *   init script put THIS node's address there; listening-ip and relay-ip set to 127.0.0.1.
 * - listening-port / tls-listening-port / prometheus-port: free loopback ports; min-port/max-port: a
 *   small high range. prometheus-address is the init script's, from NODE_INTERNAL_IP = 127.0.0.2
 *   (the downward API's status.hostIP), so an exporter on every interface would also answer on 127.0.0.1.
 * - cert/pkey: a throw-away self-signed certificate (openssl); pidfile: the temp dir.
 * - allowed-peer-ip=127.0.0.1 + allow-loopback-peers: turnutils_uclient -y relays between its own two
 *   allocations on loopback, which the generated denied-peer-ip list (rightly) forbids.
 * - no-cli: Debian's 4.6.1 starts the telnet CLI by default (4.10+ does not; the pinned 4.17 never
 *   gets the option, it is deprecated there).
 * Debian 4.6.1 lacks Prometheus support and warns "Bad configuration format: prometheus" (ignored);
 * the pinned 4.17 image is built with it. The exporter's bind check therefore runs only with a
 * turnserver that knows --prometheus-address (4.6.3+ built with Prometheus) and says SKIPPED otherwise.
 * The config is the example with a DNS-01 solver (TURN over TLS on), so the TLS listener is tested.
 */

const TURNSERVER = '/usr/bin/turnserver';
const UCLIENT = '/usr/bin/turnutils_uclient';
const available = existsSync(TURNSERVER) && existsSync(UCLIENT);
if (!available) {
  reportSkip('coturn-run (turnserver allocations, TLS listener, reload, drain)', `${TURNSERVER} or ${UCLIENT} is missing (apt-get install coturn)`);
}
const describeIfCoturn = available ? describe : describe.skip;

const SECRET = 'test-shared-secret-for-loopback-only';
const NODE_INTERNAL_IP = '127.0.0.2';
/** Builds with the exporter's address option list it in --help (4.6.3+ compiled with Prometheus). */
function turnserverHelp(): string {
  const help = spawnSync(TURNSERVER, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  // Some versions print the usage on stdout, others (4.6.1) on stderr.
  return `${help.stdout ?? ''}${help.stderr ?? ''}`;
}
const prometheusAddressSupported = available && /--prometheus-address/.test(turnserverHelp());

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`turnserver did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** The common name of the certificate a TLS listener on loopback presents. */
function peerCommonName(port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, timeout: 5000 }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.once('error', reject);
    socket.once('timeout', () => { socket.destroy(); reject(new Error('TLS handshake timed out')); });
  });
}

/** Synapse's TURN REST credentials (voip.py). */
function restCredentials(secret: string, userId: string): { username: string; password: string } {
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const username = `${expiry}:${userId}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

describeIfCoturn('generated turnserver.conf runs in the real turnserver', () => {
  const platform = buildPlatform(configWith(TURN_DNS01));
  const node = platform.config.calls.coturn!.nodes[1];
  let work: string;
  let server: ChildProcess | undefined;
  let listeningPort: number;
  let tlsPort: number;
  let metricsPort: number;
  let serverLog = '';

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'coturn-run-'));
    const template = path.join(work, 'template.conf');
    const nodes = path.join(work, 'nodes');
    const secretFile = path.join(work, 'secret');
    const rendered = path.join(work, 'turnserver.conf');
    writeFileSync(template, coturnConfig(platform));
    writeFileSync(nodes, coturnNodeTable(platform.config));
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    // The init container's script, unchanged, with this node's name as the downward API gives it.
    const init = spawnSync('/bin/sh', ['-c', COTURN_INIT_SCRIPT], {
      env: { PATH: process.env.PATH, NODE_NAME: node.name, [NODE_INTERNAL_IP_ENV]: NODE_INTERNAL_IP, COTURN_NODE_TABLE: nodes, COTURN_TEMPLATE: template, TURN_SECRET_FILE: secretFile, COTURN_CONFIG: rendered },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(init.status).toBe(0);
    const lines = readFileSync(rendered, 'utf8').trimEnd().split('\n');
    expect(lines).toContain(`external-ip=${node.externalIp}`);
    expect(lines).toContain(`static-auth-secret=${SECRET}`);
    expect(lines).toContain(`prometheus-address=${NODE_INTERNAL_IP}`);

    listeningPort = await freePort();
    tlsPort = await freePort();
    metricsPort = await freePort();
    const relayStart = 40000 + (listeningPort % 20000);
    const hasOpenssl = spawnSync('openssl', ['version'], { timeout: 5000 }).status === 0;
    if (hasOpenssl) {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(work, 'key.pem'), '-out', path.join(work, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { timeout: 30_000 });
      expect(made.status).toBe(0);
    }
    const rewritten = lines
      .filter((line) => !line.startsWith('external-ip='))
      .map((line) => {
        const [key] = line.split('=', 1);
        switch (key) {
          case 'listening-port': return `listening-port=${listeningPort}`;
          case 'tls-listening-port': return `tls-listening-port=${tlsPort}`;
          case 'prometheus-port': return `prometheus-port=${metricsPort}`;
          case 'min-port': return `min-port=${relayStart}`;
          case 'max-port': return `max-port=${relayStart + 99}`;
          case 'cert': return `cert=${path.join(work, 'cert.pem')}`;
          case 'pkey': return `pkey=${path.join(work, 'key.pem')}`;
          case 'pidfile': return `pidfile=${path.join(work, 'turnserver.pid')}`;
          default: return line;
        }
      })
      .filter((line) => hasOpenssl || !/^(cert|pkey|tls-listening-port)=/.test(line));
    rewritten.push('listening-ip=127.0.0.1', 'relay-ip=127.0.0.1', 'allowed-peer-ip=127.0.0.1', 'allow-loopback-peers', 'no-cli');
    if (!hasOpenssl) rewritten.push('no-tls');
    const runConf = path.join(work, 'run.conf');
    writeFileSync(runConf, `${rewritten.join('\n')}\n`, { mode: 0o600 });

    server = spawn(TURNSERVER, ['-c', runConf], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => { serverLog += chunk.toString(); });
    server.stderr?.on('data', (chunk: Buffer) => { serverLog += chunk.toString(); });
    await waitForTcp(listeningPort, 10_000);
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => { server?.kill('SIGKILL'); resolve(undefined); }, 3000);
        server?.once('exit', () => { clearTimeout(timer); resolve(undefined); });
      });
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function uclient(username: string, password: string): { status: number | null; output: string } {
    // -y: client-to-client through two relays, -c: no RTCP allocation, -n/-m: 2 messages, 1 client.
    const result = spawnSync(UCLIENT, ['-c', '-y', '-n', '2', '-m', '1', '-u', username, '-w', password, '-p', String(listeningPort), '127.0.0.1'], { encoding: 'utf8', timeout: 20_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  test('the server accepted the generated options (no fatal config error)', () => {
    expect(serverLog).not.toMatch(/invalid denied-peer-ip|Aborting/i);
    expect(server?.exitCode).toBeNull();
  });

  test('an allocation with Synapse-style REST credentials from the shared secret succeeds and relays data', () => {
    const { username, password } = restCredentials(SECRET, '@alice:example.org');
    const result = uclient(username, password);
    expect({ status: result.status, output: result.output.slice(-600) }).toEqual({ status: 0, output: expect.stringContaining('tot_recv_msgs=4') });
  }, 30_000);

  test('credentials derived from another secret are refused', () => {
    const { username, password } = restCredentials('not-the-shared-secret', '@mallory:example.org');
    const result = uclient(username, password);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Cannot complete Allocation/);
  }, 30_000);

  test('the Prometheus exporter listens on the node internal address only', async () => {
    if (!prometheusAddressSupported) {
      reportSkip('coturn-run: the Prometheus exporter binds the node internal address only', `${TURNSERVER} has no --prometheus-address (Debian 4.6.1 has no exporter at all; the image's 4.17 has both)`);
      return;
    }
    expect(serverLog).not.toMatch(/Bad configuration format: prometheus/);
    await waitFor('the exporter on the internal address', async () => {
      try {
        return (await fetch(`http://${NODE_INTERNAL_IP}:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    }, 10_000);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: metricsPort }, () => { socket.destroy(); resolve(false); });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 20_000);

  test('the TLS listener serves the mounted certificate', async () => {
    if (!platform.config.calls.coturn || !existsSync(path.join(work, 'cert.pem'))) {
      reportSkip('coturn-run: TLS listener check', 'openssl is missing');
      return;
    }
    expect(await peerCommonName(tlsPort)).toBe('localhost');
  }, 15_000);

  test('a renewed certificate reaches the TLS listener through the watcher, without a restart', async () => {
    if (!existsSync(path.join(work, 'cert.pem'))) {
      reportSkip('coturn-run: certificate reload check', 'openssl is missing');
      return;
    }
    // The watcher container's script, unchanged; only the interval is shortened for the test.
    const watcher = spawn('/bin/sh', ['-c', COTURN_CERT_RELOAD_SCRIPT], {
      env: {
        PATH: process.env.PATH,
        COTURN_TLS_CERT: path.join(work, 'cert.pem'),
        COTURN_TLS_KEY: path.join(work, 'key.pem'),
        COTURN_PIDFILE: path.join(work, 'turnserver.pid'),
        COTURN_CERT_CHECK_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watcherLog = '';
    watcher.stdout?.on('data', (chunk: Buffer) => { watcherLog += chunk.toString(); });
    watcher.stderr?.on('data', (chunk: Buffer) => { watcherLog += chunk.toString(); });
    try {
      const pid = server?.pid;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Nothing changed yet: no signal.
      expect(watcherLog).not.toMatch(/certificate changed/);
      // Renew as the Secret volume does: both files replaced together (new key first, then the certificate).
      const renewed = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(work, 'key.new'), '-out', path.join(work, 'cert.new'), '-days', '1', '-subj', '/CN=renewed'], { timeout: 30_000 });
      expect(renewed.status).toBe(0);
      writeFileSync(path.join(work, 'key.pem'), readFileSync(path.join(work, 'key.new')));
      writeFileSync(path.join(work, 'cert.pem'), readFileSync(path.join(work, 'cert.new')));
      // The watcher polls; on a loaded machine (parallel suites on two cores) its round can take a while.
      const deadline = Date.now() + 30_000;
      while (!/Reloading TLS certificates and keys/.test(serverLog) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watcherLog).toMatch(new RegExp(`asked turnserver \\(pid ${pid}\\) to reload it`));
      expect(serverLog).toMatch(/Reloading TLS certificates and keys/);
      // turnserver swaps the TLS context in its listener threads after the log line (event_active):
      // give the swap a moment rather than racing it.
      await waitFor('the TLS listener to serve the renewed certificate', async () => (await peerCommonName(tlsPort)) === 'renewed', 5000).catch(() => undefined);
      expect(await peerCommonName(tlsPort)).toBe('renewed');
      // Same process: the relay service was never restarted.
      expect(server?.exitCode).toBeNull();
      expect(server?.pid).toBe(pid);
    } finally {
      watcher.kill('SIGTERM');
    }
  }, 30_000);

  // Last: it stops the server. coturn 4.17 drains on SIGUSR1 and exits when no allocation is left
  // (here none is); Debian's 4.6.1 has no drain handler and exits on the signal's default action.
  // Either way the hook must signal the pid from the pidfile and return only after the exit.
  test('the preStop drain script signals turnserver and returns once it has exited', async () => {
    let serverExited = false;
    server?.once('exit', () => { serverExited = true; });
    // Asynchronous, so that this process reaps the exited server (a zombie still answers kill -0);
    // in the pod the pause process reaps it.
    const hook = spawn('/bin/sh', ['-c', COTURN_DRAIN_SCRIPT], { env: { PATH: process.env.PATH, COTURN_PIDFILE: path.join(work, 'turnserver.pid') }, stdio: 'ignore' });
    const hookStatus = await new Promise<number | null>((resolve) => hook.once('exit', (code) => resolve(code)));
    expect(hookStatus).toBe(0);
    expect(serverExited).toBe(true);
    // Without a pidfile (turnserver never started) the hook ends at once and does not fail the stop.
    const orphan = spawnSync('/bin/sh', ['-c', COTURN_DRAIN_SCRIPT], { env: { PATH: process.env.PATH, COTURN_PIDFILE: path.join(work, 'missing.pid') }, timeout: 5000 });
    expect(orphan.status).toBe(0);
  }, 30_000);
});
