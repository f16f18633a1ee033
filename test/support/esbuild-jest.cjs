'use strict';
/**
 * Jest transform: TypeScript to CommonJS with esbuild, file by file. Types are stripped, not checked:
 * `npm test` runs `tsc --noEmit` over the same files first. esbuild transpiles the generated CRD imports
 * (several megabytes of TypeScript) in milliseconds, where a TypeScript-based transform took seconds per
 * worker on a cold cache. The tests do not use jest.mock(), whose calls this transform would not hoist.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const esbuild = require('esbuild');
const tsconfig = require('../../tsconfig.json');

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  target: tsconfig.compilerOptions.target.toLowerCase(),
  sourcemap: 'external',
  sourcesContent: false,
  tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
};
const SELF = createHash('sha256')
  .update(readFileSync(__filename))
  .update(esbuild.version)
  .update(JSON.stringify(OPTIONS))
  .digest('hex');

module.exports = {
  process(source, filename) {
    const result = esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename });
    return { code: result.code, map: result.map };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(SELF).update(filename).update('\0').update(source).digest('hex');
  },
};
