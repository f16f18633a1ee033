import { POSTGRES } from '../lib/model';
import { postgresMajor } from '../lib/config/data';
import { images } from '../lib/versions';
import { configWith, distChanges, findOne, render } from './helpers';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * PostgreSQL upgrades (docs/operations.md): a minor upgrade is an image bump CloudNativePG rolls out
 * instance by instance; a major upgrade is an image bump CloudNativePG performs offline with pg_upgrade
 * (CNPG >= 1.26, pinned 1.30), archived into a new serverName folder. These tests pin down the
 * manifests each procedure expects, and nothing else.
 */

const PINNED_MAJOR = postgresMajor(images.postgres.tag);
const VARIANT = images.postgres.tag.replace(/^[0-9.]+/, '');
const CLUSTER = `Cluster ${POSTGRES.namespace}/${POSTGRES.clusterName}`;

function clusterOf(objects: ReturnType<typeof render>['objects']): Any {
  return findOne(objects, 'Cluster', POSTGRES.clusterName, POSTGRES.namespace);
}

describe('PostgreSQL upgrades', () => {
  const base = render();

  test('the pinned image has a tag CloudNativePG reads the major version from', () => {
    expect(PINNED_MAJOR).toBeGreaterThanOrEqual(17);
    expect(clusterOf(base.objects).spec.imageName).toBe(`${images.postgres.repository}:${images.postgres.tag}`);
  });

  test('minor upgrade: only the Cluster image changes; CNPG rolls replicas first, then switches over', () => {
    const tag = `${PINNED_MAJOR}.99${VARIANT}`;
    const minor = render({ database: { image: { repository: images.postgres.repository, tag } } });
    expect(distChanges(base.files, minor.files)).toEqual(new Map([[CLUSTER, ['/spec/imageName']]]));
    const spec = clusterOf(minor.objects).spec;
    expect(spec.imageName).toBe(`${images.postgres.repository}:${tag}`);
    expect(spec.primaryUpdateMethod).toBe('switchover');
    expect(spec.primaryUpdateStrategy).toBe('unsupervised');
  });

  test('major upgrade: the Cluster image and its archive folder change together, nothing else', () => {
    const tag = `${PINNED_MAJOR + 1}.0${VARIANT}`;
    const serverName = `${POSTGRES.clusterName}-pg${PINNED_MAJOR + 1}`;
    const major = render({ database: { image: { repository: images.postgres.repository, tag }, backup: { serverName } } });
    expect(distChanges(base.files, major.files)).toEqual(new Map([[CLUSTER, ['/spec/imageName', '/spec/plugins/0/parameters/serverName']]]));
    const spec = clusterOf(major.objects).spec;
    expect(spec.imageName).toBe(`${images.postgres.repository}:${tag}`);
    expect(spec.plugins[0]).toMatchObject({ isWALArchiver: true, parameters: { serverName } });
    // The cluster is not re-created: same name, storage and bootstrap, so CNPG upgrades it in place.
    expect(spec.bootstrap).toEqual(clusterOf(base.objects).spec.bootstrap);
  });

  test('a major upgrade without a new archive folder is a config error naming the field', () => {
    const tag = `${PINNED_MAJOR + 1}.0${VARIANT}`;
    expect(() => configWith({ database: { image: { repository: images.postgres.repository, tag } } })).toThrow(
      /database\.backup\.serverName.*a new archive folder for PostgreSQL/s,
    );
  });

  test('another distribution of the official images is refused (pg_upgrade needs the same one)', () => {
    expect(() => configWith({ database: { image: { repository: images.postgres.repository, tag: `${PINNED_MAJOR}.99-standard-bookworm` } } })).toThrow(
      /database\.image\.tag.*same distribution/s,
    );
    expect(() => configWith({ database: { image: { repository: images.postgres.repository, tag: 'latest' } } })).toThrow(/database\.image\.tag/);
  });
});
