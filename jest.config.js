/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking runs once in `tsc --noEmit` (npm test); esbuild only strips types, file by file.
    '^.+\\.ts$': '<rootDir>/test/support/esbuild-jest.cjs',
  },
  testTimeout: 60000,
  // Jest's default leaves one core idle; the suites are mostly CPU-bound synth and validation, and the
  // ones that start real programs take their ports from the pid or the kernel, so all cores can run.
  maxWorkers: '100%',
  // Checks that skip for a missing program are listed again at the very end of the run.
  reporters: ['default', '<rootDir>/test/support/skip-summary-reporter.js'],
};
