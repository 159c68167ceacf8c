#!/usr/bin/env node
// npm run bench:scale: many idle legacy sessions over a 3-replica fleet (+ a share of modern
// clients), many open GET / listen streams, one broadcast to all of them. Reports delivery
// latency, memory per replica, bytes per session in Redis, replica memory per idle session.
// Writes bench/results/scale.json and scale.md.
// Usage: npm run bench:scale [-- --sessions 10000 --streams 1000 --modern-share 0.2 --concurrency 32]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFleet } from '../dist/fleet/index.js';
import { rssBytes } from './lib/procstat.js';
import { parseInfo, RedisProbe } from './lib/redis-probe.js';
import { latencySummary } from './lib/stats.js';
import { callTool, initializeSession, keepAliveAgent, openStream, postJson, rpc, sessionHeaders } from './lib/wire.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    // Session counts the fleet grows through; each step is measured on the way up.
    steps: { type: 'string', default: '1000,10000' },
    // Open streams per session (GET and listen together): 0.1 = 5,000 streams at 50,000 sessions.
    'stream-share': { type: 'string', default: '0.1' },
    'modern-share': { type: 'string', default: '0.2' },
    // all: every legacy session subscribes to the bumped resource (most without an open stream); streams: only those that hold one.
    subscribe: { type: 'string', default: 'all' },
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    'streams-via': { type: 'string', default: 'replicas' },
    'deadline-s': { type: 'string', default: '1800' },
    'idle-seconds': { type: 'string', default: '15' },
    eviction: { type: 'string', default: 'yes' },
    out: { type: 'string', default: path.join(HERE, 'results') },
  },
});
const STEPS = values.steps
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const SESSIONS = STEPS.at(-1);
const STREAM_SHARE = Number(values['stream-share']);
const MODERN_SHARE = Number(values['modern-share']);
const SUBSCRIBE_ALL = values.subscribe === 'all';
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const RESOURCE = 'counter://scale';
const streamsAt = (sessions) => {
  const total = Math.min(sessions, Math.round(sessions * STREAM_SHARE));
  const modern = Math.round(total * MODERN_SHARE);
  return { legacy: total - modern, modern };
};
const { legacy: LEGACY_STREAMS, modern: MODERN_STREAMS } = streamsAt(SESSIONS);
const STREAMS = LEGACY_STREAMS + MODERN_STREAMS;
// Streams are held on the replicas round robin by default; `--streams-via lb` opens them through
// HAProxy instead, so its delivery is part of the figures.
const VIA_LB = values['streams-via'] === 'lb';
const log = (line) => process.stderr.write(`${line}\n`);
const startedAt = performance.now();

// Bounded in time whatever happens.
setTimeout(() => {
  log(`bench:scale passed its deadline (${values['deadline-s']} s)`);
  process.exit(3);
}, Number(values['deadline-s']) * 1000).unref();

/** Runs `task(i)` for i < count, `concurrency` at a time. */
async function pool(count, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Runs `task(i)` for from <= i < to, `concurrency` at a time. */
const poolRange = (from, to, concurrency, task) => pool(Math.max(0, to - from), concurrency, (i) => task(from + i));

async function metricsOf(replica) {
  const text = await fetch(replica.metricsUrl).then((r) => r.text());
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapUsedBytes: value('nodejs_heap_size_used_bytes'), cachedRuntimes: value('mcp_fleet_cached_sessions') };
}

async function memory(fleet) {
  return Promise.all(fleet.replicas.map(async (r) => ({ replica: r.name, rssBytes: rssBytes(r.pid), ...(await metricsOf(r)) })));
}

const sum = (list, field) => list.reduce((s, x) => s + x[field], 0);
const max = (list, field) => list.reduce((m, x) => Math.max(m, x[field]), 0);
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);

async function redisSessionBytes(probe, sample = 200) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await probe.command('SCAN', cursor, 'MATCH', 'mcp-fleet:session:*', 'COUNT', '1000');
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0' && keys.length < sample);
  const sizes = [];
  for (const key of keys.slice(0, sample)) sizes.push(await probe.command('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  return { sampled: sizes.length, meanBytes: sizes.reduce((s, v) => s + v, 0) / Math.max(1, sizes.length), maxBytes: Math.max(...sizes) };
}

/** `count` whoami calls, `concurrency` at a time (legacy: on sessions drawn in turn from `sessions`). */
async function callRate(fleet, agent, sessions, count) {
  const latencies = [];
  let failed = 0;
  const t0 = performance.now();
  await pool(count, CONCURRENCY, async (i) => {
    const session = sessions ? sessions[(i * 7919) % sessions.length] : undefined;
    const t = performance.now();
    const answer = await callTool(fleet.url, session, 'whoami', {}, agent);
    if (answer.status === 200) latencies.push(performance.now() - t);
    else failed++;
  });
  return { callsPerSecond: count / ((performance.now() - t0) / 1000), failed, ...latencySummary(latencies) };
}

const IDLE_SECONDS = Number(values['idle-seconds']);
const SETTLE_POLLS = 10;
// Idle runtimes go after IDLE_SECONDS (the sweep runs as often): short, so the run sees them go.
// A heap snapshot starts with a full GC: SIGUSR2 after the eviction collects what it freed.
const diagnostics = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-scale-'));
const fleet = await startFleet({
  replicas: 3,
  // MAX_LISTEN_STREAMS (1024 per replica by default) would refuse the listen streams past it.
  env: {
    LOG_LEVEL: 'warn',
    RUNTIME_IDLE_SECONDS: String(IDLE_SECONDS),
    MAX_LISTEN_STREAMS: String(Math.max(1024, MODERN_STREAMS)),
    NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${diagnostics}`,
  },
  quiet: true,
});
const probe = await RedisProbe.connect(fleet.redis.port);
const agent = keepAliveAgent(CONCURRENCY);
const streamAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const streams = [];
const result = {
  date: new Date().toISOString(),
  machine: { nproc: os.availableParallelism?.() ?? os.cpus().length, cpuModel: os.cpus()[0]?.model.trim(), node: process.version, loadAverage: os.loadavg() },
  settings: {
    steps: STEPS,
    sessions: SESSIONS,
    legacyStreams: LEGACY_STREAMS,
    modernStreams: MODERN_STREAMS,
    subscribed: SUBSCRIBE_ALL ? 'every legacy session' : 'sessions holding a GET stream',
    calls: CALLS,
    concurrency: CONCURRENCY,
    streamsVia: VIA_LB ? 'lb' : 'replicas',
    runtimeIdleSeconds: IDLE_SECONDS,
  },
  steps: [],
};
try {
  // Warm the replicas up a little, so the baseline is not a cold process.
  await pool(300, CONCURRENCY, () => callTool(fleet.url, undefined, 'whoami', {}, agent));
  const baseline = await memory(fleet);
  const redisBefore = parseInfo(await probe.command('INFO', 'memory')).used_memory;
  const sessions = [];
  const modernEvery = MODERN_SHARE > 0 ? Math.max(1, Math.round(1 / MODERN_SHARE)) : Infinity;
  const subscribe = async (session) => {
    const answer = await postJson(fleet.url, rpc('resources/subscribe', { uri: RESOURCE }), sessionHeaders(session), agent);
    if (answer.status !== 200) throw new Error(`resources/subscribe: HTTP ${answer.status}`);
  };
  let armedAt;
  let opened = 0;
  const openOne = async (session) => {
    const entry = { legacy: session !== undefined, arrivals: 0, at: undefined };
    if (session && !SUBSCRIBE_ALL) await subscribe(session);
    const stream = await openStream(VIA_LB ? fleet.url : fleet.replicas[opened++ % fleet.replicas.length].url, {
      session,
      listen: session ? undefined : [RESOURCE],
      agent: streamAgent,
      onMessage: (m, at) => {
        if (m.method !== 'notifications/resources/updated' || m.params?.uri !== RESOURCE) return;
        entry.arrivals++;
        if (armedAt !== undefined && entry.at === undefined) entry.at = at;
      },
    });
    if (stream.status !== 200) throw new Error(`stream: HTTP ${stream.status}`);
    entry.close = stream.close;
    streams.push(entry);
  };
  const bump = () => callTool(fleet.url, undefined, 'bump', { name: 'scale' }, agent, 120_000);
  const waitAll = async (predicate, timeoutMs) => {
    const until = performance.now() + timeoutMs;
    while (!streams.every(predicate) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  };
  const delivery = (list) => ({
    streams: list.length,
    delivered: list.filter((s) => s.at !== undefined).length,
    ...latencySummary(list.filter((s) => s.at !== undefined).map((s) => s.at - armedAt)),
  });
  let legacyOpen = 0;
  let modernOpen = 0;
  let createSeconds = 0;

  for (const target of STEPS) {
    const from = sessions.length;
    log(`step ${target}: ${target - from} more legacy sessions${SUBSCRIBE_ALL ? ` subscribed to ${RESOURCE}` : ''} through HAProxy`);
    const t0 = performance.now();
    await poolRange(from, target, CONCURRENCY, async (i) => {
      const session = await initializeSession(fleet.url, agent);
      if (SUBSCRIBE_ALL) await subscribe(session);
      sessions[i] = session;
      if (i % modernEvery === 0) await callTool(fleet.url, undefined, 'whoami', {}, agent);
    });
    createSeconds += (performance.now() - t0) / 1000;
    const afterSessions = await memory(fleet);
    const wanted = streamsAt(target);
    log(`  opening streams up to ${wanted.legacy} GET and ${wanted.modern} listen`);
    await poolRange(legacyOpen, wanted.legacy, CONCURRENCY, (i) => openOne(sessions[i]));
    await poolRange(modernOpen, wanted.modern, CONCURRENCY, () => openOne(undefined));
    const newStreams = Math.max(0, wanted.legacy - legacyOpen) + Math.max(0, wanted.modern - modernOpen);
    legacyOpen = Math.max(legacyOpen, wanted.legacy);
    modernOpen = Math.max(modernOpen, wanted.modern);
    const withStreams = await memory(fleet);

    // The first bump is not measured: it shows every stream is attached wherever the fleet attaches it.
    armedAt = undefined;
    const heard = streams.map((s) => s.arrivals);
    await bump();
    await waitAll((s, i) => s.arrivals > (heard[i] ?? 0), 60_000);
    const attached = streams.filter((s, i) => s.arrivals > (heard[i] ?? 0)).length;
    for (const s of streams) s.at = undefined;
    log('  broadcasting one bump to every stream');
    armedAt = performance.now();
    const answer = await bump();
    const bumpAnsweredMs = performance.now() - armedAt;
    await waitAll((s) => s.at !== undefined, 60_000);
    const broadcast = {
      bumpStatus: answer.status,
      bumpAnsweredMs,
      attachedBeforeBroadcast: attached,
      all: delivery(streams),
      legacy: delivery(streams.filter((s) => s.legacy)),
      modern: delivery(streams.filter((s) => !s.legacy)),
    };
    log(`  ${CALLS} legacy and ${CALLS} modern whoami calls`);
    const legacyCalls = await callRate(fleet, agent, sessions, CALLS);
    const modernCalls = await callRate(fleet, agent, undefined, CALLS);
    const replicas = await memory(fleet);
    const redisNow = parseInfo(await probe.command('INFO', 'memory')).used_memory;
    result.steps.push({
      sessions: target,
      legacyStreams: legacyOpen,
      modernStreams: modernOpen,
      sessionsPerSecond: (target - from) / ((performance.now() - t0) / 1000),
      broadcast,
      legacyCalls,
      modernCalls,
      replicas,
      afterSessions,
      replicaRssPerStreamBytes: newStreams > 0 ? (sum(withStreams, 'rssBytes') - sum(afterSessions, 'rssBytes')) / newStreams : NaN,
      redisUsedMemoryPerSessionBytes: (redisNow - redisBefore) / target,
    });
    log(
      `  legacy p99 ${broadcast.legacy.p99?.toFixed(1)} ms, modern p99 ${broadcast.modern.p99?.toFixed(1)} ms; ${legacyCalls.callsPerSecond.toFixed(0)} legacy calls/s`,
    );
  }

  const last = result.steps.at(-1);
  const streamsBefore = result.steps.at(-2) ? result.steps.at(-2).legacyStreams + result.steps.at(-2).modernStreams : 0;
  const perStream = Number.isFinite(last.replicaRssPerStreamBytes) ? last.replicaRssPerStreamBytes : 0;
  result.sessions = {
    created: SESSIONS,
    perSecond: SESSIONS / createSeconds,
    redisKeys: await probe.command('DBSIZE'),
    redisUsedMemoryPerSessionBytes: last.redisUsedMemoryPerSessionBytes,
    redisSessionKey: await redisSessionBytes(probe),
    replicas: last.afterSessions,
    baseline,
    // What the sessions cost: the growth before the last step's streams opened, less what the earlier steps' streams hold.
    replicaRssPerSessionBytes: (sum(last.afterSessions, 'rssBytes') - sum(baseline, 'rssBytes') - perStream * streamsBefore) / SESSIONS,
    replicaHeapPerSessionBytes: (sum(last.afterSessions, 'heapUsedBytes') - sum(baseline, 'heapUsedBytes')) / SESSIONS,
  };
  result.broadcast = { ...last.broadcast, replicas: last.replicas, replicaRssPerStreamBytes: last.replicaRssPerStreamBytes };
  if (values.eviction === 'yes') {
    log(`closing the streams; waiting for the idle runtimes to be evicted (RUNTIME_IDLE_SECONDS=${IDLE_SECONDS})`);
    for (const s of streams.splice(0)) s.close?.();
    const evictedBy = performance.now() + (IDLE_SECONDS * 3 + 30) * 1000;
    let afterEviction = await memory(fleet);
    while (sum(afterEviction, 'cachedRuntimes') > 0 && performance.now() < evictedBy) {
      await new Promise((r) => setTimeout(r, 1000));
      afterEviction = await memory(fleet);
    }
    // A full GC in each replica (the heap snapshot's), then the lowest heap each reports meanwhile.
    for (const r of fleet.replicas) if (r.pid) process.kill(r.pid, 'SIGUSR2');
    for (let i = 0; i < SETTLE_POLLS; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      const now = await memory(fleet);
      afterEviction = afterEviction.map((r, j) => ({ ...now[j], heapUsedBytes: Math.min(r.heapUsedBytes, now[j].heapUsedBytes) }));
    }
    result.eviction = {
      replicas: afterEviction,
      runtimesLeft: sum(afterEviction, 'cachedRuntimes'),
      replicaRssPerSessionBytes: (sum(afterEviction, 'rssBytes') - sum(baseline, 'rssBytes')) / SESSIONS,
      replicaHeapPerSessionBytes: (sum(afterEviction, 'heapUsedBytes') - sum(baseline, 'heapUsedBytes')) / SESSIONS,
    };
  }
} finally {
  for (const s of streams) s.close?.();
  agent.destroy();
  probe.close();
  await fleet.stop();
  fs.rmSync(diagnostics, { recursive: true, force: true });
}

result.durationSeconds = (performance.now() - startedAt) / 1000;
const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const s = result.sessions;
const b = result.broadcast;
const e = result.eviction;
const replicaLines = s.replicas.map((r, i) => {
  const base = s.baseline[i];
  const streamed = b.replicas[i];
  const evicted = e?.replicas[i] ?? { rssBytes: Number.NaN, heapUsedBytes: Number.NaN };
  return `| ${r.replica} | ${mb(base.rssBytes)} | ${mb(r.rssBytes)} | ${mb(streamed.rssBytes)} | ${mb(evicted.rssBytes)} | ${mb(base.heapUsedBytes)} | ${mb(r.heapUsedBytes)} | ${mb(streamed.heapUsedBytes)} | ${mb(evicted.heapUsedBytes)} |`;
});
const markdown = [
  `Measured ${result.date} on ${result.machine.nproc} × ${result.machine.cpuModel}, Node ${result.machine.node} (load average ${result.machine.loadAverage.map((v) => v.toFixed(2)).join(' ')} at start): ` +
    `3 replicas + HAProxy on one redis-server, grown through ${STEPS.join(' → ')} legacy sessions; at ${SESSIONS}: ${SESSIONS} legacy sessions (${s.perSecond.toFixed(0)}/s created, with ${Math.round(SESSIONS * MODERN_SHARE)} modern whoami calls among them), ` +
    `${LEGACY_STREAMS} GET streams + ${MODERN_STREAMS} listen streams ` +
    `(${VIA_LB ? 'through HAProxy' : 'held on the replicas round robin'}), one bump through HAProxy.`,
  '',
  `As the fleet grows (${CALLS} whoami calls of each era through HAProxy at concurrency ${CONCURRENCY}; one bump to every open stream; ${result.settings.subscribed} subscribed to ${RESOURCE}):`,
  '',
  '| sessions | GET streams | listen streams | legacy calls/s | legacy call p99 ms | modern calls/s | modern call p99 ms | bump → GET p50 / p99 ms | bump → listen p50 / p99 ms | bump answered ms | RSS MB per replica (max) | heap MB per replica (max) | Redis B per session |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...result.steps.map(
    (st) =>
      `| ${st.sessions} | ${st.legacyStreams} | ${st.modernStreams} | ${st.legacyCalls.callsPerSecond.toFixed(0)} | ${ms(st.legacyCalls.p99)} | ${st.modernCalls.callsPerSecond.toFixed(0)} | ${ms(st.modernCalls.p99)} | ` +
      `${ms(st.broadcast.legacy.p50)} / ${ms(st.broadcast.legacy.p99)} | ${ms(st.broadcast.modern.p50)} / ${ms(st.broadcast.modern.p99)} | ${ms(st.broadcast.bumpAnsweredMs)} | ` +
      `${mb(max(st.replicas, 'rssBytes'))} | ${mb(max(st.replicas, 'heapUsedBytes'))} | ${st.redisUsedMemoryPerSessionBytes.toFixed(0)} |`,
  ),
  '',
  `At ${SESSIONS} sessions:`,
  '',
  '| broadcast | streams | delivered | p50 ms | p99 ms | max ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...['all', 'legacy', 'modern'].map((k) => `| ${k} | ${b[k].streams} | ${b[k].delivered} | ${ms(b[k].p50)} | ${ms(b[k].p99)} | ${ms(b[k].max)} |`),
  '',
  `The bump's own answer came after ${b.bumpAnsweredMs.toFixed(1)} ms; ${b.attachedBeforeBroadcast}/${STREAMS} streams had heard the unmeasured first bump.`,
  '',
  '| replica | RSS MB idle | RSS MB with sessions | RSS MB with streams | RSS MB after eviction | heap MB idle | heap MB with sessions | heap MB with streams | heap MB after eviction |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...replicaLines,
  '',
  `Per idle session, over the fleet: ${(s.replicaRssPerSessionBytes / 1024).toFixed(1)} KiB RSS, ${(s.replicaHeapPerSessionBytes / 1024).toFixed(1)} KiB heap on the replicas; ` +
    `per open stream: ${(b.replicaRssPerStreamBytes / 1024).toFixed(1)} KiB RSS. ` +
    `Redis: ${s.redisSessionKey.meanBytes.toFixed(0)} B per session key (MEMORY USAGE of ${s.redisSessionKey.sampled}, max ${s.redisSessionKey.maxBytes}), ` +
    `${s.redisUsedMemoryPerSessionBytes.toFixed(0)} B of used_memory per session, ${s.redisKeys} keys.`,
  '',
  e === undefined
    ? '(no eviction phase: --eviction no)'
    : `After eviction (streams closed, idle runtimes dropped after RUNTIME_IDLE_SECONDS=${IDLE_SECONDS}; ${e.runtimesLeft} runtimes left): ` +
      `${(e.replicaRssPerSessionBytes / 1024).toFixed(1)} KiB RSS and ${(e.replicaHeapPerSessionBytes / 1024).toFixed(1)} KiB heap per session over the fleet ` +
      `(heap: the lowest each replica reported over ${SETTLE_POLLS * 2} s after a full GC, a heap snapshot's; RSS a process keeps once grown; the session read cache keeps its entries, at most RUNTIME_CACHE_MAX_SESSIONS per replica).`,
  '',
  `The whole run took ${result.durationSeconds.toFixed(0)} s.`,
  '',
].join('\n');
fs.mkdirSync(values.out, { recursive: true });
fs.writeFileSync(path.join(values.out, 'scale.json'), `${JSON.stringify(result, null, 2)}\n`);
fs.writeFileSync(path.join(values.out, 'scale.md'), markdown);
process.stdout.write(markdown);
process.exit(0);
