import type { Construct } from 'constructs';
import { ComponentChart } from '../constructs/component-chart';
import {
  PodMonitor,
  PodMonitorSpecPodMetricsEndpointsRelabelingsAction,
  PodMonitorSpecPodMetricsEndpointsScheme,
  ServiceMonitor,
  ServiceMonitorSpecEndpointsRelabelingsAction,
  ServiceMonitorSpecEndpointsScheme,
  ServiceMonitorSpecEndpointsTargetPort,
} from '../imports/monitoring.coreos.com';
import type { Platform } from '../lib/model';
import { PROCESS_POD_LABEL, type ScrapeTarget, scrapeTargets } from '../lib/model/metrics';

interface Relabeling {
  readonly sourceLabels?: string[];
  /** Without a match (here: an empty source label) a replace rule leaves the target label alone. */
  readonly regex?: string;
  readonly targetLabel: string;
  readonly replacement?: string;
}

/** Prometheus' Kubernetes service discovery label for a pod label (non-alphanumerics become `_`). */
export function prometheusLabelName(podLabel: string): string {
  return `__meta_kubernetes_pod_label_${podLabel.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Relabelings that give the series the labels a target asks for (job, fixed labels, pod name). */
function relabelingsOf(target: ScrapeTarget): Relabeling[] {
  const relabelings: Relabeling[] = [];
  if (target.jobLabel) relabelings.push({ targetLabel: 'job', replacement: target.jobLabel });
  for (const [label, value] of Object.entries(target.extraLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    relabelings.push({ targetLabel: label, replacement: value });
  }
  if (target.podNameLabel) {
    relabelings.push({ sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: target.podNameLabel });
    // Overrides the generated pod name of a Deployment's pod where the pod names its process.
    relabelings.push({ sourceLabels: [prometheusLabelName(PROCESS_POD_LABEL)], regex: '(.+)', targetLabel: target.podNameLabel });
  }
  return relabelings;
}

function portOf(target: ScrapeTarget): { port: string } | { portNumber: number } {
  return typeof target.port === 'number' ? { portNumber: target.port } : { port: target.port };
}

/** One PodMonitor or ServiceMonitor per scrape target of the model (lib/model/metrics.ts). */
export class ScrapeTargetsChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'scrape-targets', { platform, stage: '50-observability' });
    for (const target of scrapeTargets(platform)) {
      const metadata = { name: target.name, namespace: target.namespace, labels: { 'app.kubernetes.io/part-of': 'matrix-platform' } };
      const selector = { matchLabels: { ...target.selector } };
      const relabelings = relabelingsOf(target);
      if (target.kind === 'PodMonitor') {
        new PodMonitor(this, `${target.namespace}-${target.name}`, {
          metadata,
          spec: {
            selector,
            podMetricsEndpoints: [
              {
                ...portOf(target),
                path: target.path,
                ...(target.tls
                  ? {
                      scheme: PodMonitorSpecPodMetricsEndpointsScheme.HTTPS,
                      tlsConfig: { ca: { secret: target.tls.caSecret }, serverName: target.tls.serverName },
                    }
                  : {}),
                ...(relabelings.length > 0
                  ? { relabelings: relabelings.map((r) => ({ ...r, action: PodMonitorSpecPodMetricsEndpointsRelabelingsAction.REPLACE })) }
                  : {}),
              },
            ],
          },
        });
      } else {
        new ServiceMonitor(this, `${target.namespace}-${target.name}`, {
          metadata,
          spec: {
            selector,
            endpoints: [
              {
                ...(typeof target.port === 'number'
                  ? { targetPort: ServiceMonitorSpecEndpointsTargetPort.fromNumber(target.port) }
                  : { port: target.port }),
                path: target.path,
                ...(target.tls
                  ? {
                      scheme: ServiceMonitorSpecEndpointsScheme.HTTPS,
                      tlsConfig: { ca: { secret: target.tls.caSecret }, serverName: target.tls.serverName },
                    }
                  : {}),
                ...(relabelings.length > 0
                  ? { relabelings: relabelings.map((r) => ({ ...r, action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE })) }
                  : {}),
              },
            ],
          },
        });
      }
    }
  }
}
