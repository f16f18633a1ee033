import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/**
 * Rendered outputs shared by every test file of a run and by later runs: jest gives each test file its
 * own module registry, so without this each file rendered the example config again (and most files
 * render it several times). An entry is keyed by the overrides and by a fingerprint of every file that
 * can change the output; any edit, checkout or `npm ci` gives a new fingerprint, never a stale entry.
 * Entries are JSON text: each caller parses its own copy, so a test that mutates what it got cannot
 * affect another.
 */

/** Everything the rendered output depends on, relative to the project root. */
const INPUTS = [
  'lib',
  'charts',
  'constructs',
  'imports',
  'config',
  'test/helpers.ts',
  'test/support/render-cache.ts',
  'test/support/native-render.ts',
  'test/support/render-entry.ts',
  'package-lock.json',
  'node_modules/.package-lock.json',
];

export interface CachedOutput {
  /** dist/ path -> YAML. */
  files: [string, string][];
  /** The parsed documents, or null when they do not survive JSON (the caller parses the YAML then). */
  objects: unknown[] | null;
}

function fingerprintTree(target: string, hash: ReturnType<typeof createHash>): void {
  let stat;
  try {
    stat = statSync(target, { bigint: true });
  } catch {
    hash.update(`${target} missing\n`);
    return;
  }
  if (stat.isDirectory()) {
    for (const name of readdirSync(target).sort()) fingerprintTree(path.join(target, name), hash);
    return;
  }
  // ctime changes with every write and cannot be set back, so an edit always changes the fingerprint.
  hash.update(`${target} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs} ${stat.ino}\n`);
}

export class RenderCache {
  private readonly memory = new Map<string, string>();
  private directory: string | undefined;

  constructor(
    private readonly root: string,
    private readonly cacheRoot = path.join(root, '.build', 'render-cache'),
  ) {}

  /** Folder for the current sources, computed once per test file (a few milliseconds of stat calls). */
  private entries(): string {
    if (this.directory === undefined) {
      const hash = createHash('sha256');
      for (const input of INPUTS) fingerprintTree(path.join(this.root, input), hash);
      const digest = hash.digest('hex').slice(0, 24);
      this.directory = path.join(this.cacheRoot, digest);
      mkdirSync(this.directory, { recursive: true });
      // Entries of older sources are never read again.
      for (const name of readdirSync(this.cacheRoot)) if (name !== digest) rmSync(path.join(this.cacheRoot, name), { recursive: true, force: true });
    }
    return this.directory;
  }

  /**
   * The output for these overrides: from memory, from disk, or rendered now and stored. `produce`, when
   * given, renders the entry text for the overrides' JSON (test/support/native-render.ts) and may decline
   * with undefined; `render` and `parse` render it here otherwise. Overrides that JSON cannot represent
   * exactly (undefined, functions, class instances) bypass the cache.
   */
  get(
    overrides: Record<string, unknown>,
    render: () => CachedOutput['files'],
    parse: (files: CachedOutput['files']) => unknown[],
    produce?: (key: string) => string | undefined,
  ): CachedOutput {
    const key = exactJson(overrides);
    if (key === undefined) return { files: render(), objects: null };
    let text = this.memory.get(key);
    if (text === undefined) {
      const file = path.join(this.entries(), `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        text = produce?.(key) ?? cacheEntry(render(), parse);
        try {
          const temporary = `${file}.${process.pid}.tmp`;
          writeFileSync(temporary, text);
          renameSync(temporary, file);
        } catch {
          // Another run pruned the folder after a source change: this entry is stale for it anyway.
        }
      }
      this.memory.set(key, text);
    }
    return JSON.parse(text) as CachedOutput;
  }
}

/** The text of a cache entry: the files, and their parsed documents when JSON keeps them exactly. */
export function cacheEntry(files: CachedOutput['files'], parse: (files: CachedOutput['files']) => unknown[]): string {
  const objects = parse(files);
  const text = JSON.stringify({ files, objects } satisfies CachedOutput);
  return isDeepStrictEqual((JSON.parse(text) as CachedOutput).objects, objects) ? text : JSON.stringify({ files, objects: null } satisfies CachedOutput);
}

/** JSON of plain data, or undefined when JSON would drop or change something. */
export function exactJson(value: unknown): string | undefined {
  const text = JSON.stringify(value);
  return text !== undefined && isDeepStrictEqual(JSON.parse(text), value) ? text : undefined;
}
