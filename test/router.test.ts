import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BACKEND_HEADER, buildHaproxyConfig, ROOM_BACKEND_SUFFIX } from '../constructs/haproxy-router';
import { buildPlatform } from '../lib/model';
import { type HttpMethod, resolveRoutes, ROUTES, routeRequest } from '../lib/model/routes';
import { MAIN_STREAM_WRITER, STREAMS, streamSpec, writerTypeOf } from '../lib/model/streams';
import { buildHomeserverConfig } from '../lib/model/synapse-config';
import { MAIN_INSTANCE, poolName, type StreamName, WORKER_TYPES, workerType } from '../lib/model/workers';
import { configWith, find, findOne, render } from './helpers';
import { withoutStartupResolution } from './haproxy-local';
import { reportSkip } from './support/skips';

const C = '/_matrix/client';
// (method, url) -> expected pool with the example config (every worker type active, initialSync 0).
const CASES: [HttpMethod, string, string][] = [
  ['GET', `${C}/v3/sync?since=s72594_4483_1934&timeout=30000`, 'sync'],
  ['GET', `${C}/v3/sync`, 'sync'],
  ['GET', `${C}/r0/sync?filter=0`, 'sync'],
  ['GET', `${C}/v3/events?from=s1`, 'sync'],
  ['GET', `${C}/v3/initialSync`, 'sync'],
  ['GET', `${C}/v3/rooms/!abc:example.org/initialSync`, 'sync'],
  ['GET', `${C}/v3/rooms/!abc:example.org/messages?dir=b`, 'generic'],
  ['POST', `${C}/unstable/org.matrix.simplified_msc3575/sync?pos=12&timeout=30000`, 'sync'],
  ['GET', `${C}/unstable/sync`, 'sync'],
  ['GET', `${C}/v1/room_summary/!abc:example.org`, 'generic'],
  ['GET', `${C}/unstable/org.matrix.msc4143/rtc/transports`, 'generic'],
  ['PUT', `${C}/v3/rooms/!abc:example.org/invite/txn3`, 'generic'],
  ['PUT', `${C}/v3/createRoom/txn4`, 'generic'],
  ['GET', `${C}/unstable/org.matrix.msc4140/delayed_events/syd_abc`, 'generic'],
  ['POST', `${C}/unstable/org.matrix.msc4140/delayed_events/syd_abc/restart`, 'generic'],
  ['POST', `${C}/unstable/org.matrix.msc4140/delayed_events/syd_abc/cancel`, 'main'],
  ['GET', '/_matrix/federation/v1/openid/userinfo?access_token=x', 'federationReader'],
  ['PUT', `${C}/v3/rooms/!abc:example.org/send/m.room.message/txn1`, 'generic'],
  ['POST', `${C}/v3/createRoom`, 'generic'],
  ['GET', `${C}/v3/rooms/!abc:example.org/members`, 'generic'],
  ['GET', `${C}/v3/rooms/!abc:example.org/state`, 'generic'],
  ['PUT', `${C}/v3/rooms/!abc:example.org/state/m.room.topic/`, 'generic'],
  ['POST', `${C}/v3/rooms/!abc:example.org/join`, 'generic'],
  ['POST', `${C}/v3/join/%23room:example.org`, 'generic'],
  ['POST', `${C}/v3/login`, 'generic'],
  ['GET', `${C}/v3/login`, 'generic'],
  ['POST', `${C}/v3/register`, 'generic'],
  ['POST', `${C}/v3/keys/upload`, 'generic'],
  ['POST', `${C}/v3/keys/query`, 'generic'],
  ['POST', `${C}/v3/keys/claim`, 'generic'],
  ['GET', `${C}/versions`, 'generic'],
  ['GET', `${C}/v3/voip/turnServer`, 'generic'],
  ['GET', `${C}/v3/profile/@alice:example.org`, 'generic'],
  ['GET', `${C}/v3/pushrules/`, 'generic'],
  ['PUT', `${C}/v3/pushrules/global/override/rule1`, 'main'],
  ['GET', `${C}/unstable/org.matrix.msc4140/delayed_events`, 'generic'],
  ['POST', `${C}/unstable/org.matrix.msc4140/delayed_events/abc`, 'main'],
  ['PUT', `${C}/v3/rooms/!abc:example.org/typing/@alice:example.org`, 'typing'],
  ['PUT', `${C}/v3/sendToDevice/m.room.encrypted/txn2`, 'toDevice'],
  ['PUT', `${C}/v3/user/@alice:example.org/account_data/m.direct`, 'accountData'],
  ['GET', `${C}/v3/user/@alice:example.org/account_data/m.direct`, 'accountData'],
  ['PUT', `${C}/v3/user/@alice:example.org/rooms/!abc:example.org/tags/m.favourite`, 'accountData'],
  ['POST', `${C}/v3/rooms/!abc:example.org/receipt/m.read/$event`, 'receipts'],
  ['POST', `${C}/v3/rooms/!abc:example.org/read_markers`, 'receipts'],
  ['PUT', `${C}/v3/presence/@alice:example.org/status`, 'presence'],
  ['GET', `${C}/v3/presence/@alice:example.org/status`, 'presence'],
  ['POST', `${C}/v3/user_directory/search`, 'userDirectory'],
  ['GET', '/_matrix/media/v3/download/example.org/abcdef', 'mediaRepository'],
  ['POST', '/_matrix/media/v3/upload', 'mediaRepository'],
  ['GET', `${C}/v1/media/thumbnail/example.org/abcdef?width=96&height=96`, 'mediaRepository'],
  ['GET', '/_matrix/federation/v1/media/download/abcdef', 'mediaRepository'],
  ['DELETE', '/_synapse/admin/v1/media/example.org/abcdef', 'mediaRepository'],
  ['PUT', '/_matrix/federation/v1/send/1700000000000', 'federationReader'],
  ['GET', '/_matrix/federation/v1/event/$event', 'federationReader'],
  ['GET', '/_matrix/federation/v1/make_join/!abc:example.org/@bob:remote.org', 'federationReader'],
  ['PUT', '/_matrix/federation/v2/send_join/!abc:example.org/$event', 'federationReader'],
  ['POST', '/_matrix/key/v2/query', 'federationReader'],
  ['GET', '/_matrix/federation/v1/version', 'federationReader'],
  ['GET', '/_matrix/key/v2/server', 'federationReader'],
  ['POST', '/_matrix/federation/v1/user/keys/query', 'federationReader'],
  ['POST', '/_matrix/federation/v1/user/keys/claim', 'federationReader'],
  ['GET', '/_synapse/admin/v2/users/@alice:example.org', 'main'],
  ['GET', '/_synapse/admin/v1/rooms/!abc:example.org', 'generic'],
  ['POST', '/_synapse/admin/v1/register', 'main'],
  ['GET', '/_matrix/client/v3/account/whoami', 'generic'],
  ['POST', '/_matrix/client/v3/logout', 'main'],
  ['GET', '/health', 'main'],
];

describe('route table: representative requests (example config)', () => {
  const routes = resolveRoutes(configWith());
  test.each(CASES)('%s %s -> %s', (method, url, expected) => {
    expect(routeRequest(routes, { method, url })).toBe(expected);
  });

  test('the cases cover every routed worker type and main', () => {
    const covered = new Set(CASES.map(([, , pool]) => pool));
    const routedTypes = new Set(ROUTES.flatMap((route) => route.pools ?? [writerTypeOf(route.writes)].flatMap((type) => (type ? [type.id] : []))));
    for (const id of routedTypes) if (id !== 'initialSync') expect(covered).toContain(id);
    expect(covered).toContain('main');
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });
});

describe('route table: config variations', () => {
  test('initial syncs get their own pool when initialSync.count > 0', () => {
    const routes = resolveRoutes(configWith({ synapse: { workers: { initialSync: { count: 2 } } } }));
    expect(routeRequest(routes, { method: 'GET', url: `${C}/v3/sync?timeout=0` })).toBe('initialSync');
    expect(routeRequest(routes, { method: 'GET', url: `${C}/v3/sync?since=s1` })).toBe('sync');
    expect(routeRequest(routes, { method: 'GET', url: `${C}/v3/initialSync` })).toBe('initialSync');
  });

  test('streams kept on main: their writes go to main, reads that any worker serves go to generic', () => {
    const routes = resolveRoutes(
      configWith({ synapse: { workers: { typing: { count: 0 }, accountData: { count: 0 }, presence: { count: 0 }, receipts: { count: 0 }, userDirectory: { count: 0 } } } }),
    );
    const at = (method: HttpMethod, url: string) => routeRequest(routes, { method, url });
    expect(at('PUT', `${C}/v3/rooms/!a:x/typing/@u:x`)).toBe('main');
    expect(at('PUT', `${C}/v3/user/@u:x/account_data/m.direct`)).toBe('main');
    expect(at('GET', `${C}/v3/user/@u:x/account_data/m.direct`)).toBe('generic');
    expect(at('PUT', `${C}/v3/presence/@u:x/status`)).toBe('main');
    expect(at('GET', `${C}/v3/presence/@u:x/status`)).toBe('generic');
    // Synapse's insert_receipt asserts that its process writes receipts: with no receipts pool only main does.
    expect(at('POST', `${C}/v3/rooms/!a:x/receipt/m.read/$e`)).toBe('main');
    expect(at('POST', `${C}/v3/rooms/!a:x/read_markers`)).toBe('main');
    expect(at('POST', `${C}/v3/user_directory/search`)).toBe('generic');
  });
});

/**
 * The generated haproxy.cfg evaluated on its own terms (acl path_reg / method, use_backend in order,
 * default_backend), independently of routeRequest: which backend a request reaches and which Synapse
 * instances that backend holds (`master` for main, the name Synapse gives main in stream_writers).
 */
function haproxyRouter(cfg: string): (method: HttpMethod, url: string) => { backend: string; instances: string[] } {
  const pathAcls = new Map([...cfg.matchAll(/^\s*acl (route_\S+) path_reg (\S+)$/gm)].map((m) => [m[1], new RegExp(m[2])]));
  const methodAcls = new Map([...cfg.matchAll(/^\s*acl (method_\S+) method (.+)$/gm)].map((m) => [m[1], m[2].trim().split(/\s+/)]));
  const rules = [...cfg.matchAll(/^\s*use_backend (\S+) if (.+)$/gm)].map((m) => ({ backend: m[1], words: m[2].trim().split(/\s+/) }));
  const fallback = /^\s*default_backend (\S+)$/m.exec(cfg)?.[1] ?? '';
  const servers = new Map<string, string[]>();
  for (const block of cfg.split(/^backend /m).slice(1)) {
    const name = block.split('\n')[0].trim();
    servers.set(name, [...block.matchAll(/^\s*server (\S+) /gm)].map((m) => (m[1] === 'synapse-main' ? MAIN_STREAM_WRITER : m[1])));
  }
  return (method, url) => {
    const [pathPart, query = ''] = url.split('?', 2);
    const holds = (word: string): boolean => {
      if (word === '!has_since') return !query.split('&').some((pair) => pair.split('=')[0] === 'since');
      const pathAcl = pathAcls.get(word);
      if (pathAcl) return pathAcl.test(pathPart);
      const methods = methodAcls.get(word);
      if (methods) return methods.includes(method);
      throw new Error(`unknown ACL ${word} in haproxy.cfg`);
    };
    const backend = rules.find((rule) => rule.words.every(holds))?.backend ?? fallback;
    return { backend, instances: servers.get(backend) ?? [] };
  };
}

/** Requests that write each stream (every client write endpoint of the pinned Synapse, per lib/model/streams.ts). */
const STREAM_WRITES: Record<StreamName, [HttpMethod, string][]> = {
  events: [
    ['PUT', `${C}/v3/rooms/!a:x/send/m.room.message/t1`],
    ['PUT', `${C}/v3/rooms/!a:x/state/m.room.topic/`],
    ['POST', `${C}/v3/rooms/!a:x/join`],
  ],
  typing: [
    ['PUT', `${C}/v3/rooms/!a:x/typing/@u:x`],
    ['PUT', `${C}/r0/rooms/!a:x/typing/@u:x`],
    ['PUT', `${C}/api/v1/rooms/!a:x/typing/@u:x`],
  ],
  to_device: [
    ['PUT', `${C}/v3/sendToDevice/m.room.encrypted/t2`],
    ['PUT', `${C}/unstable/sendToDevice/m.room_key_request/t3`],
  ],
  account_data: [
    ['PUT', `${C}/v3/user/@u:x/account_data/m.direct`],
    ['PUT', `${C}/v3/user/@u:x/rooms/!a:x/account_data/m.fully_read`],
    ['DELETE', `${C}/unstable/org.matrix.msc3391/user/@u:x/account_data/m.direct`],
    ['PUT', `${C}/v3/user/@u:x/rooms/!a:x/tags/m.favourite`],
    ['DELETE', `${C}/r0/user/@u:x/rooms/!a:x/tags/m.favourite`],
  ],
  receipts: [
    ['POST', `${C}/v3/rooms/!a:x/receipt/m.read/$e`],
    ['POST', `${C}/r0/rooms/!a:x/receipt/m.read.private/$e`],
    ['POST', `${C}/unstable/rooms/!a:x/receipt/m.read/$e`],
    ['POST', `${C}/v3/rooms/!a:x/read_markers`],
    ['POST', `${C}/r0/rooms/!a:x/read_markers`],
    ['POST', `${C}/unstable/rooms/!a:x/read_markers`],
  ],
  presence: [
    ['PUT', `${C}/v3/presence/@u:x/status`],
    ['PUT', `${C}/api/v1/presence/@u:x/status`],
  ],
  push_rules: [
    ['PUT', `${C}/v3/pushrules/global/override/rule1`],
    ['PUT', `${C}/r0/pushrules/global/override/rule1/enabled`],
    ['DELETE', `${C}/v3/pushrules/global/override/rule1`],
  ],
  device_lists: [
    ['POST', `${C}/v3/keys/upload`],
    ['POST', `${C}/v3/keys/device_signing/upload`],
    ['POST', `${C}/v3/keys/signatures/upload`],
    ['PUT', `${C}/v3/devices/DEVICE`],
    ['DELETE', `${C}/v3/devices/DEVICE`],
    ['POST', `${C}/v3/delete_devices`],
  ],
  thread_subscriptions: [
    ['PUT', `${C}/unstable/io.element.msc4306/rooms/!a:x/thread/$root/subscription`],
    ['DELETE', `${C}/unstable/io.element.msc4306/rooms/!a:x/thread/$root/subscription`],
  ],
  quarantined_media_changes: [
    ['POST', '/_synapse/admin/v1/media/quarantine/example.org/abcdef'],
    ['POST', '/_synapse/admin/v1/quarantine_media/!a:x'],
    ['POST', '/_synapse/admin/v1/user/@u:x/media/quarantine'],
  ],
};

/** Each writer pool at count 0 (when the config allows it) and at 1 and 2 (when Synapse allows several). */
function writerVariants(stream: StreamName): [string, Record<string, unknown>][] {
  const type = writerTypeOf(stream);
  if (!type) return [['no writer pool in the catalogue', {}]];
  const counts = [0, 1, 2].filter((count) => (type.maxCount ?? Infinity) >= count);
  return counts.flatMap((count): [string, Record<string, unknown>][] => {
    const overrides = { synapse: { workers: { [type.id]: { count } } } };
    try {
      configWith(overrides);
    } catch {
      return []; // the config schema does not allow this count (the pool is required)
    }
    return [[`${type.id}.count ${count}`, overrides]];
  });
}

describe('stream writes reach a writer of their stream (haproxy.cfg and stream_writers as generated)', () => {
  test('every Synapse stream has requests to check', () => {
    expect(Object.keys(STREAM_WRITES).sort()).toEqual(STREAMS.map((stream) => stream.name).sort());
  });

  const cases = STREAMS.flatMap((stream) => writerVariants(stream.name).map(([variant, overrides]) => [stream.name, variant, overrides] as const));
  test.each(cases)('%s with %s', (stream, _variant, overrides) => {
    const config = configWith(overrides);
    const route = haproxyRouter(buildHaproxyConfig(config));
    const streamWriters = buildHomeserverConfig(buildPlatform(config)).stream_writers as Record<string, string[]>;
    // Synapse's default writer of a stream that stream_writers leaves out is main.
    const writers = streamWriters[stream] ?? [MAIN_STREAM_WRITER];
    const forwards = streamSpec(stream).nonWriter === 'forwards';
    const routedAsStream = ROUTES.some((candidate) => candidate.writes === stream);
    for (const [method, url] of STREAM_WRITES[stream]) {
      const { backend, instances } = route(method, url);
      expect({ method, url, backend, instances: instances.length > 0 }).toEqual({ method, url, backend, instances: true });
      // Where non-writers fail, only writers may receive the request; a route that names the stream must reach a writer too.
      if (!forwards || routedAsStream) {
        for (const instance of instances) expect({ method, url, instance, writer: writers.includes(instance) }).toEqual({ method, url, instance, writer: true });
      }
    }
  });

  test('with no writer pool, writes go to main and reads to generic workers', () => {
    const config = configWith({ synapse: { workers: { typing: { count: 0 }, toDevice: { count: 0 }, accountData: { count: 0 }, receipts: { count: 0 }, presence: { count: 0 } } } });
    const route = haproxyRouter(buildHaproxyConfig(config));
    for (const stream of ['typing', 'to_device', 'account_data', 'receipts', 'presence', 'push_rules', 'thread_subscriptions'] as const) {
      for (const [method, url] of STREAM_WRITES[stream]) expect([method, url, route(method, url).backend]).toEqual([method, url, 'synapse-main']);
    }
    expect(route('GET', `${C}/v3/user/@u:x/account_data/m.direct`).backend).toBe('synapse-generic');
    expect(route('GET', `${C}/v3/user/@u:x/rooms/!a:x/tags`).backend).toBe('synapse-generic');
    expect(route('GET', `${C}/v3/presence/@u:x/status`).backend).toBe('synapse-generic');
    expect(route('GET', `${C}/v3/pushrules/`).backend).toBe('synapse-generic');
  });

  test('with writer pools, writes go to them', () => {
    const route = haproxyRouter(buildHaproxyConfig(configWith()));
    const expected: [StreamName, string][] = [
      ['typing', 'synapse-typing'],
      ['to_device', 'synapse-to-device'],
      ['account_data', 'synapse-account-data'],
      ['receipts', 'synapse-receipts'],
      ['presence', 'synapse-presence'],
      ['push_rules', 'synapse-main'],
    ];
    for (const [stream, backend] of expected) {
      for (const [method, url] of STREAM_WRITES[stream]) expect([method, url, route(method, url).backend]).toEqual([method, url, backend]);
    }
  });

  test('the evaluator catches a planted mistake: receipts without a writer pool sent to generic workers', () => {
    const config = configWith({ synapse: { workers: { receipts: { count: 0 } } } });
    const cfg = buildHaproxyConfig(config).replace(/use_backend synapse-main if route_receipt method_post_put_delete/, 'use_backend synapse-generic if route_receipt');
    const { instances } = haproxyRouter(cfg)('POST', `${C}/v3/rooms/!a:x/receipt/m.read/$e`);
    expect(instances.length).toBeGreaterThan(0);
    expect(instances.every((instance) => instance.startsWith('synapse-generic-'))).toBe(true);
  });
});

function haproxyConfig(overrides: Record<string, unknown> = {}): string {
  const { objects } = render(overrides);
  return (findOne(objects, 'ConfigMap', 'synapse-router-config', 'matrix') as unknown as { data: Record<string, string> }).data['haproxy.cfg'];
}

describe('generated haproxy.cfg', () => {
  test('one use_backend rule per resolved route, in table order, defaulting to main', () => {
    const config = configWith();
    const cfg = buildHaproxyConfig(config);
    const rules = cfg.split('\n').filter((line) => line.trim().startsWith('use_backend'));
    const routes = resolveRoutes(config);
    expect(rules).toHaveLength(routes.length);
    routes.forEach((route, index) =>
      expect(rules[index]).toContain(
        `use_backend ${route.target === MAIN_INSTANCE ? 'synapse-main' : `${poolName(route.target)}${route.stickyByRoom ? ROOM_BACKEND_SUFFIX : ''}`} `,
      ),
    );
    expect(cfg).toContain('default_backend synapse-main');
    expect(cfg).toMatch(/acl route_push_rules_read path_reg \^\/_matrix\/client/);
    expect(rules.find((line) => line.includes('route_push_rules_read'))).toContain('method_get');
  });

  test('every backend that a rule uses exists, with /health checks and the backend header', () => {
    const cfg = haproxyConfig({ synapse: { workers: { initialSync: { count: 1 } } } });
    const used = new Set([...cfg.matchAll(/use_backend (\S+)/g)].map((match) => match[1]));
    used.add('synapse-main');
    const defined = [...cfg.matchAll(/^backend (\S+)$/gm)].map((match) => match[1]);
    for (const name of used) expect(defined).toContain(name);
    for (const block of cfg.split(/^backend /m).slice(1)) {
      expect(block).toContain('http-check send meth GET uri /health');
      expect(block).toContain(`http-response set-header ${BACKEND_HEADER}`);
    }
    expect(cfg).toMatch(/use_backend synapse-initial-sync if route_sync !has_since/);
  });

  test('sync is sticky per user, pagination per room, federation by the client address from X-Forwarded-For', () => {
    const cfg = buildHaproxyConfig(configWith());
    const block = (name: string) => cfg.split(/^backend /m).find((text) => text.startsWith(`${name}\n`)) ?? '';
    // docs/workers.md: hash the user part of the access token (syt_<base64 localpart>_...), so a user's
    // devices and refreshed tokens stay on one sync process.
    expect(block('synapse-sync')).toContain('balance hash var(txn.sync_user)');
    expect(cfg).toContain('acl synapse_token var(txn.access_token) -m reg ^(Bearer.)?syt_[^_]+_');
    expect(cfg).toContain('http-request set-var(txn.sync_user) var(txn.access_token),field(2,_) if synapse_token');
    expect(cfg).toContain('http-request set-var(txn.sync_user) var(txn.access_token) unless synapse_token');
    // /messages: every request for one room on one process (consistent hash of the room ID).
    expect(cfg).toMatch(/use_backend synapse-generic-by-room if route_messages\n/);
    expect(block('synapse-generic-by-room')).toContain('balance hash var(txn.room_id)');
    expect(block('synapse-generic-by-room')).toContain('hash-type consistent');
    expect(block('synapse-generic-by-room').match(/server synapse-generic-\d+ /g)).toHaveLength(4);
    expect(block('synapse-federation-reader')).toContain('balance hash var(txn.client_address)');
    expect(cfg).toContain('req.hdr(Authorization)');
    expect(cfg).toContain('url_param(access_token)');
    expect(cfg).toContain('req.hdr_ip(X-Forwarded-For,-1)');
  });

  test('server lines match the configured pool sizes', () => {
    const cfg = haproxyConfig({ synapse: { workers: { sync: { count: 3 }, generic: { count: 6 } } } });
    expect(cfg.match(/server synapse-sync-\d+ /g)).toHaveLength(3);
    // The generic pool and its by-room twin (pagination) list the same six processes.
    expect(cfg.match(/server synapse-generic-\d+ /g)).toHaveLength(12);
  });

  const HAPROXY = '/usr/sbin/haproxy';
  const variants: [string, Record<string, unknown>][] = [
    ['example', {}],
    ['initial sync pool, streams on main', { synapse: { workers: { initialSync: { count: 2 }, typing: { count: 0 }, presence: { count: 0 } } } }],
  ];
  test.each(variants)('haproxy -c accepts the %s config', (_name, overrides) => {
    if (!existsSync(HAPROXY)) {
      reportSkip('haproxy -c on the generated router config', `${HAPROXY} not found (apt-get install haproxy)`);
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'haproxy-'));
    const file = path.join(dir, 'haproxy.cfg');
    writeFileSync(file, withoutStartupResolution(haproxyConfig(overrides)));
    const output = execFileSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toMatch(/Configuration file is valid/);
  });
});

describe('router workload', () => {
  test('HAProxy Deployment with routerReplicas, PDB and the SYNAPSE_ROUTER Service', () => {
    const { objects } = render({ synapse: { routerReplicas: 3 } });
    const deployment = findOne(objects, 'Deployment', 'synapse-router', 'matrix') as unknown as { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(3);
    expect(find(objects, 'PodDisruptionBudget', 'synapse-router', 'matrix')).toHaveLength(1);
    expect(findOne(objects, 'Service', 'synapse-router', 'matrix')).toBeDefined();
  });

  test('every worker type with routes is in the catalogue', () => {
    for (const route of ROUTES) for (const id of route.pools ?? []) expect(WORKER_TYPES).toContain(workerType(id));
  });
});
