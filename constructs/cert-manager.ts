import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Certificate, type ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { ClusterIssuer, type IClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';

/**
 * cert-manager objects through the typed models of @kubernetes-models/cert-manager: each one is
 * checked against cert-manager's own schema when it is built, so a malformed Certificate or issuer
 * fails the synth instead of the apply.
 */
type CertManagerModel = Certificate | ClusterIssuer;

function emit(scope: Construct, id: string, model: CertManagerModel): ApiObject {
  model.validate();
  const { apiVersion, kind, ...body } = model.toJSON() as { apiVersion: string; kind: string } & Record<string, unknown>;
  return new ApiObject(scope, id, { apiVersion, kind, ...body });
}

export type CertificateSpec = ICertificate['spec'];
export type ClusterIssuerSpec = IClusterIssuer['spec'];
/** One entry of an ACME issuer's solvers list. */
export type AcmeSolver = NonNullable<NonNullable<ClusterIssuerSpec['acme']>['solvers']>[number];
export type Dns01Solver = NonNullable<AcmeSolver['dns01']>;
type Http01 = NonNullable<AcmeSolver['http01']>;
/**
 * An HTTP-01 solver. The models follow cert-manager's v1.11 CRDs (the package's last CommonJS
 * release); `ingress.ingressClassName` came with cert-manager 1.12, and the schema lets it through.
 */
export type Http01Solver = Omit<Http01, 'ingress'> & { ingress?: NonNullable<Http01['ingress']> & { ingressClassName?: string } };

export function certificate(scope: Construct, id: string, props: { name: string; namespace: string; spec: CertificateSpec }): ApiObject {
  return emit(scope, id, new Certificate({ metadata: { name: props.name, namespace: props.namespace }, spec: props.spec }));
}

export function clusterIssuer(scope: Construct, id: string, props: { name: string; spec: ClusterIssuerSpec }): ApiObject {
  return emit(scope, id, new ClusterIssuer({ metadata: { name: props.name }, spec: props.spec }));
}
