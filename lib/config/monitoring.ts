import { z } from 'zod';
import { email, port, replicas, retentionDuration, storageSize } from './primitives';

/** Secret (monitoring namespace) holding the receivers' credentials; config and dist/ only name it. */
export const ALERT_RECEIVERS_SECRET = 'alertmanager-receivers';

const alertmanagerSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Run Alertmanager (kube-prometheus-stack) so that firing alerts notify the receivers below.'),
    replicas: replicas(1, 'Alertmanager replicas; they share silences and de-duplicate notifications among themselves.').default(2),
    storageSize: storageSize.default('1Gi').describe('Volume per replica for silences and the notification log.'),
    email: z
      .strictObject({
        to: email.describe('Where alert e-mails go.'),
        from: email.describe('Sender address.'),
        smarthost: z
          .string()
          .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'host:port of the SMTP server, such as smtp.example.org:587')
          .describe('SMTP server as host:port.'),
        username: z
          .string()
          .min(1)
          .optional()
          .describe(`SMTP user name. Its password is key smtp-password of the Secret ${ALERT_RECEIVERS_SECRET}, never in this file.`),
        requireTls: z.boolean().default(true).describe('Refuse to send without STARTTLS.'),
      })
      .optional()
      .describe('E-mail receiver.'),
    webhook: z
      .strictObject({
        sendResolved: z.boolean().default(true).describe('Also notify when an alert resolves.'),
        port: port.default(443).describe('Port of the webhook URL (the URL itself is a secret): the only port Alertmanager\'s egress policy opens for it.'),
      })
      .optional()
      .describe(
        `Generic webhook receiver (Alertmanager's JSON payload, POST). The URL often carries a token, so it is key webhook-url of the Secret ${ALERT_RECEIVERS_SECRET}, never in this file.`,
      ),
  })
  .prefault({})
  .superRefine((alertmanager, ctx) => {
    if (alertmanager.enabled && !alertmanager.email && !alertmanager.webhook) {
      ctx.addIssue({ code: 'custom', path: ['enabled'], message: 'email, webhook or both set beside it (an enabled Alertmanager needs a receiver)' });
    }
  })
  .describe('Alert notifications. Off: alerts show in Prometheus and Grafana only.');

export const monitoringSchema = z
  .strictObject({
    prometheus: z
      .strictObject({
        replicas: replicas(1, 'Prometheus replicas.').default(2),
        retention: retentionDuration.default('15d'),
        storageSize: storageSize.default('100Gi'),
      })
      .prefault({}),
    grafana: z
      .strictObject({
        replicas: replicas(1, 'Grafana replicas; above 1 Grafana keeps no volume (dashboards and datasources are provisioned).').default(2),
        storageSize: storageSize.default('10Gi').describe('Grafana volume, used only with one replica.'),
      })
      .prefault({}),
    loki: z
      .strictObject({
        retention: retentionDuration.default('30d'),
        storageSize: storageSize.default('50Gi').describe('Local volume of the Loki single binary (WAL and index cache).'),
        replicas: replicas(1, 'Loki single-binary replicas.').default(3),
      })
      .prefault({}),
    alertmanager: alertmanagerSchema,
  })
  .prefault({})
  .describe('Prometheus + Grafana + Loki, and an opt-in Alertmanager that delivers the alerts.');
