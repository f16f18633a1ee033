import { z } from 'zod';
import { replicas, retentionDuration, storageSize } from './primitives';

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
  })
  .prefault({})
  .describe('Prometheus + Grafana + Loki (no Alertmanager, as designed).');
