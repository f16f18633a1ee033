import type { Construct } from 'constructs';
import { certificate, type CertificateSpec, clusterIssuer } from '../constructs/cert-manager';
import { ComponentChart } from '../constructs/component-chart';
import { type InternalCertificate, INTERNAL_CA, internalCertificates, type Platform } from '../lib/model';

const ECDSA_P256 = { algorithm: 'ECDSA', size: 256 } as const;
const ISSUED_BY_INTERNAL_CA = { group: 'cert-manager.io', kind: 'ClusterIssuer', name: INTERNAL_CA.issuer };

function leafSpec(leaf: InternalCertificate): CertificateSpec {
  return {
    secretName: leaf.secretName,
    commonName: leaf.commonName,
    ...(leaf.dnsNames ? { dnsNames: [...leaf.dnsNames] } : {}),
    // A carrier's key pair is never used; client auth only, so it can never pass for a server.
    usages: leaf.purpose === 'server' ? ['digital signature', 'server auth'] : ['digital signature', 'client auth'],
    issuerRef: ISSUED_BY_INTERNAL_CA,
    privateKey: { ...ECDSA_P256, rotationPolicy: 'Always' },
  };
}

/**
 * The platform's internal CA and the certificates it signs (stage 20, after cert-manager and before
 * the data stage whose MinIO tenant and backups use them). Emitted only when something needs it.
 */
export class InternalCaChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'internal-ca', { platform, stage: '20-platform' });
    clusterIssuer(this, 'bootstrap-issuer', { name: INTERNAL_CA.bootstrapIssuer, spec: { selfSigned: {} } });
    certificate(this, 'ca', {
      name: INTERNAL_CA.certificate,
      namespace: INTERNAL_CA.namespace,
      spec: {
        isCA: true,
        commonName: INTERNAL_CA.commonName,
        secretName: INTERNAL_CA.secretName,
        duration: INTERNAL_CA.duration,
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: INTERNAL_CA.bootstrapIssuer },
        privateKey: { ...ECDSA_P256, rotationPolicy: 'Never' },
      },
    });
    clusterIssuer(this, 'issuer', { name: INTERNAL_CA.issuer, spec: { ca: { secretName: INTERNAL_CA.secretName } } });
    for (const leaf of internalCertificates(platform.config)) {
      certificate(this, `${leaf.namespace}-${leaf.name}`, { name: leaf.name, namespace: leaf.namespace, spec: leafSpec(leaf) });
    }
  }
}

export function addInternalCaChart(scope: Construct, platform: Platform): void {
  if (internalCertificates(platform.config).length === 0) return;
  new InternalCaChart(scope, platform);
}
