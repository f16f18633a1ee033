import { exporterTarget, objectStorage, VALKEY_LIVEKIT, VALKEY_SYNAPSE } from '../lib/model/endpoints';
import { renderSecretTemplate, secretCatalogue } from '../lib/model/secrets';
import { find, render } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/**
 * Secrets reach programs as files wherever the program reads one: the S3 keys as boto3's shared
 * credentials file, redis_exporter's password as its JSON password file. The files are keys of the
 * catalogue's Secrets (templates over the same values), mounted where the environment points.
 */

const { objects, config } = render();
const catalogue = secretCatalogue(config);
const containersOf = (workload: Any): Any[] => [
  ...(workload.spec.template?.spec ?? workload.spec.jobTemplate.spec.template.spec).initContainers ?? [],
  ...(workload.spec.template?.spec ?? workload.spec.jobTemplate.spec.template.spec).containers,
];
const podSpecOf = (workload: Any): Any => workload.spec.template?.spec ?? workload.spec.jobTemplate.spec.template.spec;

/** The file a container's environment variable names, resolved to Secret name and key through its mounts. */
function secretFile(workload: Any, container: Any, variable: string): { secret: string; key: string } {
  const file = container.env.find((entry: Any) => entry.name === variable)?.value as string;
  expect(file).toBeDefined();
  const mount = container.volumeMounts.find((candidate: Any) => file.startsWith(`${candidate.mountPath}/`));
  const volume = podSpecOf(workload).volumes.find((candidate: Any) => candidate.name === mount.name);
  const path = file.slice(mount.mountPath.length + 1);
  const item = volume.secret.items.find((candidate: Any) => candidate.path === path);
  // No "others" permission bits on a file that holds a secret.
  expect(volume.secret.defaultMode & 0o007).toBe(0);
  return { secret: volume.secret.secretName, key: item.key };
}

test('Synapse S3 clients read their keys from the shared credentials file, never from the environment', () => {
  const storage = objectStorage(config);
  const clients = [...find(objects, 'StatefulSet'), ...find(objects, 'CronJob')].filter((workload) =>
    containersOf(workload).some((container) => (container.env ?? []).some((entry: Any) => entry.name === 'AWS_SHARED_CREDENTIALS_FILE')),
  );
  expect(clients.map((workload) => workload.metadata?.name).sort()).toEqual(['synapse-media', 'synapse-media-upload-0', 'synapse-media-upload-1']);
  for (const workload of clients) {
    for (const container of containersOf(workload).filter((candidate) => candidate.env?.some((entry: Any) => entry.name === 'AWS_SHARED_CREDENTIALS_FILE'))) {
      expect((container.env as Any[]).filter((entry) => entry.valueFrom?.secretKeyRef)).toEqual([]);
      const file = secretFile(workload, container, 'AWS_SHARED_CREDENTIALS_FILE');
      const spec = catalogue.find((candidate) => candidate.name === file.secret && candidate.namespace === workload.metadata?.namespace);
      const rendered = renderSecretTemplate(spec?.templates?.[file.key] ?? '', { 'object-storage-access-key': 'AKID', 'object-storage-secret-key': 'SECRET' });
      expect(rendered).toBe('[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n');
    }
  }
  expect(storage.credentialsFileKey).toBe('credentials');
});

test('redis_exporter sidecars read a JSON password file whose URIs are exactly their targets', () => {
  for (const cluster of [VALKEY_SYNAPSE, VALKEY_LIVEKIT]) {
    const spec = catalogue.find((candidate) => candidate.name === cluster.passwordSecret && candidate.namespace === cluster.namespace);
    const passwords = JSON.parse(renderSecretTemplate(spec?.templates?.[cluster.exporterPasswordsKey] ?? '', { 'valkey-synapse-password': 'pw-s', 'valkey-livekit-password': 'pw-l' }));
    const sidecars = find(objects, 'StatefulSet').filter((workload) => workload.metadata?.namespace === cluster.namespace);
    expect(sidecars.length).toBe(2);
    for (const workload of sidecars) {
      const exporter = containersOf(workload).find((container) => (container.env ?? []).some((entry: Any) => entry.name === 'REDIS_ADDR'));
      const target = exporter.env.find((entry: Any) => entry.name === 'REDIS_ADDR').value;
      expect(passwords[target]).toBe(cluster === VALKEY_SYNAPSE ? 'pw-s' : 'pw-l');
      expect(exporter.env.some((entry: Any) => entry.name === 'REDIS_PASSWORD' || entry.valueFrom)).toBe(false);
      expect(secretFile(workload, exporter, 'REDIS_PASSWORD_FILE')).toEqual({ secret: cluster.passwordSecret, key: cluster.exporterPasswordsKey });
    }
    expect(Object.keys(passwords).sort()).toEqual([exporterTarget(cluster.sentinelPort), exporterTarget(cluster.port)].sort());
  }
});
