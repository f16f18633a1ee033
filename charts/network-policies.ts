import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import type { Platform } from '../lib/model';
import { type Flow, guardedFlows, guardedNamespaces, type PodRef } from '../lib/model/network-policies';

/**
 * NetworkPolicies from the flow table in lib/model/network-policies.ts: default-deny ingress in every
 * guarded namespace, then one allow policy per flow at its destination. Applied in 20-platform,
 * before any workload of those namespaces starts (30-data, 40-apps).
 */

const LABELS = { 'app.kubernetes.io/part-of': 'matrix-platform', 'app.kubernetes.io/component': 'network-policy' };

function peer(ref: PodRef): k8s.NetworkPolicyPeer {
  return {
    ...(ref.namespace !== undefined ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ref.namespace } } } : {}),
    podSelector: { matchLabels: { ...ref.pods } },
  };
}

export function flowPolicy(flow: Flow): k8s.KubeNetworkPolicyProps {
  return {
    metadata: { name: `allow-${flow.id}`, namespace: flow.to.namespace, labels: LABELS, annotations: { 'matrix-platform/flow': flow.description } },
    spec: {
      podSelector: { matchLabels: { ...flow.to.pods } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ...(flow.from ? { from: flow.from.map(peer) } : {}),
          ports: flow.ports.map((entry) => ({ port: k8s.IntOrString.fromNumber(entry.port), protocol: entry.protocol ?? 'TCP' })),
        },
      ],
    },
  };
}

export class NetworkPoliciesChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'network-policies', { platform, stage: '20-platform' });
    for (const namespace of guardedNamespaces(platform.config)) {
      new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny`, {
        metadata: { name: 'default-deny-ingress', namespace, labels: LABELS },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      });
    }
    for (const flow of guardedFlows(platform.config)) {
      new k8s.KubeNetworkPolicy(this, `${flow.to.namespace}-${flow.id}`, flowPolicy(flow));
    }
  }
}
