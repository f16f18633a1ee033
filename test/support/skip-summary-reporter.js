const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SKIP_DIR_ENV } = require('./skip-dir');

/**
 * Prints every check that skipped (reportSkip in test/support/skips.ts), and what the main checks
 * covered (reportCoverage), at the very end of a jest run.
 * The folder is created here, before the workers start, so they inherit its name.
 */
class SkipSummaryReporter {
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'matrix-platform-skips-'));
    process.env[SKIP_DIR_ENV] = this.dir;
  }

  linesOf(suffix) {
    const lines = new Set();
    for (const file of readdirSync(this.dir).sort()) {
      if (!file.endsWith(suffix)) continue;
      for (const line of readFileSync(path.join(this.dir, file), 'utf8').split('\n')) if (line) lines.add(line);
    }
    return [...lines].sort();
  }

  onRunComplete() {
    const covered = this.linesOf('.covered');
    const sorted = this.linesOf('.skipped');
    rmSync(this.dir, { recursive: true, force: true });
    if (covered.length > 0) process.stderr.write(`\nCoverage of the checks:\n${covered.map((line) => `  ${line}`).join('\n')}\n`);
    if (sorted.length === 0) {
      process.stderr.write('\nSkipped checks: none (every check that needs a program found it)\n');
      return;
    }
    process.stderr.write(`\nSkipped checks (${sorted.length}), each for the reason given:\n${sorted.map((line) => `  SKIPPED ${line}`).join('\n')}\n`);
  }
}

module.exports = SkipSummaryReporter;
