// From per-round measurements to the benchmark's summary: medians over rounds, ratios to the
// references taken within each round (then their median), the issue's targets checked, and the
// Markdown snippet README quotes. Pure functions: tests/bench runs them on canned input.
import { median, ratio } from './stats.js';

/** The metrics measured per scenario and round, in table order. */
export const METRICS = [
  'callsPerSecond',
  'p50Ms',
  'p99Ms',
  'serverCpuUsPerCall',
  'lbCpuUsPerCall',
  'redisCpuUsPerCall',
  'redisCommandsPerCall',
  'redisRoundTripsPerCall',
  'rssMbPerReplica',
  'errors',
];

export const scenarioId = (impl, setup, era) => `${impl}/${setup}/${era}`;

/**
 * The references a scenario is compared with. Every server: the floor (bare node:http, same era, as
 * many replicas). mcp-fleet: tmcp in the same setup and era, the SDK's stock server (modern) with as
 * many replicas, and a baseline build in the same setup and era when one runs. mcp-fleet with the
 * 50-tool workload: mcp-fleet with the reference workload, same setup and era.
 */
export function referencesOf(scenario) {
  const replicas = scenario.setup.endsWith('-3-lb') ? 'memory-3-lb' : 'memory-1';
  const floor = scenario.impl === 'floor' ? {} : { floor: scenarioId('floor', replicas, scenario.era) };
  if (scenario.impl === 'mcp-fleet-50tools') return { ...floor, reference: scenarioId('mcp-fleet', scenario.setup, scenario.era) };
  if (scenario.impl !== 'mcp-fleet') return floor;
  return {
    tmcp: scenarioId('tmcp', scenario.setup, scenario.era),
    sdk: scenarioId('sdk', replicas, 'modern'),
    ...floor,
    baseline: scenarioId('baseline', scenario.setup, scenario.era),
  };
}

/**
 * results: { scenarios: [{ id, impl, setup, era }], rounds: [{ scenarios: { id: metrics }, notifications: { id: { same, cross } } }] }
 * → { id: { medians, notifications: { sameP50Ms, crossP50Ms, crossMinusSameMs, delivered }, ratios: { tmcp, sdk } } }
 */
export function summarise(results) {
  const summary = {};
  for (const scenario of results.scenarios) {
    const per = (metric) => results.rounds.map((round) => round.scenarios[scenario.id]?.[metric]);
    const medians = Object.fromEntries(METRICS.map((metric) => [metric, median(per(metric))]));
    const notes = results.rounds.map((round) => round.notifications?.[scenario.id]).filter(Boolean);
    const notifications =
      notes.length === 0
        ? undefined
        : {
            sameP50Ms: median(notes.map((n) => n.same?.latency.p50)),
            crossP50Ms: median(notes.map((n) => n.cross?.latency.p50)),
            // The difference within each round, then its median.
            crossMinusSameMs: median(notes.map((n) => (n.cross && n.same ? n.cross.latency.p50 - n.same.latency.p50 : NaN))),
            delivered: {
              same: sumDelivered(notes.map((n) => n.same)),
              cross: sumDelivered(notes.map((n) => n.cross)),
            },
          };
    const ratios = {};
    for (const [name, referenceId] of Object.entries(referencesOf(scenario))) {
      if (!results.scenarios.some((s) => s.id === referenceId)) continue;
      const within = (metric) => median(results.rounds.map((round) => ratio(round.scenarios[scenario.id]?.[metric], round.scenarios[referenceId]?.[metric])));
      ratios[name] = { id: referenceId, callsPerSecond: within('callsPerSecond'), serverCpuUsPerCall: within('serverCpuUsPerCall') };
    }
    summary[scenario.id] = { medians, notifications, ratios };
  }
  return summary;
}

function sumDelivered(probes) {
  const present = probes.filter(Boolean);
  if (present.length === 0) return undefined;
  return { delivered: present.reduce((s, p) => s + p.delivered, 0), samples: present.reduce((s, p) => s + p.samples, 0) };
}

/** The issue's targets, judged on the summary; a target whose inputs were not measured is left out. */
export function checkTargets(summary) {
  const checks = [];
  const get = (id) => summary[id];
  const add = (target, measured, met) => {
    if (Number.isFinite(measured)) checks.push({ target, measured, met: met(measured) });
  };
  const fleetLegacy = get('mcp-fleet/redis-3-lb/legacy');
  if (fleetLegacy) {
    add('legacy through the fleet: calls/s >= 1.0x tmcp (3 replicas + HAProxy)', fleetLegacy.ratios.tmcp?.callsPerSecond, (v) => v >= 1.0);
    add('legacy through the fleet: server CPU/call <= 1.0x tmcp', fleetLegacy.ratios.tmcp?.serverCpuUsPerCall, (v) => v <= 1.0);
  }
  for (const setup of ['redis-1', 'redis-3-lb']) {
    const legacy = get(`mcp-fleet/${setup}/legacy`);
    if (legacy) {
      add(`legacy ${setup}: Redis CPU <= 10 µs per warm call`, legacy.medians.redisCpuUsPerCall, (v) => v <= 10);
      add(`legacy ${setup}: <= 1 Redis round trip per warm call`, legacy.medians.redisRoundTripsPerCall, (v) => v <= 1);
    }
    const modern = get(`mcp-fleet/${setup}/modern`);
    if (modern) add(`modern ${setup}: 0 Redis round trips per call`, modern.medians.redisRoundTripsPerCall, (v) => v === 0);
  }
  for (const setup of ['memory-1', 'redis-1', 'redis-3-lb']) {
    const modern = get(`mcp-fleet/${setup}/modern`);
    if (modern) {
      add(`modern ${setup}: calls/s >= 0.9x the SDK's stock server per replica`, modern.ratios.sdk?.callsPerSecond, (v) => v >= 0.9);
      add(`modern ${setup}: calls/s >= 1.0x tmcp`, modern.ratios.tmcp?.callsPerSecond, (v) => v >= 1.0);
      add(`modern ${setup}: server CPU/call <= 1.0x tmcp`, modern.ratios.tmcp?.serverCpuUsPerCall, (v) => v <= 1.0);
    }
  }
  const legacyInMemory = get('mcp-fleet/memory-1/legacy');
  if (legacyInMemory) add('legacy memory-1: calls/s >= 1.0x tmcp', legacyInMemory.ratios.tmcp?.callsPerSecond, (v) => v >= 1.0);
  for (const era of ['legacy', 'modern']) {
    const wide = get(`mcp-fleet-50tools/memory-1/${era}`);
    if (wide)
      add(
        `${era} memory-1, 50 tools: server CPU/call within 10% of the reference workload's (x reference)`,
        wide.ratios.reference?.serverCpuUsPerCall,
        (v) => v <= 1.1,
      );
  }
  for (const era of ['legacy', 'modern']) {
    const n = get(`mcp-fleet/redis-3-lb/${era}`)?.notifications;
    if (n) add(`${era}: cross-replica delivery <= 1 ms p50 slower than same-replica (ms slower)`, n.crossMinusSameMs, (v) => v <= 1);
  }
  return checks;
}

const fixed = (digits) => (v) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const f0 = fixed(0);
const f1 = fixed(1);
const f2 = fixed(2);
const times = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

function deliveredNote(d) {
  return d && d.delivered < d.samples ? ` (${d.delivered}/${d.samples})` : '';
}

/** One row per scenario: the figures README quotes. */
export function tableRows(results, summary) {
  return results.scenarios.map((scenario) => {
    const s = summary[scenario.id];
    const m = s.medians;
    const n = s.notifications;
    return [
      scenario.id,
      f0(m.callsPerSecond),
      f2(m.p50Ms),
      f2(m.p99Ms),
      f0(m.serverCpuUsPerCall),
      f0(m.lbCpuUsPerCall),
      f1(m.redisCpuUsPerCall),
      f2(m.redisCommandsPerCall),
      f2(m.redisRoundTripsPerCall),
      n ? `${f2(n.sameP50Ms)}${deliveredNote(n.delivered.same)}` : '–',
      n && n.delivered.cross ? `${f2(n.crossP50Ms)}${deliveredNote(n.delivered.cross)}` : '–',
      f0(m.rssMbPerReplica),
      times(s.ratios.tmcp?.callsPerSecond),
      times(s.ratios.tmcp?.serverCpuUsPerCall),
      times(s.ratios.sdk?.callsPerSecond),
      times(s.ratios.sdk?.serverCpuUsPerCall),
      times(s.ratios.floor?.callsPerSecond),
      times(s.ratios.floor?.serverCpuUsPerCall),
    ];
  });
}

export const TABLE_HEADER = [
  'scenario (impl/setup/era)',
  'calls/s',
  'p50 ms',
  'p99 ms',
  'server CPU µs/call',
  'LB CPU µs/call',
  'Redis CPU µs/call',
  'Redis cmds/call',
  'Redis round trips/call',
  'notify same p50 ms',
  'notify cross p50 ms',
  'RSS MB/replica',
  'calls/s × tmcp',
  'CPU × tmcp',
  'calls/s × SDK',
  'CPU × SDK',
  'calls/s × floor',
  'CPU × floor',
];

/** The secondary comparisons, a row each where measured: the 50-tool workload against the reference one, this build against a baseline. */
function secondaryRows(results, summary) {
  const rows = [];
  for (const scenario of results.scenarios) {
    const s = summary[scenario.id];
    for (const name of ['reference', 'baseline']) {
      const r = s.ratios[name];
      if (!r || !Number.isFinite(r.callsPerSecond)) continue;
      const ref = summary[r.id]?.medians;
      rows.push([scenario.id, r.id, f0(s.medians.serverCpuUsPerCall), f0(ref?.serverCpuUsPerCall), times(r.callsPerSecond), times(r.serverCpuUsPerCall)]);
    }
  }
  return rows;
}

export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** The Markdown snippet: date, machine, settings, the table, the targets. */
export function renderMarkdown(results, summary, checks) {
  const { machine, settings } = results;
  const lines = [
    `Measured ${results.date} on ${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}${machine.nodeSource ? ` (${machine.nodeSource})` : ''}, ${machine.os}` +
      (machine.loadAverage ? ` (load average ${machine.loadAverage.map((v) => v.toFixed(2)).join(' ')} at start)` : '') +
      '.',
    `${settings.rounds} interleaved rounds; each: ${settings.clients} closed-loop clients (legacy: one session each) calling \`whoami\`, ` +
      `${settings.warmupMs} ms warm-up, ${settings.measureMs} ms measured; medians of rounds, ratios taken within a round.`,
    '',
    markdownTable(TABLE_HEADER, tableRows(results, summary)),
    '',
    'Server CPU: the server processes (replicas) from /proc; LB: HAProxy. Redis CPU: INFO used_cpu_sys + used_cpu_user of the ' +
      "setup's own redis-server, less its idle rate measured before the rounds. Redis cmds/call: INFO commandstats (commands run " +
      'inside scripts count too); round trips/call: commands sent by clients in a MONITOR census, a batch of calls after the measured window with nothing else in flight ' +
      "(PING, which readiness checks send, left out of both; each replica's liveness heartbeat, a SET once a second, left out of the census). Notify: trigger sent until the notification " +
      'arrives (legacy: notify to a GET stream; modern: bump to a listen stream), same replica vs another replica; ' +
      "(n/m) = delivered/sent where some never arrived (tmcp sends a tool's notifications on that call's own response, " +
      "not on the GET stream; the SDK's stock server has no bus between processes). Ratios: mcp-fleet / reference (tmcp: same setup and era; SDK: stock " +
      'createMcpHandler server, modern, as many replicas); floor: every row / bare node:http answering a canned result (bench/peers/floor-server.js), same era, as many replicas ' +
      'behind the same HAProxy. mcp-fleet-50tools: mcp-fleet serving a workload of 50 tools, 10 resources, 2 templates and 10 prompts (bench/workloads/wide.js).',
  ];
  const secondary = secondaryRows(results, summary);
  if (secondary.length > 0) {
    lines.push('', markdownTable(['scenario', 'compared with', 'CPU µs/call', 'its CPU µs/call', 'calls/s ×', 'CPU ×'], secondary));
  }
  if (checks.length > 0) {
    lines.push(
      '',
      markdownTable(
        ['target', 'measured', 'met'],
        checks.map((c) => [c.target, f2(c.measured), c.met ? 'yes' : 'no']),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
