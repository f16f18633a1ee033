import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ACCEPTED_SINGLE_POINT_SERVICES, ACCEPTED_SINGLE_POINTS, capacityReport, CONTROL_LOOP_ONLY, defaultNodes, GiB, nodePlan, type Obj, place, type PodDemand, TiB } from '../lib/model/capacity';
import { poolName, SINGLE_WRITER_TYPES, SYNAPSE_NAMESPACE } from '../lib/model/workers';
import { configWith, render, ROOT, runEntry } from './helpers';


function demand(overrides: Partial<PodDemand>): PodDemand {
  return {
    service: 'ns/app', description: 'app', cpu: 1000, memory: GiB, storagePerReplica: 0, replicas: 1, namespace: 'ns', labels: {},
    nodeSelector: {}, requiredHostnameSpread: false, toleratesControlPlane: false, source: 'rendered', ...overrides,
  };
}

describe('node pools', () => {
  test('the default is the spec: 3 control plane + 18 workers, 4 livekit, 2 coturn, 340 vCPU, 936 GiB, 15.2 TiB', () => {
    const config = configWith();
    const plan = nodePlan(config);
    expect(plan.nodes).toHaveLength(21);
    expect(plan.nodes.filter((node) => node.controlPlane)).toHaveLength(3);
    expect(plan.nodes.filter((node) => node.labels.livekit === 'true')).toHaveLength(4);
    expect(plan.nodes.filter((node) => node.labels.coturn === 'true')).toHaveLength(2);
    expect(plan.nodes.reduce((sum, node) => sum + node.cpu, 0)).toBe(340_000);
    expect(plan.nodes.reduce((sum, node) => sum + node.memory, 0)).toBe(936 * GiB);
    expect(plan.budget).toEqual({ cpu: 340_000, memory: 936 * GiB, storage: 15.2 * TiB });
    expect(defaultNodes(config).pools.map((pool) => pool.name)).toEqual(['control-plane', 'general', 'database', 'storage', 'livekit', 'coturn']);
  });

  test('config.nodes replaces the default', () => {
    const config = configWith({ nodes: { pools: [{ name: 'small', count: 2, cpu: '2', memory: '4Gi' }], budget: { cpu: 4, memoryGi: 8, storageTi: 1 } } });
    const { objects } = render({ nodes: { pools: [{ name: 'small', count: 2, cpu: '2', memory: '4Gi' }], budget: { cpu: 4, memoryGi: 8, storageTi: 1 } } });
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.nodes.map((entry) => entry.node.name)).toEqual(['small-1', 'small-2']);
    expect(report.fits).toBe(false);
    expect(report.unplaced.length).toBeGreaterThan(0);
  });
});

describe('placement', () => {
  const nodes = nodePlan(configWith()).nodes;

  test('required hostname spreading never stacks pods; a pod that fits nowhere is unplaced', () => {
    const placement = place([demand({ service: 'q/valkey', replicas: 5, requiredHostnameSpread: true, nodeSelector: { 'node-role.matrix-platform/pool': 'database' } })], nodes);
    const placed = placement.pods.filter((pod) => pod.node);
    expect(new Set(placed.map((pod) => pod.node)).size).toBe(3);
    expect(placement.pods.filter((pod) => !pod.node)).toHaveLength(2);
  });

  test('DaemonSets run on every node they select; control plane only when tolerated', () => {
    const placement = place([demand({ service: 'a/ds', replicas: undefined, nodeSelector: { livekit: 'true' } }), demand({ service: 'a/agent', replicas: undefined, toleratesControlPlane: true })], nodes);
    expect(placement.pods.filter((pod) => pod.demand.service === 'a/ds' && pod.node)).toHaveLength(4);
    expect(placement.pods.filter((pod) => pod.demand.service === 'a/agent' && pod.node)).toHaveLength(21);
  });

  test('required pod affinity places a follower on its anchor\'s node, with room for both; without an anchor it stays unplaced', () => {
    const anchor = demand({ service: 'ns/main', labels: { app: 'main' }, cpu: 20_000, memory: 10 * GiB });
    const follower = demand({ service: 'ns/writer', labels: { app: 'writer' }, cpu: 3_000, colocateWith: [{ matchLabels: { app: 'main' } }] });
    const filler = demand({ service: 'ns/filler', replicas: 5, cpu: 2_000 });
    const placement = place([anchor, follower, filler], nodes);
    const nodeOf = (service: string) => placement.pods.find((pod) => pod.demand.service === service)?.node;
    expect(nodeOf('ns/writer')).toBeDefined();
    expect(nodeOf('ns/writer')).toBe(nodeOf('ns/main'));
    const used = placement.used.get(nodeOf('ns/main')!)!;
    expect(used.cpu).toBeLessThanOrEqual(nodes.find((node) => node.name === nodeOf('ns/main'))!.cpu);
    const orphan = place([demand({ service: 'ns/lonely', colocateWith: [{ matchLabels: { app: 'absent' } }] })], nodes);
    expect(orphan.pods.every((pod) => pod.node === undefined)).toBe(true);
  });

  test('least allocated tie-break: a pod that fits a small and a large node goes to the large one', () => {
    const placement = place([demand({ service: 'db/postgres', cpu: 16_000, memory: 64 * GiB })], nodes);
    expect(placement.pods[0].node).toMatch(/^database-/);
  });

  test('preferred spreading puts replicas on different nodes when room allows', () => {
    const placement = place([demand({ service: 'a/web', replicas: 3 })], nodes);
    expect(new Set(placement.pods.map((pod) => pod.node)).size).toBe(3);
  });
});

describe('npm run plan', () => {
  const mainDomain = SINGLE_WRITER_TYPES.map((type) => `${SYNAPSE_NAMESPACE}/${poolName(type)}`).sort();

  test('the default config fits: every pod placed, CPU, memory and storage within the budget', () => {
    const { objects, config } = render();
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.unplaced).toEqual([]);
    expect(report.fits).toBe(true);
    for (const key of ['cpu', 'memory', 'storage'] as const) expect(report.requested[key]).toBeLessThanOrEqual(report.budget[key]);
    // Sized for 20k users: at least a third of the budget outside the calls pools, which the calls stack fills.
    expect(report.requested.cpu).toBeGreaterThan(report.budget.cpu / 3);
    expect(report.requested.memory).toBeGreaterThan(report.budget.memory / 3);
  });

  test('a single node loss takes down only Synapse main\'s failure domain (plus the reasoned control-loop list)', () => {
    const { objects, config } = render();
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.singlePoints.defects).toEqual([]);
    expect(report.singlePoints.accepted).toEqual([...ACCEPTED_SINGLE_POINTS]);
    expect(report.singlePoints.pinned).toEqual({ 'matrix/synapse-main': mainDomain });
    const allowed = new Set([...ACCEPTED_SINGLE_POINT_SERVICES, ...mainDomain, ...CONTROL_LOOP_ONLY.map((entry) => entry.service)]);
    for (const loss of report.nodeLoss) for (const service of loss.services) expect(allowed).toContain(service);
    // Main and its writers are lost together, on one node.
    const mainNode = report.nodeLoss.find((loss) => loss.services.includes('matrix/synapse-main'))!;
    expect(mainNode.services).toEqual(expect.arrayContaining(mainDomain));
    for (const entry of report.singlePoints.controlLoops) expect(entry.reason.length).toBeGreaterThan(40);
  });

  test('after any node loss every pod reschedules, except quorum members with nowhere else to go', () => {
    const { objects, config } = render();
    const report = capacityReport(config, objects as unknown as Obj[]);
    for (const entry of report.rescheduling) {
      for (const pod of entry.unplaced) expect(pod.demand.requiredHostnameSpread).toBe(true);
    }
  });

  test('configs that break redundancy are reported as defects', () => {
    const { objects, config } = render({ synapse: { workers: { receipts: { count: 1 } } }, monitoring: { grafana: { replicas: 1 } } });
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.singlePoints.defects).toEqual(['matrix/synapse-receipts', 'monitoring/prometheus-grafana']);
  });

  test('--write output is deterministic and docs/capacity.md is up to date (it documents the example config, also in a fork)', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'plan-')), 'capacity.md');
    const example = path.join(ROOT, 'config/deployment.example.yaml');
    const run = () => runEntry('scripts/plan.ts', ['--config', example, '--write', out]);
    const first = run();
    expect(first.status).not.toBe(2);
    const text = readFileSync(out, 'utf8');
    run();
    expect(readFileSync(out, 'utf8')).toBe(text);
    expect(text).toContain('## Single node loss');
    expect(readFileSync(path.join(ROOT, 'docs/capacity.md'), 'utf8')).toBe(text);
  });
});
