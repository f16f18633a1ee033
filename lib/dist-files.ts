import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { listFiles } from './validate/schemas';
import type { DistFiles } from './synth';

/** Reads a dist/ tree from disk as relative path -> content. */
export function readDist(distDir: string): DistFiles {
  const files: DistFiles = new Map();
  for (const file of listFiles(distDir, '.yaml')) {
    files.set(path.relative(distDir, file).split(path.sep).join('/'), readFileSync(file, 'utf8'));
  }
  return files;
}
