import type { PlatformConfig } from '../config';
import { DEFAULT_POSTGRES_SERVER_NAME } from '../config/data';
import { NAMESPACES, serviceHost } from './platform';

/**
 * The contract between components: names and addresses one chart creates and another consumes.
 * Defined once here so a rename cannot leave a dangling reference.
 */

export const POSTGRES = {
  clusterName: DEFAULT_POSTGRES_SERVER_NAME,
  namespace: NAMESPACES.matrix.name,
  database: 'synapse',
  owner: 'synapse',
  /** CNPG creates `<cluster>-app` with username, password and a ready `pgpass` line. */
  appSecret: 'synapse-postgres-app',
  get readWriteHost(): string {
    return serviceHost(`${this.clusterName}-rw`, this.namespace);
  },
  port: 5432,
} as const;

export interface ValkeyClusterEndpoints {
  readonly namespace: string;
  readonly name: string;
  readonly masterName: string;
  readonly port: number;
  readonly sentinelPort: number;
  /**
   * Secret (in the Valkey namespace and copied to each consumer's namespace) holding `password`. The
   * Sentinels require the same password (`requirepass` on every Sentinel, constructs/valkey-sentinel.ts),
   * so a consumer gives one copy for both: LiveKit as LIVEKIT_REDIS_PASSWORD and
   * LIVEKIT_REDIS_SENTINEL_PASSWORD (redis.sentinel_password); without the latter its Sentinel client
   * gets NOAUTH (test/livekit-run.test.ts).
   */
  readonly passwordSecret: string;
  /**
   * Key of the same Secret (Valkey namespace copy) with redis_exporter's password file: a JSON map
   * from target URI to password (redis_exporter exporter/pwd_file.go), for the sidecars'
   * REDIS_PASSWORD_FILE. Its URIs are exporterTarget(port) of the data and Sentinel ports.
   */
  readonly exporterPasswordsKey: string;
  /**
   * Key of the same Secret with the master proxy's password as an HAProxy config file: a `global`
   * section whose `setenv` HAProxy applies while parsing, so the health check's "${VAR}" in the next
   * file finds it (proxyAuthTemplate). HAProxy has no other file source for tcp-check data.
   */
  readonly proxyAuthKey: string;
  /** Headless Service of the data pods and of the sentinels. */
  readonly headlessService: string;
  readonly sentinelService: string;
}

function valkeyCluster(namespace: string): ValkeyClusterEndpoints {
  return {
    namespace,
    name: 'valkey',
    masterName: 'valkey-master',
    port: 6379,
    sentinelPort: 26379,
    passwordSecret: 'valkey-auth',
    exporterPasswordsKey: 'redis-exporter-passwords.json',
    proxyAuthKey: 'haproxy-auth.cfg',
    headlessService: 'valkey-headless',
    sentinelService: 'valkey-sentinel',
  };
}

/** The address a redis_exporter sidecar scrapes: its own pod's Valkey data node or Sentinel. */
export function exporterTarget(port: number): string {
  return `redis://localhost:${port}`;
}

/** redis_exporter's password file for one cluster, as a Secret template over the cluster's password value. */
export function exporterPasswordsTemplate(cluster: ValkeyClusterEndpoints, passwordValueId: string): string {
  const entries = [cluster.port, cluster.sentinelPort].map((port) => `  ${JSON.stringify(exporterTarget(port))}: "{{${passwordValueId}}}"`);
  return `{\n${entries.join(',\n')}\n}\n`;
}

/** Name of the HAProxy variable the master proxy's AUTH health check expands (never in a ConfigMap). */
export const HAPROXY_PASSWORD_ENV = 'VALKEY_PASSWORD';

/** The master proxy's password file (ValkeyClusterEndpoints.proxyAuthKey), as a Secret template. */
export function proxyAuthTemplate(passwordValueId: string): string {
  return `global\n    setenv ${HAPROXY_PASSWORD_ENV} "{{${passwordValueId}}}"\n`;
}

export const VALKEY_SYNAPSE = valkeyCluster(NAMESPACES.redisSynapse.name);
export const VALKEY_LIVEKIT = valkeyCluster(NAMESPACES.redisLivekit.name);

/** HAProxy in front of one Valkey cluster that forwards to whichever data pod is master. */
export interface ValkeyMasterProxy {
  readonly name: string;
  /** app.kubernetes.io/component of its pods. */
  readonly component: string;
  readonly namespace: string;
  readonly port: number;
  readonly host: string;
}

function valkeyMasterProxy(cluster: ValkeyClusterEndpoints): ValkeyMasterProxy {
  const name = 'valkey-master-proxy';
  return { name, component: 'redis-proxy', namespace: cluster.namespace, port: cluster.port, host: serviceHost(name, cluster.namespace) };
}

/** The only Redis address Synapse sees (Synapse has no Sentinel support). */
export const SYNAPSE_REDIS_PROXY = valkeyMasterProxy(VALKEY_SYNAPSE);

/**
 * lk-jwt-service's Redis address: its go-redis client takes one plain redis:// URL (store.go
 * redis.ParseURL), no Sentinel, so it goes through the same kind of master proxy as Synapse.
 * LiveKit itself talks to the Sentinels directly.
 */
export const LIVEKIT_REDIS_PROXY = valkeyMasterProxy(VALKEY_LIVEKIT);

/** lk-jwt-service keeps its delegated-leave jobs in this database; LiveKit uses database 0. */
export const LK_JWT_REDIS_DATABASE = 1;

/** Sentinel addresses of one Valkey cluster, one per sentinel pod (stable StatefulSet DNS names). */
export function sentinelAddresses(cluster: ValkeyClusterEndpoints, sentinels: number): string[] {
  return Array.from(
    { length: sentinels },
    (_, index) => `${cluster.sentinelService}-${index}.${cluster.sentinelService}.${cluster.namespace}.svc.cluster.local:${cluster.sentinelPort}`,
  );
}

export const SYNAPSE_ROUTER = {
  name: 'synapse-router',
  namespace: NAMESPACES.matrix.name,
  port: 8008,
} as const;

export const ELEMENT_WEB = { name: 'element-web', namespace: NAMESPACES.matrix.name, port: 8080 } as const;
export const ADMIN_UI = { name: 'ketesa', namespace: NAMESPACES.matrix.name, port: 8080 } as const;
export const LK_JWT = { name: 'lk-jwt-service', namespace: NAMESPACES.matrix.name, port: 8080 } as const;
/** LiveKit runs on the host network; this Service fronts the signalling port for the edge. */
export const LIVEKIT = { name: 'livekit', namespace: NAMESPACES.livekit.name } as const;
/** Serves /.well-known/matrix/{server,client} on the server name's host for either edge (charts/edge.ts). */
export const WELL_KNOWN = { name: 'matrix-well-known', namespace: NAMESPACES.matrix.name, port: 8080 } as const;

/** Loki single binary (release `loki`): push and query API, the Grafana datasource and Alloy's target. */
export const LOKI = {
  name: 'loki',
  namespace: NAMESPACES.monitoring.name,
  port: 3100,
  get url(): string {
    return `http://${serviceHost(this.name, this.namespace)}:${this.port}`;
  },
} as const;

/** cert-manager's Helm release; its chart labels the controller pods with it (metrics.ts scrapes them). */
export const CERT_MANAGER = { releaseName: 'cert-manager', namespace: NAMESPACES.certManager.name } as const;

/** kube-prometheus-stack release `prometheus`: the operator, Prometheus and Grafana live here. */
export const PROMETHEUS_STACK = { releaseName: 'prometheus', namespace: NAMESPACES.monitoring.name } as const;

/** Everything an S3 client needs: one description feeds Synapse media, CNPG backups and Loki. */
export interface ObjectStorage {
  readonly endpoint: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly buckets: PlatformConfig['objectStorage']['buckets'];
  /** Secret name (copied into every consumer namespace) with the keys below. */
  readonly credentialsSecret: string;
  readonly accessKeyIdKey: string;
  readonly secretAccessKeyKey: string;
  /**
   * Key of the matrix namespace's copy holding both keys as an AWS shared credentials file
   * (`[default]` profile), which boto3 reads from AWS_SHARED_CREDENTIALS_FILE: Synapse's S3 clients
   * get their keys from a file rather than from environment variables.
   */
  readonly credentialsFileKey: string;
  /**
   * The CA that signed the endpoint's certificate, when it is not a public one: the in-cluster MinIO
   * serves a certificate of the platform's internal CA (lib/model/internal-ca.ts), and cert-manager
   * writes that CA as `key` of the Secret `secret` in every client namespace.
   */
  readonly ca?: { readonly secret: string; readonly key: string };
}

export const MINIO_TENANT = { name: 'matrix-storage', namespace: NAMESPACES.minio.name } as const;

export function objectStorage(config: PlatformConfig): ObjectStorage {
  const common = {
    buckets: config.objectStorage.buckets,
    credentialsSecret: 'object-storage-credentials',
    accessKeyIdKey: 'AWS_ACCESS_KEY_ID',
    secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY',
    credentialsFileKey: 'credentials',
  };
  if (config.objectStorage.provider === 'external' && config.objectStorage.external) {
    const external = config.objectStorage.external;
    return { ...common, endpoint: external.endpoint, region: external.region, forcePathStyle: external.forcePathStyle };
  }
  // The MinIO operator always names the tenant's S3 Service `minio`; TLS on 443 with the internal CA's certificate.
  return {
    ...common,
    endpoint: `https://${serviceHost('minio', MINIO_TENANT.namespace)}`,
    region: config.objectStorage.region,
    forcePathStyle: true,
    ca: { secret: 'object-storage-ca', key: 'ca.crt' },
  };
}
