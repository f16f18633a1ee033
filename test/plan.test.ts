import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { capacityReport, defaultNodes, GiB, nodePlan, type Obj, place, type PodDemand, TiB } from '../lib/model/capacity';
import { configWith, render, ROOT } from './helpers';

const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

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

  test('preferred spreading puts replicas on different nodes when room allows', () => {
    const placement = place([demand({ service: 'a/web', replicas: 3 })], nodes);
    expect(new Set(placement.pods.map((pod) => pod.node)).size).toBe(3);
  });
});

describe('npm run plan', () => {
  test('the default config places every pod within the CPU budget; node loss analysis lists services per node', () => {
    const { objects, config } = render();
    const report = capacityReport(config, objects as unknown as Obj[]);
    expect(report.unplaced).toEqual([]);
    expect(report.requested.cpu).toBeLessThanOrEqual(report.budget.cpu);
    expect(report.nodeLoss.some((loss) => loss.services.includes('matrix/synapse-main'))).toBe(true);
  });

  test('--write output is deterministic and docs/capacity.md is up to date', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'plan-')), 'capacity.md');
    const run = () => spawnSync(process.execPath, [TSX, path.join(ROOT, 'scripts/plan.ts'), '--write', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MATRIX_CONFIG: '' } });
    const first = run();
    expect(first.status).not.toBe(2);
    const text = readFileSync(out, 'utf8');
    run();
    expect(readFileSync(out, 'utf8')).toBe(text);
    expect(text).toContain('## Single node loss');
    expect(readFileSync(path.join(ROOT, 'docs/capacity.md'), 'utf8')).toBe(text);
  });
});
