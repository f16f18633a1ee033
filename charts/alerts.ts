import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { type Platform, PROMETHEUS_STACK } from '../lib/model';
import { alertRuleGroups } from '../lib/model/alert-rules';

export const ALERT_RULES_NAME = 'matrix-platform-alerts';

/**
 * The platform's alert rules (lib/model/alert-rules.ts) as one PrometheusRule. Prometheus selects
 * rules from every namespace (ruleSelectorNilUsesHelmValues: false in charts/monitoring.ts).
 * Firing alerts show in Prometheus (/alerts) and Grafana (Alerting > Alert rules), and go to the
 * receivers when monitoring.alertmanager is enabled (charts/monitoring.ts).
 */
export class AlertsChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'alerts', { platform, stage: '50-observability', namespace: PROMETHEUS_STACK.namespace });
    new PrometheusRule(this, 'rules', {
      metadata: {
        name: ALERT_RULES_NAME,
        namespace: PROMETHEUS_STACK.namespace,
        labels: { 'app.kubernetes.io/part-of': 'matrix-platform' },
      },
      spec: {
        groups: alertRuleGroups(platform).map((group) => ({
          name: group.name,
          rules: group.rules.map((rule) => ({
            alert: rule.alert,
            expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr),
            for: rule.for,
            labels: { severity: rule.severity },
            annotations: { summary: rule.summary, description: rule.description },
          })),
        })),
      },
    });
  }
}
