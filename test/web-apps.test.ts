import { elementWebConfig } from '../charts/element-web';
import { CONFIG_HASH_ANNOTATION } from '../constructs/workload';
import { buildPlatform } from '../lib/model';
import { find, findOne, render } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The two static browser apps (constructs/static-web-app.ts): Element Web and Ketesa. */
describe('static web apps', () => {
  const overrides = { serverName: 'chat.example.net', elementWeb: { replicas: 3, brand: 'Example Chat' }, adminUi: { replicas: 1 } };
  const { objects, config } = render(overrides);
  const platform = buildPlatform(config);

  const deployment = (name: string) => findOne(objects, 'Deployment', name, 'matrix') as Any;
  const configJson = (name: string) => JSON.parse((findOne(objects, 'ConfigMap', `${name}-config`, 'matrix') as Any).data['config.json']);

  test('Element Web serves the model\'s config.json: our homeserver, the configured brand', () => {
    expect(configJson('element-web')).toEqual(elementWebConfig(platform));
    expect(configJson('element-web').default_server_config['m.homeserver']).toEqual({ base_url: `https://${platform.hosts.matrix}`, server_name: 'chat.example.net' });
    expect(configJson('element-web').brand).toBe('Example Chat');
  });

  test('Ketesa may administer only our homeserver', () => {
    expect(configJson('ketesa')).toEqual({ restrictBaseUrl: [`https://${platform.hosts.matrix}`] });
  });

  test('replicas follow the config; a PodDisruptionBudget only with more than one replica', () => {
    expect(deployment('element-web').spec.replicas).toBe(3);
    expect(deployment('ketesa').spec.replicas).toBe(1);
    expect(find(objects, 'PodDisruptionBudget', 'element-web', 'matrix')).toHaveLength(1);
    const twoAdmins = render({ adminUi: { replicas: 2 } }).objects;
    expect((findOne(twoAdmins, 'Deployment', 'ketesa', 'matrix') as Any).spec.replicas).toBe(2);
    expect(find(twoAdmins, 'PodDisruptionBudget', 'ketesa', 'matrix')).toHaveLength(1);
  });

  test('the listen port reaches the image through its variable and matches the Service and probes', () => {
    for (const [name, variable, probe] of [
      ['element-web', 'ELEMENT_WEB_PORT', '/config.json'],
      ['ketesa', 'SERVER_PORT', '/health'],
    ]) {
      const container = deployment(name).spec.template.spec.containers[0];
      const port = (findOne(objects, 'Service', name, 'matrix') as Any).spec.ports[0].port;
      expect(container.env).toContainEqual({ name: variable, value: String(port) });
      expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(container.readinessProbe.httpGet).toMatchObject({ path: probe, port: 'http' });
      expect(container.livenessProbe.httpGet).toMatchObject({ path: probe, port: 'http' });
    }
  });

  test('a config change rolls the pods (subPath mounts never see ConfigMap updates)', () => {
    const hash = (objectsOf: Any[], name: string) =>
      (findOne(objectsOf, 'Deployment', name, 'matrix') as Any).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    const rebranded = render({ ...overrides, elementWeb: { replicas: 3, brand: 'Other' } }).objects;
    expect(hash(rebranded, 'element-web')).not.toBe(hash(objects, 'element-web'));
    expect(hash(rebranded, 'ketesa')).toBe(hash(objects, 'ketesa'));
    const moved = render({ ...overrides, hosts: { matrix: 'synapse.example.net' } }).objects;
    expect(hash(moved, 'ketesa')).not.toBe(hash(objects, 'ketesa'));
  });

  test('read-only root: only memory-backed, size-limited directories are writable', () => {
    for (const name of ['element-web', 'ketesa']) {
      const spec = deployment(name).spec.template.spec;
      expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
      for (const volume of spec.volumes.filter((candidate: Any) => candidate.emptyDir)) {
        expect(volume.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '64Mi' });
      }
      const config = spec.containers[0].volumeMounts.find((mount: Any) => mount.name === 'config');
      expect(config).toMatchObject({ subPath: 'config.json', readOnly: true });
    }
    const writable = deployment('element-web').spec.template.spec.containers[0].volumeMounts.filter((mount: Any) => !mount.readOnly).map((mount: Any) => mount.mountPath);
    expect(writable.sort()).toEqual(['/etc/nginx/conf.d', '/tmp']);
  });
});
