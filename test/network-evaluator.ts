import type { Obj } from '../lib/model/capacity';

/**
 * Shared by the NetworkPolicy tests.
 * A small NetworkPolicy evaluator (ingress only, as the generated policies are): a connection is
 * allowed when no policy selects the destination pod, or when one that does has an ingress rule
 * whose peers and ports match. Host-network and off-cluster sources carry no pod labels.
 */

export interface Pod {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly hostNetwork?: boolean;
}

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const okLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const okExpressions = (selector.matchExpressions ?? []).every((expression) =>
    expression.operator === 'In' ? (expression.values ?? []).includes(labels[expression.key]) : expression.operator === 'Exists' ? expression.key in labels : false,
  );
  return okLabels && okExpressions;
}

export function allowed(policies: readonly Obj[], source: Pod, destination: Pod, port: number): boolean {
  const selecting = policies.filter(
    (policy) =>
      policy.metadata?.namespace === destination.namespace &&
      ((policy.spec as { policyTypes?: string[] }).policyTypes ?? ['Ingress']).includes('Ingress') &&
      matches((policy.spec as { podSelector: Selector }).podSelector, destination.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    ((policy.spec as { ingress?: { from?: { namespaceSelector?: Selector; podSelector?: Selector }[]; ports?: { port: number }[] }[] }).ingress ?? []).some((rule) => {
      const portOk = !rule.ports || rule.ports.some((entry) => entry.port === port);
      const peerOk =
        !rule.from ||
        rule.from.some((peer) => {
          if (source.hostNetwork) return false;
          const namespaceOk = peer.namespaceSelector
            ? matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': source.namespace })
            : source.namespace === destination.namespace;
          return namespaceOk && matches(peer.podSelector, source.labels);
        });
      return portOk && peerOk;
    }),
  );
}
