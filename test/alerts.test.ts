import { buildPlatform } from '../lib/model';
import { alertNames, alertRuleGroups } from '../lib/model/alert-rules';
import { promtoolAvailable, promtoolCheck } from '../scripts/promtool-check';
import { find, render } from './helpers';
import { alertCases } from './promtool/cases';
import { reportSkip } from './support/skips';

/** Longest line a reviewer reads in a diff; a line holding one label matcher is exempt (PromQL cannot split a string). */
const EXPR_LINE_LIMIT = 120;
const LONE_MATCHER = /^\s*[a-zA-Z_][a-zA-Z0-9_]*(=~|!~|!=|=)"[^"]*",?$/;

/** Expression lines of the rendered YAML longer than EXPR_LINE_LIMIT: `expr:` lines and the lines of `expr: |` blocks. */
function longExpressionLines(yamlText: string): string[] {
  const lines = yamlText.split('\n');
  const found: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*(?:- )?)expr: (.*)$/.exec(line);
    if (!match) return;
    const body = [match[2]];
    if (/^[|>]/.test(match[2])) {
      body.length = 0;
      for (const next of lines.slice(index + 1)) {
        if (next.trim() !== '' && next.length - next.trimStart().length <= match[1].length) break;
        body.push(next);
      }
    }
    for (const exprLine of body) if (exprLine.trim().length > EXPR_LINE_LIMIT && !LONE_MATCHER.test(exprLine)) found.push(exprLine.trim().slice(0, 60));
  });
  return found;
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  example: {},
  'no calls, ingress-nginx, other worker counts': {
    calls: { enabled: false },
    edge: { controller: 'ingress-nginx' },
    synapse: { workers: { sync: { count: 3 }, presence: { count: 0 }, receipts: { count: 2 } } },
  },
};

describe('alert rules', () => {
  test('one PrometheusRule holds every alert of the model, each with severity and summary', () => {
    const { objects, config } = render();
    const rules = find(objects, 'PrometheusRule');
    expect(rules).toHaveLength(1);
    const spec = rules[0].spec as { groups: { rules: { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] };
    const rendered = spec.groups.flatMap((group) => group.rules);
    expect(rendered.map((rule) => rule.alert)).toEqual(alertNames(buildPlatform(config)));
    for (const rule of rendered) {
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
    }
  });

  test('every alert has a firing and a quiet promtool case, and no case is orphaned', () => {
    const platform = buildPlatform(render().config);
    expect(Object.keys(alertCases(platform)).sort()).toEqual(alertNames(platform).sort());
  });

  test('the spec\'s signals are covered', () => {
    const exprs = alertRuleGroups(buildPlatform(render().config)).flatMap((group) => group.rules.map((rule) => rule.expr)).join('\n');
    for (const metric of [
      'kube_pod_container_status_restarts_total',
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'cnpg_pg_replication_lag',
      'kubelet_volume_stats_available_bytes',
      'certmanager_certificate_expiration_timestamp_seconds',
      'synapse_federation_transaction_queue_pending_pdus',
      'servlet="SyncRestServlet"',
      'synapse_event_processing_lag',
      'haproxy_backend_active_servers',
      'redis_up',
      'cnpg_pg_stat_archiver_failed_count',
      'cnpg_pg_stat_archiver_seconds_since_last_archival',
      'barman_cloud_cloudnative_pg_io_last_available_backup_timestamp',
      'cnpg_pg_replication_slots_pg_wal_lsn_diff',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  test('the missing-process alert follows the configured worker counts', () => {
    const { config } = render({ synapse: { workers: { sync: { count: 5 } } } });
    const expr = alertRuleGroups(buildPlatform(config))
      .flatMap((group) => group.rules)
      .find((rule) => rule.alert === 'SynapseProcessesMissing')?.expr;
    expect(expr).toContain('job="sync"}) or vector(0)) < 5');
  });

  test('long expressions are multi-line YAML block scalars in dist/, so a diff shows what changed', () => {
    for (const overrides of Object.values(VARIANTS)) {
      const { files } = render(overrides);
      const alerts = [...files.values()].filter((content) => content.includes('kind: PrometheusRule'));
      expect(alerts).toHaveLength(1);
      expect(longExpressionLines(alerts[0])).toEqual([]);
      expect(alerts[0]).toMatch(/expr: \|-?\n/);
    }
  });

  test('the expression-line check catches a long one-line expression and accepts a block', () => {
    const long = `sum(rate(x{namespace="matrix"}[5m])) ${'or vector(0) '.repeat(12)}> 1`;
    expect(longExpressionLines(`groups:\n  - rules:\n      - alert: A\n        expr: ${long}\n        for: 5m\n`)).toHaveLength(1);
    expect(longExpressionLines(`      - expr: "${long.replace(/ or/g, '\\nor')}"\n`)).toHaveLength(1);
    const block = long.replace(/ or /g, '\n          or ');
    expect(longExpressionLines(`      - alert: A\n        expr: |-\n          ${block}\n        for: 5m\n`)).toEqual([]);
    expect(longExpressionLines(`        expr: |-\n          up{\n            namespace=~"${'a|'.repeat(80)}b",\n          } == 0\n`)).toEqual([]);
  });

  test('backup and slot thresholds follow the config: backup schedule and WAL volume', () => {
    const exprOf = (overrides: Record<string, unknown>, alert: string) =>
      alertRuleGroups(buildPlatform(render(overrides).config))
        .flatMap((group) => group.rules)
        .find((rule) => rule.alert === alert)?.expr ?? '';
    // Daily at 03:00: 24 h between backups plus 6 h for the backup itself; weekly: 7 days plus 6 h.
    expect(exprOf({}, 'PostgresBaseBackupTooOld')).toContain(`> ${30 * 3600}\nor`);
    expect(exprOf({ database: { backup: { schedule: '0 0 2 * * sun' } } }, 'PostgresBaseBackupTooOld')).toContain(`> ${(7 * 24 + 6) * 3600}\nor`);
    // 100Gi WAL volume: slots may keep 50 GiB, the alert fires at half of that.
    expect(exprOf({}, 'PostgresReplicationSlotLagHigh')).toMatch(new RegExp(`> ${25 * 2 ** 30}$`));
    expect(exprOf({ database: { walStorageSize: '20Gi' } }, 'PostgresReplicationSlotLagHigh')).toMatch(new RegExp(`> ${5 * 2 ** 30}$`));
  });

  const promtool = promtoolAvailable();
  if (!promtool) {
    reportSkip('promtool check rules / promtool test rules (the alert rules were NOT checked)', 'promtool not installed (apt-get install prometheus)');
  }
  const promtoolTest = promtool ? test : test.skip;

  for (const [variant, overrides] of Object.entries(VARIANTS)) {
    promtoolTest(`promtool check rules and test rules pass (${variant})`, () => {
      const { files, config } = render(overrides);
      const result = promtoolCheck(files, buildPlatform(config));
      if (!result.ok) console.error(result.output);
      expect(result.ok).toBe(true);
    }, 60_000);
  }

  promtoolTest('promtool catches a rule that no longer fires on its synthetic series', () => {
    const { files, config } = render();
    const broken = new Map(
      [...files].map(([file, content]) => [file, content.replace('cnpg_pg_replication_lag{namespace="matrix"}) > 30', 'cnpg_pg_replication_lag{namespace="matrix"}) > 3000')]),
    );
    expect([...broken.values()].join()).toContain('> 3000');
    const result = promtoolCheck(broken, buildPlatform(config));
    expect(result.ok).toBe(false);
    expect(result.output).toContain('PostgresReplicationLagHigh');
  }, 60_000);
});
