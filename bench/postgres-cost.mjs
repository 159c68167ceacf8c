#!/usr/bin/env node
// What a warm call costs the store, PostgreSQL beside Redis, from one run: 3 replicas + HAProxy
// on a private redis-server, then on a private PostgreSQL cluster (pg_stat_statements loaded), the
// same closed-loop load from bench/loadgen.js in both eras, in interleaved rounds.
// Per scenario: store round trips per call (a census: a counted batch of calls after the window,
// with nothing else in flight; Redis: commands clients sent, from MONITOR; PostgreSQL: top-level
// statements, from pg_stat_statements), store commands or statements per call over the window
// (inside scripts, functions and triggers too), store CPU per call (Redis: INFO cpu; PostgreSQL:
// every server process's utime + stime; both less their idle rate) and the replicas' CPU per call.
// Usage: npm run bench:postgres [-- --rounds 3 --clients 16 --tools whoami,bump --out bench/results]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFleet } from '../dist/fleet/index.js';
import { PostgresProcess } from '../dist/fleet/postgres-process.js';
import { track } from '../dist/fleet/reaper.js';
import { startLoadgen } from './lib/loadgen-process.js';
import { measureRedisIdle } from './lib/measure.js';
import { totalCpuMicros } from './lib/procstat.js';
import { classifyMonitor, commandsBetween, RedisProbe } from './lib/redis-probe.js';
import { median } from './lib/stats.js';
import { countsBetween, cpuBetween, cpuByRole, enablePgStatStatements, NOT_PER_CALL_REDIS_KEY, PostgresProbe, sum } from './postgres-probe.js';

const DEFAULTS = {
  rounds: '3',
  clients: '16',
  replicas: '3',
  tools: 'whoami,bump',
  'warmup-ms': '1500',
  'measure-ms': '5000',
  'census-calls': '500',
  'prime-ms': '3000',
  'max-calls': '2000000',
  out: path.join(path.dirname(new URL(import.meta.url).pathname), 'results'),
};
const { values } = parseArgs({ options: Object.fromEntries(Object.entries(DEFAULTS).map(([name, value]) => [name, { type: 'string', default: value }])) });
const camelCase = (name) => name.replace(/-(\w)/g, (_, letter) => letter.toUpperCase());
/** { clients, warmupMs, measureMs, censusCalls, primeMs, maxCalls, timeoutMs }, as bench/lib/measure.js names them. */
const settings = {
  ...Object.fromEntries(['clients', 'warmup-ms', 'measure-ms', 'census-calls', 'prime-ms', 'max-calls'].map((name) => [camelCase(name), Number(values[name])])),
  timeoutMs: 30_000,
};
const ROUNDS = Number(values.rounds);
const REPLICAS = Number(values.replicas);
const TOOLS = values.tools.split(',').filter(Boolean);
const ERAS = ['legacy', 'modern'];
const ARGS = { whoami: {}, bump: { name: 'bench' } };

/** The closed-loop load of one scenario through the fleet's load balancer (bench/loadgen.js). */
const load = (target, era, tool, phases, census) =>
  startLoadgen({
    mode: 'load',
    url: target.url,
    era,
    clients: settings.clients,
    tool,
    args: ARGS[tool],
    phases,
    maxCalls: settings.maxCalls,
    timeoutMs: settings.timeoutMs,
    ...(census ? { census } : {}),
  });

/** Load without measurement, to warm a scenario's processes up. */
function prime(target, era, tool) {
  const loadgen = load(target, era, tool, [{ name: 'prime', ms: settings.primeMs }]);
  return loadgen.next('phase-end', 'prime').finally(() => loadgen.kill());
}

const fleetTarget = (fleet) => ({
  url: fleet.url,
  replicaUrls: fleet.replicas.map((r) => r.url),
  serverPids: () => fleet.replicas.map((r) => r.pid).filter(Boolean),
  lbPid: () => fleet.lbPid,
  redis: fleet.redis,
});

// The store side of a window, per store: snapshot() at its edges, then the census's classification
// (Redis as `npm run bench` reads it, bench/lib/redis-probe.js).
const redisWindow = {
  async open(target) {
    const stats = await RedisProbe.connect(target.redis.port);
    const monitor = await RedisProbe.connect(target.redis.port);
    let lines;
    return {
      snapshot: () => stats.snapshot(),
      cpuBetween: (a, b) => b.cpuMicros - a.cpuMicros,
      commandsBetween: (a, b) => commandsBetween(a.commands, b.commands),
      startCensus: async () => {
        lines = await monitor.monitor();
      },
      endCensus: async () => {
        const { client, byCommand } = classifyMonitor(lines.filter((line) => !NOT_PER_CALL_REDIS_KEY.test(line)));
        return { roundTrips: client, byName: byCommand };
      },
      close: () => {
        stats.close();
        monitor.close();
      },
    };
  },
};

const postgresWindow = {
  async open(target) {
    const probe = await PostgresProbe.connect(target.postgres);
    let censusStart;
    return {
      snapshot: () => probe.snapshot(),
      cpuBetween: (a, b) => cpuBetween(a.cpu, b.cpu),
      cpuByRole,
      commandsBetween: (a, b) => sum(countsBetween(a.top, b.top)) + sum(countsBetween(a.nested, b.nested)),
      startCensus: async () => {
        censusStart = await probe.snapshot();
      },
      endCensus: async () => {
        const end = await probe.snapshot();
        const top = countsBetween(censusStart.top, end.top);
        return { roundTrips: sum(top), byName: top };
      },
      close: () => probe.close(),
    };
  },
};

/** One scenario once: load from a separate process, the window's edges sampled, then the census. */
async function measureWith(target, era, tool, window) {
  const store = await window.open(target);
  const phases = [
    { name: 'warmup', ms: settings.warmupMs },
    { name: 'measure', ms: settings.measureMs },
  ];
  const loadgen = load(target, era, tool, phases, { calls: settings.censusCalls });
  try {
    await loadgen.next('ready');
    await loadgen.next('phase', 'measure');
    const before = { server: totalCpuMicros(target.serverPids()), store: await store.snapshot() };
    const measured = await loadgen.next('phase-end', 'measure');
    const after = { server: totalCpuMicros(target.serverPids()), store: await store.snapshot() };
    await loadgen.next('phase', 'census');
    await store.startCensus();
    loadgen.send({ type: 'go' });
    const counted = await loadgen.next('phase-end', 'census');
    // Counters and the MONITOR feed may trail the last reply by a moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const census = await store.endCensus();
    await loadgen.exited;
    const calls = Math.max(1, measured.calls);
    const censusCalls = Math.max(1, counted.calls);
    const idle = (target.storeIdleCpuUsPerSecond ?? 0) * measured.seconds;
    return {
      calls: measured.calls,
      errors: measured.errors + counted.errors,
      callsPerSecond: (measured.calls - measured.errors) / measured.seconds,
      p50Ms: measured.latency.p50,
      serverCpuUsPerCall: (after.server - before.server) / calls,
      storeCpuUsPerCall: Math.max(0, store.cpuBetween(before.store, after.store) - idle) / calls,
      storeCommandsPerCall: store.commandsBetween(before.store, after.store) / calls,
      // PostgreSQL: the store's CPU by process role, µs per call (not less idle).
      storeCpuUsPerCallByRole: store.cpuByRole
        ? Object.fromEntries(Object.entries(store.cpuByRole(before.store, after.store)).map(([role, us]) => [role, us / calls]))
        : undefined,
      roundTripsPerCall: census.roundTrips / censusCalls,
      roundTripsByName: Object.fromEntries(Object.entries(census.byName).map(([name, n]) => [name, n / censusCalls])),
    };
  } finally {
    loadgen.kill();
    await store.close();
  }
}

/** The cluster's CPU per second with no load (µs/s): its background writer, the replicas' heartbeats and sweeps. */
async function measurePostgresIdle(target, ms = 2000) {
  const probe = await PostgresProbe.connect(target.postgres);
  try {
    const before = await probe.snapshot();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = await probe.snapshot();
    target.storeIdleCpuUsPerSecond = cpuBetween(before.cpu, after.cpu) / ((performance.now() - t0) / 1000);
  } finally {
    await probe.close();
  }
}

const started = new Date();
const loadAtStart = os.loadavg();
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-postgres-'));
const stops = [];
try {
  const redisFleet = await startFleet({ replicas: REPLICAS, store: 'redis', env: { LOG_LEVEL: 'warn' }, logDir: path.join(logDir, 'redis'), quiet: true });
  stops.push(() => redisFleet.stop());
  const postgres = await PostgresProcess.start();
  stops.push(() => postgres.dispose());
  await enablePgStatStatements(postgres);
  track(postgres.pid);
  const pgFleet = await startFleet({
    replicas: REPLICAS,
    store: 'postgres',
    databaseUrl: postgres.url,
    env: { LOG_LEVEL: 'warn' },
    logDir: path.join(logDir, 'postgres'),
    quiet: true,
  });
  stops.unshift(() => pgFleet.stop());

  const redisTarget = { ...fleetTarget(redisFleet), store: 'redis' };
  const pgTarget = { ...fleetTarget(pgFleet), store: 'postgres', postgres };
  await measureRedisIdle(redisTarget);
  redisTarget.storeIdleCpuUsPerSecond = redisTarget.redisIdleCpuUsPerSecond;
  await measurePostgresIdle(pgTarget);

  const scenarios = [];
  for (const tool of TOOLS) for (const era of ERAS) for (const target of [redisTarget, pgTarget]) scenarios.push({ target, era, tool });
  const id = (s) => `${s.target.store}/${s.era}/${s.tool}`;
  for (const s of scenarios) await prime(s.target, s.era, s.tool);
  const results = new Map(scenarios.map((s) => [id(s), []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with the other store, so neither always runs first.
    const order = round % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) {
      const m = await measureWith(s.target, s.era, s.tool, s.target.store === 'redis' ? redisWindow : postgresWindow);
      results.get(id(s)).push(m);
      process.stderr.write(
        `round ${round + 1}/${ROUNDS} ${id(s)}: ${m.callsPerSecond.toFixed(0)} calls/s, ${m.roundTripsPerCall.toFixed(2)} round trips/call\n`,
      );
    }
  }

  const summary = scenarios.map((s) => {
    const runs = results.get(id(s));
    const pick = (key) => median(runs.map((r) => r[key]));
    const names = new Set(runs.flatMap((r) => Object.keys(r.roundTripsByName ?? {})));
    const byName = Object.fromEntries([...names].map((name) => [name, median(runs.map((r) => r.roundTripsByName?.[name] ?? 0))]));
    return {
      scenario: id(s),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      callsPerSecond: pick('callsPerSecond'),
      p50Ms: pick('p50Ms'),
      serverCpuUsPerCall: pick('serverCpuUsPerCall'),
      storeCpuUsPerCall: pick('storeCpuUsPerCall'),
      storeCommandsPerCall: pick('storeCommandsPerCall'),
      roundTripsPerCall: pick('roundTripsPerCall'),
      roundTripsByName: byName,
      storeCpuUsPerCallByRole: runs[0].storeCpuUsPerCallByRole
        ? Object.fromEntries(Object.keys(runs[0].storeCpuUsPerCallByRole).map((role) => [role, median(runs.map((r) => r.storeCpuUsPerCallByRole[role]))]))
        : undefined,
      rounds: runs,
    };
  });

  const header = [
    'scenario (store/era/tool)',
    'calls/s',
    'p50 ms',
    'server CPU µs/call',
    'store CPU µs/call',
    'store round trips/call',
    'store cmds or stmts/call',
  ];
  const rows = summary.map((r) => [
    r.scenario,
    r.callsPerSecond.toFixed(0),
    r.p50Ms.toFixed(2),
    r.serverCpuUsPerCall.toFixed(0),
    r.storeCpuUsPerCall.toFixed(1),
    r.roundTripsPerCall.toFixed(2),
    r.storeCommandsPerCall.toFixed(2),
  ]);
  const lines = [
    `Measured ${started.toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version} (load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end).`,
    `${REPLICAS} replicas + HAProxy per store; ${ROUNDS} interleaved rounds, each: ${settings.clients} closed-loop clients (legacy: one session each), ${settings.warmupMs} ms warm-up, ${settings.measureMs} ms measured, then a census of ${settings.censusCalls} calls; medians of rounds.`,
    `Store CPU with no load (subtracted from store CPU µs/call): Redis ${redisTarget.storeIdleCpuUsPerSecond.toFixed(0)} µs/s, PostgreSQL ${pgTarget.storeIdleCpuUsPerSecond.toFixed(0)} µs/s (readiness checks, heartbeats, sweeps of ${REPLICAS} replicas).`,
    '',
    `| ${header.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(header.length - 1)}`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    "PostgreSQL CPU µs/call by process (median of rounds, idle not subtracted): replicas' pool connections, their LISTEN connections, background processes:",
    '',
    ...summary
      .filter((r) => r.storeCpuUsPerCallByRole)
      .map((r) => {
        const role = r.storeCpuUsPerCallByRole;
        return `- ${r.scenario}: commands ${role.commands.toFixed(0)}, listen ${role.listen.toFixed(0)}, background ${role.background.toFixed(0)}`;
      }),
    '',
    'Round trips per call in the census, by command or statement (median of rounds; under 0.01 left out):',
    '',
    ...summary.flatMap((r) =>
      Object.entries(r.roundTripsByName)
        .filter(([, n]) => n >= 0.01)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `- ${r.scenario}: ${n.toFixed(2)} × \`${name.length > 110 ? `${name.slice(0, 110)}…` : name}\``),
    ),
  ];
  console.log(lines.join('\n'));
  fs.mkdirSync(values.out, { recursive: true });
  fs.writeFileSync(
    path.join(values.out, 'postgres-cost.json'),
    `${JSON.stringify({ started, settings, replicas: REPLICAS, idleCpuUsPerSecond: { redis: redisTarget.storeIdleCpuUsPerSecond, postgres: pgTarget.storeIdleCpuUsPerSecond }, summary }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(values.out, 'postgres-cost.md'), `${lines.join('\n')}\n`);
} finally {
  for (const stop of stops) await stop().catch(() => {});
  fs.rmSync(logDir, { recursive: true, force: true });
}
process.exit(0);
