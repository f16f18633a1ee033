import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Obj } from '../lib/model/capacity';
import { ASSUMPTIONS, assumedRates, formatMeasuredCapacity, type Measurement, poolRows } from '../lib/model/measured-capacity';
import { render, ROOT } from './helpers';

const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** A load run of 1,000 sync, 100 send and 20 media requests over 100 s, with the CPU each pool spent. */
function measurement(cpu: Record<string, number>): Measurement {
  const classes = {
    sync: { requests: 1000, failures: 0, rate_per_s: 10, p50_ms: 100, p95_ms: 200, p99_ms: 300 },
    send: { requests: 100, failures: 0, rate_per_s: 1, p50_ms: 50, p95_ms: 90, p99_ms: 120 },
    'media upload': { requests: 10, failures: 0, rate_per_s: 0.1, p50_ms: 30, p95_ms: 60, p99_ms: 70 },
    'media download': { requests: 10, failures: 0, rate_per_s: 0.1, p50_ms: 10, p95_ms: 20, p99_ms: 30 },
  };
  const pools: Record<string, string> = { 'synapse-sync-0': 'synapse-sync', 'synapse-generic-0': 'synapse-generic', 'synapse-media-0': 'synapse-media', main: 'synapse-main', 'synapse-event-persister-0': 'synapse-event-persister', postgres: 'synapse-postgres' };
  return {
    measured_at: '2026-01-01T00:00:00+00:00',
    machine: { cpus: 2, cpu_model: 'test', memory_gib: 8, kernel: 'test' },
    load_average: { before: [1, 1, 1], after: [2, 2, 2] },
    cpu_window_seconds: 100,
    processes: Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, { kind: name === 'postgres' ? 'postgresql' : 'synapse', pool: pools[name], cpu_seconds: seconds, peak_pss_mib: 100, peak_rss_mib: 120 }])),
    load: {
      started: '2026-01-01T00:00:00+00:00',
      options: { message_rate: 1, media_rate: 0.1, media_size: 1024, sync_timeout_ms: 30000, room_mix: { dm: 1 } },
      setup: { users: 10, rooms: { dm: 5 }, room_sizes: { dm: 2 }, seconds: 1 },
      window: { seconds: 100 },
      clients: { sync: 10, sliding_sync: 0 },
      classes,
      backends: [
        { class: 'sync', backend: 'sync', requests: 1000 },
        { class: 'send', backend: 'generic', requests: 100 },
        { class: 'media upload', backend: 'media', requests: 10 },
        { class: 'media download', backend: 'media', requests: 10 },
      ],
      latency_ms: { send: { count: 100, p50: 50, p95: 90, p99: 120, max: 150 } },
      messages: { sent: 100, expected_deliveries: 200, delivered: 200, lost: 0, duplicated: 0 },
      media: { uploaded: 10, downloaded: 10, mismatched: 0 },
      errors: { by_status: {} },
      error_rate: 0,
      passed: true,
    },
  };
}

const objects = render().objects as unknown as Obj[];
const row = (rows: ReturnType<typeof poolRows>, pool: string) => rows.find((r) => r.pool === pool)!;

describe('measured capacity model', () => {
  test('CPU per 1,000 requests divides a pool\'s CPU by the requests the router sent it, or by the class that drives it', () => {
    const rows = poolRows(measurement({ 'synapse-sync-0': 2, 'synapse-generic-0': 1, 'synapse-media-0': 0.5, main: 3, 'synapse-event-persister-0': 0.4, postgres: 5 }), objects);
    expect(row(rows, 'synapse-sync')).toMatchObject({ driver: 'served', driverRequests: 1000, cpuSecondsPer1000: 2 });
    expect(row(rows, 'synapse-generic')).toMatchObject({ driver: 'served', driverRequests: 100, cpuSecondsPer1000: 10 });
    expect(row(rows, 'synapse-media')).toMatchObject({ driverRequests: 20, cpuSecondsPer1000: 25 });
    expect(row(rows, 'synapse-event-persister')).toMatchObject({ driver: 'send', driverRequests: 100, cpuSecondsPer1000: 4 });
    expect(row(rows, 'synapse-main')).toMatchObject({ driver: 'all', driverRequests: 1120 });
    // Extrapolation: CPU per request x the class's rate at the assumed 20,000-user load.
    const rates = assumedRates(ASSUMPTIONS);
    expect(row(rows, 'synapse-sync').coresAtTarget).toBeCloseTo(0.002 * rates.sync, 1);
    expect(row(rows, 'synapse-sync')).toMatchObject({ replicas: 24, requestCores: 24, limitCores: 48 });
    // Only the primary serves Synapse: PostgreSQL compares with one instance of the three.
    expect(row(rows, 'synapse-postgres')).toMatchObject({ replicas: 1, requestCores: 16 });
  });

  test('the verdict flags a pool the table under-sizes, a pool past one Python core per process, and a single process', () => {
    // 0.02 CPU s per sync request x ~2,900 sync requests/s = ~58 cores over 24 sync processes: > 0.8 each.
    const heavy = poolRows(measurement({ 'synapse-sync-0': 20, main: 100, postgres: 100 }), objects);
    expect(row(heavy, 'synapse-sync').verdict).toMatch(/^needs more replicas/);
    expect(row(heavy, 'synapse-main').verdict).toMatch(/^past one Python core/);
    expect(row(heavy, 'synapse-postgres').verdict).toMatch(/^under-sized/);
    const light = poolRows(measurement({ 'synapse-sync-0': 0.1, main: 0.01, postgres: 0.1 }), objects);
    expect(row(light, 'synapse-sync').verdict).toMatch(/^within requests/);
    expect(row(light, 'synapse-postgres').verdict).toMatch(/^within requests/);
  });

  test('the report states the date, the machine, the assumptions and lost/duplicated counts', () => {
    const text = formatMeasuredCapacity(measurement({ 'synapse-sync-0': 2, main: 3 }), objects);
    expect(text).toContain('Measured 2026-01-01T00:00:00+00:00 on 2 CPUs');
    expect(text).toContain('20000 concurrent users');
    expect(text).toContain('**0 lost, 0 duplicated**');
    expect(text).toContain('| synapse-sync | 1 | served: sync | 1000 | 2 |');
  });

  test('docs/capacity-measured.md is the report of the stored measurement', () => {
    const stored = path.join(ROOT, 'docs', 'capacity-measured.json');
    if (!existsSync(stored)) throw new Error('docs/capacity-measured.json is missing: npm run load -- measure');
    const result = spawnSync(process.execPath, [TSX, path.join(ROOT, 'scripts/capacity-measured.ts'), '--config', 'config/deployment.example.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(readFileSync(path.join(ROOT, 'docs', 'capacity-measured.md'), 'utf8')).toBe(result.stdout);
  });
});

describe('load tool delivery bookkeeping (scripts/load/tracking.py)', () => {
  const run = (script: string) =>
    spawnSync('python3', ['-c', `import sys; sys.path.insert(0, 'scripts/load'); from tracking import Tracker\nt = Tracker()\n${script}\nimport json; print(json.dumps(t.summary()))`], { cwd: ROOT, encoding: 'utf8' });
  const summary = (script: string) => {
    const result = run(script);
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, number>;
  };
  const sendToThree = "t.sending('m1', '!r', 0, [0, 1, 2]); t.sent('m1', True)\n";

  test('every member seeing a message once is clean', () => {
    expect(summary(`${sendToThree}for c in (0, 1, 2): t.seen(c, 'm1', 'sync')`)).toMatchObject({ sent: 1, expected_deliveries: 3, delivered: 3, lost: 0, duplicated: 0 });
  });

  test('a planted loss and a planted duplicate are counted; a back-fill overlapping sync is not a duplicate', () => {
    expect(summary(`${sendToThree}t.seen(0, 'm1', 'sync'); t.seen(1, 'm1', 'sync')`)).toMatchObject({ lost: 1, duplicated: 0 });
    expect(summary(`${sendToThree}for c in (0, 1, 2, 2): t.seen(c, 'm1', 'sync')`)).toMatchObject({ lost: 0, duplicated: 1 });
    expect(summary(`${sendToThree}for c in (0, 1, 2): t.seen(c, 'm1', 'sync')\nt.seen(2, 'm1', 'sync', backfill=True)`)).toMatchObject({ lost: 0, duplicated: 0 });
  });

  test('a failed send is not expected anywhere; seeing it anyway is reported', () => {
    expect(summary("t.sending('m1', '!r', 0, [0, 1]); t.sent('m1', False); t.seen(1, 'm1', 'sync')")).toMatchObject({ sent: 0, send_failed: 1, seen_after_failed_send: 1, lost: 0 });
  });
});
