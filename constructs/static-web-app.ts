import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Resources } from '../lib/config/primitives';
import type { ImagePin } from '../lib/versions';
import { componentLabels, configMap, container, contentHash, httpProbe, service, Workload } from './workload';

export interface StaticWebAppProps {
  /** Deployment, Service and ConfigMap (`<name>-config`) name; also the pod selector. */
  readonly name: string;
  readonly namespace: string;
  /** app.kubernetes.io/component label. */
  readonly component: string;
  readonly replicas: number;
  readonly image: ImagePin;
  readonly containerName: string;
  /** The image's non-root user. */
  readonly uid: number;
  /** Container and Service port, named `http`. */
  readonly port: number;
  /** Environment variable through which the image takes its listen port. */
  readonly portEnvironmentVariable: string;
  /** The app's config.json, as served to browsers (never a secret). */
  readonly configJson: string;
  /** Where the image reads config.json. */
  readonly configPath: string;
  /** Path both probes GET. */
  readonly probePath: string;
  readonly resources: Resources;
  /** Directories the server writes at start (temp files, generated server config), by volume name: memory-backed emptyDirs. */
  readonly writableDirectories?: Readonly<Record<string, string>>;
}

/** Size limit of each writable emptyDir: start-up copies and temp files of a static server. */
const WRITABLE_DIRECTORY_LIMIT = '64Mi';

/**
 * A browser app served as static files (Element Web, Ketesa): config.json from a ConfigMap mounted
 * over the image's copy, a Deployment that rolls when the config changes (subPath mounts never see
 * ConfigMap updates, so the config hash in the pod template does), and a ClusterIP Service for the edge.
 */
export class StaticWebApp extends Construct {
  constructor(scope: Construct, id: string, props: StaticWebAppProps) {
    super(scope, id);
    const labels = componentLabels(props.name, props.component);
    const selector = { 'app.kubernetes.io/name': props.name };
    const configName = `${props.name}-config`;
    configMap(this, 'config', { name: configName, namespace: props.namespace, data: { 'config.json': props.configJson }, labels });
    const writable = Object.entries(props.writableDirectories ?? {}).map(([name, mountPath]) => ({ name, mountPath }));
    new Workload(this, 'workload', {
      kind: 'Deployment',
      name: props.name,
      namespace: props.namespace,
      selector,
      labels,
      replicas: props.replicas,
      identity: { runAsUser: props.uid },
      configHash: contentHash(props.configJson),
      containers: [
        container({
          name: props.containerName,
          image: props.image,
          resources: props.resources,
          env: [{ name: props.portEnvironmentVariable, value: String(props.port) }],
          ports: [{ name: 'http', containerPort: props.port }],
          volumeMounts: [
            { name: 'config', mountPath: props.configPath, subPath: 'config.json', readOnly: true },
            ...writable.map(({ name, mountPath }) => ({ name, mountPath })),
          ],
          drainBeforeStop: true,
          livenessProbe: httpProbe(props.probePath, 'http'),
          readinessProbe: httpProbe(props.probePath, 'http', { periodSeconds: 5 }),
        }),
      ],
      volumes: [
        { name: 'config', configMap: { name: configName } },
        ...writable.map(({ name }) => ({ name, emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(WRITABLE_DIRECTORY_LIMIT) } })),
      ],
    });
    service(this, 'service', { name: props.name, namespace: props.namespace, selector, ports: [{ name: 'http', port: props.port }] });
  }
}
