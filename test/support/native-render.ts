import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runInThisContext, Script } from 'node:vm';

/**
 * Renders the render cache's missing entries outside jest's module registry. jest loads every module
 * anew for each test file, so V8 warms cdk8s, js-yaml and the charts up again in each one: a render
 * there costs about 0.3 s of CPU, in a process that rendered before about 0.1 s. The renderer is the
 * bundle of render-entry.ts, built and kept fresh like the npm scripts' bundles (scripts/run-fresh.cjs:
 * any changed input rebuilds it), loaded once per jest worker into Node's own context and kept there for
 * the worker's next test files. Same sources, same functions as rendering in the test file; only where
 * V8 keeps its compiled code differs.
 */

const ENTRY = 'test/support/render-entry.ts';
/** Where a worker keeps its loaded renderers, by bundle (a rebuilt bundle has a new name). */
const LOADED = Symbol.for('matrix-platform test renderers');

export type NativeRenderer = (key: string) => string;

interface RunFresh {
  freshBundle(root: string, entry: string, buildDir: string): string | null;
  readonly PROJECT_ROOT: string;
}

type HostGlobal = typeof globalThis & { [LOADED]?: Map<string, NativeRenderer> };

/** The renderer for the current sources, or undefined where it cannot be had (the caller renders itself). */
export function nativeRenderer(root: string): NativeRenderer | undefined {
  // Node's own global object, not the test file's: what is kept here outlives the test file.
  const host = runInThisContext('globalThis') as HostGlobal;
  const nodeModule = (host.process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  if (!nodeModule) return undefined;
  const launcher = path.join(root, 'scripts', 'run-fresh.cjs');
  const runFresh = require(launcher) as RunFresh;
  const buildDir = path.join(root, '.build');
  let bundle = runFresh.freshBundle(root, ENTRY, buildDir);
  if (!bundle) {
    const build = `require(${JSON.stringify(launcher)}).ensureBundle(${JSON.stringify(root)}, ${JSON.stringify(ENTRY)}).catch(() => process.exit(1))`;
    spawnSync(process.execPath, ['-e', build], { stdio: 'ignore' });
    bundle = runFresh.freshBundle(root, ENTRY, buildDir);
    if (!bundle) return undefined;
  }
  const loaded = (host[LOADED] ??= new Map());
  let renderer = loaded.get(bundle);
  if (!renderer) {
    const entryFile = path.join(root, ENTRY);
    const wrapped = `(function (exports, require, module, __filename, __dirname, ${runFresh.PROJECT_ROOT}) {${readFileSync(bundle, 'utf8')}\n})`;
    const run = new Script(wrapped, { filename: bundle }).runInThisContext() as (...args: unknown[]) => void;
    const module = { exports: {} as { renderCacheEntry?: NativeRenderer } };
    run.call(module.exports, module.exports, nodeModule.createRequire(entryFile), module, entryFile, path.dirname(entryFile), root);
    if (!module.exports.renderCacheEntry) return undefined;
    renderer = module.exports.renderCacheEntry;
    loaded.set(bundle, renderer);
  }
  return renderer;
}
