// One scenario measured once: closed-loop load from a separate process, with the server
// processes' CPU, HAProxy's, and the setup's Redis (CPU, commands, a MONITOR census) sampled at
// the measured window's edges; and notification latency, same replica vs another replica.
import { startLoadgen } from './loadgen-process.js';
import { cpuMicros, rssBytes, totalCpuMicros } from './procstat.js';
import { classifyMonitor, commandsBetween, perCallBetween, RedisProbe } from './redis-probe.js';
import { latencySummary } from './stats.js';

function sample(target, probe) {
  // CLOCK_MONOTONIC µs: the clock of the servers' --cpu-prof timestamps too.
  const atUs = Number(process.hrtime.bigint() / 1000n);
  const server = totalCpuMicros(target.serverPids());
  const lbPid = target.lbPid();
  const lb = lbPid ? cpuMicros(lbPid) : NaN;
  return probe ? probe.snapshot().then((redis) => ({ atUs, server, lb, redis })) : Promise.resolve({ atUs, server, lb, redis: undefined });
}

const idleRedisCpu = (target) => target.redisIdleCpuUsPerSecond ?? 0;

/** Measures, once per target, the CPU its redis-server spends per second with no load (µs/s). */
export async function measureRedisIdle(target, ms = 2000) {
  if (!target.redis) return;
  const probe = await RedisProbe.connect(target.redis.port);
  try {
    const before = await probe.snapshot();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = await probe.snapshot();
    target.redisIdleCpuUsPerSecond = (after.cpuMicros - before.cpuMicros) / ((performance.now() - t0) / 1000);
  } finally {
    probe.close();
  }
}

/**
 * settings: { clients, warmupMs, measureMs, censusCalls, maxCalls, timeoutMs }.
 * Resolves with the round's metrics for this scenario (see report.js METRICS).
 */
export async function measureLoad(target, era, settings) {
  const census = target.redis && settings.censusCalls > 0;
  const phases = [
    { name: 'warmup', ms: settings.warmupMs },
    { name: 'measure', ms: settings.measureMs },
  ];
  const stats = target.redis ? await RedisProbe.connect(target.redis.port) : undefined;
  const monitor = census ? await RedisProbe.connect(target.redis.port) : undefined;
  const loadgen = startLoadgen({
    mode: 'load',
    url: target.url,
    era,
    clients: settings.clients,
    tool: 'whoami',
    args: {},
    phases,
    maxCalls: settings.maxCalls,
    timeoutMs: settings.timeoutMs,
    ...(census ? { census: { calls: settings.censusCalls } } : {}),
  });
  try {
    await loadgen.next('ready');
    await loadgen.next('phase', 'measure');
    const before = await sample(target, stats);
    const measured = await loadgen.next('phase-end', 'measure');
    const after = await sample(target, stats);
    const rss = target.serverPids().map(rssBytes);
    let roundTrips = NaN;
    let scriptCommands = NaN;
    let censusCommands;
    if (census) {
      await loadgen.next('phase', 'census');
      const lines = await monitor.monitor();
      loadgen.send({ type: 'go' });
      const counted = await loadgen.next('phase-end', 'census');
      // The feed may trail the last reply by a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { client, script, byCommand } = classifyMonitor(lines);
      roundTrips = client / Math.max(1, counted.calls);
      scriptCommands = script / Math.max(1, counted.calls);
      censusCommands = Object.fromEntries(Object.entries(byCommand).map(([command, n]) => [command, n / Math.max(1, counted.calls)]));
    }
    await loadgen.exited;
    const calls = Math.max(1, measured.calls);
    return {
      calls: measured.calls,
      errors: measured.errors,
      seconds: measured.seconds,
      callsPerSecond: (measured.calls - measured.errors) / measured.seconds,
      p50Ms: measured.latency.p50,
      p99Ms: measured.latency.p99,
      serverCpuUsPerCall: (after.server - before.server) / calls,
      lbCpuUsPerCall: (after.lb - before.lb) / calls,
      // Less what the setup's Redis spends when no call is made (its cron, the readiness pings).
      redisCpuUsPerCall: stats ? Math.max(0, after.redis.cpuMicros - before.redis.cpuMicros - idleRedisCpu(target) * measured.seconds) / calls : NaN,
      redisCommandsPerCall: stats ? commandsBetween(before.redis.commands, after.redis.commands) / calls : NaN,
      // INFO commandstats over the window: executions and server µs per call of each command.
      redisCallsPerCallByCommand: stats ? perCallBetween(before.redis.commands, after.redis.commands, calls) : undefined,
      redisUsecPerCallByCommand: stats ? perCallBetween(before.redis.usec, after.redis.usec, calls) : undefined,
      redisRoundTripsPerCall: roundTrips,
      redisScriptCommandsPerCall: scriptCommands,
      redisCommandsPerCallByName: censusCommands,
      rssMbPerReplica: rss.reduce((s, v) => s + v, 0) / rss.length / 2 ** 20,
      windowUs: { from: before.atUs, to: after.atUs },
    };
  } finally {
    loadgen.kill();
    stats?.close();
    monitor?.close();
  }
}

/** Load with no measurement, to warm a scenario's processes up. */
export async function primeLoad(target, era, settings) {
  const loadgen = startLoadgen({
    mode: 'load',
    url: target.url,
    era,
    clients: settings.clients,
    tool: 'whoami',
    args: {},
    phases: [{ name: 'prime', ms: settings.primeMs }],
    maxCalls: settings.maxCalls,
    timeoutMs: settings.timeoutMs,
  });
  try {
    await loadgen.next('phase-end', 'prime');
    await loadgen.exited;
  } finally {
    loadgen.kill();
  }
}

async function notifyOnce(era, streamUrl, triggerUrl, settings) {
  const loadgen = startLoadgen({ mode: 'notify', era, streamUrl, triggerUrl, samples: settings.notifySamples, timeoutMs: settings.notifyTimeoutMs });
  try {
    const result = await loadgen.next('notify');
    await loadgen.exited;
    return result;
  } catch (error) {
    // A probe that failed counts as nothing delivered; the run goes on.
    return { samples: 0, delivered: 0, latency: latencySummary([]), error: error instanceof Error ? error.message : String(error) };
  } finally {
    loadgen.kill();
  }
}

/** { same, cross }: the stream on the first replica, the trigger on it and (with 2+ replicas) on the second. */
export async function measureNotifications(target, era, settings) {
  const [a, b] = target.replicaUrls;
  const same = await notifyOnce(era, a, a, settings);
  const cross = b ? await notifyOnce(era, a, b, settings) : undefined;
  return { same, cross };
}
