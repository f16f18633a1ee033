import { MAIN_STARTUP_SECONDS, SCHEMA_WAIT_SECONDS } from '../charts/synapse';
import { STAGES } from '../lib/model';
import { activeWorkerTypes, poolName, workerKind } from '../lib/model/workers';
import type { KubeObject } from '../lib/synth';
import { images } from '../lib/versions';
import { distChanges, findOne, objectIdentity, objectsOf, render } from './helpers';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Synapse upgrades in order (docs/operations.md, upgrade Synapse): main is applied one stage before
 * the workers, every worker waits in Init until the database has the schema its image needs, and a
 * version bump changes the image fields of the Synapse pods and nothing else.
 */

const NEW_IMAGE = { repository: images.synapse.repository, tag: 'v9.999.0-s3-test' };

function podSpec(object: KubeObject): Any {
  const spec = object.spec as Any;
  return object.kind === 'CronJob' ? spec.jobTemplate.spec.template.spec : spec.template.spec;
}

describe('Synapse upgrade mechanism', () => {
  const base = render();
  const bumped = render({ synapse: { image: NEW_IMAGE } });
  const pools = activeWorkerTypes(base.config).map((type) => findOne(base.objects, workerKind(type), poolName(type), 'matrix'));

  test('every worker waits for the schema its own image needs, then for main', () => {
    expect(pools.length).toBeGreaterThan(5);
    for (const pool of pools) {
      const spec = podSpec(pool);
      const [worker] = spec.containers;
      expect(spec.initContainers.map((init: Any) => init.name)).toEqual(['passfile', 'wait-for-schema', 'wait-for-main']);
      const check = spec.initContainers[1];
      // Same image, same config files, same environment and mounts as the worker it guards.
      expect(check.image).toBe(worker.image);
      const configArgs = worker.command.slice(worker.command.indexOf('--config-path'));
      expect(check.command.slice(-configArgs.length)).toEqual(configArgs);
      expect(check.env).toEqual(worker.env);
      expect(check.volumeMounts).toEqual(worker.volumeMounts);
      // Synapse's own check (the one that refuses an outdated schema on a worker), in a loop.
      const script: string = check.command[2];
      expect(check.command.slice(0, 2)).toEqual(['python', '-c']);
      expect(script).toContain('prepare_database(connection, engine, config');
      expect(script).toContain('HomeServerConfig.load_config');
      expect(script).toMatch(/time\.sleep\(\d+\)/);
    }
  });

  test('the schema wait is bounded and outlasts main\'s migration budget', () => {
    const main = podSpec(findOne(base.objects, 'Deployment', 'synapse-main', 'matrix')).containers[0];
    const startup = main.startupProbe.periodSeconds * main.startupProbe.failureThreshold;
    expect(startup).toBe(MAIN_STARTUP_SECONDS);
    expect(SCHEMA_WAIT_SECONDS).toBeGreaterThan(startup);
    const script: string = podSpec(pools[0]).initContainers[1].command[2];
    expect(script).toContain(`time.monotonic() + ${SCHEMA_WAIT_SECONDS}`);
    expect(script).toContain('sys.exit(');
  });

  test('main and the shared config are applied one stage before the workers', () => {
    const stageOf = (kind: string, name: string) => {
      const entry = objectsOf(base.files).find((candidate) => candidate.object.kind === kind && candidate.object.metadata.name === name);
      return entry?.file.split('/')[1];
    };
    expect(stageOf('Deployment', 'synapse-main')).toBe('35-synapse-main');
    expect(stageOf('ConfigMap', 'synapse-config')).toBe('35-synapse-main');
    for (const pool of pools) expect(stageOf(pool.kind, pool.metadata.name)).toBe('40-apps');
    const ids: string[] = STAGES.map((stage) => stage.id);
    expect(ids.indexOf('35-synapse-main')).toBe(ids.indexOf('40-apps') - 1);
    // Main never overlaps with itself: the old main stops before the new one migrates.
    expect((findOne(base.objects, 'Deployment', 'synapse-main', 'matrix').spec as Any).strategy).toEqual({ type: 'Recreate' });
  });

  test('GitOps applies the workers only after main\'s stage is ready', () => {
    const flux = render({ gitops: { engine: 'flux' } }).objects.filter((object) => object.kind === 'Kustomization' && (object.spec as Any)?.path);
    const apps = flux.find((object) => object.metadata.name.endsWith('40-apps'))!.spec as Any;
    const main = flux.find((object) => object.metadata.name.endsWith('35-synapse-main'))!.spec as Any;
    expect(apps.dependsOn).toEqual([{ name: expect.stringMatching(/35-synapse-main$/) }]);
    expect(main.wait).toBe(true);
    const argo = render({ gitops: { engine: 'argocd' } }).objects.filter((object) => object.kind === 'Application');
    const wave = (suffix: string) => Number(argo.find((object) => object.metadata.name.endsWith(suffix))!.metadata.annotations!['argocd.argoproj.io/sync-wave']);
    expect(wave('35-synapse-main')).toBeLessThan(wave('40-apps'));
  });

  test('a version bump changes the image of every Synapse container and nothing else', () => {
    const changed = distChanges(base.files, bumped.files);
    const afterByIdentity = new Map(bumped.objects.map((object) => [objectIdentity(object), object]));
    const synapseWorkloads = base.objects.filter(
      (object) => ['Deployment', 'StatefulSet', 'CronJob'].includes(object.kind) && podSpec(object).containers[0].image === `${images.synapse.repository}:${images.synapse.tag}`,
    );
    expect(synapseWorkloads.length).toBe(pools.length + 1 + base.config.synapse.workers.mediaRepository.count);
    expect([...changed.keys()].sort()).toEqual(synapseWorkloads.map(objectIdentity).sort());
    for (const [, paths] of changed) {
      for (const path of paths) expect(path).toMatch(/\/(containers|initContainers)\/\d+\/image$/);
    }
    for (const object of synapseWorkloads) {
      const spec = podSpec(afterByIdentity.get(objectIdentity(object))!);
      for (const entry of [...spec.initContainers, ...spec.containers]) expect(entry.image).toBe(`${NEW_IMAGE.repository}:${NEW_IMAGE.tag}`);
    }
  });
});
