/**
 * Metrics ports of components that have no port contract elsewhere. The component charts listen
 * on these numbers; defined here so the scrape object and the workload cannot disagree.
 */
export const METRICS_PORTS = {
  /** HAProxy `http-request use-service prometheus-exporter` frontend of the Redis proxy. */
  haproxy: 8405,
  /**
   * The Synapse router's status frontend (/healthz and /metrics): constructs/haproxy-router.ts
   * ROUTER_PORTS.status. test/scrape-targets.test.ts matches it against the rendered router pods.
   */
  synapseRouter: 8404,
  /** oliver006/redis_exporter default listen port. */
  redisExporter: 9121,
  /** CloudNativePG instance manager exporter (container port `metrics`). */
  cnpg: 9187,
  /** LiveKit `prometheus_port`. */
  livekit: 6789,
  /** coturn `--prometheus` exporter default port. */
  coturn: 9641,
  /** MinIO serves metrics on its S3 port. */
  minio: 9000,
  /** Envoy Gateway's proxy pods: /stats/prometheus. */
  envoyProxy: 19001,
  /** ingress-nginx controller metrics (controller.metrics.enabled). */
  ingressNginx: 10254,
  /** cert-manager controller (chart prometheus.enabled: container port `http-metrics`). */
  certManager: 9402,
} as const;
