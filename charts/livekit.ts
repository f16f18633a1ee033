import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import * as yaml from 'js-yaml';
import { ComponentChart } from '../constructs/component-chart';
import { componentLabels, configMap, container, contentHash, fastEvictionTolerations, httpProbe, secretEnv, service, Workload } from '../constructs/workload';
import { LIVEKIT_REDIS_PROXY, LK_JWT, LK_JWT_REDIS_DATABASE, SECRET_NAMES, type Platform } from '../lib/model';
import { LIVEKIT, LIVEKIT_KEY_FILE_KEY, LIVEKIT_PATHS, LIVEKIT_SIGNAL_PORT_NAME, livekitArgs, livekitConfig, NODE_INTERNAL_IP_ENV, NODE_INTERNAL_IP_FIELD } from '../lib/model/calls';
import { METRICS_PORTS } from '../lib/model/metrics';
import { images } from '../lib/versions';

/**
 * LiveKit SFU as our own DaemonSet (the livekit-server chart 1.9.0 has no DaemonSet mode and writes
 * its whole config, passwords included, into a ConfigMap) and the MatrixRTC authorisation service
 * lk-jwt-service that Element Call asks for LiveKit tokens.
 *
 * livekit-server v1.13.11 (cmd/server/main.go, pkg/config/config.go): config from `--config`, strict
 * YAML; key_file (YAML "key: secret", no "others" permission bit) is preferred over `keys` and
 * LIVEKIT_KEYS; every scalar config field also reads
 * LIVEKIT_<PATH> (GenerateCLIFlags), applied after the YAML: LIVEKIT_REDIS_PASSWORD and
 * LIVEKIT_WEBHOOK_API_KEY; NODE_IP sets rtc.node_ip; rtc.turn_servers[].secret_file must not be
 * world-readable. GET / on the signal port answers 200 OK (406 while node stats are stale).
 * `--bind` (config bind_addresses) sets the address of the signal AND the Prometheus listener
 * (pkg/service/server.go Start); unset, both listen on every interface.
 * The image has no USER: it runs as uid 10030 here, as in element-hq/ess-helm.
 *
 * lk-jwt-service 0.6.0 (README, config.go): LIVEKIT_URL, LIVEKIT_KEY_FROM_FILE,
 * LIVEKIT_SECRET_FROM_FILE, LIVEKIT_FULL_ACCESS_HOMESERVERS, LIVEKIT_JWT_BIND,
 * LIVEKIT_REDIS_URL (one redis:// URL, go-redis ParseURL: no Sentinel, no separate password
 * variable), LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS; GET /healthz; POST /sfu_webhook receives
 * LiveKit's webhooks. FROM scratch, no USER: uid 10033 as in ess-helm.
 */
const LIVEKIT_UID = 10030;
const LK_JWT_UID = 10033;
const LK_JWT_SECRET_DIR = '/secrets/livekit';

/**
 * How often each delegated-leave job asks LiveKit whether its participant is still connected. It
 * catches the webhooks LiveKit could not deliver, above all those sent while lk-jwt-service was
 * being restarted or rescheduled: without it a job restored from Redis would keep a departed
 * participant's membership alive. One LiveKit API call per job per interval.
 */
export const LK_JWT_PARTICIPANT_CHECK_SECONDS = 30;

/** Environment variable that holds the LiveKit Valkey password; the Redis URL refers to it. */
const LK_JWT_REDIS_PASSWORD_ENV = 'LK_JWT_REDIS_PASSWORD';

/**
 * The Redis URL of lk-jwt-service, with the password as a Kubernetes `$(VAR)` reference so no secret
 * reaches dist/. The user is `default`, the one `requirepass` protects: with it go-redis and
 * redis-cli alike send `AUTH default <password>` (redis-cli 7.0 turns an empty user into
 * `AUTH "" <password>`, which fails). The password is embedded unencoded: it must be URL-safe
 * (`npm run secrets` generates base64url; docs/calls.md says so for external stores).
 */
export function lkJwtRedisUrl(): string {
  return `redis://default:$(${LK_JWT_REDIS_PASSWORD_ENV})@${LIVEKIT_REDIS_PROXY.host}:${LIVEKIT_REDIS_PROXY.port}/${LK_JWT_REDIS_DATABASE}`;
}

export class LivekitChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'livekit', { platform, stage: '40-apps', namespace: LIVEKIT.namespace });
    const { config, hosts } = platform;
    const livekit = config.calls.livekit;
    const configYaml = yaml.dump(livekitConfig(platform), { lineWidth: -1, noRefs: true });
    const labels = componentLabels(LIVEKIT.name, 'sfu');
    const selector = { 'app.kubernetes.io/name': LIVEKIT.name };
    configMap(this, 'config', {
      name: `${LIVEKIT.name}-config`,
      namespace: LIVEKIT.namespace,
      data: { 'config.yaml': configYaml },
      labels,
    });
    const env: k8s.EnvVar[] = [
      // The key pair comes from key_file; webhook.api_key (only the key's name: lk-jwt-service verifies
      // webhooks signed with its own key, the same one) has no file option.
      secretEnv('LIVEKIT_WEBHOOK_API_KEY', SECRET_NAMES.livekitKeys, 'api-key'),
      secretEnv('LIVEKIT_REDIS_PASSWORD', SECRET_NAMES.livekitRedis, 'password'),
      // The Sentinels require the cluster password too (requirepass on each Sentinel): redis.sentinel_password.
      secretEnv('LIVEKIT_REDIS_SENTINEL_PASSWORD', SECRET_NAMES.livekitRedis, 'password'),
      // The address signalling and metrics bind to (livekitArgs): the node's internal address.
      { name: NODE_INTERNAL_IP_ENV, valueFrom: { fieldRef: { fieldPath: NODE_INTERNAL_IP_FIELD } } },
      // Without STUN discovery, advertise the node's own address (hostNetwork: the pod's host IP).
      ...(livekit.useExternalIp ? [] : [{ name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: NODE_INTERNAL_IP_FIELD } } }]),
    ];
    new Workload(this, 'workload', {
      kind: 'DaemonSet',
      name: LIVEKIT.name,
      namespace: LIVEKIT.namespace,
      selector,
      labels,
      identity: { runAsUser: LIVEKIT_UID },
      hostNetwork: true,
      scannerExceptions: [
        { check: 'CKV_K8S_19', reason: 'WebRTC media on the node addresses and the ICE UDP port range: hostNetwork' },
        { check: 'CKV_K8S_35', reason: 'livekit-server 1.13 takes redis.password, redis.sentinel_password and webhook.api_key only from its config or LIVEKIT_* variables (the key pair comes from key_file)' },
      ],
      nodeSelector: { [livekit.nodeLabel.key]: livekit.nodeLabel.value },
      configHash: contentHash(configYaml),
      // SIGTERM drains: LiveKit stops taking rooms and waits for the running ones to end.
      terminationGracePeriodSeconds: 900,
      containers: [
        container({
          name: 'livekit',
          image: images.livekit,
          args: livekitArgs(),
          env,
          // 8 of a LiveKit node's 16 vCPU reserved; media forwarding may burst to nearly the whole node.
          resources: { requests: { cpu: '8', memory: '8Gi' }, limits: { cpu: '14', memory: '24Gi' } },
          ports: [
            { name: LIVEKIT_SIGNAL_PORT_NAME, containerPort: livekit.signalPort, protocol: 'TCP' },
            { name: 'rtc-tcp', containerPort: livekit.rtcTcpPort, protocol: 'TCP' },
            // The UDP ICE range (rtcUdpPorts) is bound on the host network directly; ports are not listed one by one.
            { name: 'metrics', containerPort: METRICS_PORTS.livekit, protocol: 'TCP' },
          ],
          volumeMounts: [
            { name: 'config', mountPath: LIVEKIT_PATHS.configDir, readOnly: true },
            { name: 'turn-secret', mountPath: LIVEKIT_PATHS.turnSecretDir, readOnly: true },
            { name: 'api-keys', mountPath: LIVEKIT_PATHS.keysDir, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
          readinessProbe: httpProbe('/', LIVEKIT_SIGNAL_PORT_NAME),
          livenessProbe: httpProbe('/', LIVEKIT_SIGNAL_PORT_NAME, { initialDelaySeconds: 10, failureThreshold: 6 }),
        }),
      ],
      volumes: [
        { name: 'config', configMap: { name: `${LIVEKIT.name}-config` } },
        // LiveKit refuses a secret_file with any "others" permission bit (LoadTURNSecrets).
        { name: 'turn-secret', secret: { secretName: SECRET_NAMES.turn, defaultMode: 0o440 } },
        // key_file too: LiveKit refuses it with an "others" permission bit (ValidateKeys).
        {
          name: 'api-keys',
          secret: { secretName: SECRET_NAMES.livekitKeys, defaultMode: 0o440, items: [{ key: LIVEKIT_KEY_FILE_KEY, path: LIVEKIT_KEY_FILE_KEY }] },
        },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('64Mi') } },
      ],
    });
    service(this, 'service', {
      name: LIVEKIT.name,
      namespace: LIVEKIT.namespace,
      selector,
      labels,
      ports: [{ name: LIVEKIT_SIGNAL_PORT_NAME, port: livekit.signalPort, targetPort: livekit.signalPort }],
    });

    // lk-jwt-service (matrix namespace, routed by the edge at hosts.livekitJwt).
    const jwtLabels = componentLabels(LK_JWT.name, 'matrixrtc-auth');
    const jwtSelector = { 'app.kubernetes.io/name': LK_JWT.name };
    new Workload(this, 'lk-jwt', {
      kind: 'Deployment',
      name: LK_JWT.name,
      namespace: LK_JWT.namespace,
      selector: jwtSelector,
      labels: jwtLabels,
      // Exactly one instance, never two at once, not even during a rollout: every instance loads all
      // jobs from Redis at start and only its own in-memory copy receives that job's webhooks, so a
      // second one would run the same delegated leaves twice (lk-jwt-service#216; element-hq/ess-helm
      // restricts it to one replica, #1546). Recreate stops the old pod before the new one starts;
      // the jobs survive in Redis. docs/calls.md covers what a node loss means for calls.
      replicas: 1,
      strategy: { type: 'Recreate' },
      // Moved off a lost node after FAST_EVICTION_SECONDS; the new process resumes the stored jobs.
      tolerations: fastEvictionTolerations(),
      identity: { runAsUser: LK_JWT_UID },
      scannerExceptions: [
        { check: 'CKV_K8S_35', reason: 'lk-jwt-service 0.6.0 takes Redis only as LIVEKIT_REDIS_URL with the password inside (no file variable; its API key pair comes from files)' },
      ],
      containers: [
        container({
          name: 'lk-jwt-service',
          image: images.lkJwtService,
          env: [
            { name: 'LIVEKIT_URL', value: `wss://${hosts.livekit}` },
            { name: 'LIVEKIT_KEY_FROM_FILE', value: `${LK_JWT_SECRET_DIR}/api-key` },
            { name: 'LIVEKIT_SECRET_FROM_FILE', value: `${LK_JWT_SECRET_DIR}/api-secret` },
            { name: 'LIVEKIT_FULL_ACCESS_HOMESERVERS', value: hosts.serverName },
            { name: 'LIVEKIT_JWT_BIND', value: `:${LK_JWT.port}` },
            secretEnv(LK_JWT_REDIS_PASSWORD_ENV, SECRET_NAMES.livekitRedis, 'password'),
            { name: 'LIVEKIT_REDIS_URL', value: lkJwtRedisUrl() },
            { name: 'LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS', value: String(LK_JWT_PARTICIPANT_CHECK_SECONDS) },
          ],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          ports: [{ name: 'http', containerPort: LK_JWT.port, protocol: 'TCP' }],
          volumeMounts: [{ name: 'livekit-keys', mountPath: LK_JWT_SECRET_DIR, readOnly: true }],
          readinessProbe: httpProbe('/healthz', LK_JWT.port),
          livenessProbe: httpProbe('/healthz', LK_JWT.port, { initialDelaySeconds: 5 }),
        }),
      ],
      volumes: [{ name: 'livekit-keys', secret: { secretName: SECRET_NAMES.livekitKeys, defaultMode: 0o440 } }],
    });
    service(this, 'lk-jwt-service', {
      name: LK_JWT.name,
      namespace: LK_JWT.namespace,
      selector: jwtSelector,
      labels: jwtLabels,
      ports: [{ name: 'http', port: LK_JWT.port }],
    });
  }
}
