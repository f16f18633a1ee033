/**
 * Every pinned version of the platform: Helm charts and container images. Nothing else in the
 * code names a version or tag. Bump here, run `npm run synth`, review the dist/ diff.
 */

export interface HelmChartPin {
  /** Helm repository URL: https://... or oci://registry/namespace (without the chart name). */
  readonly repository: string;
  readonly chart: string;
  readonly version: string;
}

export const charts = {
  // The v1.21.1 chart README documents only the OCI registry (leading "v" in the chart version).
  certManager: { repository: 'oci://quay.io/jetstack/charts', chart: 'cert-manager', version: 'v1.21.1' },
  metallb: { repository: 'https://metallb.github.io/metallb', chart: 'metallb', version: '0.16.1' },
  envoyGateway: { repository: 'oci://docker.io/envoyproxy', chart: 'gateway-helm', version: 'v1.9.0' },
  // 4.15.1 (controller v1.15.1) is the final release: ingress-nginx was retired in March 2026.
  ingressNginx: { repository: 'https://kubernetes.github.io/ingress-nginx', chart: 'ingress-nginx', version: '4.15.1' },
  /** Operator 1.30.0 (appVersion): 1.31 is not released as of the 2026-08 snapshots (cloudnative-pg/charts tag cloudnative-pg-v0.29.0). */
  cloudnativePg: { repository: 'https://cloudnative-pg.github.io/charts', chart: 'cloudnative-pg', version: '0.29.0' },
  /** Plugin v0.13.0 (appVersion of the newest chart, tag plugin-barman-cloud-v0.7.0); needs cert-manager. */
  barmanCloudPlugin: { repository: 'https://cloudnative-pg.github.io/charts', chart: 'plugin-barman-cloud', version: '0.7.0' },
  /** Final release of minio/operator (tag v7.1.1); the project is archived. */
  minioOperator: { repository: 'https://operator.min.io', chart: 'operator', version: '7.1.1' },
  kubePrometheusStack: {
    repository: 'https://prometheus-community.github.io/helm-charts',
    chart: 'kube-prometheus-stack',
    version: '88.5.3',
  },
  loki: { repository: 'https://grafana-community.github.io/helm-charts', chart: 'loki', version: '18.11.0' },
  alloy: { repository: 'https://grafana.github.io/helm-charts', chart: 'alloy', version: '1.11.1' },
} as const satisfies Record<string, HelmChartPin>;

/**
 * Grafana dashboards downloaded by Grafana's init container at start (never copied into the repo):
 * grafana.com ids with a pinned revision; Synapse's own dashboard from the pinned Synapse tag.
 */
export const dashboards = {
  cloudnativePg: { gnetId: 20417, revision: 1 },
  redisExporter: { gnetId: 763, revision: 4 },
  haproxy: { gnetId: 12693, revision: 14 },
} as const;

export interface ImagePin {
  readonly repository: string;
  readonly tag: string;
  /**
   * Optional `sha256:<hex>` of the tag's image (index) digest, resolved from the registry by whoever
   * sets it (never guessed). With it the image renders as `repository:tag@digest`: the tag stays
   * readable, the digest decides what runs. Users add their own through config images.digests.
   */
  readonly digest?: string;
}

export function imageRef(pin: ImagePin): string {
  if (pin.digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(pin.digest)) throw new Error(`image ${pin.repository}: digest ${pin.digest} is not sha256:<64 hex digits>`);
  return `${pin.repository}:${pin.tag}${pin.digest ? `@${pin.digest}` : ''}`;
}

/** `repository:tag` -> `repository:tag@digest` when `digests` (config images.digests) has the reference. */
export function withDigest(reference: string, digests: Readonly<Record<string, string>>): string {
  if (reference.includes('@')) return reference;
  const digest = digests[reference];
  return digest ? `${reference}@${digest}` : reference;
}

/** The Synapse release the project image is built from; the integration suite installs the same from PyPI. */
export const SYNAPSE_VERSION = '1.163.2';
/**
 * Barman (barman-cloud-*) as the Barman Cloud plugin's sidecar runs it (plugin-barman-cloud v0.13.0
 * containers/sidecar-requirements.in); the integration suite backs up and restores with the same release.
 */
export const BARMAN_VERSION = '3.19.1';
/**
 * The previous minor Synapse release on PyPI: the integration suite starts the stack on it and upgrades
 * to SYNAPSE_VERSION under traffic (test/integration/test_upgrade.py). Bump it with SYNAPSE_VERSION.
 */
export const SYNAPSE_PREVIOUS_VERSION = '1.162.0';
/** synapse-s3-storage-provider baked into the project's Synapse image. */
export const S3_STORAGE_PROVIDER_VERSION = '1.7.0';

/**
 * Where the project's Synapse image would be if nobody built it: a placeholder that exists in no
 * registry. `npm run synth` warns while the config uses it (`--strict` fails).
 */
export const SYNAPSE_IMAGE_PLACEHOLDER = 'ghcr.io/example/synapse-s3';

export const images = {
  /** Built from images/synapse/Dockerfile (scripts/build-synapse-image.sh): the official image plus synapse-s3-storage-provider. */
  synapse: { repository: SYNAPSE_IMAGE_PLACEHOLDER, tag: `v${SYNAPSE_VERSION}-s3-${S3_STORAGE_PROVIDER_VERSION}` },
  /** 3.4 is the current LTS branch (docker-library/official-images library/haproxy, 2026-08). */
  haproxy: { repository: 'docker.io/library/haproxy', tag: '3.4.3-alpine' },
  /** The upstream Synapse image the project image (images/synapse/Dockerfile) is built FROM. */
  synapseUpstream: { repository: 'ghcr.io/element-hq/synapse', tag: `v${SYNAPSE_VERSION}` },
  /** Newest stable Valkey (valkey.io release notes v9-1-4, 2026-11-18); alpine has the POSIX sh our start-up scripts need. */
  valkey: { repository: 'docker.io/valkey/valkey', tag: '9.1.4-alpine' },
  /** Newest release in the oliver006/redis_exporter snapshot (v1.89.0, 2026-08-09); supports Valkey 9 and Sentinel metrics. */
  redisExporter: { repository: 'docker.io/oliver006/redis_exporter', tag: 'v1.89.0' },
  elementWeb: { repository: 'docker.io/vectorim/element-web', tag: 'v1.12.30' },
  ketesa: { repository: 'ghcr.io/etkecc/ketesa', tag: 'v1.4.0' },
  /** Newest livekit-server on the Go module proxy (v1.13.11, 2026-10-25); config keys checked against its pkg/config. */
  livekit: { repository: 'docker.io/livekit/livekit-server', tag: 'v1.13.11' },
  /** 0.6.0 (ess-helm 2db0eb9c): delegated MatrixRTC leave via MSC4140 delayed events and /sfu_webhook. Tags have no `v`. */
  lkJwtService: { repository: 'ghcr.io/element-hq/lk-jwt-service', tag: '0.6.0' },
  /** Newest coturn image (coturn/coturn docker/4.17.0-r0, Debian trixie, built with Prometheus support). */
  coturn: { repository: 'docker.io/coturn/coturn', tag: '4.17.0-r0' },
  /** Serves the /.well-known/matrix documents (official image, run unprivileged with our own nginx.conf). */
  wellKnownNginx: { repository: 'docker.io/library/nginx', tag: '1.30.4-alpine-slim' },
  /** PostgreSQL 18.4 as CNPG 1.30.0's default (pkg/versions), `standard` flavour: backups go through the Barman Cloud plugin sidecar. */
  postgres: { repository: 'ghcr.io/cloudnative-pg/postgresql', tag: '18.4-standard-trixie' },
  /** Last community MinIO image (source-only releases since October 2025); quay.io, Docker Hub's minio/* is gone. */
  minio: { repository: 'quay.io/minio/minio', tag: 'RELEASE.2025-09-07T16-13-09Z' },
} as const satisfies Record<string, ImagePin>;

/**
 * amtool for the test that loads the generated Alertmanager configuration: the Alertmanager release
 * the pinned kube-prometheus-stack runs (scripts/build-amtool.sh installs it from the Go module proxy).
 */
export const AMTOOL_VERSION = 'v0.34.0';

/**
 * helm (Go module proxy, scripts/build-helm.sh) that renders the pinned charts whose sources are Go
 * modules, so scripts/check-chart-pods.ts can compare their pods with lib/model/chart-pods.ts.
 */
export const HELM_VERSION = 'v3.17.3';

/** checkov (PyPI) that scans dist/ in CI (scripts/checkov.sh, test/checkov.test.ts). */
export const CHECKOV_VERSION = '3.3.30';

/** kube-score (Go module proxy), the CI report per workload (scripts/kube-score.sh). */
export const KUBE_SCORE_VERSION = 'v1.20.0';
