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
    grafana: z.strictObject({ replicas: replicas(1, 'Grafana replicas.').default(1), storageSize: storageSize.default('10Gi') }).prefault({}),
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
