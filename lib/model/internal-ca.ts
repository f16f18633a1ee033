import type { PlatformConfig } from '../config';
import { LOKI, MINIO_TENANT, objectStorage, POSTGRES } from './endpoints';
import { NAMESPACES, serviceHost } from './platform';

/**
 * The platform's own certificate authority for TLS inside the cluster (today: the MinIO S3 endpoint).
 * cert-manager runs it end to end: a selfSigned ClusterIssuer signs the CA certificate once, a CA
 * ClusterIssuer signs server certificates with it, and every client trusts it through `ca.crt` in a
 * Secret cert-manager writes next to the client (for a CA issuer that key holds the issuing CA).
 * Nothing is created by hand, and the servers and their clients read one CA.
 */
export const INTERNAL_CA = {
  /** Signs the CA certificate only. */
  bootstrapIssuer: 'platform-ca-bootstrap',
  /** Signs every internal server certificate with the CA below. */
  issuer: 'platform-internal-ca',
  certificate: 'platform-internal-ca',
  /** A ClusterIssuer reads its CA Secret from cert-manager's cluster resource namespace (its own). */
  namespace: NAMESPACES.certManager.name,
  secretName: 'platform-internal-ca',
  commonName: 'matrix-platform-internal-ca',
  /**
   * Ten years, renewed with the same key (rotationPolicy Never): a renewed CA certificate still
   * verifies the certificates it signed before, and clients holding the previous one still verify
   * the new ones, so renewal never has to reach every client at the same moment.
   */
  duration: '87600h',
  /** The key in every cert-manager Secret that carries the issuing CA. */
  caKey: 'ca.crt',
} as const;

export type CertificatePurpose =
  /** A TLS server certificate. */
  | 'server'
  /** Issued only for the `ca.crt` cert-manager writes beside it; its own key pair is never used. */
  | 'ca-carrier';

/** A certificate the internal CA signs. */
export interface InternalCertificate {
  readonly name: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly purpose: CertificatePurpose;
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
}

/** The MinIO operator trusts every Secret in its namespace whose name starts with this (health checks of the tenant). */
export const MINIO_OPERATOR_CA_PREFIX = 'operator-ca-tls';

/** The tenant's server certificate Secret (`<tenant>-tls`, the name the operator's own certificates use). */
export const MINIO_SERVER_TLS_SECRET = `${MINIO_TENANT.name}-tls`;

/**
 * The names the MinIO operator gives a tenant's TLS certificate (Tenant.AllMinIOHosts at v7.1.1):
 * the S3 Service in three spellings and every pod behind the headless Service, which the servers
 * use to reach each other.
 */
export function minioServerDnsNames(): string[] {
  const service = 'minio';
  const { namespace } = MINIO_TENANT;
  return [
    serviceHost(service, namespace),
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `*.${serviceHost(`${MINIO_TENANT.name}-hl`, namespace)}`,
  ];
}

/** Namespaces whose workloads or objects read the object store's CA from `objectStorage(config).ca.secret`. */
const OBJECT_STORAGE_CA_READERS = [
  POSTGRES.namespace, // Barman Cloud backups (ObjectStore endpointCA)
  NAMESPACES.matrix.name, // Synapse media workers and the upload job
  LOKI.namespace, // Loki chunks and index
];

/**
 * Every certificate the internal CA signs for this config: MinIO's server certificate and one
 * `ca.crt` carrier per client namespace (cert-manager cannot write one Secret into another
 * namespace). With external object storage the endpoint has a public certificate: none.
 */
export function internalCertificates(config: PlatformConfig): InternalCertificate[] {
  const ca = objectStorage(config).ca;
  if (!ca) return [];
  const carrier = (namespace: string, secretName: string): InternalCertificate => ({
    name: secretName,
    namespace,
    secretName,
    purpose: 'ca-carrier',
    commonName: `${secretName}.${namespace}`,
  });
  return [
    {
      name: MINIO_SERVER_TLS_SECRET,
      namespace: MINIO_TENANT.namespace,
      secretName: MINIO_SERVER_TLS_SECRET,
      purpose: 'server',
      commonName: serviceHost('minio', MINIO_TENANT.namespace),
      dnsNames: minioServerDnsNames(),
    },
    ...[...new Set(OBJECT_STORAGE_CA_READERS)].map((namespace) => carrier(namespace, ca.secret)),
    carrier(NAMESPACES.minioOperator.name, `${MINIO_OPERATOR_CA_PREFIX}-${MINIO_TENANT.name}`),
  ];
}
