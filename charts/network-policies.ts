import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import type { Platform } from '../lib/model';
import { type EgressRule, egressRules, type Flow, guardedFlows, guardedNamespaces, type PodRef } from '../lib/model/network-policies';

/**
 * NetworkPolicies from the flow table in lib/model/network-policies.ts: default-deny ingress and egress
 * in every guarded namespace, one ingress allow policy per flow at its destination and one egress allow
 * policy per egress rule at its source. Applied in 20-platform,
 * before any workload of those namespaces starts (30-data, 40-apps).
 */

const LABELS = { 'app.kubernetes.io/part-of': 'matrix-platform', 'app.kubernetes.io/component': 'network-policy' };

function podSelector(ref: PodRef): k8s.LabelSelector {
  return {
    matchLabels: { ...ref.pods },
    ...(ref.componentIn ? { matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...ref.componentIn] }] } : {}),
  };
}

function peer(ref: PodRef): k8s.NetworkPolicyPeer {
  return {
    ...(ref.namespace !== undefined ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ref.namespace } } } : {}),
    podSelector: podSelector(ref),
  };
}

function policyPorts(ports: Flow['ports']): k8s.NetworkPolicyPort[] {
  return ports.map((entry) => ({ port: k8s.IntOrString.fromNumber(entry.port), protocol: entry.protocol ?? 'TCP' }));
}

export function egressPolicy(rule: EgressRule): k8s.KubeNetworkPolicyProps {
  const to: k8s.NetworkPolicyPeer[] = [
    ...(rule.toPods ?? []).map(peer),
    ...(rule.toAddresses ?? []).map((block) => ({ ipBlock: { cidr: block.cidr, ...(block.except ? { except: [...block.except] } : {}) } })),
  ];
  return {
    metadata: { name: `allow-egress-${rule.id}`, namespace: rule.from.namespace, labels: LABELS, annotations: { 'matrix-platform/flow': rule.description } },
    spec: {
      podSelector: podSelector(rule.from),
      policyTypes: ['Egress'],
      egress: [{ to, ...(rule.ports ? { ports: policyPorts(rule.ports) } : {}) }],
    },
  };
}

export function flowPolicy(flow: Flow): k8s.KubeNetworkPolicyProps {
  return {
    metadata: { name: `allow-${flow.id}`, namespace: flow.to.namespace, labels: LABELS, annotations: { 'matrix-platform/flow': flow.description } },
    spec: {
      podSelector: podSelector(flow.to),
      policyTypes: ['Ingress'],
      ingress: [
        {
          ...(flow.from ? { from: flow.from.map(peer) } : {}),
          ports: policyPorts(flow.ports),
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
    for (const namespace of guardedNamespaces(platform.config)) {
      new k8s.KubeNetworkPolicy(this, `${namespace}-default-deny-egress`, {
        metadata: { name: 'default-deny-egress', namespace, labels: LABELS },
        spec: { podSelector: {}, policyTypes: ['Egress'] },
      });
    }
    for (const rule of egressRules(platform.config)) {
      new k8s.KubeNetworkPolicy(this, `${rule.from.namespace}-egress-${rule.id}`, egressPolicy(rule));
    }
  }
}
