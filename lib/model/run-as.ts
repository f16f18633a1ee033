/**
 * The uid (and gid, and fsGroup) each of our containers runs as. All are 10000 or above, so they never
 * coincide with a system user of the node or of the image (checkov CKV_K8S_40); numbers follow
 * element-hq/ess-helm where it runs the same image (Synapse 10091, HAProxy 10001, Element Web 10004).
 *
 * None of the images needs its own user: every path a process writes is a volume (emptyDir or PVC)
 * that fsGroup makes group-writable, and the root filesystem is read-only. What each image reads
 * (Python packages, nginx and static files, the haproxy and valkey binaries) is world-readable.
 * LiveKit, lk-jwt-service and coturn set theirs in their charts (already at or above 10000).
 */
export const RUN_AS = {
  /** HAProxy: the Synapse router and both Valkey master proxies (the image's own user is uid 99). */
  haproxy: 10001,
  /** Element Web (nginx-unprivileged base, built for arbitrary uids; its own user is uid 101). */
  elementWeb: 10004,
  /** The .well-known nginx (official image, our nginx.conf keeps pid and temp files in /tmp). */
  wellKnown: 10010,
  /** Ketesa (static-web-server; the image's user is uid 1000, its files are world-readable). */
  adminUi: 10020,
  /** Valkey data nodes, Sentinels and their redis_exporter sidecars (the image's `valkey` user is 999). */
  valkey: 10040,
  /** MinIO tenant servers (data on PVCs owned through fsGroup). */
  minio: 10050,
  /** Synapse processes, their init steps and the media upload jobs (the upstream image's user is 991). */
  synapse: 10091,
} as const;
