import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import { activeNamespaces, type Platform } from '../lib/model';

/** One namespace per component, each with Pod Security admission enforced at its level. */
export class NamespacesChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'namespaces', { platform, stage: '00-namespaces' });
    for (const namespace of activeNamespaces(platform.config)) {
      new k8s.KubeNamespace(this, namespace.name, {
        metadata: {
          name: namespace.name,
          labels: {
            'app.kubernetes.io/part-of': 'matrix-platform',
            'pod-security.kubernetes.io/enforce': namespace.podSecurity,
            'pod-security.kubernetes.io/enforce-version': 'latest',
            'pod-security.kubernetes.io/warn': namespace.podSecurity,
            'pod-security.kubernetes.io/audit': namespace.podSecurity,
          },
          ...(namespace.reason ? { annotations: { 'matrix-platform/pod-security-reason': namespace.reason } } : {}),
        },
      });
    }
  }
}
