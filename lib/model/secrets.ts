import type { PlatformConfig } from '../config';
import { ALERT_RECEIVERS_SECRET } from '../config/monitoring';
import { LIVEKIT_KEY_FILE_KEY } from './calls';
import { exporterPasswordsTemplate, objectStorage, proxyAuthTemplate, POSTGRES, VALKEY_LIVEKIT, VALKEY_SYNAPSE } from './endpoints';
import { NAMESPACES } from './platform';

/**
 * Every secret value the platform needs, and every Kubernetes Secret that carries one. dist/ only
 * names these Secrets; their values come from `npm run secrets` (manual) or External Secrets.
 * A value used in several namespaces (a password both a server and its clients need) is one
 * logical value materialised in several Secrets, so both sides always agree.
 */

export type SecretGenerator =
  /** 32 random bytes, base64url without padding. */
  | 'random'
  /** 20 random alphanumeric characters (S3 access key ids, LiveKit API keys). */
  | 'identifier'
  /** A Synapse signing key line: `ed25519 a_XXXX <base64 seed>`. */
  | 'synapse-signing-key'
  /** A fixed user name chosen at generation time. */
  | 'admin-user'
  /** Issued elsewhere (an S3 provider's keys, Git credentials, an SMTP password): given to `npm run secrets`, never generated. */
  | 'external';

export interface SecretValue {
  readonly id: string;
  readonly generator: SecretGenerator;
  readonly description: string;
}

export interface SecretSpec {
  readonly name: string;
  readonly namespace: string;
  /** Labels a controller selects the Secret by (an Argo CD repository Secret). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Secret key -> logical value id. */
  readonly data: Readonly<Record<string, string>>;
  /** Keys whose content is derived from values with a template (e.g. MinIO's config.env). */
  readonly templates?: Readonly<Record<string, string>>;
}

export const SECRET_VALUES = {
  registrationSharedSecret: { id: 'synapse-registration-shared-secret', generator: 'random', description: 'Synapse registration_shared_secret (admin user registration)' },
  macaroonSecretKey: { id: 'synapse-macaroon-secret-key', generator: 'random', description: 'Synapse macaroon_secret_key' },
  formSecret: { id: 'synapse-form-secret', generator: 'random', description: 'Synapse form_secret' },
  workerReplicationSecret: { id: 'synapse-worker-replication-secret', generator: 'random', description: 'Synapse worker_replication_secret' },
  signingKey: { id: 'synapse-signing-key', generator: 'synapse-signing-key', description: 'Synapse ed25519 signing key' },
  valkeySynapsePassword: { id: 'valkey-synapse-password', generator: 'random', description: 'Password of the Synapse Valkey cluster' },
  valkeyLivekitPassword: { id: 'valkey-livekit-password', generator: 'random', description: 'Password of the LiveKit Valkey cluster' },
  objectStorageAccessKey: { id: 'object-storage-access-key', generator: 'identifier', description: 'S3 access key id' },
  objectStorageSecretKey: { id: 'object-storage-secret-key', generator: 'random', description: 'S3 secret access key' },
  turnSharedSecret: { id: 'coturn-shared-secret', generator: 'random', description: 'coturn static-auth-secret shared with Synapse' },
  livekitApiKey: { id: 'livekit-api-key', generator: 'identifier', description: 'LiveKit API key' },
  livekitApiSecret: { id: 'livekit-api-secret', generator: 'random', description: 'LiveKit API secret' },
  grafanaAdminUser: { id: 'grafana-admin-user', generator: 'admin-user', description: 'Grafana admin user name' },
  grafanaAdminPassword: { id: 'grafana-admin-password', generator: 'random', description: 'Grafana admin password' },
  gitUsername: { id: 'git-username', generator: 'external', description: 'User name for the private GitOps repository (https)' },
  gitPassword: { id: 'git-password', generator: 'external', description: 'Password or access token for the private GitOps repository (https)' },
  gitSshPrivateKey: { id: 'git-ssh-private-key', generator: 'external', description: 'SSH private key for the private GitOps repository' },
  gitSshKnownHosts: { id: 'git-ssh-known-hosts', generator: 'external', description: 'known_hosts line(s) of the Git server (ssh)' },
  alertSmtpPassword: { id: 'alertmanager-smtp-password', generator: 'external', description: 'Password of monitoring.alertmanager.email.username at the SMTP server' },
  alertWebhookUrl: { id: 'alertmanager-webhook-url', generator: 'external', description: 'URL (with any token) of the generic alert webhook' },
} as const satisfies Record<string, SecretValue>;

/**
 * Values that come from outside for this config, with the environment variable (or credentials-file
 * key) `npm run secrets` reads each from. Everything else is generated.
 */
export function externalValueSources(config: PlatformConfig): Map<string, string> {
  const sources = new Map<string, string>();
  if (config.objectStorage.provider === 'external') {
    sources.set(SECRET_VALUES.objectStorageAccessKey.id, 'MATRIX_S3_ACCESS_KEY_ID');
    sources.set(SECRET_VALUES.objectStorageSecretKey.id, 'MATRIX_S3_SECRET_ACCESS_KEY');
  }
  const git = config.gitops.repository.credentials;
  if (git?.type === 'https') {
    sources.set(SECRET_VALUES.gitUsername.id, 'MATRIX_GIT_USERNAME');
    sources.set(SECRET_VALUES.gitPassword.id, 'MATRIX_GIT_PASSWORD');
  } else if (git?.type === 'ssh') {
    sources.set(SECRET_VALUES.gitSshPrivateKey.id, 'MATRIX_GIT_SSH_PRIVATE_KEY');
    sources.set(SECRET_VALUES.gitSshKnownHosts.id, 'MATRIX_GIT_SSH_KNOWN_HOSTS');
  }
  const receivers = alertReceiverSecretData(config);
  if (receivers[ALERT_RECEIVER_KEYS.smtpPassword]) sources.set(SECRET_VALUES.alertSmtpPassword.id, 'MATRIX_ALERT_SMTP_PASSWORD');
  if (receivers[ALERT_RECEIVER_KEYS.webhookUrl]) sources.set(SECRET_VALUES.alertWebhookUrl.id, 'MATRIX_ALERT_WEBHOOK_URL');
  return sources;
}

/**
 * The Secret a GitOps controller reads to pull a private repository, in the key layout each one
 * expects: Flux's GitRepository secretRef (username/password or identity/known_hosts), Argo CD's
 * repository Secret (selected by label, matched by url).
 */
function gitCredentialsSpec(config: PlatformConfig): SecretSpec | undefined {
  const gitops = config.gitops;
  const credentials = gitops.repository.credentials;
  if (!credentials || gitops.engine === 'helm-controller') return undefined;
  const https = credentials.type === 'https';
  if (gitops.engine === 'flux') {
    return {
      name: credentials.secretName,
      namespace: gitops.flux.namespace,
      data: https
        ? { username: SECRET_VALUES.gitUsername.id, password: SECRET_VALUES.gitPassword.id }
        : { identity: SECRET_VALUES.gitSshPrivateKey.id, known_hosts: SECRET_VALUES.gitSshKnownHosts.id },
    };
  }
  return {
    name: credentials.secretName,
    namespace: gitops.argocd.namespace,
    labels: { 'argocd.argoproj.io/secret-type': 'repository' },
    data: https
      ? { username: SECRET_VALUES.gitUsername.id, password: SECRET_VALUES.gitPassword.id }
      : { sshPrivateKey: SECRET_VALUES.gitSshPrivateKey.id },
    // Not secret: how Argo CD matches the Secret to the Applications' repoURL.
    templates: { type: 'git', url: gitops.repository.url },
  };
}

/** Secret names consumed by the charts. */
export const SECRET_NAMES = {
  synapse: 'synapse-secrets',
  synapseSigningKey: 'synapse-signing-key',
  synapseRedis: 'synapse-redis-password',
  turn: 'coturn-shared-secret',
  livekitKeys: 'livekit-api-keys',
  livekitRedis: 'livekit-redis-password',
  grafanaAdmin: 'grafana-admin',
  alertReceivers: ALERT_RECEIVERS_SECRET,
  minioConfig: 'minio-config-env',
} as const;

/** Keys of the alert receivers' Secret (named in the config field descriptions). */
export const ALERT_RECEIVER_KEYS = { smtpPassword: 'smtp-password', webhookUrl: 'webhook-url' } as const;

/** Keys of the alert receivers' Secret this config needs (none: no Secret, nothing mounted). */
export function alertReceiverSecretData(config: PlatformConfig): Record<string, string> {
  const alertmanager = config.monitoring.alertmanager;
  if (!alertmanager.enabled) return {};
  return {
    ...(alertmanager.email?.username ? { [ALERT_RECEIVER_KEYS.smtpPassword]: SECRET_VALUES.alertSmtpPassword.id } : {}),
    ...(alertmanager.webhook ? { [ALERT_RECEIVER_KEYS.webhookUrl]: SECRET_VALUES.alertWebhookUrl.id } : {}),
  };
}

export function secretCatalogue(config: PlatformConfig): SecretSpec[] {
  const matrix = NAMESPACES.matrix.name;
  const storage = objectStorage(config);
  const s3Data = {
    [storage.accessKeyIdKey]: SECRET_VALUES.objectStorageAccessKey.id,
    [storage.secretAccessKeyKey]: SECRET_VALUES.objectStorageSecretKey.id,
  };
  const specs: SecretSpec[] = [
    {
      name: SECRET_NAMES.synapse,
      namespace: matrix,
      data: {
        registration_shared_secret: SECRET_VALUES.registrationSharedSecret.id,
        macaroon_secret_key: SECRET_VALUES.macaroonSecretKey.id,
        form_secret: SECRET_VALUES.formSecret.id,
        worker_replication_secret: SECRET_VALUES.workerReplicationSecret.id,
      },
    },
    { name: SECRET_NAMES.synapseSigningKey, namespace: matrix, data: { 'signing.key': SECRET_VALUES.signingKey.id } },
    { name: SECRET_NAMES.synapseRedis, namespace: matrix, data: { password: SECRET_VALUES.valkeySynapsePassword.id } },
    {
      name: VALKEY_SYNAPSE.passwordSecret,
      namespace: VALKEY_SYNAPSE.namespace,
      data: { password: SECRET_VALUES.valkeySynapsePassword.id },
      templates: {
        [VALKEY_SYNAPSE.exporterPasswordsKey]: exporterPasswordsTemplate(VALKEY_SYNAPSE, SECRET_VALUES.valkeySynapsePassword.id),
        [VALKEY_SYNAPSE.proxyAuthKey]: proxyAuthTemplate(SECRET_VALUES.valkeySynapsePassword.id),
      },
    },
    // Synapse media (S3 provider, upload CronJob) and CNPG backups (Barman Cloud) run in the matrix namespace.
    {
      name: storage.credentialsSecret,
      namespace: POSTGRES.namespace,
      data: s3Data,
      templates: {
        [storage.credentialsFileKey]: [
          '[default]',
          `aws_access_key_id = {{${SECRET_VALUES.objectStorageAccessKey.id}}}`,
          `aws_secret_access_key = {{${SECRET_VALUES.objectStorageSecretKey.id}}}`,
          '',
        ].join('\n'),
      },
    },
    { name: storage.credentialsSecret, namespace: NAMESPACES.monitoring.name, data: s3Data },
    {
      name: SECRET_NAMES.grafanaAdmin,
      namespace: NAMESPACES.monitoring.name,
      data: { 'admin-user': SECRET_VALUES.grafanaAdminUser.id, 'admin-password': SECRET_VALUES.grafanaAdminPassword.id },
    },
  ];
  const receiverData = alertReceiverSecretData(config);
  if (Object.keys(receiverData).length > 0) {
    // Mounted into the Alertmanager pods; its config names the files (lib/model/alert-routing.ts).
    specs.push({ name: SECRET_NAMES.alertReceivers, namespace: NAMESPACES.monitoring.name, data: receiverData });
  }
  if (config.objectStorage.provider === 'minio') {
    specs.push({
      name: SECRET_NAMES.minioConfig,
      namespace: NAMESPACES.minio.name,
      data: {},
      templates: {
        'config.env': [
          `export MINIO_ROOT_USER="{{${SECRET_VALUES.objectStorageAccessKey.id}}}"`,
          `export MINIO_ROOT_PASSWORD="{{${SECRET_VALUES.objectStorageSecretKey.id}}}"`,
        ].join('\n'),
      },
    });
  }
  const git = gitCredentialsSpec(config);
  if (git) specs.push(git);
  if (config.calls.enabled) {
    specs.push(
      { name: SECRET_NAMES.turn, namespace: matrix, data: { secret: SECRET_VALUES.turnSharedSecret.id } },
      { name: SECRET_NAMES.turn, namespace: NAMESPACES.coturn.name, data: { secret: SECRET_VALUES.turnSharedSecret.id } },
      // LiveKit hands out coturn credentials (rtc.turn_servers secret_file) for clients behind strict firewalls.
      { name: SECRET_NAMES.turn, namespace: NAMESPACES.livekit.name, data: { secret: SECRET_VALUES.turnSharedSecret.id } },
      {
        name: SECRET_NAMES.livekitKeys,
        namespace: NAMESPACES.livekit.name,
        data: { 'api-key': SECRET_VALUES.livekitApiKey.id, 'api-secret': SECRET_VALUES.livekitApiSecret.id },
        // LiveKit's key_file: YAML `<key>: <secret>` (both generated URL-safe, so plain scalars).
        templates: { [LIVEKIT_KEY_FILE_KEY]: `{{${SECRET_VALUES.livekitApiKey.id}}}: {{${SECRET_VALUES.livekitApiSecret.id}}}\n` },
      },
      {
        name: SECRET_NAMES.livekitKeys,
        namespace: matrix,
        data: { 'api-key': SECRET_VALUES.livekitApiKey.id, 'api-secret': SECRET_VALUES.livekitApiSecret.id },
      },
      {
        name: SECRET_NAMES.livekitRedis,
        namespace: NAMESPACES.livekit.name,
        data: { password: SECRET_VALUES.valkeyLivekitPassword.id },
      },
      // lk-jwt-service (matrix namespace) stores its delegated-leave jobs in the LiveKit Valkey.
      { name: SECRET_NAMES.livekitRedis, namespace: matrix, data: { password: SECRET_VALUES.valkeyLivekitPassword.id } },
      {
        name: VALKEY_LIVEKIT.passwordSecret,
        namespace: VALKEY_LIVEKIT.namespace,
        data: { password: SECRET_VALUES.valkeyLivekitPassword.id },
        templates: {
          [VALKEY_LIVEKIT.exporterPasswordsKey]: exporterPasswordsTemplate(VALKEY_LIVEKIT, SECRET_VALUES.valkeyLivekitPassword.id),
          [VALKEY_LIVEKIT.proxyAuthKey]: proxyAuthTemplate(SECRET_VALUES.valkeyLivekitPassword.id),
        },
      },
    );
  }
  return specs;
}

const TEMPLATE_PLACEHOLDER = /\{\{([A-Za-z0-9._-]+)\}\}/g;

/** Value ids a catalogue template refers to (`{{value-id}}` placeholders), in order of appearance. */
export function templateValueIds(template: string): string[] {
  return [...template.matchAll(TEMPLATE_PLACEHOLDER)].map((match) => match[1]);
}

/** Fills a catalogue template's placeholders with values (used by `npm run secrets`). */
export function renderSecretTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(TEMPLATE_PLACEHOLDER, (_, id: string) => {
    const value = values[id];
    if (value === undefined) throw new Error(`template refers to unknown secret value ${id}`);
    return value;
  });
}

/** Every logical value the catalogue of this config uses (plain keys and template placeholders). */
export function catalogueValueIds(specs: readonly SecretSpec[]): string[] {
  const ids = new Set<string>();
  for (const spec of specs) {
    for (const id of Object.values(spec.data)) ids.add(id);
    for (const template of Object.values(spec.templates ?? {})) for (const id of templateValueIds(template)) ids.add(id);
  }
  return [...ids].sort();
}

/** A Secret an operator creates from an object in dist/: neither in the catalogue nor made by hand. */
export interface OperatorSecret {
  readonly name: string;
  readonly namespace: string;
  readonly createdBy: string;
}

/** Secrets operators create; cert-manager's are read from the Certificates in dist/ themselves. */
export function operatorCreatedSecrets(): OperatorSecret[] {
  return [{ name: POSTGRES.appSecret, namespace: POSTGRES.namespace, createdBy: 'CloudNativePG, for the owner of the bootstrap database' }];
}
