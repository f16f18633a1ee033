import { parseBytes, parseCpu, renderedWorkloads, type Obj } from './capacity';
import { MAIN_INSTANCE, MAIN_NAME, poolName, WORKER_TYPES } from './workers';

/**
 * Measured capacity model: what a load run on the loopback stack (test/integration/load_phase.py, the
 * load tool in scripts/load) cost each process per 1,000 requests of the class that drives it, scaled to
 * the stated 20,000-user load and compared with the requests and limits the rendered platform gives each
 * pool. docs/capacity-measured.md is this report for the stored measurement (docs/capacity-measured.json).
 */

export interface ClassStats {
  requests: number;
  failures: number;
  rate_per_s: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface LoadResult {
  started: string;
  options: Record<string, unknown>;
  setup: { users: number; rooms: Record<string, number>; room_sizes: Record<string, number>; seconds: number };
  window: { seconds: number };
  clients: { sync: number; sliding_sync: number };
  classes: Record<string, ClassStats>;
  backends: { class: string; backend: string; requests: number }[];
  latency_ms: Record<string, Percentiles>;
  messages: Record<string, number>;
  media: Record<string, number>;
  errors: { by_status: Record<string, number> };
  error_rate: number;
  passed: boolean;
}

export interface MeasuredProcess {
  kind: string;
  pool: string;
  cpu_seconds: number;
  /** CPU seconds in the window less the process's idle rate (sampled before the load) over the window. */
  cpu_seconds_net?: number;
  idle_cpu_per_s?: number;
  peak_pss_mib: number;
  peak_rss_mib: number;
}

export interface Measurement {
  measured_at: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; kernel: string };
  load_average: { before: number[]; after: number[] };
  cpu_window_seconds: number;
  processes: Record<string, MeasuredProcess>;
  load: LoadResult;
}

/** The load a pool's CPU is proportional to: the requests it served, or a request class it follows. */
export type Driver = 'served' | 'sync' | 'send' | 'all';

export const SYNC_CLASSES = ['sync', 'sliding sync', 'sync (initial)', 'sliding sync (initial)'];
export const MEDIA_CLASSES = ['media upload', 'media download'];

/** Assumptions of the 20,000-user extrapolation (stated in the report). */
export interface Assumptions {
  users: number;
  syncTimeoutSeconds: number;
  messagesPerUserHour: number;
  mediaUploadsPerUserHour: number;
  downloadsPerUpload: number;
  /** Share of messages and members per room kind. */
  rooms: { kind: string; share: number; members: number }[];
}

export const ASSUMPTIONS: Assumptions = {
  users: 20_000,
  syncTimeoutSeconds: 30,
  messagesPerUserHour: 12,
  mediaUploadsPerUserHour: 1,
  downloadsPerUpload: 5,
  rooms: [
    { kind: '1:1', share: 0.5, members: 2 },
    { kind: 'small group', share: 0.35, members: 8 },
    { kind: 'large', share: 0.15, members: 200 },
  ],
};

/** Requests per second of each driver at the assumed load. */
export function assumedRates(a: Assumptions): Record<Exclude<Driver, 'served'>, number> & { media: number; messages: number; fanOut: number } {
  const messages = (a.users * a.messagesPerUserHour) / 3600;
  const fanOut = a.rooms.reduce((sum, room) => sum + room.share * room.members, 0);
  // Every delivery wakes one long-poll (no batching: an upper bound), every client times out once per timeout.
  const sync = messages * fanOut + a.users / a.syncTimeoutSeconds;
  const media = ((a.users * a.mediaUploadsPerUserHour) / 3600) * (1 + a.downloadsPerUpload);
  return { messages, fanOut, sync, send: messages, media, all: sync + messages + media };
}

export interface PoolRow {
  pool: string;
  processes: number;
  cpuSeconds: number;
  driver: Driver;
  driverLabel: string;
  driverRequests: number;
  cpuSecondsPer1000: number | null;
  rateAtTarget: number;
  coresAtTarget: number | null;
  replicas?: number;
  requestCores?: number;
  limitCores?: number;
  requestMemoryGiB?: number;
  peakPssMiB: number;
  verdict: string;
}

/** Synapse pools whose CPU follows a request class rather than the requests they serve themselves. */
const DRIVERS: Record<string, Driver> = {
  'synapse-main': 'all',
  'synapse-event-persister': 'send',
  'synapse-presence': 'sync',
  'synapse-postgres': 'all',
  valkey: 'all',
  'valkey-sentinel': 'all',
  'redis-proxy': 'all',
  router: 'all',
};

/** Rendered workload of a measured pool (the loopback stack's names -> the manifests' names). */
const WORKLOAD_NAMES: Record<string, string> = { 'redis-proxy': 'valkey-master-proxy', router: 'synapse-router' };
/** Only Synapse's Valkey is started by the stack. */
const WORKLOAD_NAMESPACE: Record<string, string> = { valkey: 'redis-synapse', 'valkey-sentinel': 'redis-synapse', 'redis-proxy': 'redis-synapse' };

interface Allocation {
  replicas: number;
  requestCores: number;
  limitCores: number;
  requestMemoryGiB: number;
}

export function allocations(objects: readonly Obj[]): Map<string, Allocation> {
  const result = new Map<string, Allocation>();
  for (const workload of renderedWorkloads(objects)) {
    const containers = workload.template.spec.containers ?? [];
    const sum = (pick: (c: (typeof containers)[number]) => unknown, parse: (v: unknown) => number): number =>
      containers.reduce((total, container) => total + parse(pick(container)), 0);
    result.set(`${workload.namespace}/${workload.name}`, {
      replicas: workload.replicas ?? 1,
      requestCores: sum((c) => c.resources?.requests?.cpu, parseCpu) / 1000,
      limitCores: sum((c) => c.resources?.limits?.cpu, parseCpu) / 1000,
      requestMemoryGiB: sum((c) => c.resources?.requests?.memory, parseBytes) / 2 ** 30,
    });
  }
  for (const object of objects) {
    if (object.kind !== 'Cluster') continue;
    const spec = object.spec as { instances?: number; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } };
    // Synapse reads and writes through the rw Service only: one instance (the primary) carries the load,
    // the others replicate it.
    result.set(`${object.metadata?.namespace}/${object.metadata?.name}`, {
      replicas: Math.min(1, spec.instances ?? 1),
      requestCores: parseCpu(spec.resources?.requests?.cpu) / 1000,
      limitCores: parseCpu(spec.resources?.limits?.cpu) / 1000,
      requestMemoryGiB: parseBytes(spec.resources?.requests?.memory) / 2 ** 30,
    });
  }
  return result;
}

/**
 * A request class's rate at the target load: its group's assumed rate (sync, media, send) split by the
 * measured mix within the group; classes without an assumption (filters, back-fills) scale with all requests.
 */
function classRateAtTarget(load: LoadResult, name: string, rates: ReturnType<typeof assumedRates>, allRequests: number): number {
  const requests = load.classes[name]?.requests ?? 0;
  const groups: [readonly string[], number][] = [[SYNC_CLASSES, rates.sync], [MEDIA_CLASSES, rates.media], [['send'], rates.send]];
  for (const [group, rate] of groups) {
    if (group.includes(name)) return (rate * requests) / Math.max(1, classRequests(load, group));
  }
  return (rates.all * requests) / Math.max(1, allRequests);
}

/** The router labels responses with the pool id (WorkerType.pool) or `main`: the pool's workload name. */
export function poolOfBackendLabel(label: string): string {
  if (label === MAIN_INSTANCE) return MAIN_NAME;
  const type = WORKER_TYPES.find((candidate) => candidate.pool === label);
  return type ? poolName(type) : label;
}

function classRequests(load: LoadResult, names: readonly string[]): number {
  return names.reduce((sum, name) => sum + (load.classes[name]?.requests ?? 0), 0);
}

export function poolRows(measurement: Measurement, objects: readonly Obj[], a: Assumptions = ASSUMPTIONS): PoolRow[] {
  const load = measurement.load;
  const rates = assumedRates(a);
  const alloc = allocations(objects);
  const pools = new Map<string, { processes: number; cpu: number; pss: number }>();
  for (const process of Object.values(measurement.processes)) {
    if (process.kind === 'load-generator' || process.kind === 'coturn' || process.pool === 'seaweedfs') continue;
    const entry = pools.get(process.pool) ?? { processes: 0, cpu: 0, pss: 0 };
    entry.processes += 1;
    entry.cpu += process.cpu_seconds_net ?? process.cpu_seconds;
    entry.pss = Math.max(entry.pss, process.peak_pss_mib);
    pools.set(process.pool, entry);
  }
  const served = new Map<string, Map<string, number>>();
  for (const row of load.backends) {
    const pool = poolOfBackendLabel(row.backend);
    const classes = served.get(pool) ?? new Map<string, number>();
    classes.set(row.class, (classes.get(row.class) ?? 0) + row.requests);
    served.set(pool, classes);
  }
  const allRequests = Object.values(load.classes).reduce((sum, c) => sum + c.requests, 0);
  const rows: PoolRow[] = [];
  for (const [pool, entry] of [...pools.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    const own = served.get(pool);
    const driver: Driver = DRIVERS[pool] ?? (own && own.size > 0 ? 'served' : 'all');
    let driverRequests: number;
    let driverLabel: string;
    let rateAtTarget: number;
    if (driver === 'served' && own) {
      driverRequests = [...own.values()].reduce((s, n) => s + n, 0);
      driverLabel = `served: ${[...own.keys()].sort().join(', ')}`;
      // The pool's share of each class it served, at that class's share of its group's rate at the target.
      rateAtTarget = [...own.entries()].reduce((sum, [name, count]) => sum + classRateAtTarget(load, name, rates, allRequests) * (count / Math.max(1, load.classes[name]?.requests ?? count)), 0);
    } else if (driver === 'sync') {
      driverRequests = classRequests(load, SYNC_CLASSES);
      driverLabel = 'sync requests (all clients)';
      rateAtTarget = rates.sync;
    } else if (driver === 'send') {
      driverRequests = classRequests(load, ['send']);
      driverLabel = 'messages sent';
      rateAtTarget = rates.send;
    } else {
      driverRequests = allRequests;
      driverLabel = 'all requests';
      rateAtTarget = rates.all;
    }
    const perRequest = driverRequests > 0 ? entry.cpu / driverRequests : null;
    const namespace = WORKLOAD_NAMESPACE[pool] ?? 'matrix';
    const allocation = alloc.get(`${namespace}/${WORKLOAD_NAMES[pool] ?? pool}`);
    const cores = perRequest === null ? null : perRequest * rateAtTarget;
    rows.push({
      pool,
      processes: entry.processes,
      cpuSeconds: round(entry.cpu, 2),
      driver,
      driverLabel,
      driverRequests,
      cpuSecondsPer1000: perRequest === null ? null : round(perRequest * 1000, 3),
      rateAtTarget: round(rateAtTarget, 1),
      coresAtTarget: cores === null ? null : round(cores, 2),
      ...(allocation
        ? {
            replicas: allocation.replicas,
            requestCores: round(allocation.replicas * allocation.requestCores, 2),
            limitCores: round(allocation.replicas * allocation.limitCores, 2),
            requestMemoryGiB: round(allocation.requestMemoryGiB, 2),
          }
        : {}),
      peakPssMiB: entry.pss,
      verdict: verdict(pool, cores, allocation),
    });
  }
  return rows;
}

/** A Synapse process runs its Python on one core (GIL): a pool needs replicas, not bigger limits, past ~1 core each. */
export function verdict(pool: string, cores: number | null, allocation: Allocation | undefined): string {
  if (cores === null) return 'no requests drove it in this run';
  if (!allocation) return 'not in the rendered platform';
  const requested = allocation.replicas * allocation.requestCores;
  const limit = allocation.replicas * allocation.limitCores;
  const perProcess = cores / allocation.replicas;
  const synapse = pool.startsWith('synapse-') && pool !== 'synapse-postgres';
  if (synapse && perProcess > 0.8) {
    return allocation.replicas === 1
      ? `past one Python core's safe share (0.8): ${round(perProcess, 2)} cores for a process Synapse runs once`
      : `needs more replicas: ${round(perProcess, 2)} cores per process exceeds one Python core's safe share (0.8)`;
  }
  if (cores <= requested) return `within requests (${Math.round((cores / requested) * 100)}% of ${round(requested, 1)} cores)`;
  if (cores <= limit) return `above requests, within limits (${Math.round((cores / limit) * 100)}% of ${round(limit, 1)} cores)`;
  return `under-sized: ${round(cores, 1)} cores needed, limits allow ${round(limit, 1)}`;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** How many sync requests each delivery caused, beyond the timeouts: below 1 when one response carries several events. */
export function syncPerDelivery(measurement: Measurement): number | null {
  const load = measurement.load;
  const syncs = classRequests(load, SYNC_CLASSES);
  const timeoutMs = Number(load.options.sync_timeout_ms ?? 30000);
  const timeouts = ((load.clients.sync + load.clients.sliding_sync) * load.window.seconds * 1000) / timeoutMs;
  const deliveries = load.messages.delivered ?? 0;
  return deliveries > 0 ? round(Math.max(0, syncs - timeouts) / deliveries, 2) : null;
}

const cell = (value: unknown): string => (value === null || value === undefined ? '-' : String(value));

export function formatMeasuredCapacity(measurement: Measurement, objects: readonly Obj[], a: Assumptions = ASSUMPTIONS): string {
  const load = measurement.load;
  const rows = poolRows(measurement, objects, a);
  const rates = assumedRates(a);
  const batching = syncPerDelivery(measurement);
  const o = load.options;
  const lines: string[] = [
    '# Measured capacity',
    '',
    'Generated by `npm run load -- measure` (runs the generated configuration on the loopback stack, the load tool',
    'against it, stores the raw figures in `docs/capacity-measured.json` and writes this page); from the stored figures',
    'alone: `npx tsx scripts/capacity-measured.ts --config config/deployment.example.yaml --write docs/capacity-measured.md`.',
    'Do not edit by hand.',
    '',
    `Measured ${measurement.measured_at} on ${measurement.machine.cpus} CPUs (${measurement.machine.cpu_model}), ${measurement.machine.memory_gib} GiB,`,
    `kernel ${measurement.machine.kernel}; load average before ${measurement.load_average.before.join(' / ')}, after ${measurement.load_average.after.join(' / ')}.`,
    'Every process (Synapse, PostgreSQL, Valkey, HAProxy, the S3 server and the load generator itself) shared these',
    'cores, and the machine ran other work too: CPU seconds per request are upper bounds with noise of tens of percent,',
    'not a benchmark. The figures say which pools the table gives too little or far too much, not exact core counts.',
    'Latencies below are those of this saturated machine, not of the platform. Verdicts use the no-batching upper',
    'bound of the sync rate; the batching measured here lowers every sync-driven figure (see the assumptions).',
    '',
    '## Load',
    '',
    `${load.setup.users} clients (${load.clients.sync} on /sync, ${load.clients.sliding_sync} on MSC4186 sliding sync), long-poll timeout ${cell(o.sync_timeout_ms)} ms;`,
    `rooms: ${Object.entries(load.setup.rooms).map(([kind, n]) => `${n} ${kind} (${load.setup.room_sizes[kind]} members)`).join(', ')};`,
    `${cell(o.message_rate)} messages/s (mix ${JSON.stringify(o.room_mix)}), ${cell(o.media_rate)} media uploads/s of ${cell(o.media_size)} bytes, each downloaded back;`,
    `measured window ${load.window.seconds} s (CPU sampled over ${measurement.cpu_window_seconds} s).`,
    `Sync requests per delivery (after one timeout per client per long-poll): ${syncPerDelivery(measurement) ?? '-'} (1 would mean no batching).`,
    '',
    '| endpoint class | requests | failed | req/s | p50 ms | p95 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(load.classes).map(([name, c]) => `| ${name} | ${c.requests} | ${c.failures} | ${cell(c.rate_per_s)} | ${cell(c.p50_ms)} | ${cell(c.p95_ms)} | ${cell(c.p99_ms)} |`),
    '',
    '| latency | samples | p50 ms | p95 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(load.latency_ms).map(([name, p]) => `| ${name.replace(/_/g, ' ')} | ${p.count} | ${cell(p.p50)} | ${cell(p.p95)} | ${cell(p.p99)} | ${cell(p.max)} |`),
    '',
    `Messages: ${load.messages.sent} sent, ${load.messages.expected_deliveries} deliveries expected, ${load.messages.delivered} delivered,` +
      ` **${load.messages.lost} lost, ${load.messages.duplicated} duplicated**; media ${load.media.uploaded} uploaded, ${load.media.downloaded} downloaded,` +
      ` ${load.media.mismatched} mismatched; errors by status: ${Object.keys(load.errors.by_status).length ? JSON.stringify(load.errors.by_status) : 'none'}.`,
    '',
    '## Processes (raw)',
    '',
    'CPU seconds over the measured window; net: less the process\'s own idle rate, sampled before the load started',
    '(timers, replication, metrics), which the per-request figures below use. PSS peak sums the members of a process',
    'group (PostgreSQL backends share their buffers once); RSS peak is the largest member\'s VmHWM since it started.',
    '',
    '| process | pool | CPU s | idle CPU s/s | net CPU s | cores (avg) | PSS peak MiB | RSS peak MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(measurement.processes).map(
      ([name, p]) =>
        `| ${name} | ${p.pool} | ${p.cpu_seconds} | ${cell(p.idle_cpu_per_s)} | ${cell(p.cpu_seconds_net)} | ${round(p.cpu_seconds / measurement.cpu_window_seconds, 2)} | ${p.peak_pss_mib} | ${p.peak_rss_mib} |`,
    ),
    '',
    '## Per 1,000 requests and at 20,000 users',
    '',
    'Assumptions of the extrapolation:',
    '',
    `- ${a.users} concurrent users, every one in long-poll sync with a ${a.syncTimeoutSeconds} s timeout;`,
    `- ${a.messagesPerUserHour} messages per user per hour at peak (${round(rates.messages, 1)} messages/s), sent into ` +
      a.rooms.map((r) => `${r.kind} rooms of ${r.members} members (${Math.round(r.share * 100)}%)`).join(', ') +
      `: ${round(rates.fanOut, 1)} recipients per message on average;`,
    `- every delivery wakes one sync request (no batching, an upper bound) plus one timeout per user per ${a.syncTimeoutSeconds} s: ${round(rates.sync, 0)} sync requests/s` +
      (batching === null ? ';' : ` (with the ${batching} sync requests per delivery measured here: ${round(a.users / a.syncTimeoutSeconds + batching * rates.messages * rates.fanOut, 0)}/s, ${Math.round((100 * (a.users / a.syncTimeoutSeconds + batching * rates.messages * rates.fanOut)) / rates.sync)}% of the bound);`),
    `- ${a.mediaUploadsPerUserHour} media upload per user per hour, each downloaded ${a.downloadsPerUpload} times: ${round(rates.media, 1)} media requests/s;`,
    '- CPU per request as measured here (same code, same configuration; caches colder at 200 users than at 20,000, queries on',
    '  small tables faster): cores at 20,000 = CPU s per request x requests/s of the driver;',
    '- PostgreSQL: only the primary serves Synapse (the rw Service), so its row compares with one instance;',
    '- memory is not extrapolated: it follows cache sizes (the configured cache factor) and room state, not request rate;',
    '  the measured peak is a floor, the table\'s request the planned ceiling.',
    '',
    '| pool | processes measured | driver | driver requests | CPU s per 1,000 | driver req/s at 20k | cores at 20k | replicas | requests (cores) | limits (cores) | memory request/pod GiB | PSS peak/process MiB | verdict |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.pool} | ${r.processes} | ${r.driverLabel} | ${r.driverRequests} | ${cell(r.cpuSecondsPer1000)} | ${r.rateAtTarget} | ${cell(r.coresAtTarget)} | ${cell(r.replicas)} | ${cell(r.requestCores)} | ${cell(r.limitCores)} | ${cell(r.requestMemoryGiB)} | ${r.peakPssMiB} | ${r.verdict} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
