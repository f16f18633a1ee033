/**
 * Checks the alert rules exactly as rendered in dist/: writes every PrometheusRule's groups to a
 * temp dir, runs `promtool check rules`, then `promtool test rules` with one firing and one quiet
 * unit test per alert (test/promtool/cases.ts). Usage: tsx scripts/promtool-check.ts [--config FILE] [dist]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { alertCases } from '../test/promtool/cases';
import { parseCommandLine } from '../lib/cli';
import { CONFIG_OPTION, loadConfigFile, locateConfig } from '../lib/config';
import { buildPlatform, type Platform } from '../lib/model';
import { type DistFiles, manifestFiles } from '../lib/synth';

interface RuleGroup {
  name: string;
  rules: { alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}

export function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function ruleGroupsIn(files: DistFiles): RuleGroup[] {
  const groups: RuleGroup[] = [];
  for (const content of manifestFiles(files).values()) {
    for (const document of yaml.loadAll(content)) {
      const object = document as { kind?: string; spec?: { groups?: RuleGroup[] } } | null;
      if (object?.kind === 'PrometheusRule') groups.push(...(object.spec?.groups ?? []));
    }
  }
  return groups;
}

/** `{{ $labels.x }}` in an annotation, filled in with the expected alert's labels. */
function expand(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{ \$labels\.([a-zA-Z_]+) \}\}/g, (_, name: string) => labels[name] ?? '');
}

/** An alert expression that reads what other alerts produce: its result depends on the rules beside it. */
const READS_ALERT_STATE = /\bALERTS(_FOR_STATE)?\b/;

/**
 * promtool unit-test files, one per alert (file name -> content), each with a rules file holding that
 * alert as rendered (its group, expression, `for`, labels, annotations) plus every recording rule, and
 * no other alert. promtool evaluates every rule of its rules files at every step of every test, so one
 * file with all alerts cost each test the evaluation of all of them (about ten times the CPU), while an
 * alert's result depends only on its series and the recording rules: alerting rules do not read each
 * other (an expression reading ALERTS is refused here, as it would need its neighbours).
 */
export function unitTestFiles(groups: RuleGroup[], platform: Platform): Map<string, Record<string, unknown>> {
  const cases = alertCases(platform);
  const files = new Map<string, Record<string, unknown>>();
  for (const rule of groups.flatMap((group) => group.rules)) {
    if (!rule.alert) continue;
    if (READS_ALERT_STATE.test(rule.expr)) throw new Error(`alert ${rule.alert} reads ALERTS: its unit tests would need every alert rule beside it`);
    const alertCase = cases[rule.alert];
    if (!alertCase) throw new Error(`alert ${rule.alert} has no promtool unit test in test/promtool/cases.ts`);
    const labels = { ...alertCase.fires.labels, ...(rule.labels ?? {}) };
    const annotations = Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([key, value]) => [key, expand(value, labels)]));
    const rulesFile = `rules-${rule.alert}.yaml`;
    if (files.has(rulesFile)) throw new Error(`alert ${rule.alert} is defined twice`);
    const ownGroups = groups
      .map((group) => ({ ...group, rules: group.rules.filter((candidate) => !candidate.alert || candidate === rule) }))
      .filter((group) => group.rules.length > 0);
    files.set(rulesFile, { groups: ownGroups });
    files.set(`tests-${rule.alert}.yaml`, {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          name: `${rule.alert} fires`,
          interval: '1m',
          input_series: alertCase.fires.series,
          alert_rule_test: [
            { eval_time: alertCase.fires.evalTime, alertname: rule.alert, exp_alerts: [{ exp_labels: labels, exp_annotations: annotations }] },
          ],
        },
        {
          name: `${rule.alert} stays quiet`,
          interval: '1m',
          input_series: alertCase.quiet.series,
          alert_rule_test: [{ eval_time: alertCase.quiet.evalTime, alertname: rule.alert, exp_alerts: [] }],
        },
      ],
    });
  }
  return files;
}

export interface PromtoolResult {
  readonly ok: boolean;
  readonly output: string;
}

function run(args: string[], cwd: string): PromtoolResult {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { ok: result.status === 0, output: `$ promtool ${args.join(' ')}\n${result.stdout}${result.stderr}` };
}

/** Runs both promtool checks on the rules of a rendered dist/. */
export function promtoolCheck(files: DistFiles, platform: Platform): PromtoolResult {
  const groups = ruleGroupsIn(files);
  if (groups.length === 0) return { ok: false, output: 'no PrometheusRule found in dist/' };
  const dir = mkdtempSync(path.join(tmpdir(), 'promtool-'));
  try {
    const dump = (content: unknown) => yaml.dump(content, { lineWidth: -1, noRefs: true });
    writeFileSync(path.join(dir, 'rules.yaml'), dump({ groups }));
    const testFiles = unitTestFiles(groups, platform);
    for (const [file, content] of testFiles) writeFileSync(path.join(dir, file), dump(content));
    const check = run(['check', 'rules', 'rules.yaml'], dir);
    if (!check.ok) return check;
    const test = run(['test', 'rules', ...[...testFiles.keys()].filter((file) => file.startsWith('tests-'))], dir);
    return { ok: test.ok, output: `${check.output}\n${test.output}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readDist(dir: string): DistFiles {
  const files: DistFiles = new Map();
  const walk = (current: string) => {
    for (const entry of readdirSync(current).sort()) {
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.yaml')) files.set(path.relative(dir, full), readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const { options, positionals } = parseCommandLine(process.argv.slice(2), {
    usage: 'npx tsx scripts/promtool-check.ts [--config PATH] [DIST_DIR]',
    description: 'Runs promtool check rules and promtool test rules on the alert rules in dist/ (or DIST_DIR) with the generated unit tests.',
    options: CONFIG_OPTION,
    positionals: 'DIST_DIR (default: dist/)',
  });
  const location = locateConfig(options.config, process.env, root);
  const distDir = path.resolve(positionals[0] ?? path.join(root, 'dist'));
  if (!promtoolAvailable()) {
    console.error('promtool is not installed (Debian package `prometheus`): cannot check the alert rules');
    process.exit(2);
  }
  const result = promtoolCheck(readDist(distDir), buildPlatform(loadConfigFile(location.file)));
  console.log(result.output);
  process.exit(result.ok ? 0 : 1);
}
