import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { listFiles } from './validate/schemas';
import { type DistFiles, RUNBOOK_FILE, sortedDist } from './synth';

/** Reads a dist/ tree from disk as relative path -> content: the manifests and the runbook. */
export function readDist(distDir: string): DistFiles {
  const files: DistFiles = new Map();
  for (const file of [...listFiles(distDir, '.yaml'), ...listFiles(distDir, RUNBOOK_FILE)]) {
    files.set(path.relative(distDir, file).split(path.sep).join('/'), readFileSync(file, 'utf8'));
  }
  return sortedDist(files);
}
