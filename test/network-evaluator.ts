import { isIPv4 } from 'node:net';
import { ipToBigInt, parseCidr } from '../lib/config/primitives';
import type { Obj } from '../lib/model/capacity';

/**
 * Shared by the NetworkPolicy tests.
 * A small NetworkPolicy evaluator, ingress and egress: a connection is allowed when the source's side
 * allows it (no Egress policy selects the source pod, or one that does has a rule whose peers and ports
 * match the destination) and the destination's side allows it (the same for Ingress). Host-network and
 * off-cluster sources carry no pod labels and are subject to no egress policy. An address destination
 * (`{ address }`) is outside the cluster: only ipBlock peers match it, and no ingress policy applies.
 * ipBlock peers never match a pod (Cilium's behaviour; Calico would also match pod IPs inside a block,
 * which only widens what the generated blocks allow to in-cluster addresses on the same ports).
 */

export interface Pod {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly hostNetwork?: boolean;
}

export interface Address {
  readonly address: string;
}

export type Protocol = 'TCP' | 'UDP';

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type Peer = { namespaceSelector?: Selector; podSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } };
type PortEntry = { port?: number; protocol?: string };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: PortEntry[] };
type PolicySpec = { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };

function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const okLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const okExpressions = (selector.matchExpressions ?? []).every((expression) =>
    expression.operator === 'In' ? (expression.values ?? []).includes(labels[expression.key]) : expression.operator === 'Exists' ? expression.key in labels : false,
  );
  return okLabels && okExpressions;
}

function inCidr(address: string, cidr: string): boolean {
  const parsed = parseCidr(cidr);
  if (!parsed || (parsed.family === 4) !== isIPv4(address)) return false;
  const width = parsed.family === 4 ? 32 : 128;
  const shift = BigInt(width - parsed.prefix);
  return ipToBigInt(address) >> shift === ipToBigInt(parsed.address) >> shift;
}

function isAddress(target: Pod | Address): target is Address {
  return 'address' in target;
}

/** Whether `peer`, written in a policy of namespace `policyNamespace`, names `target`. */
function peerMatches(peer: Peer, target: Pod | Address, policyNamespace: string): boolean {
  if (isAddress(target)) {
    return peer.ipBlock !== undefined && inCidr(target.address, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(target.address, cidr));
  }
  if (peer.ipBlock || target.hostNetwork) return false;
  const namespaceOk = peer.namespaceSelector
    ? matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': target.namespace })
    : target.namespace === policyNamespace;
  return namespaceOk && matches(peer.podSelector, target.labels);
}

function portMatches(rule: Rule, port: number, protocol: Protocol): boolean {
  return !rule.ports || rule.ports.some((entry) => (entry.port === undefined || entry.port === port) && (entry.protocol ?? 'TCP') === protocol);
}

function sideAllows(policies: readonly Obj[], type: 'Ingress' | 'Egress', selected: Pod, other: Pod | Address, port: number, protocol: Protocol): boolean {
  const selecting = policies.filter((policy) => {
    const spec = policy.spec as PolicySpec;
    return policy.metadata?.namespace === selected.namespace && (spec.policyTypes ?? ['Ingress']).includes(type) && matches(spec.podSelector, selected.labels);
  });
  if (selecting.length === 0) return true;
  return selecting.some((policy) => {
    const spec = policy.spec as PolicySpec;
    const rules = (type === 'Ingress' ? spec.ingress : spec.egress) ?? [];
    return rules.some((rule) => {
      const peers = type === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.some((candidate) => peerMatches(candidate, other, policy.metadata?.namespace ?? ''));
      return peerOk && portMatches(rule, port, protocol);
    });
  });
}

export function allowed(policies: readonly Obj[], source: Pod, destination: Pod | Address, port: number, protocol: Protocol = 'TCP'): boolean {
  const egressOk = source.hostNetwork === true || sideAllows(policies, 'Egress', source, destination, port, protocol);
  const ingressOk = isAddress(destination) || destination.hostNetwork === true || sideAllows(policies, 'Ingress', destination, source, port, protocol);
  return egressOk && ingressOk;
}
