import * as yaml from 'js-yaml';
import { CERT_MANAGER } from '../../lib/model';
import type { KubeObject } from '../../lib/synth';

/**
 * Every Secret that objects in dist/ refer to, and every Secret something creates, so a test can
 * prove that no reference dangles: a pod or operator waiting for a Secret nobody creates is a
 * manual step (or a deploy that never finishes).
 *
 * References are found by shape, in every object and inside Helm values (Flux `values`, Argo CD
 * `valuesObject`, k3s `valuesContent`), in the namespace the release deploys to:
 * - `secretName` (pod volumes, Ingress TLS, a CA ClusterIssuer's key pair) and `secretKeyRef.name`;
 * - `{secret: {name}}` (projected volumes, Prometheus tlsConfig) and `secretRef.name` (envFrom);
 * - `secrets` (a list of Secret names, prometheus-operator's Alertmanager and Prometheus specs),
 * - `existingSecret` (chart values), `imagePullSecrets[].name`, Gateway `certificateRefs` to Secrets,
 *   Flux `valuesFrom` of kind Secret;
 * - Barman Cloud ObjectStore `endpointCA` and `s3Credentials.*`, MinIO Tenant `configuration`
 *   and `externalCertSecret`.
 * Any other field whose name mentions a secret is reported as unrecognised, so a new kind of
 * reference cannot slip past the walker unnoticed.
 */

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
  /** `Kind namespace/name` of the object and the field path, for the failure message. */
  readonly where: string;
}

export interface SecretWalk {
  readonly references: SecretRef[];
  /** Secrets cert-manager creates for objects in dist/ (Certificate secretName, ACME account keys). */
  readonly produced: SecretRef[];
  /** Fields that look like a secret reference but match no rule above. */
  readonly unrecognised: string[];
}

/** Secret-named fields that hold no reference, with the reason. */
const NOT_REFERENCES: Readonly<Record<string, string>> = {
  // Loki's S3 secret key: `${AWS_SECRET_ACCESS_KEY}`, expanded from the environment (extraEnvFrom is the reference).
  secretAccessKey: 'a value expanded at run time when it is a string',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nameOf(value: unknown): string | undefined {
  return isRecord(value) && typeof value.name === 'string' ? value.name : undefined;
}

/**
 * The namespace a release's chart deploys to, its values, and the object without them, for each
 * GitOps flavour (the values are read in the release's namespace, the rest in the object's).
 */
function helmValues(object: KubeObject): { namespace: string; values: unknown; rest: Record<string, any> } | undefined {
  const spec: Record<string, any> = (object as { spec?: Record<string, any> }).spec ?? {};
  const namespace = object.metadata?.namespace ?? '';
  if (object.kind === 'HelmRelease') {
    const { values, ...rest } = spec;
    return { namespace: spec.targetNamespace ?? namespace, values, rest };
  }
  if (object.kind === 'Application' && spec.source?.helm) {
    const { valuesObject, ...helm } = spec.source.helm;
    return { namespace: spec.destination?.namespace ?? namespace, values: valuesObject, rest: { ...spec, source: { ...spec.source, helm } } };
  }
  if (object.kind === 'HelmChart' && typeof spec.valuesContent === 'string') {
    const { valuesContent, ...rest } = spec;
    return { namespace: spec.targetNamespace ?? namespace, values: yaml.load(valuesContent), rest };
  }
  return undefined;
}

export function walkSecrets(objects: readonly KubeObject[]): SecretWalk {
  const references: SecretRef[] = [];
  const produced: SecretRef[] = [];
  const unrecognised: string[] = [];

  /** Records the Secret names a field refers to; false when the field is no reference shape. */
  const reference = (key: string, child: unknown, namespace: string, where: string): boolean => {
    const refer = (name: unknown, inNamespace = namespace) => {
      if (typeof name === 'string') references.push({ namespace: inNamespace, name, where });
    };
    const each = (list: unknown, pick: (entry: Record<string, unknown>) => void) => {
      if (Array.isArray(list)) for (const entry of list) if (isRecord(entry)) pick(entry);
    };
    switch (key) {
      case 'secretName':
      case 'existingSecret':
        if (typeof child !== 'string') return false;
        if (child !== '') refer(child);
        return true;
      case 'secret': // a pod volume names `secretName`, a projection or a Prometheus tlsConfig `name`
        if (!isRecord(child)) return false;
        refer(child.secretName ?? child.name);
        return true;
      case 'secretKeyRef':
      case 'secretRef':
      case 'endpointCA':
        refer(nameOf(child));
        return isRecord(child);
      case 's3Credentials':
        if (!isRecord(child)) return false;
        for (const ref of Object.values(child)) refer(nameOf(ref));
        return true;
      case 'secrets': // prometheus-operator's Alertmanager/Prometheus spec: Secret names mounted into its pods
        if (!Array.isArray(child) || !child.every((entry) => typeof entry === 'string')) return false;
        for (const name of child) refer(name);
        return true;
      case 'imagePullSecrets':
      case 'externalCertSecret':
        each(child, (entry) => refer(entry.name));
        return Array.isArray(child);
      case 'certificateRefs':
        each(child, (entry) => {
          if ((entry.kind ?? 'Secret') === 'Secret') refer(entry.name, typeof entry.namespace === 'string' ? entry.namespace : namespace);
        });
        return Array.isArray(child);
      case 'valuesFrom':
        each(child, (entry) => {
          if (entry.kind === 'Secret') refer(entry.name);
        });
        return Array.isArray(child);
      default:
        return false;
    }
  };

  const visit = (value: unknown, namespace: string, where: string, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, namespace, where, `${path}[${index}]`));
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (reference(key, child, namespace, `${where} ${at}`)) continue;
      if (/secret/i.test(key) && !(key in NOT_REFERENCES && typeof child === 'string')) unrecognised.push(`${where} ${at}`);
      visit(child, namespace, where, at);
    }
  };

  for (const object of objects) {
    const namespace = object.metadata?.namespace ?? '';
    const where = `${object.kind} ${namespace ? `${namespace}/` : ''}${object.metadata?.name ?? ''}`;
    const spec = (object as { spec?: Record<string, any> }).spec ?? {};
    if (object.kind === 'Secret') {
      produced.push({ namespace, name: object.metadata?.name ?? '', where });
      continue;
    }
    if (object.kind === 'ExternalSecret') {
      // Produces its target Secret; its own fields name the store and the remote keys.
      produced.push({ namespace, name: spec.target?.name ?? object.metadata?.name ?? '', where });
      continue;
    }
    if (object.kind === 'Certificate') {
      produced.push({ namespace, name: spec.secretName, where: `${where} spec.secretName` });
      const { secretName: _producedHere, ...rest } = spec;
      visit(rest, namespace, where, 'spec');
      continue;
    }
    if (object.kind === 'ClusterIssuer') {
      // Cluster-scoped: cert-manager reads and writes its Secrets in its cluster resource namespace.
      const acme = spec.acme as Record<string, any> | undefined;
      if (acme?.privateKeySecretRef) produced.push({ namespace: CERT_MANAGER.namespace, name: acme.privateKeySecretRef.name, where: `${where} spec.acme.privateKeySecretRef` });
      const { privateKeySecretRef: _accountKey, ...acmeRest } = acme ?? {};
      visit(acme ? { ...spec, acme: acmeRest } : spec, CERT_MANAGER.namespace, where, 'spec');
      continue;
    }
    // The Tenant's `configuration` is its root credentials Secret (config.env).
    if (object.kind === 'Tenant' && typeof nameOf(spec.configuration) === 'string') {
      references.push({ namespace, name: nameOf(spec.configuration) as string, where: `${where} spec.configuration` });
    }
    const helm = helmValues(object);
    if (helm) {
      visit(helm.rest, namespace, where, 'spec');
      visit(helm.values, helm.namespace, where, 'values');
      continue;
    }
    visit(object, namespace, where, '');
  }
  return { references, produced, unrecognised };
}

/** References no producer satisfies, as `namespace/name (where)`. */
export function danglingReferences(walk: SecretWalk, alsoProduced: readonly { namespace: string; name: string }[]): string[] {
  const key = (ref: { namespace: string; name: string }) => `${ref.namespace}/${ref.name}`;
  const available = new Set([...walk.produced, ...alsoProduced].map(key));
  return walk.references.filter((ref) => !available.has(key(ref))).map((ref) => `${key(ref)} (${ref.where})`);
}
