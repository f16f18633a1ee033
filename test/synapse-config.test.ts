import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { parseBytes } from '../lib/model/capacity';
import { buildPlatform } from '../lib/model';
import { turnTlsEnabled } from '../lib/model/calls';
import { resolveRoutes } from '../lib/model/routes';
import { MAIN_STREAM_WRITER } from '../lib/model/streams';
import { buildHomeserverConfig, buildWorkerConfigs, SYNAPSE_PATHS } from '../lib/model/synapse-config';
import { activeWorkerTypes, MAIN_INSTANCE, poolName, synapseProcesses, totalDatabaseConnections, WORKER_TYPES, workerKind } from '../lib/model/workers';
import type { KubeObject } from '../lib/synth';
import { configWith, find, findOne, render, ROOT, TURN_DNS01 } from './helpers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const VARIANTS: [string, Record<string, unknown>][] = [
  ['example', {}],
  [
    'non-default counts',
    { synapse: { workers: { sync: { count: 3 }, generic: { count: 7 }, eventPersister: { count: 4 }, receipts: { count: 3 }, initialSync: { count: 2 }, typing: { count: 0 }, mediaRepository: { count: 1 } } } },
  ],
  ['calls disabled', { calls: { enabled: false } }],
];

function configMapData(objects: KubeObject[], name: string): Record<string, string> {
  return (findOne(objects, 'ConfigMap', name, 'matrix') as unknown as { data: Record<string, string> }).data;
}

describe.each(VARIANTS)('Synapse invariants (%s)', (_name, overrides) => {
  const { objects, config } = render(overrides);
  const homeserver = yaml.load(configMapData(objects, 'synapse-config')['homeserver.yaml']) as Any;
  const workerFiles = configMapData(objects, 'synapse-workers');

  test('worker counts per type match the config', () => {
    for (const type of WORKER_TYPES) {
      const count = config.synapse.workers[type.id].count;
      const sets = find(objects, workerKind(type), poolName(type), 'matrix') as Any[];
      if (count === 0) expect(sets).toHaveLength(0);
      else expect(sets[0].spec.replicas).toBe(count);
      expect(Object.keys(workerFiles).filter((file) => file.startsWith(`${poolName(type)}-`))).toHaveLength(count);
    }
    expect(findOne(objects, 'Deployment', 'synapse-main', 'matrix')).toBeDefined();
  });

  test('outbound federation requires TLS 1.2 or newer (Synapse defaults to 1.0)', () => {
    // A string: Synapse accepts "1", "1.1", "1.2" or "1.3"; a YAML float 1.2 would be refused.
    expect(homeserver.federation_client_minimum_tls_version).toBe('1.2');
  });

  test('main and every stream writer are in instance_map, with a replication listener', () => {
    expect(Object.keys(homeserver.instance_map)).toContain('main');
    // stream_writers names main `master` (Synapse renames instance_map's `main` to it), never `main`.
    const writers = Object.values(homeserver.stream_writers as Record<string, string[]>)
      .flat()
      .filter((writer) => writer !== MAIN_STREAM_WRITER);
    expect(Object.values(homeserver.stream_writers as Record<string, string[]>).flat()).not.toContain('main');
    expect(writers.length).toBeGreaterThan(0);
    for (const writer of writers) {
      expect(homeserver.instance_map[writer]).toBeDefined();
      const worker = yaml.load(workerFiles[`${writer}.yaml`]) as Any;
      expect(worker.worker_listeners.some((listener: Any) => listener.resources?.[0]?.names.includes('replication'))).toBe(true);
    }
    expect(homeserver.stream_writers.events).toHaveLength(config.synapse.workers.eventPersister.count);
  });

  test('media workers and main write quarantined_media_changes (quarantine APIs on media workers, the background update on main)', () => {
    const media = Object.keys(workerFiles).filter((file) => file.startsWith('synapse-media-')).map((file) => file.replace(/\.yaml$/, ''));
    expect(media).toHaveLength(config.synapse.workers.mediaRepository.count);
    // flag_existing_quarantined_media runs on main (background updates run only there) and asserts that
    // its process writes the stream; main's name in stream_writers is `master`.
    expect(homeserver.stream_writers.quarantined_media_changes).toEqual(['master', ...media]);
    for (const name of media) expect(homeserver.instance_map[name]).toEqual(expect.objectContaining({ port: 9093 }));
  });

  test('caches: every process sized from its own memory limit, autotuning below the limit', () => {
    const processes = synapseProcesses(config);
    for (const process of processes) {
      const caches = process.type ? (yaml.load(workerFiles[`${process.instanceName}.yaml`]) as Any).caches : homeserver.caches;
      const limit = parseBytes(process.resources.limits.memory);
      const mib = (value: string) => Number(value.replace(/M$/, '')) * 2 ** 20;
      expect(caches.global_factor).toBeGreaterThanOrEqual(1);
      expect(Object.keys(caches.cache_autotuning).sort()).toEqual(['max_cache_memory_usage', 'min_cache_ttl', 'target_cache_memory_usage']);
      expect(mib(caches.cache_autotuning.max_cache_memory_usage)).toBeLessThan(limit);
      expect(mib(caches.cache_autotuning.target_cache_memory_usage)).toBeLessThan(mib(caches.cache_autotuning.max_cache_memory_usage));
    }
  });

  test('application services are notified from the background worker, not main', () => {
    expect(homeserver.notify_appservices_from_worker).toBe(homeserver.run_background_tasks_on);
    expect(homeserver.notify_appservices_from_worker).toBe('synapse-background-0');
  });

  test('every process has a metrics listener and a unique worker_name matching its file', () => {
    expect(homeserver.listeners.some((listener: Any) => listener.type === 'metrics')).toBe(true);
    const names = new Set<string>();
    for (const [file, text] of Object.entries(workerFiles)) {
      const worker = yaml.load(text) as Any;
      expect(`${worker.worker_name}.yaml`).toBe(file);
      expect(names.has(worker.worker_name)).toBe(false);
      names.add(worker.worker_name);
      expect(worker.worker_listeners.some((listener: Any) => listener.type === 'metrics')).toBe(true);
    }
  });

  test('every routed pool exists and serves the resources its routes need', () => {
    for (const route of resolveRoutes(config)) {
      if (route.target === MAIN_INSTANCE) continue;
      const pool = poolName(route.target);
      expect(find(objects, workerKind(route.target), pool, 'matrix')).toHaveLength(1);
      expect(find(objects, 'Service', pool, 'matrix')).toHaveLength(1);
      const anyWorker = yaml.load(workerFiles[`${pool}-0.yaml`]) as Any;
      const resources: string[] = anyWorker.worker_listeners[0].resources[0].names;
      // The media resource also serves the client, federation and admin media servlets (generic_worker.py).
      const isFederation = route.pattern.startsWith('^/_matrix/federation') || route.pattern.startsWith('^/_matrix/key');
      const needs = route.pattern.includes('media') ? 'media' : isFederation ? 'federation' : 'client';
      expect(resources).toContain(needs);
    }
  });

  test('no secret value in any ConfigMap: secrets only as *_path files and the passfile', () => {
    for (const map of find(objects, 'ConfigMap')) {
      const text = JSON.stringify((map as Any).data ?? {});
      expect(text).not.toMatch(/"(password|registration_shared_secret|macaroon_secret_key|form_secret|worker_replication_secret|turn_shared_secret|access_key_id|secret_access_key)":/);
      expect(text).not.toMatch(/password: |secret: |secret_key: /);
    }
    expect(homeserver.database.args.passfile).toBe(SYNAPSE_PATHS.passfile);
    expect(homeserver.redis.password_path).toBe(SYNAPSE_PATHS.redisPassword);
    expect(homeserver.registration_shared_secret_path).toBeDefined();
  });

  test('database connections: cp_max per process, sum exported', () => {
    expect(homeserver.database.args.cp_max).toBe(config.synapse.databaseConnectionsPerProcess);
    const processes = synapseProcesses(config);
    expect(totalDatabaseConnections(config)).toBe(processes.length * config.synapse.databaseConnectionsPerProcess);
  });

  test('workers wait for main and every Synapse pod probes /health', () => {
    for (const type of activeWorkerTypes(config)) {
      const spec = (findOne(objects, workerKind(type), poolName(type), 'matrix') as Any).spec.template.spec;
      expect(spec.initContainers.map((init: Any) => init.name)).toEqual(['passfile', 'wait-for-schema', 'wait-for-main']);
      expect(spec.containers[0].readinessProbe.httpGet.path).toBe('/health');
      expect(spec.containers[0].livenessProbe.httpGet.path).toBe('/health');
    }
  });

  test('calls: TURN settings only when calls are enabled, one URI pair per coturn node', () => {
    if (!config.calls.enabled) {
      expect(homeserver.turn_uris).toBeUndefined();
      return;
    }
    const nodes = config.calls.coturn?.nodes ?? [];
    expect(homeserver.turn_shared_secret_path).toBe(SYNAPSE_PATHS.turnSharedSecret);
    expect(homeserver.turn_uris.filter((uri: string) => uri.startsWith('turn:'))).toHaveLength(nodes.length * 2);
    // turns: only when coturn can have a certificate for hosts.turn (a DNS-01 solver, docs/calls.md).
    expect(homeserver.turn_uris.some((uri: string) => uri.startsWith('turns:'))).toBe(turnTlsEnabled(config));
  });
});

describe('Synapse config edge cases', () => {
  test('turn_uris always name the TURN port, also a non-default one', () => {
    const uris = (overrides: Record<string, unknown>) => {
      const { objects } = render(overrides);
      return (yaml.load(configMapData(objects, 'synapse-config')['homeserver.yaml']) as Any).turn_uris as string[];
    };
    expect(uris({}).filter((uri) => uri.startsWith('turn:'))).toEqual([
      'turn:203.0.113.17:3478?transport=udp',
      'turn:203.0.113.17:3478?transport=tcp',
      'turn:203.0.113.18:3478?transport=udp',
      'turn:203.0.113.18:3478?transport=tcp',
    ]);
    const other = uris({ ...TURN_DNS01, calls: { coturn: { listeningPort: 3479, tlsListeningPort: 5350 } } });
    expect(other.filter((uri) => uri.startsWith('turn:')).every((uri) => uri.includes(':3479?transport='))).toBe(true);
    expect(other).toContain('turns:turn.example.org:5350?transport=tcp');
  });

  test.each([
    ['minio (private CA)', {}, true],
    ['external (public CA)', { objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net' } } }, false],
  ])('S3 clients trust the object store CA: %s', (_name, overrides, privateCa) => {
    const { objects } = render(overrides);
    const awsConf = configMapData(objects, 'synapse-config')['aws.conf'];
    expect(awsConf.includes(`ca_bundle = ${SYNAPSE_PATHS.objectStorageCa}`)).toBe(privateCa);
    const media = (findOne(objects, 'StatefulSet', 'synapse-media', 'matrix') as Any).spec.template.spec;
    const job = (find(objects, 'CronJob', undefined, 'matrix')[0] as Any).spec.jobTemplate.spec.template.spec;
    for (const pod of [media, job]) {
      const mounted = pod.containers[0].volumeMounts.some((mount: Any) => mount.mountPath === SYNAPSE_PATHS.objectStorageCaDir);
      expect(mounted).toBe(privateCa);
      // The Secret cert-manager writes in this namespace (test/secret-references.test.ts proves something creates it).
      if (privateCa) expect(pod.volumes.find((volume: Any) => volume.name === 'object-storage-ca').secret).toEqual({ secretName: 'object-storage-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    }
  });

  test('cache sizes follow a per-pool memory override', () => {
    const resources = { requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '10Gi' } };
    const platform = buildPlatform(configWith({ synapse: { workers: { sync: { count: 1, resources } } } }));
    const sync = buildWorkerConfigs(platform).get('synapse-sync-0.yaml') as Any;
    expect(sync.caches.global_factor).toBe(5);
    expect(sync.caches.cache_autotuning.max_cache_memory_usage).toBe('7168M');
  });

  test('the Synapse image preloads jemalloc (cache_autotuning reads jemalloc statistics; the pods bypass start.py)', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'images/synapse/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENV LD_PRELOAD=\/usr\/local\/lib\/libjemalloc\.so\.2$/m);
    expect(dockerfile).toContain('ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2');
  });

  test('single-writer streams reject more than one writer', () => {
    expect(() => configWith({ synapse: { workers: { typing: { count: 2 } } } })).toThrow(/typing/);
    expect(() => configWith({ synapse: { workers: { presence: { count: 2 } } } })).toThrow(/presence/);
  });

  test('builders agree with the chart', () => {
    const platform = buildPlatform(configWith({ synapse: { workers: { sync: { count: 2 } } } }));
    expect([...buildWorkerConfigs(platform).keys()].filter((file) => file.startsWith('synapse-sync-'))).toEqual(['synapse-sync-0.yaml', 'synapse-sync-1.yaml']);
    expect(buildHomeserverConfig(platform, [{ extra_setting: 1 }]).extra_setting).toBe(1);
  });

  test('media upload CronJob per media worker, pinned next to its volume', () => {
    const { objects } = render({ synapse: { workers: { mediaRepository: { count: 3 } } } });
    const jobs = find(objects, 'CronJob', undefined, 'matrix') as Any[];
    expect(jobs.map((job) => job.metadata.name)).toEqual(['synapse-media-upload-0', 'synapse-media-upload-1', 'synapse-media-upload-2']);
    for (const [index, job] of jobs.entries()) {
      const pod = job.spec.jobTemplate.spec.template.spec;
      expect(pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels['statefulset.kubernetes.io/pod-name']).toBe(`synapse-media-${index}`);
      expect(pod.volumes.find((volume: Any) => volume.persistentVolumeClaim).persistentVolumeClaim.claimName).toBe(`media-store-synapse-media-${index}`);
      expect(pod.containers[0].command[2]).toMatch(/s3_media_upload --no-progress update \/data\/media_store 1d\n.*upload \/data\/media_store synapse-media --delete/s);
    }
  });
});
