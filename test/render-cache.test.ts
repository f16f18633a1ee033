import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exactJson, RenderCache } from './support/render-cache';

/** The cache that shares rendered outputs between test files must never hand out a stale or shared copy. */
function project(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'render-cache-'));
  mkdirSync(path.join(root, 'charts'));
  writeFileSync(path.join(root, 'charts', 'chart.ts'), 'one');
  return root;
}

function counting(content: string) {
  const counter = { renders: 0 };
  const render = (): [string, string][] => {
    counter.renders++;
    return [['stages/a.yaml', content]];
  };
  return { counter, render };
}

const parse = (files: [string, string][]) => files.map(([file, text]) => ({ file, text }));

describe('RenderCache', () => {
  test('a second test file (new instance) reads the output instead of rendering', () => {
    const root = project();
    const { counter, render } = counting('kind: A\n');
    expect(new RenderCache(root).get({ a: 1 }, render, parse).files).toEqual([['stages/a.yaml', 'kind: A\n']]);
    expect(new RenderCache(root).get({ a: 1 }, render, parse)).toEqual({ files: [['stages/a.yaml', 'kind: A\n']], objects: [{ file: 'stages/a.yaml', text: 'kind: A\n' }] });
    expect(counter.renders).toBe(1);
    new RenderCache(root).get({ a: 2 }, render, parse);
    expect(counter.renders).toBe(2);
  });

  test('an edit to any source renders again, even with the same size and modification time', () => {
    const root = project();
    const source = path.join(root, 'charts', 'chart.ts');
    const stamp = new Date('2024-01-01T00:00:00Z');
    utimesSync(source, stamp, stamp);
    const first = counting('old');
    new RenderCache(root).get({}, first.render, parse);
    writeFileSync(source, 'two');
    utimesSync(source, stamp, stamp);
    const second = counting('new');
    expect(new RenderCache(root).get({}, second.render, parse).files).toEqual([['stages/a.yaml', 'new']]);
    expect(second.counter.renders).toBe(1);
    // Only the entries of the current sources are kept.
    expect(readdirSync(path.join(root, '.build', 'render-cache'))).toHaveLength(1);
  });

  test('every call returns its own copy: mutating one does not change the next', () => {
    const root = project();
    const { render } = counting('x');
    const cache = new RenderCache(root);
    const first = cache.get({}, render, parse);
    (first.objects as { text: string }[])[0].text = 'mutated';
    first.files[0][1] = 'mutated';
    expect(cache.get({}, render, parse)).toEqual({ files: [['stages/a.yaml', 'x']], objects: [{ file: 'stages/a.yaml', text: 'x' }] });
  });

  test('overrides JSON cannot represent bypass the cache; objects JSON would change are parsed by the caller', () => {
    const root = project();
    const { counter, render } = counting('x');
    const cache = new RenderCache(root);
    cache.get({ a: undefined }, render, parse);
    cache.get({ a: undefined }, render, parse);
    expect(counter.renders).toBe(2);
    expect(exactJson({ a: undefined })).toBeUndefined();
    expect(exactJson({ when: new Date(0) })).toBeUndefined();
    expect(exactJson({ a: [1, 'b', null, { c: true }] })).toBe('{"a":[1,"b",null,{"c":true}]}');
    expect(cache.get({ dated: true }, render, () => [{ when: new Date(0) }]).objects).toBeNull();
  });
});
