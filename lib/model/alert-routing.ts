import type { PlatformConfig } from '../config';
import { ALERT_RECEIVER_KEYS, SECRET_NAMES } from './secrets';

/**
 * Where firing alerts go: the Alertmanager configuration (prometheus/alertmanager v0.34.0, the image
 * of kube-prometheus-stack 88.5.3) built from config.monitoring.alertmanager. Credentials are only
 * referenced: the Secret SECRET_NAMES.alertReceivers is mounted into the Alertmanager pods
 * (alertmanagerSpec.secrets) and the configuration names its files (auth_password_file, url_file),
 * so neither dist/ nor the rendered alertmanager.yaml holds a secret value.
 *
 * Why Alertmanager and not Grafana: the rules are PrometheusRule objects evaluated by Prometheus.
 * Grafana's own Alertmanager notifies only for Grafana-managed rules; it cannot read PrometheusRule
 * objects, and rules Prometheus evaluates are delivered by the Alertmanager Prometheus sends them to.
 * Delivering through Grafana would mean keeping a second copy of every rule in Grafana's format,
 * outside the promtool unit tests.
 */

/** Where prometheus-operator mounts each Secret of alertmanagerSpec.secrets. */
export const ALERTMANAGER_SECRETS_DIR = '/etc/alertmanager/secrets';

export const PLATFORM_RECEIVER = 'platform';
/** kube-prometheus-stack's default receiver for its always-firing Watchdog and InfoInhibitor alerts. */
const NULL_RECEIVER = 'null';

function secretFile(key: string): string {
  return `${ALERTMANAGER_SECRETS_DIR}/${SECRET_NAMES.alertReceivers}/${key}`;
}

/** alertmanager.yaml as data (kube-prometheus-stack value alertmanager.config). */
export function alertmanagerConfig(config: PlatformConfig): Record<string, unknown> {
  const { email, webhook } = config.monitoring.alertmanager;
  const receiver: Record<string, unknown> = { name: PLATFORM_RECEIVER };
  if (email) {
    receiver.email_configs = [
      {
        to: email.to,
        from: email.from,
        smarthost: email.smarthost,
        require_tls: email.requireTls,
        ...(email.username ? { auth_username: email.username, auth_password_file: secretFile(ALERT_RECEIVER_KEYS.smtpPassword) } : {}),
        send_resolved: true,
      },
    ];
  }
  if (webhook) {
    receiver.webhook_configs = [{ url_file: secretFile(ALERT_RECEIVER_KEYS.webhookUrl), send_resolved: webhook.sendResolved }];
  }
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: PLATFORM_RECEIVER,
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      // Watchdog always fires (proof the pipeline works) and InfoInhibitor only silences info alerts.
      routes: [
        { receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] },
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
      ],
    },
    // A critical alert silences the warning of the same name and namespace (upstream rules come in such pairs).
    inhibit_rules: [
      { source_matchers: ['severity = critical'], target_matchers: ['severity =~ warning|info'], equal: ['namespace', 'alertname'] },
      { source_matchers: ['severity = warning'], target_matchers: ['severity = info'], equal: ['namespace', 'alertname'] },
    ],
    receivers: [{ name: NULL_RECEIVER }, receiver],
  };
}
