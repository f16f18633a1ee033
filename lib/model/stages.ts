/**
 * dist/ is applied in ordered stages: each stage only uses APIs installed by earlier ones.
 * Flux Kustomizations chain them with dependsOn + wait, Argo CD with sync waves, and the plain
 * folders are applied in name order.
 */
export const STAGES = [
  { id: '00-namespaces', title: 'Namespaces and their Pod Security labels' },
  { id: '10-operators', title: 'Operators and CRDs: cert-manager, MetalLB, edge, CloudNativePG, MinIO, Prometheus operator' },
  { id: '20-platform', title: 'Cluster services built on those CRDs: issuers, address pools, gateway, certificates, secrets' },
  { id: '30-data', title: 'PostgreSQL, Valkey, object storage' },
  {
    id: '35-synapse-main',
    title: 'Synapse main and its shared config: it migrates the database schema before the workers of the same version roll',
  },
  { id: '40-apps', title: 'Synapse, router, Element Web, admin UI, calls, routes' },
  { id: '50-observability', title: 'Logs, dashboards, scrape objects and alert rules' },
] as const;

export type StageId = (typeof STAGES)[number]['id'];

export function stageIndex(stage: StageId): number {
  return STAGES.findIndex((candidate) => candidate.id === stage);
}
