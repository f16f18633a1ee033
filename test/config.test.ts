import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, locateConfig, parseConfig } from '../lib/config';
import { configJsonSchema } from '../lib/config/json-schema';
import { isDnsName, isIpRange } from '../lib/config/primitives';
import { deepMerge, exampleInput, ROOT } from './helpers';

function problemsOf(overrides: Record<string, unknown>): string[] {
  try {
    parseConfig(deepMerge(exampleInput(), overrides), '(test)');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config validation', () => {
  test('the example config is valid', () => {
    expect(problemsOf({})).toEqual([]);
  });

  test('a misspelled key names the key, the path and the allowed keys', () => {
    const problems = problemsOf({ edge: { controler: 'envoy-gateway' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^edge\.controler: unknown key "controler"; expected one of controller, replicas, federationPort$/);
  });

  test('an unknown top-level key is an error', () => {
    expect(problemsOf({ synapes: {} })[0]).toContain('synapes: unknown key');
  });

  test('a negative count names the field, what was found and what is expected', () => {
    const problems = problemsOf({ database: { instances: -1 } });
    expect(problems).toEqual(['database.instances: found -1; expected a whole number >= 1']);
  });

  test('a wrong type is reported with the found value', () => {
    expect(problemsOf({ synapse: { workers: { sync: { count: 'eight' } } } })[0]).toBe(
      'synapse.workers.sync.count: found "eight"; expected a value of type number',
    );
  });

  test.each([
    ['admin.allowedCidrs', { admin: { allowedCidrs: ['10.0.0.0/33'] } }, 'admin.allowedCidrs.0'],
    ['admin.allowedCidrs host bits', { admin: { allowedCidrs: ['10.0.0.1/8'] } }, 'no host bits set'],
    ['loadBalancer.addresses descending', { loadBalancer: { addresses: ['192.168.1.250-192.168.1.240'] } }, 'loadBalancer.addresses.0'],
    ['serverName', { serverName: 'Not A Domain' }, 'serverName: found "Not A Domain"'],
    ['gitops.engine', { gitops: { engine: 'kubectl' } }, 'expected one of "flux", "argocd", "helm-controller"'],
    ['edgeAddress outside pool', { loadBalancer: { edgeAddress: '10.9.9.9' } }, 'loadBalancer.edgeAddress'],
    ['bgp without peers', { loadBalancer: { mode: 'bgp' } }, 'loadBalancer.bgp'],
    ['external storage without endpoint', { objectStorage: { provider: 'external' } }, 'objectStorage.external'],
    ['overlapping call ports', { calls: { coturn: { relayPorts: { start: 50000, end: 57000 } } } }, 'calls.coturn.relayPorts'],
    ['parity too high', { objectStorage: { minio: { parity: 'EC:9' } } }, 'objectStorage.minio.parity'],
    ['latest image tag', { synapse: { image: { repository: 'example/synapse', tag: 'latest' } } }, 'never "latest"'],
  ])('rejects a bad %s', (_name, overrides, expected) => {
    const problems = problemsOf(overrides);
    expect(problems.join('\n')).toContain(expected);
  });

  test('defaults fill in what the file leaves out', () => {
    const minimal = {
      serverName: 'example.com',
      gitops: { repository: { url: 'https://git.example.com/x.git' } },
      storageClasses: { general: 'a', fast: 'b', large: 'c' },
      tls: { acmeEmail: 'a@example.com' },
      loadBalancer: { addresses: ['192.0.2.0/28'] },
      admin: { allowedCidrs: ['192.0.2.0/24'] },
      calls: { enabled: false },
    };
    const config = parseConfig(minimal);
    expect(config.database.instances).toBe(3);
    expect(config.synapse.workers.sync.count).toBe(24);
    expect(config.synapse.workers.generic.count).toBe(4);
    expect(config.synapse.workers.federationReader.count).toBe(4);
    expect(config.synapse.workers.eventPersister.count).toBe(2);
    expect(config.gitops.engine).toBe('flux');
    expect(config.edge.controller).toBe('envoy-gateway');
    expect(config.objectStorage.minio).toMatchObject({ servers: 4, parity: 'EC:4' });
  });
});

describe('primitives', () => {
  test.each(['example.org', 'a.b.c', 'xn--bcher-kva.example'])('%s is a DNS name', (name) => expect(isDnsName(name)).toBe(true));
  test.each(['localhost', 'Example.org', '-a.example.org', 'a..b', `${'a'.repeat(64)}.org`])('%s is not a DNS name', (name) =>
    expect(isDnsName(name)).toBe(false),
  );
  test.each(['192.0.2.0/24', '192.0.2.1-192.0.2.9', '2001:db8::/64', '2001:db8::1-2001:db8::ff'])('%s is a range', (range) =>
    expect(isIpRange(range)).toBe(true),
  );
  test.each(['192.0.2.0/40', '192.0.2.9-192.0.2.1', '192.0.2.1-2001:db8::1', 'a-b'])('%s is not a range', (range) =>
    expect(isIpRange(range)).toBe(false),
  );
});

describe('config location', () => {
  test('--config wins over MATRIX_CONFIG and files', () => {
    expect(locateConfig('x.yaml', { MATRIX_CONFIG: 'y.yaml' }, ROOT).file).toBe(path.resolve('x.yaml'));
  });
  test('MATRIX_CONFIG is used without a flag', () => {
    expect(locateConfig(undefined, { MATRIX_CONFIG: 'y.yaml' }, ROOT).file).toBe(path.resolve('y.yaml'));
  });
  test('without a user config the example is used, with a notice', () => {
    const location = locateConfig(undefined, {}, '/nonexistent-root');
    expect(location.file).toBe('/nonexistent-root/config/deployment.example.yaml');
    expect(location.notice).toContain('using the built-in example');
  });
});

test('docs/config.schema.json is up to date (run npm run schema)', () => {
  expect(readFileSync(path.join(ROOT, 'docs', 'config.schema.json'), 'utf8')).toBe(configJsonSchema());
});
