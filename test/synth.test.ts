import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { readDist } from '../lib/dist-files';
import { loadConfigFile, locateConfig } from '../lib/config';
import { manifestFiles, renderDist, renderedObjects } from '../lib/synth';
import { configWith, deepMerge, exampleInput, parseObjects, ROOT, runEntry } from './helpers';
import { nativeRenderer } from './support/native-render';
import { cacheEntry } from './support/render-cache';
import { reportSkip } from './support/skips';

const runSynth = (args: string[]) => runEntry('main.ts', args);

function writeConfig(dir: string, overrides: Record<string, unknown>, raw?: string): string {
  const file = path.join(dir, 'deployment.yaml');
  writeFileSync(file, raw ?? yaml.dump(deepMerge(exampleInput(), overrides)));
  return file;
}

describe('npm run synth', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'synth-test-'));
  const out = path.join(work, 'dist');

  test('writes dist/ and a second run gives byte-identical output', () => {
    const config = writeConfig(work, {});
    const first = runSynth(['--config', config, '--out', out]);
    expect(first.status).toBe(0);
    // The example has no tls.dns01: synth says that TURN over TLS is off (lib/model/calls.ts callNotices).
    expect(first.stderr).toMatch(/^notice: tls\.dns01 is not set, so coturn serves no TURN over TLS/m);
    const before = readDist(out);
    expect(before.size).toBeGreaterThan(2);
    const second = runSynth(['--config', config, '--out', out]);
    expect(second.status).toBe(0);
    expect(readDist(out)).toEqual(before);
  });

  test.each([
    ['a misspelled key', { database: { instancs: 3 } }, 'database.instancs'],
    ['instances: -1', { database: { instances: -1 } }, 'database.instances: found -1'],
  ])('%s exits non-zero, names the key and leaves dist/ byte-identical', (_name, overrides, expected) => {
    runSynth(['--config', writeConfig(work, {}), '--out', out]);
    const before = readDist(out);
    const result = runSynth(['--config', writeConfig(work, overrides), '--out', out]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).toContain('dist/ was left unchanged');
    expect(readDist(out)).toEqual(before);
  });

  test('invalid YAML is a config error, not a crash', () => {
    const result = runSynth(['--config', writeConfig(work, {}, 'serverName: [unclosed'), '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('not valid YAML');
  });

  test('the committed dist/ matches the config npm run synth reads (the example, or a fork\'s own config/deployment.yaml)', () => {
    const committed = readDist(path.join(ROOT, 'dist'));
    const fresh = renderDist(loadConfigFile(locateConfig(undefined, { ...process.env, MATRIX_CONFIG: '' }, ROOT).file));
    expect([...committed.keys()]).toEqual([...fresh.keys()]);
    for (const [file, content] of fresh) expect(`${file}\n${committed.get(file)}`).toBe(`${file}\n${content}`);
  });
});

describe('rendering', () => {
  test('is deterministic in memory', () => {
    const files = renderDist(configWith({}));
    expect(files).toEqual(renderDist(configWith({})));
    // The render cache's missing entries come from a renderer each jest worker keeps across test files
    // (test/support/native-render.ts): its entry must be the one rendering here gives, byte for byte.
    const renderer = nativeRenderer(ROOT);
    if (!renderer) {
      reportSkip('rendering: the worker renderer', 'this Node has no process.getBuiltinModule (before 20.16); every test file renders itself');
      return;
    }
    expect(renderer('{}')).toBe(cacheEntry([...files], parseObjects));
  });

  test('stage folders each carry a kustomization listing exactly their files', () => {
    const files = renderDist(configWith({}));
    const stages = new Set([...files.keys()].filter((file) => file.startsWith('stages/')).map((file) => file.split('/')[1]));
    for (const stage of stages) {
      const kustomization = yaml.load(files.get(`stages/${stage}/kustomization.yaml`) ?? '') as { resources: string[] };
      const inFolder = [...files.keys()]
        .filter((file) => file.startsWith(`stages/${stage}/`) && !file.endsWith('kustomization.yaml'))
        .map((file) => file.split('/')[2]);
      expect(kustomization.resources).toEqual(inFolder.sort());
    }
  });

  test('no output contains a timestamp-like value', () => {
    for (const content of renderDist(configWith({})).values()) {
      expect(content).not.toMatch(/creationTimestamp: \S|20\d\d-\d\d-\d\dT\d\d:\d\d/);
    }
  });
});

describe('GitOps entry points', () => {
  const stagesOf = (files: Map<string, string>) =>
    [...new Set([...files.keys()].filter((file) => file.startsWith('stages/')).map((file) => file.split('/')[1]))].sort();

  test('flux: one Kustomization per stage, each waiting for the previous one, from the configured repository', () => {
    const files = renderDist(configWith({ gitops: { repository: { url: 'ssh://git@example.com/x.git', branch: 'prod', path: 'deploy/dist' } } }));
    const docs = yaml.loadAll(files.get('flux/platform.yaml') ?? '') as Array<{ kind: string; metadata: { name: string }; spec: Record<string, unknown> }>;
    const source = docs.find((doc) => doc.kind === 'GitRepository');
    expect(source?.spec).toMatchObject({ url: 'ssh://git@example.com/x.git', ref: { branch: 'prod' } });
    const kustomizations = docs.filter((doc) => doc.kind === 'Kustomization');
    const stages = stagesOf(files);
    expect(kustomizations.map((doc) => doc.spec.path)).toEqual(stages.map((stage) => `./deploy/dist/stages/${stage}`));
    kustomizations.forEach((doc, index) => {
      expect(doc.spec.wait).toBe(true);
      expect(doc.spec.dependsOn).toEqual(index === 0 ? undefined : [{ name: kustomizations[index - 1].metadata.name }]);
    });
    expect([...files.keys()].some((file) => file.startsWith('argocd/'))).toBe(false);
  });

  test('argocd: an app-of-apps with one Application per stage in increasing sync waves', () => {
    const files = renderDist(configWith({ gitops: { engine: 'argocd' } }));
    const root = yaml.load(files.get('argocd/root.yaml') ?? '') as { spec: { source: { path: string } } };
    expect(root.spec.source.path).toBe('dist/argocd/apps');
    const apps = yaml.loadAll(files.get('argocd/apps/stages.yaml') ?? '') as Array<{ metadata: { annotations: Record<string, string> }; spec: { source: { path: string } } }>;
    expect(apps.map((app) => app.spec.source.path)).toEqual(stagesOf(files).map((stage) => `dist/stages/${stage}`));
    const waves = apps.map((app) => Number(app.metadata.annotations['argocd.argoproj.io/sync-wave']));
    expect([...waves].sort((a, b) => a - b)).toEqual(waves);
    expect(new Set(waves).size).toBe(waves.length);
  });

  test('every finalizer is domain-qualified with a path (the API server warns about others on every apply)', () => {
    const files = renderDist(configWith({ gitops: { engine: 'argocd' } }));
    const finalizers = (renderedObjects(files) as { metadata?: { finalizers?: string[] } }[]).flatMap((object) => object?.metadata?.finalizers ?? []);
    expect(finalizers.length).toBeGreaterThan(0);
    // Kubernetes' IsQualifiedName check for finalizers: a DNS subdomain prefix, then "/" and a name.
    const qualified = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.[a-z]{2,}\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
    expect(finalizers.filter((finalizer) => !qualified.test(finalizer))).toEqual([]);
    expect(qualified.test('resources-finalizer.argocd.argoproj.io')).toBe(false);
  });

  test('helm-controller: only the ordered stage folders', () => {
    const files = renderDist(configWith({ gitops: { engine: 'helm-controller' } }));
    expect([...manifestFiles(files).keys()].every((file) => file.startsWith('stages/'))).toBe(true);
  });
});

test('the README names the commands a fresh clone needs', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain('npm ci && npm run synth');
  expect(readme).toContain('npm test');
});
