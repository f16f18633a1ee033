import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetTemplateEngineVersion,
} from '../imports/external-secrets.io';
import { type Platform, secretCatalogue, type SecretSpec, templateValueIds } from '../lib/model';

/**
 * Secret values from an external store (secrets.provider: external-secrets): one ExternalSecret per
 * Kubernetes Secret of the catalogue, each value fetched from `<remoteKeyPrefix><value id>`. A value
 * shared by several Secrets is one remote key, so every copy agrees. With provider `manual` this
 * chart is empty: `npm run secrets` writes the Secrets outside dist/.
 */

export const SECRETS_LABELS = { 'app.kubernetes.io/part-of': 'matrix-platform', 'app.kubernetes.io/component': 'secrets' };

/** `{{value-id}}` placeholders of the catalogue become Go-template lookups of the fetched key (template engine v2). */
export function toEsoTemplate(template: string): string {
  return template.replace(/\{\{([A-Za-z0-9._-]+)\}\}/g, (_, id: string) => `{{ index . "${id}" }}`);
}

export class SecretsChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'secrets', { platform, stage: '20-platform' });
    const settings = platform.config.secrets;
    if (settings.provider !== 'external-secrets' || !settings.externalSecrets) return;
    const store = settings.externalSecrets;
    for (const spec of secretCatalogue(platform.config)) {
      new ExternalSecret(this, `${spec.namespace}-${spec.name}`, {
        metadata: { name: spec.name, namespace: spec.namespace, labels: SECRETS_LABELS },
        spec: {
          refreshInterval: store.refreshInterval,
          secretStoreRef: {
            kind:
              store.storeKind === 'ClusterSecretStore'
                ? ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE
                : ExternalSecretSpecSecretStoreRefKind.SECRET_STORE,
            name: store.storeName,
          },
          target: { name: spec.name, creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER, ...targetTemplate(spec) },
          data: remoteValues(spec).map((entry) => ({
            secretKey: entry.secretKey,
            remoteRef: { key: `${store.remoteKeyPrefix}${entry.valueId}` },
          })),
        },
      });
    }
  }
}

interface RemoteValue {
  readonly secretKey: string;
  readonly valueId: string;
}

/** Without templates each Secret key is fetched directly; with templates every value is fetched under its id. */
function remoteValues(spec: SecretSpec): RemoteValue[] {
  if (!spec.templates) {
    return Object.entries(spec.data).map(([secretKey, valueId]) => ({ secretKey, valueId }));
  }
  const ids = new Set([...Object.values(spec.data), ...Object.values(spec.templates).flatMap(templateValueIds)]);
  return [...ids].sort().map((valueId) => ({ secretKey: valueId, valueId }));
}

/**
 * A template replaces the Secret's data (mergePolicy Replace), so plain keys are rendered through
 * the template too: the resulting Secret has exactly the catalogue's keys.
 */
function targetTemplate(spec: SecretSpec): {
  template?: { engineVersion: ExternalSecretSpecTargetTemplateEngineVersion; type: string; metadata?: { labels: Record<string, string> }; data: Record<string, string> };
} {
  if (!spec.templates) return {};
  const data: Record<string, string> = {};
  for (const [key, valueId] of Object.entries(spec.data)) data[key] = `{{ index . "${valueId}" }}`;
  for (const [key, template] of Object.entries(spec.templates)) data[key] = toEsoTemplate(template);
  return {
    template: {
      engineVersion: ExternalSecretSpecTargetTemplateEngineVersion.V2,
      type: 'Opaque',
      ...(spec.labels ? { metadata: { labels: { ...spec.labels } } } : {}),
      data,
    },
  };
}
