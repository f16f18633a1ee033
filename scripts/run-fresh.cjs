'use strict';
/**
 * `node scripts/run-fresh.cjs ENTRY.ts [args...]`: runs a TypeScript entry point from one bundled
 * JavaScript file in .build/, rebuilt with esbuild whenever any file that went into it changed.
 *
 * Why: compiling the TypeScript sources and loading several hundred modules (cdk8s, cdk8s-plus-28, zod,
 * the generated CRD imports) on every run cost more than the synthesis itself (docs/performance.md).
 * One file loads in one read, and V8's code cache for it (kept beside the bundle) skips parsing and
 * compiling the functions a previous run needed.
 *
 * Freshness: the bundle's manifest records every input esbuild read (sources, node_modules files) plus
 * tsconfig.json, package.json, package-lock.json and this file, each with size, mtime, ctime and inode.
 * Any difference, including a deleted input, rebuilds before running. ctime cannot be set by tools that
 * preserve timestamps, so an edit is always seen, even one that keeps size and mtime. Type errors are not
 * checked here (esbuild only strips types); `npm test` runs `tsc --noEmit`.
 *
 * Bundle and code-cache names carry the bundle's content hash: V8 validates a code cache only by source
 * length, so a cache must never be paired with a different bundle of equal length. Writes go to a
 * temporary name and are renamed into place, so concurrent runs never read a half-written file.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const MANIFEST_VERSION = 1;
/** Name of the parameter that runBundle passes the project root in, next to __dirname and friends. */
const PROJECT_ROOT = '__runFreshProjectRoot';
/** Files that change how esbuild resolves or transforms, though it does not list them as inputs. */
const BUILD_SETTINGS_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];

/** @param {string} file @returns {string | null} size, mtime, ctime (nanoseconds) and inode */
function fingerprint(file) {
  try {
    const stat = fs.statSync(file, { bigint: true });
    return `${stat.size} ${stat.mtimeNs} ${stat.ctimeNs} ${stat.ino}`;
  } catch {
    return null;
  }
}

/** Identifies the builder: a new esbuild, Node or version of this file rebuilds everything. */
function builderKey() {
  const esbuildVersion = require('esbuild/package.json').version;
  return `${MANIFEST_VERSION} esbuild ${esbuildVersion} node ${process.version} ${JSON.stringify(fingerprint(__filename))}`;
}

/**
 * @typedef {{ builder: string, bundle: string, inputs: Record<string, string | null> }} Manifest
 * @param {string} root project root (inputs are relative to it)
 * @param {string} entry entry file relative to root
 * @param {string} buildDir
 */
function manifestPath(root, entry, buildDir) {
  return path.join(buildDir, `${entry.replace(/\.[cm]?tsx?$/, '').replace(/[\\/]/g, '__')}.json`);
}

/** @returns {Manifest | null} */
function readManifest(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** The recorded bundle, or null when any input differs from its recorded fingerprint. */
function freshBundle(root, entry, buildDir) {
  const manifest = readManifest(manifestPath(root, entry, buildDir));
  if (!manifest || typeof manifest.inputs !== 'object') return null;
  for (const [input, recorded] of Object.entries(manifest.inputs)) {
    const current = fingerprint(path.resolve(root, input));
    if (current !== recorded) return null;
  }
  // Checked last: loading esbuild's package.json costs a module load, the input stats do not.
  if (manifest.builder !== builderKey()) return null;
  const bundle = path.join(buildDir, manifest.bundle);
  return fs.existsSync(bundle) ? bundle : null;
}

function writeAtomically(file, content) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}

/**
 * Gives every project module that uses __dirname or __filename its own values. A bundle has one scope:
 * left alone, those names would mean the entry's directory in every module.
 */
function ownPathsPlugin(root, entry) {
  return {
    name: 'own-module-paths',
    setup(builder) {
      builder.onLoad({ filter: /\.[cm]?tsx?$/ }, (args) => {
        const relative = path.relative(root, args.path).split(path.sep).join('/');
        let contents = fs.readFileSync(args.path, 'utf8');
        if (relative !== entry && !relative.startsWith('node_modules/') && /\b__(dirname|filename)\b/.test(contents)) {
          // On the first line, so line numbers in stack traces stay those of the source.
          contents = `const __filename = require('node:path').join(${PROJECT_ROOT}, ${JSON.stringify(relative)}), __dirname = require('node:path').dirname(__filename);${contents}`;
        }
        return { contents, loader: path.extname(args.path).replace(/^\.[cm]?/, '') };
      });
    },
  };
}

/** Bundles the entry with esbuild and records its inputs. Resolves to the bundle path. */
async function build(root, entry, buildDir) {
  fs.mkdirSync(buildDir, { recursive: true });
  // Fingerprints are taken before reading, so an edit made while esbuild runs triggers the next rebuild.
  const settings = BUILD_SETTINGS_FILES.filter((file) => fs.existsSync(path.join(root, file)));
  const before = new Map(settings.map((file) => [file, fingerprint(path.join(root, file))]));
  const started = Date.now();
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [ownPathsPlugin(root, entry)],
    // Keeps the bundle readable for stack traces: each module is marked with its source path.
    minify: false,
  });
  const code = result.outputFiles[0].contents;
  // The builder key is hashed too: a new launcher may wrap the same code differently, and its code cache
  // must not be taken for the old one's.
  const hash = createHash('sha256').update(code).update(builderKey()).digest('hex').slice(0, 16);
  const stem = path.basename(manifestPath(root, entry, buildDir), '.json');
  const bundleName = `${stem}-${hash}.js`;
  const bundle = path.join(buildDir, bundleName);
  if (!fs.existsSync(bundle)) writeAtomically(bundle, code);
  /** @type {Manifest['inputs']} */
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) inputs[input] = fingerprint(path.resolve(root, input));
  for (const [file, print] of before) inputs[file] = print;
  inputs[path.relative(root, __filename)] = fingerprint(__filename);
  writeAtomically(manifestPath(root, entry, buildDir), JSON.stringify({ builder: builderKey(), bundle: bundleName, inputs }));
  removeStaleBundles(buildDir, stem, bundleName);
  if (process.env.RUN_FRESH_VERBOSE) console.error(`run-fresh: rebuilt ${entry} in ${Date.now() - started} ms`);
  return bundle;
}

/** Older bundles of this entry and their code caches (a run still reading one keeps its open file). */
function removeStaleBundles(buildDir, stem, keep) {
  for (const name of fs.readdirSync(buildDir)) {
    if (name.startsWith(`${stem}-`) && !name.startsWith(keep) && /\.js(\.cache)?$/.test(name)) {
      fs.rmSync(path.join(buildDir, name), { force: true });
    }
  }
}

/** Resolves to a bundle of the entry that reflects the current sources, building it when needed. */
async function ensureBundle(root, entry, buildDir = path.join(root, '.build')) {
  return freshBundle(root, entry, buildDir) ?? build(root, entry, buildDir);
}

/**
 * Runs the bundle as if it were the entry module itself: __filename and __dirname are the entry's, so
 * paths the program derives from them (the project root, dist/) are unchanged.
 */
function runBundle(bundle, entryFile, root) {
  const cacheFile = `${bundle}.cache`;
  let source;
  try {
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    return false;
  }
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname, ${PROJECT_ROOT}) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // Taken at exit, the cache also holds the functions this run compiled lazily.
    process.once('exit', () => {
      try {
        writeAtomically(cacheFile, script.createCachedData());
      } catch {
        // A missing cache only costs time.
      }
    });
  }
  const entryModule = new Module(entryFile, null);
  entryModule.filename = entryFile;
  entryModule.paths = Module._nodeModulePaths(path.dirname(entryFile));
  const entryRequire = Module.createRequire(entryFile);
  // `require.main === module` holds in the entry, as when Node runs it directly.
  entryRequire.main = entryModule;
  const compiled = script.runInThisContext();
  compiled.call(entryModule.exports, entryModule.exports, entryRequire, entryModule, entryFile, path.dirname(entryFile), root);
  entryModule.loaded = true;
  return true;
}

/**
 * Runs ENTRY with the given arguments. Synchronous when the bundle is fresh (the common case), so the
 * program runs exactly as it would as a main module.
 */
function main() {
  const [entryArgument, ...args] = process.argv.slice(2);
  if (!entryArgument) {
    console.error('usage: node scripts/run-fresh.cjs ENTRY.ts [args...]');
    process.exitCode = 64;
    return;
  }
  const root = path.resolve(__dirname, '..');
  const buildDir = path.join(root, '.build');
  const entryFile = path.resolve(entryArgument);
  const entry = path.relative(root, entryFile).split(path.sep).join('/');
  process.argv = [process.argv[0], entryFile, ...args];
  const fresh = freshBundle(root, entry, buildDir);
  if (fresh && runBundle(fresh, entryFile, root)) return;
  build(root, entry, buildDir).then(
    // A bundle removed by a concurrent rebuild between check and read is rebuilt once more.
    async (bundle) => runBundle(bundle, entryFile, root) || runBundle(await build(root, entry, buildDir), entryFile, root),
    (error) => {
      console.error(`run-fresh: building ${entry} failed:\n${error.message}`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) main();

module.exports = { build, ensureBundle, freshBundle, runBundle, PROJECT_ROOT };
