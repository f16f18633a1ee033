import { z } from 'zod';
import { ipAddress, k8sName, labelKey, labelValue, port, replicas } from './primitives';

const nodeSelectorLabel = (key: string) =>
  z
    .strictObject({ key: labelKey.default(key), value: labelValue.default('true') })
    .prefault({})
    .describe(`Node label that selects the nodes (default ${key}=true).`);

const portRange = z
  .strictObject({ start: port, end: port })
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
    listeningPort: port.default(3478),
    tlsListeningPort: port.default(5349),
    relayPorts: portRange.prefault({ start: 49152, end: 55999 }),
  })
  .describe('coturn TURN/STUN for 1:1 calls.');

export const livekitSchema = z
  .strictObject({
    nodeLabel: nodeSelectorLabel('livekit'),
    signalPort: port.default(7880).describe('HTTP/WebSocket signalling port on the host network.'),
    rtcTcpPort: port.default(7881),
    rtcUdpPorts: portRange.prefault({ start: 56000, end: 60000 }),
    useExternalIp: z.boolean().default(true).describe('Discover each node\u2019s public address by STUN.'),
    jwtReplicas: replicas(2, 'lk-jwt-service replicas.').default(2),
  })
  .prefault({})
  .describe('LiveKit SFU for group calls (Element Call).');

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
  .prefault({})
  .describe('1:1 VoIP through TURN and group calls through LiveKit.');
