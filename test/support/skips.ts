import { appendFileSync } from 'node:fs';
import * as path from 'node:path';

// Shared with the reporter, which jest loads as plain JavaScript.
const { SKIP_DIR_ENV } = require('./skip-dir') as { SKIP_DIR_ENV: string };

/**
 * Says that a check did not run, and why. The line is printed at once and collected for the final
 * summary of the whole run (test/support/skip-summary-reporter.js), where jest would otherwise hide
 * the console output of passing suites.
 */
export function reportSkip(check: string, reason: string): void {
  const line = `${check}: ${reason}`;
  console.warn(`SKIPPED: ${line}`);
  const dir = process.env[SKIP_DIR_ENV];
  if (dir) appendFileSync(path.join(dir, `${process.pid}.skipped`), `${line}\n`);
}

/** Records what a check covered (for example how many objects were validated), for the same final summary. */
export function reportCoverage(check: string, coverage: string): void {
  const dir = process.env[SKIP_DIR_ENV];
  if (dir) appendFileSync(path.join(dir, `${process.pid}.covered`), `${check}: ${coverage}\n`);
}
