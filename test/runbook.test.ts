import { buildPlatform, type StageId } from '../lib/model';
import { callHostPorts } from '../lib/model/calls';
import { buildRunbook, callFirewallRules, imageToBuild, type Runbook } from '../lib/model/runbook';
import { images } from '../lib/versions';
import { formatRunbook } from '../lib/runbook';
import { type DistFiles, type KubeObject, RUNBOOK_FILE } from '../lib/synth';
import { configWith, find, findOne, render } from './helpers';

/**
 * dist/RUNBOOK.md: what the cluster needs outside Git. The facts are checked against the rendered
 * objects of the same config (listeners, Ingress hosts, Service ports, DaemonSet node selectors,
 * Certificates), not against the model that produced them, and a one-field config change must change
 * exactly the lines that depend on it.
 */

function stagesOf(files: DistFiles): StageId[] {
  return [...new Set([...files.keys()].filter((file) => file.startsWith('stages/')).map((file) => file.split('/')[1] as StageId))].sort();
}

function runbookOf(overrides: Record<string, unknown> = {}, extraObjects: KubeObject[] = []) {
  const { files, objects, config } = render(overrides);
  const runbook = buildRunbook(buildPlatform(config), [...objects, ...extraObjects], stagesOf(files));
  return { runbook, files, objects, config, text: files.get(RUNBOOK_FILE) ?? '' };
}

function commands(runbook: Runbook): string[] {
  return runbook.bootstrap.flatMap((step) => step.commands);
}

/** Position of each command in the bootstrap; -1 when absent. */
function order(runbook: Runbook, wanted: string[]): number[] {
  const all = commands(runbook);
  return wanted.map((command) => all.indexOf(command));
}

function increasing(values: number[]): boolean {
  return values.every((value, index) => value >= 0 && (index === 0 || value > values[index - 1]));
}

/** Lines of `before` missing from `after` and lines of `after` missing from `before`. */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  return { removed: a.filter((line) => !b.includes(line)), added: b.filter((line) => !a.includes(line)) };
}

const NGINX_ARGOCD = { edge: { controller: 'ingress-nginx' }, gitops: { engine: 'argocd' } };
const NO_CALLS = { calls: { enabled: false } };

describe('example config (Envoy Gateway, Flux, calls)', () => {
  const { runbook, objects, config, text } = runbookOf();

  test('dist/RUNBOOK.md is the rendered runbook', () => {
    expect(text).toBe(formatRunbook(runbook));
    expect(text).toContain('## Bootstrap order (flux)');
  });

  test('every HTTPS listener host of the Gateway points at the edge address; no TURN name without TURN over TLS', () => {
    const gateway = findOne(objects, 'Gateway', 'matrix-edge');
    const listenerHosts = new Set(
      ((gateway.spec as { listeners: { hostname?: string }[] }).listeners ?? []).map((listener) => listener.hostname).filter(Boolean),
    );
    const edgeRecords = runbook.dnsRecords.filter((record) => record.target === config.loadBalancer.edgeAddress);
    expect(new Set(edgeRecords.map((record) => record.name))).toEqual(listenerHosts);
    expect(edgeRecords.every((record) => record.type === 'A')).toBe(true);
    // The example sets no tls.dns01: no coturn-tls certificate, no TURN name, and the runbook says why.
    expect(find(objects, 'Certificate', 'coturn-tls')).toEqual([]);
    expect(runbook.dnsRecords).toHaveLength(listenerHosts.size);
    expect(formatRunbook(runbook)).toContain('TURN over TLS is not served (tls.dns01 is not set)');
  });

  test('with a DNS-01 solver, the TURN name of the coturn-tls certificate points at each coturn node', () => {
    const withDns01 = runbookOf({ tls: { dns01: { cloudflare: { apiTokenSecretRef: { name: 'cloudflare-api-token', key: 'api-token' } } } } });
    const certificate = findOne(withDns01.objects, 'Certificate', 'coturn-tls', 'coturn');
    const [turnName] = (certificate.spec as { dnsNames: string[] }).dnsNames;
    expect(withDns01.runbook.dnsRecords.filter((record) => record.name === turnName)).toEqual(
      [
        { target: '203.0.113.17', node: 'worker-17' },
        { target: '203.0.113.18', node: 'worker-18' },
      ].map(({ target, node }) => expect.objectContaining({ name: turnName, type: 'A', target, why: expect.stringContaining(node) })),
    );
    expect(withDns01.runbook.dnsRecords).toHaveLength(runbook.dnsRecords.length + 2);
    expect(withDns01.runbook.firewall.filter((rule) => rule.role === 'coturn' && rule.protocol === 'TCP' && rule.source === 'anywhere').map((rule) => rule.start)).toEqual([3478, 5349]);
    expect(formatRunbook(withDns01.runbook)).not.toContain('TURN over TLS is not served');
  });

  test('node labels: one command per coturn node, a template for LiveKit, both matching the DaemonSets', () => {
    expect(runbook.nodeLabels.map((label) => label.command)).toEqual([
      'kubectl label node worker-17 coturn=true',
      'kubectl label node worker-18 coturn=true',
      'kubectl label node <node> livekit=true',
    ]);
    for (const [name, namespace] of [['coturn', 'coturn'], ['livekit', 'livekit']]) {
      const daemonSet = findOne(objects, 'DaemonSet', name, namespace);
      const selector = (daemonSet.spec as { template: { spec: { nodeSelector: Record<string, string> } } }).template.spec.nodeSelector;
      const label = Object.entries(selector).map(([key, value]) => `${key}=${value}`);
      expect(runbook.nodeLabels.filter((entry) => entry.component.toLowerCase() === name).map((entry) => entry.label)).toEqual(
        expect.arrayContaining(label),
      );
    }
    const livekit = runbook.nodeLabels.find((label) => label.component === 'LiveKit');
    expect(livekit?.node).toBeUndefined();
    expect(livekit?.why).toContain('does not name the LiveKit nodes');
    expect(livekit?.why).toContain('counts 4 (pool livekit)');
  });

  test('StorageClasses: each config class with the objects that claim it', () => {
    const byName = new Map(runbook.storageClasses.map((need) => [need.name, need]));
    expect(byName.get('fast-nvme')).toEqual({ name: 'fast-nvme', configFields: ['storageClasses.fast'], usedBy: ['Cluster matrix/synapse-postgres'] });
    expect(byName.get('bulk-hdd')).toEqual({ name: 'bulk-hdd', configFields: ['storageClasses.large'], usedBy: ['Tenant minio/matrix-storage'] });
    expect(byName.get('standard')?.usedBy).toEqual(
      expect.arrayContaining(['StatefulSet matrix/synapse-media', 'StatefulSet redis-synapse/valkey', 'Helm release monitoring/prometheus (kube-prometheus-stack)']),
    );
    expect(runbook.unusedStorageClassFields).toEqual([]);
  });

  test('a planted claim on an unknown StorageClass is listed (the walker reads every object and Helm value)', () => {
    const planted: KubeObject[] = [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'planted', namespace: 'matrix' }, spec: { volumeClaimTemplates: [{ spec: { storageClassName: 'planted-class' } }] } },
      {
        apiVersion: 'helm.cattle.io/v1',
        kind: 'HelmChart',
        metadata: { name: 'planted-chart', namespace: 'kube-system' },
        spec: { chart: 'repo/planted', targetNamespace: 'matrix', valuesContent: 'persistence:\n  storageClass: planted-helm-class\n' },
      },
    ];
    const needs = runbookOf({}, planted).runbook.storageClasses;
    expect(needs.find((need) => need.name === 'planted-class')).toEqual({ name: 'planted-class', configFields: [], usedBy: ['StatefulSet matrix/planted'] });
    expect(needs.find((need) => need.name === 'planted-helm-class')?.usedBy).toEqual(['Helm release matrix/planted-chart (planted)']);
  });

  test('firewall: the edge opens exactly the Gateway listener ports; the call rows come from the call config', () => {
    const gateway = findOne(objects, 'Gateway', 'matrix-edge');
    const listenerPorts = [...new Set((gateway.spec as { listeners: { port: number }[] }).listeners.map((listener) => listener.port))].sort((a, b) => a - b);
    const edgeRules = runbook.firewall.filter((rule) => rule.role === 'edge');
    expect(edgeRules.map((rule) => rule.start).sort((a, b) => a - b)).toEqual(listenerPorts);
    expect(edgeRules.every((rule) => rule.protocol === 'TCP' && rule.source === 'anywhere' && rule.appliesTo.includes('192.168.1.240'))).toBe(true);
    const open = (role: string) =>
      runbook.firewall
        .filter((rule) => rule.role === role && rule.source === 'anywhere')
        .map((rule) => `${rule.protocol} ${rule.start}${rule.end === rule.start ? '' : `-${rule.end}`}`);
    expect(open('coturn')).toEqual(['UDP 3478', 'TCP 3478', 'UDP 49152-55999']);
    expect(open('LiveKit')).toEqual(['TCP 7881', 'UDP 56000-60000']);
    // Signalling reaches LiveKit through the edge; metrics stay inside the cluster.
    const closed = runbook.firewall.filter((rule) => rule.source === 'cluster only').map((rule) => `${rule.role} ${rule.start}`);
    expect(closed).toEqual(['coturn 9641', 'LiveKit 7880', 'LiveKit 6789']);
    // The rows are the host ports the call charts bind, nothing restated.
    expect(runbook.firewall.filter((rule) => rule.role !== 'edge').map((rule) => `${rule.protocol} ${rule.start}-${rule.end}`)).toEqual(
      callHostPorts(config).map((claim) => `${claim.protocol} ${claim.start}-${claim.end}`),
    );
    expect(runbook.firewall.filter((rule) => rule.role !== 'edge')).toEqual(callFirewallRules(buildPlatform(config)));
  });

  test('image: the pinned Synapse image of the Synapse pods and its build command', () => {
    const image = ((findOne(objects, 'Deployment', 'synapse-main', 'matrix').spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
      .containers[0].image);
    // The script takes the repository and tags it with the pinned versions' tag, which the pods run.
    const [repository, tag] = image.split(/:(?=[^:/]+$)/);
    expect(tag).toBe(images.synapse.tag);
    expect(runbook.image).toEqual({ ref: image, buildCommand: `bash scripts/build-synapse-image.sh --push ${repository}`, projectImage: true });
    const custom = imageToBuild(buildPlatform(configWith({ synapse: { image: { repository: 'registry.acme.net/synapse', tag: 'v9-custom' } } })));
    expect(custom.buildCommand).toBe('bash scripts/build-synapse-image.sh --push --tag v9-custom registry.acme.net/synapse');
  });

  test('bootstrap: Flux, image, namespaces, Secrets, then the Flux entry point', () => {
    expect(
      increasing(
        order(runbook, [
          'flux install --namespace=flux-system',
          runbook.image.buildCommand,
          'kubectl apply -k dist/stages/00-namespaces',
          'npm run secrets -- --out secrets/',
          'kubectl apply -f secrets/',
          'kubectl apply -k dist/flux',
        ]),
      ),
    ).toBe(true);
    expect(commands(runbook).some((command) => command.includes('dist/argocd'))).toBe(false);
    // No hand-made Secret: cert-manager writes the object store CA for its clients.
    expect(commands(runbook).some((command) => command.includes('create secret'))).toBe(false);
  });

  test('cautions: TURN over TLS without tls.dns01, the API server and nodes at any address, Cilium and node addresses', () => {
    expect(runbook.cautions).toHaveLength(3);
    expect(runbook.cautions[0]).toContain('TURN over TLS is not served (tls.dns01 is not set)');
    expect(runbook.cautions[0]).toContain('turn.example.org');
    expect(runbook.cautions[1]).toContain('network.apiServer.cidrs (ports 443, 6443) and network.nodes.cidrs');
    expect(runbook.cautions[2]).toContain('policy-cidr-match-mode');
  });

  test('the any-address caution names only the networks still open, and goes when both are set', () => {
    const apiServerOnly = runbookOf({ network: { nodes: { cidrs: ['10.0.0.0/16'] } } }).runbook.cautions;
    expect(apiServerOnly.some((caution) => caution.includes('network.apiServer.cidrs') && !caution.includes('network.nodes.cidrs'))).toBe(true);
    const both = runbookOf({ network: { nodes: { cidrs: ['10.0.0.0/16'] }, apiServer: { cidrs: ['10.0.0.10/32'] } } }).runbook.cautions;
    expect(both.some((caution) => caution.includes('still allow any address'))).toBe(false);
    expect(both.some((caution) => caution.includes('policy-cidr-match-mode'))).toBe(true);
  });
});

describe('ingress-nginx + Argo CD, no fixed edge address', () => {
  const { runbook, objects, text } = runbookOf({ ...NGINX_ARGOCD, loadBalancer: { edgeAddress: undefined } });

  test('DNS: every Ingress host points at the address MetalLB gives the ingress-nginx Service', () => {
    expect(runbook.edge.address).toBeUndefined();
    expect(runbook.edge.service).toBe('Service ingress-nginx/ingress-nginx-controller');
    expect(runbook.edge.lookupCommand).toContain('kubectl -n ingress-nginx get service ingress-nginx-controller');
    const ingressHosts = new Set(
      find(objects, 'Ingress').flatMap((ingress) => (ingress.spec as { rules: { host: string }[] }).rules.map((rule) => rule.host)),
    );
    const edgeRecords = runbook.dnsRecords.filter((record) => record.target === 'the edge address (see above)');
    expect(new Set(edgeRecords.map((record) => record.name))).toEqual(ingressHosts);
    // The pool (loadBalancer.addresses) is IPv4 only, so the edge gets A records.
    expect(new Set(edgeRecords.map((record) => record.type))).toEqual(new Set(['A']));
    expect(text).toContain(runbook.edge.lookupCommand);
  });

  test('firewall: the edge opens exactly the ports of the LoadBalancer Service', () => {
    const service = findOne(objects, 'Service', 'ingress-nginx-controller', 'ingress-nginx');
    const servicePorts = (service.spec as { ports: { port: number }[] }).ports.map((port) => port.port).sort((a, b) => a - b);
    expect(runbook.firewall.filter((rule) => rule.role === 'edge').map((rule) => rule.start).sort((a, b) => a - b)).toEqual(servicePorts);
  });

  test('node labels are those of the example (the edge and engine do not change them)', () => {
    expect(runbook.nodeLabels).toEqual(runbookOf().runbook.nodeLabels);
  });

  test('bootstrap: Argo CD, OCI registries of the Applications, Secrets, then the root application; DNS after the address exists', () => {
    expect(increasing(order(runbook, ['kubectl apply -k dist/stages/00-namespaces', 'kubectl apply -f secrets/', 'kubectl apply -f dist/argocd/root.yaml', runbook.edge.lookupCommand]))).toBe(true);
    expect(commands(runbook)).not.toContain('kubectl apply -k dist/flux');
    expect(commands(runbook).some((command) => command.startsWith('flux '))).toBe(false);
    const oci = runbook.bootstrap.find((step) => step.title.includes('enableOCI'));
    const schemeless = find(objects, 'Application')
      .map((app) => (app.spec as { source: { repoURL: string; chart?: string } }).source)
      .filter((source) => source.chart && !source.repoURL.includes('://'))
      .map((source) => source.repoURL);
    expect(schemeless.length).toBeGreaterThan(0);
    expect(oci?.items).toEqual([...new Set(schemeless)].sort());
    expect(runbook.bootstrap.some((step) => step.title.includes('health assessment'))).toBe(true);
  });
});

describe('calls disabled', () => {
  const { runbook, text } = runbookOf(NO_CALLS);

  test('no TURN or LiveKit records, node labels or call firewall rows', () => {
    const example = runbookOf().runbook;
    const callHosts = ['turn.example.org', 'livekit.example.org', 'livekit-jwt.example.org'];
    expect(runbook.dnsRecords.map((record) => record.name)).toEqual(
      example.dnsRecords.map((record) => record.name).filter((name) => !callHosts.includes(name)),
    );
    expect(runbook.nodeLabels).toEqual([]);
    expect(runbook.firewall.map((rule) => rule.role)).toEqual(['edge', 'edge', 'edge']);
    expect(runbook.cautions.some((caution) => caution.includes('TURN'))).toBe(false);
    expect(text).not.toMatch(/coturn|livekit|turn\.example/i);
    expect(text).toContain('None: calls are disabled');
  });

  test('the Secrets step counts only the Secrets of this config', () => {
    const secrets = runbook.bootstrap.find((step) => step.commands.includes('kubectl apply -f secrets/'));
    expect(secrets?.why).not.toContain('coturn');
    expect(runbook.bootstrap.some((step) => step.title === 'Label the call nodes')).toBe(false);
  });
});

describe('other choices', () => {
  test('external-secrets: the store and every remote key instead of npm run secrets', () => {
    const { runbook, objects } = runbookOf({ secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'vault', remoteKeyPrefix: 'prod/matrix/' } } });
    expect(commands(runbook)).not.toContain('npm run secrets -- --out secrets/');
    const remoteKeys = new Set(
      find(objects, 'ExternalSecret').flatMap((secret) => (secret.spec as { data: { remoteRef: { key: string } }[] }).data.map((entry) => entry.remoteRef.key)),
    );
    expect(runbook.bootstrap.find((step) => step.title.startsWith('Store these keys'))?.items).toEqual([...remoteKeys].sort());
    expect(runbook.bootstrap.some((step) => step.title.includes('ClusterSecretStore vault'))).toBe(true);
  });

  test('helm-controller: every stage folder once, in order, after namespaces and Secrets', () => {
    const { runbook, files } = runbookOf({ gitops: { engine: 'helm-controller' } });
    const stageCommands = commands(runbook).filter((command) => command.startsWith('kubectl apply -k dist/stages/'));
    expect(stageCommands).toEqual(stagesOf(files).map((stage) => `kubectl apply -k dist/stages/${stage}`));
    expect(increasing(order(runbook, ['kubectl apply -k dist/stages/00-namespaces', 'kubectl apply -f secrets/', 'kubectl apply -k dist/stages/10-operators']))).toBe(true);
  });

  test('an edge pool of both families without a fixed address: A or AAAA', () => {
    const { runbook } = runbookOf({ loadBalancer: { addresses: ['192.168.1.240-192.168.1.250', '2001:db8::/120'], edgeAddress: undefined } });
    const edgeTypes = runbook.dnsRecords.filter((record) => record.name !== 'turn.example.org').map((record) => record.type);
    expect(new Set(edgeTypes)).toEqual(new Set(['A or AAAA']));
  });

  test('an IPv6 coturn node and edge address give AAAA records', () => {
    const { runbook } = runbookOf({
      loadBalancer: { addresses: ['2001:db8::/120'], edgeAddress: '2001:db8::10' },
      calls: { coturn: { nodes: [{ name: 'worker-17', externalIp: '2001:db8:1::17' }] } },
    });
    expect(new Set(runbook.dnsRecords.map((record) => record.type))).toEqual(new Set(['AAAA']));
  });

  test('a config naming node pools counts the LiveKit nodes it plans for', () => {
    const pools = [
      { name: 'general', count: 6, cpu: '32', memory: '128Gi' },
      { name: 'sfu', count: 3, cpu: '16', memory: '32Gi', labels: { livekit: 'true' } },
    ];
    const { runbook } = runbookOf({ nodes: { pools, budget: { cpu: 400, memoryGi: 1000, storageTi: 20 } } });
    expect(runbook.nodeLabels.find((label) => label.component === 'LiveKit')?.why).toContain('config.nodes counts 3 (pool sfu)');
  });
});

describe('a one-field change changes exactly the lines that depend on it', () => {
  const base = runbookOf().text;

  test.each([
    ['loadBalancer.edgeAddress', { loadBalancer: { edgeAddress: '192.168.1.245' } }, '192.168.1.240', '192.168.1.245'],
    [
      'a coturn node address',
      { calls: { coturn: { nodes: [{ name: 'worker-17', externalIp: '203.0.113.99' }, { name: 'worker-18', externalIp: '203.0.113.18' }] } } },
      '203.0.113.17',
      '203.0.113.99',
    ],
    ['the LiveKit node label', { calls: { livekit: { nodeLabel: { key: 'sfu', value: 'yes' } } } }, 'livekit=true', 'sfu=yes'],
  ])('%s', (_name, overrides, before, after) => {
    const changed = runbookOf(overrides).text;
    const { removed, added } = lineDiff(base, changed);
    expect(removed.length).toBeGreaterThan(0);
    expect(removed).toEqual(base.split('\n').filter((line) => line.includes(before)));
    expect(changed).toBe(base.split(before).join(after));
    expect(added).toHaveLength(removed.length);
  });

  test('edge.federationPort 443 removes the federation row and nothing else but the matrix host note', () => {
    const { removed, added } = lineDiff(base, runbookOf({ edge: { federationPort: 443 } }).text);
    expect(removed).toEqual([
      expect.stringMatching(/^\| matrix\.example\.org .*federation also on port 8448 \|$/),
      expect.stringMatching(/^\| edge \| .* \| TCP \| 8448 \|/),
    ]);
    expect(added).toEqual([expect.stringMatching(/^\| matrix\.example\.org .*federation on the HTTPS port \|$/)]);
  });
});
