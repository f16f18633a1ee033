import { OBJECT_STORE_NAME } from '../charts/postgres';
import { INTERNAL_CA, MINIO_TENANT, objectStorage, POSTGRES, secretCatalogue } from '../lib/model';
import { scrapeTargets } from '../lib/model/metrics';
import {
  CONNECTION_RESERVE_TOTAL,
  postgresMaxConnections,
  postgresSizing,
  quantityBytes,
  synapseConnectionBudget,
} from '../lib/model/postgres-sizing';
import { totalDatabaseConnections } from '../lib/model/workers';
import { buildPlatform } from '../lib/model';
import { charts } from '../lib/versions';
import { configWith, find, findOne, render } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

function cluster(overrides: Record<string, unknown> = {}): Any {
  return findOne(render(overrides).objects, 'Cluster', POSTGRES.clusterName, POSTGRES.namespace);
}

describe('CloudNativePG Cluster', () => {
  test('instances follow config.database.instances (3 and 5)', () => {
    expect(cluster().spec.instances).toBe(3);
    expect(cluster({ database: { instances: 5 } }).spec.instances).toBe(5);
  });

  test('switchoverDelay is 300 and synchronous replication is ANY 1 with required durability', () => {
    const spec = cluster({ database: { instances: 5 } }).spec;
    expect(spec.switchoverDelay).toBe(300);
    expect(spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
  });

  test('a single instance has no synchronous standby to wait for', () => {
    expect(cluster({ database: { instances: 1 } }).spec.postgresql.synchronous).toBeUndefined();
  });

  test('synapse database owned by synapse, UTF8 with C collation and ctype', () => {
    expect(cluster().spec.bootstrap).toEqual({
      initdb: { database: 'synapse', owner: 'synapse', encoding: 'UTF8', localeCollate: 'C', localeCType: 'C' },
    });
  });

  test('data and WAL volumes on the fast storage class with the configured sizes', () => {
    const spec = cluster({ storageClasses: { fast: 'nvme-x' }, database: { storageSize: '1Ti', walStorageSize: '64Gi' } }).spec;
    expect(spec.storage).toEqual({ storageClass: 'nvme-x', size: '1Ti' });
    expect(spec.walStorage).toEqual({ storageClass: 'nvme-x', size: '64Gi' });
  });

  test('instances never share a node', () => {
    expect(cluster().spec.affinity).toMatchObject({ enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' });
  });

  test('WAL archiving through the Barman Cloud plugin into the ObjectStore', () => {
    const spec = cluster().spec;
    expect(spec.plugins).toEqual([
      { name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: OBJECT_STORE_NAME, serverName: POSTGRES.clusterName } },
    ]);
    expect(spec.backup).toBeUndefined(); // no deprecated in-tree barmanObjectStore
  });

  test('no Pooler: Synapse connects to the -rw Service directly', () => {
    expect(find(render().objects, 'Pooler')).toHaveLength(0);
  });

  test('scraped by a PodMonitor from the metrics model that selects the cluster pods', () => {
    const target = scrapeTargets(buildPlatform(configWith())).find((candidate) => candidate.namespace === POSTGRES.namespace && candidate.selector['cnpg.io/cluster']);
    expect(target?.selector).toEqual({ 'cnpg.io/cluster': POSTGRES.clusterName });
  });
});

describe('connection budget and parameters', () => {
  test('max_connections covers every Synapse cp_max plus the reserve, with the catalogue sum', () => {
    for (const overrides of [{}, { synapse: { workers: { sync: { count: 20 }, generic: { count: 12 } }, databaseConnectionsPerProcess: 15 } }]) {
      const config = configWith(overrides);
      const synapseSum = totalDatabaseConnections(config);
      expect(synapseConnectionBudget(config)).toBe(synapseSum);
      const maxConnections = Number(cluster(overrides).spec.postgresql.parameters.max_connections);
      expect(maxConnections).toBeGreaterThanOrEqual(synapseSum + CONNECTION_RESERVE_TOTAL);
      expect(maxConnections).toBe(postgresMaxConnections(synapseSum));
    }
  });

  test('more workers means more connections (computed, not hard-coded)', () => {
    const small = Number(cluster().spec.postgresql.parameters.max_connections);
    const extraWorkers = 22;
    const syncCount = configWith().synapse.workers.sync.count + extraWorkers;
    const large = Number(cluster({ synapse: { workers: { sync: { count: syncCount } } } }).spec.postgresql.parameters.max_connections);
    expect(large).toBeGreaterThanOrEqual(small + extraWorkers * 10);
  });

  test('postgresMaxConnections keeps at least 10 connections of headroom', () => {
    for (const total of [0, 10, 99, 310, 1000]) expect(postgresMaxConnections(total)).toBeGreaterThanOrEqual(total + CONNECTION_RESERVE_TOTAL + 10);
  });

  test('memory parameters follow the pod memory limit and resources follow config', () => {
    const resources = { requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } };
    const spec = cluster({ database: { resources } }).spec;
    expect(spec.resources.limits.memory).toBe('8Gi');
    expect(spec.postgresql.parameters.shared_buffers).toBe('2048MB');
    expect(spec.postgresql.parameters.effective_cache_size).toBe('6144MB');
    const sizing = postgresSizing(configWith({ database: { resources } }));
    expect(quantityBytes(sizing.parameters.work_mem.replace('MB', 'Mi'))).toBeGreaterThanOrEqual(4 * 2 ** 20);
  });

  test('max_wal_size fits in the WAL volume', () => {
    const spec = cluster({ database: { walStorageSize: '8Gi' } }).spec;
    expect(quantityBytes(spec.postgresql.parameters.max_wal_size.replace('MB', 'Mi'))).toBeLessThanOrEqual(quantityBytes('8Gi') / 2);
  });

  test.each(['100Gi', '8Gi', '1Ti'])('replication slots cannot fill a %s WAL volume: max_slot_wal_keep_size is capped from its size', (walStorageSize) => {
    const parameters = cluster({ database: { walStorageSize } }).spec.postgresql.parameters;
    const bytes = (value: string) => quantityBytes(value.replace('MB', 'Mi'));
    // PostgreSQL's default -1 lets a standby that stays down keep WAL until the volume is full.
    expect(parameters.max_slot_wal_keep_size).toMatch(/^[1-9][0-9]*MB$/);
    const volume = quantityBytes(walStorageSize);
    // What slots may hold back plus the WAL between checkpoints still leaves room for WAL awaiting archiving.
    expect(bytes(parameters.max_slot_wal_keep_size) + bytes(parameters.max_wal_size)).toBeLessThanOrEqual(volume * 0.8);
    expect(bytes(parameters.max_slot_wal_keep_size)).toBeGreaterThanOrEqual(volume / 4);
  });
});

describe('backups', () => {
  test('ObjectStore on the configured object storage with retention from config', () => {
    const { objects, config } = render({ database: { backup: { retentionPolicy: '6w' } }, objectStorage: { buckets: { backups: 'pg-dr' } } });
    const store = findOne(objects, 'ObjectStore', OBJECT_STORE_NAME, POSTGRES.namespace) as Any;
    const storage = objectStorage(config);
    expect(store.apiVersion).toBe('barmancloud.cnpg.io/v1');
    expect(store.spec.retentionPolicy).toBe('6w');
    expect(store.spec.configuration.destinationPath).toBe('s3://pg-dr/');
    expect(store.spec.configuration.endpointURL).toBe(storage.endpoint);
    expect(store.spec.configuration.s3Credentials.accessKeyId).toEqual({ name: storage.credentialsSecret, key: storage.accessKeyIdKey });
    expect(store.spec.configuration.endpointCA).toEqual({ name: 'object-storage-ca', key: 'ca.crt' });
  });

  test('in-cluster MinIO: the backup CA Secret is created by cert-manager from the CA that signs MinIO, no manual step', () => {
    const { objects, config } = render();
    const store = findOne(objects, 'ObjectStore', OBJECT_STORE_NAME, POSTGRES.namespace) as Any;
    const endpointCA = store.spec.configuration.endpointCA;
    // The Secret comes from a Certificate in the ObjectStore's namespace; cert-manager writes the issuing CA as ca.crt.
    const carrier = find(objects, 'Certificate', undefined, POSTGRES.namespace).find((c: Any) => c.spec.secretName === endpointCA.name) as Any;
    expect(carrier).toBeDefined();
    expect(endpointCA.key).toBe(INTERNAL_CA.caKey);
    // One source: the same ClusterIssuer signs the certificate the Tenant serves.
    const tenant = findOne(objects, 'Tenant', MINIO_TENANT.name, MINIO_TENANT.namespace) as Any;
    const served = find(objects, 'Certificate', undefined, MINIO_TENANT.namespace).find((c: Any) => c.spec.secretName === tenant.spec.externalCertSecret[0].name) as Any;
    expect(served.spec.issuerRef).toEqual(carrier.spec.issuerRef);
    expect(carrier.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer', name: INTERNAL_CA.issuer });
    expect(served.spec.dnsNames).toContain(new URL(store.spec.configuration.endpointURL).hostname);
    // Neither the catalogue (npm run secrets / External Secrets) nor the docs' old kubectl step provides it.
    expect(secretCatalogue(config).some((secret) => secret.name === endpointCA.name)).toBe(false);
  });

  test('external object storage: its endpoint, no private CA', () => {
    const { objects } = render({ objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net' } } });
    const store = findOne(objects, 'ObjectStore', OBJECT_STORE_NAME, POSTGRES.namespace) as Any;
    expect(store.spec.configuration.endpointURL).toBe('https://s3.example.net');
    expect(store.spec.configuration.endpointCA).toBeUndefined();
  });

  test('daily ScheduledBackup through the plugin with the configured schedule', () => {
    const backups = find(render({ database: { backup: { schedule: '0 30 1 * * *' } } }).objects, 'ScheduledBackup') as Any[];
    expect(backups).toHaveLength(1);
    expect(backups[0].spec).toMatchObject({
      schedule: '0 30 1 * * *',
      method: 'plugin',
      pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
      cluster: { name: POSTGRES.clusterName },
    });
  });

  test('restore: bootstrap.recovery from the object store, archiving to a new serverName', () => {
    const spec = cluster({ database: { restore: { enabled: true }, backup: { serverName: 'synapse-postgres-2' } } }).spec;
    expect(spec.bootstrap.initdb).toBeUndefined();
    expect(spec.bootstrap.recovery).toMatchObject({ source: 'backup-origin', database: 'synapse', owner: 'synapse' });
    expect(spec.externalClusters).toEqual([
      {
        name: 'backup-origin',
        plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: OBJECT_STORE_NAME, serverName: POSTGRES.clusterName } },
      },
    ]);
    expect(spec.plugins[0].parameters.serverName).toBe('synapse-postgres-2');
  });

  test('restore refuses to archive over the backup it restores from', () => {
    expect(() => configWith({ database: { restore: { enabled: true } } })).toThrow(/serverName other than the restore source/);
    expect(() => configWith({ database: { restore: { enabled: true, sourceServerName: 'old-cluster' } } })).not.toThrow();
  });
});

describe('operator and plugin charts', () => {
  test('CNPG operator in cnpg-system (10-operators), plugin after cert-manager (20-platform)', () => {
    const { files, objects } = render();
    const releases = find(objects, 'HelmRelease', undefined, 'cnpg-system') as Any[];
    const operator = releases.find((release) => release.spec.chart.spec.chart === 'cloudnative-pg');
    const plugin = releases.find((release) => release.spec.chart.spec.chart === 'plugin-barman-cloud');
    expect(operator.spec.chart.spec.version).toBe(charts.cloudnativePg.version);
    expect(plugin.spec.chart.spec.version).toBe(charts.barmanCloudPlugin.version);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['stages/10-operators/cloudnative-pg.yaml', 'stages/20-platform/barman-cloud-plugin.yaml', 'stages/30-data/postgres.yaml']));
    expect(find(objects, 'PodDisruptionBudget', 'cloudnative-pg', 'cnpg-system')).toHaveLength(1);
  });
});
