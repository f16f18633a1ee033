import { z } from 'zod';
import { ipAddress, k8sName, labelKey, labelValue, port } from './primitives';

const nodeSelectorLabel = (key: string) =>
  z
    .strictObject({ key: labelKey.default(key), value: labelValue.default('true') })
    .prefault({})
    .describe(`Node label that selects the nodes (default ${key}=true).`);

/**
 * Host-network ports of the call stack. The pods run as non-root with allowPrivilegeEscalation false,
 * so they cannot bind privileged ports (the host's ip_unprivileged_port_start is 1024).
 */
const hostPort = port.min(1024, 'a port >= 1024 (the call pods run unprivileged on the host network)');

const portRange = z
  .strictObject({ start: hostPort, end: hostPort })
  .refine((range) => range.start <= range.end, { message: 'start <= end' });

export const coturnSchema = z
  .strictObject({
    nodeLabel: nodeSelectorLabel('coturn'),
    nodes: z
      .array(
        z.strictObject({
          name: k8sName.describe('Kubernetes node name.'),
          externalIp: ipAddress.describe('Public address of the node (COTURN_NODE*_IP).'),
          privateIp: ipAddress.optional().describe('Node address behind 1:1 NAT, if any.'),
        }),
      )
      .min(1)
      .describe('One entry per coturn node; each gets its own TURN URIs.'),
    listeningPort: hostPort.default(3478).describe('TURN/STUN port (UDP and TCP) on each coturn node.'),
    tlsListeningPort: hostPort.default(5349).describe('TURN over TLS port, with the coturn-tls certificate for hosts.turn; served only with tls.dns01.'),
    relayPorts: portRange
      .prefault({ start: 49152, end: 55999 })
      .describe('UDP relay ports coturn allocates (min-port/max-port); must not overlap calls.livekit.rtcUdpPorts.'),
  })
  .describe('coturn TURN/STUN for 1:1 calls.');

export const livekitSchema = z
  .strictObject({
    nodeLabel: nodeSelectorLabel('livekit'),
    signalPort: hostPort.default(7880).describe('HTTP/WebSocket signalling port on the host network.'),
    rtcTcpPort: hostPort.default(7881).describe('ICE over TCP fallback port (rtc.tcp_port).'),
    rtcUdpPorts: portRange
      .prefault({ start: 56000, end: 60000 })
      .describe('ICE UDP ports (rtc.port_range_start/end); must not overlap calls.coturn.relayPorts.'),
    useExternalIp: z.boolean().default(true).describe('Discover each node\u2019s public address by STUN.'),
  })
  .prefault({})
  .describe('LiveKit SFU for group calls (Element Call).');

/** Metrics ports the call pods bind on the host network (must equal lib/model/metrics.ts METRICS_PORTS). */
export const CALL_METRICS_PORTS = { livekit: 6789, coturn: 9641 } as const;

export const callsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('false removes every call object (coturn, LiveKit, lk-jwt-service).'),
    coturn: coturnSchema.optional(),
    livekit: livekitSchema,
    elementCallUrl: z
      .string()
      .regex(/^https:\/\/\S+$/, 'an https URL')
      .optional()
      .describe('A hosted Element Call app; when unset Element Web uses its embedded Element Call.'),
  })
  .superRefine((calls, context) => {
    // The metrics ports are fixed (lib/model/metrics.ts METRICS_PORTS) and also bound on the host network.
    if (!calls.enabled) return;
    const ranges = [
      ['livekit', 'rtcUdpPorts', calls.livekit.rtcUdpPorts],
      ...(calls.coturn ? [['coturn', 'relayPorts', calls.coturn.relayPorts] as const] : []),
    ] as const;
    for (const [component, field, range] of ranges) {
      for (const [owner, fixed] of Object.entries(CALL_METRICS_PORTS)) {
        if (fixed >= range.start && fixed <= range.end) {
          context.addIssue({
            code: 'custom',
            path: [component, field],
            message: `a range without port ${fixed} (the ${owner} metrics port on the host network)`,
          });
        }
      }
    }
  })
  .prefault({})
  .describe('1:1 VoIP through TURN and group calls through LiveKit.');
