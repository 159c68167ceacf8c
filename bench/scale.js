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
    sessions: { type: 'string', default: '10000' },
    streams: { type: 'string', default: '1000' },
    'modern-share': { type: 'string', default: '0.2' },
    concurrency: { type: 'string', default: '32' },
    'streams-via': { type: 'string', default: 'replicas' },
    'deadline-s': { type: 'string', default: '900' },
    'idle-seconds': { type: 'string', default: '15' },
    out: { type: 'string', default: path.join(HERE, 'results') },
  },
});
const SESSIONS = Number(values.sessions);
const STREAMS = Math.min(Number(values.streams), SESSIONS);
const MODERN_SHARE = Number(values['modern-share']);
const MODERN_STREAMS = Math.round(STREAMS * MODERN_SHARE);
const LEGACY_STREAMS = STREAMS - MODERN_STREAMS;
const CONCURRENCY = Number(values.concurrency);
const RESOURCE = 'counter://scale';
// Streams are held on the replicas round robin by default; `--streams-via lb` opens them through
// HAProxy instead, so its delivery is part of the figures.
const VIA_LB = values['streams-via'] === 'lb';
const log = (line) => process.stderr.write(`${line}\n`);

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

async function metricsOf(replica) {
  const text = await fetch(replica.metricsUrl).then((r) => r.text());
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapUsedBytes: value('nodejs_heap_size_used_bytes'), cachedRuntimes: value('mcp_fleet_cached_sessions') };
}

async function memory(fleet) {
  return Promise.all(fleet.replicas.map(async (r) => ({ replica: r.name, rssBytes: rssBytes(r.pid), ...(await metricsOf(r)) })));
}

const sum = (list, field) => list.reduce((s, x) => s + x[field], 0);
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

const IDLE_SECONDS = Number(values['idle-seconds']);
const SETTLE_POLLS = 10;
// Idle runtimes go after IDLE_SECONDS (the sweep runs as often): short, so the run sees them go.
// A heap snapshot starts with a full GC: SIGUSR2 after the eviction collects what it freed.
const diagnostics = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-scale-'));
const fleet = await startFleet({
  replicas: 3,
  env: { LOG_LEVEL: 'warn', RUNTIME_IDLE_SECONDS: String(IDLE_SECONDS), NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${diagnostics}` },
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
    sessions: SESSIONS,
    legacyStreams: LEGACY_STREAMS,
    modernStreams: MODERN_STREAMS,
    concurrency: CONCURRENCY,
    streamsVia: VIA_LB ? 'lb' : 'replicas',
    runtimeIdleSeconds: IDLE_SECONDS,
  },
};
try {
  // Warm the replicas up a little, so the baseline is not a cold process.
  await pool(300, CONCURRENCY, () => callTool(fleet.url, undefined, 'whoami', {}, agent));
  const baseline = await memory(fleet);
  const redisBefore = parseInfo(await probe.command('INFO', 'memory')).used_memory;

  log(`creating ${SESSIONS} legacy sessions (+ ${Math.round(SESSIONS * MODERN_SHARE)} modern whoami calls) through HAProxy`);
  const sessions = new Array(SESSIONS);
  const t0 = performance.now();
  const modernEvery = MODERN_SHARE > 0 ? Math.max(1, Math.round(1 / MODERN_SHARE)) : Infinity;
  await pool(SESSIONS, CONCURRENCY, async (i) => {
    sessions[i] = await initializeSession(fleet.url, agent);
    if (i % modernEvery === 0) await callTool(fleet.url, undefined, 'whoami', {}, agent);
  });
  const createSeconds = (performance.now() - t0) / 1000;
  const afterSessions = await memory(fleet);
  const redisAfter = parseInfo(await probe.command('INFO', 'memory')).used_memory;
  result.sessions = {
    created: SESSIONS,
    perSecond: SESSIONS / createSeconds,
    redisKeys: await probe.command('DBSIZE'),
    redisUsedMemoryPerSessionBytes: (redisAfter - redisBefore) / SESSIONS,
    redisSessionKey: await redisSessionBytes(probe),
    replicas: afterSessions,
    baseline,
    replicaRssPerSessionBytes: (sum(afterSessions, 'rssBytes') - sum(baseline, 'rssBytes')) / SESSIONS,
    replicaHeapPerSessionBytes: (sum(afterSessions, 'heapUsedBytes') - sum(baseline, 'heapUsedBytes')) / SESSIONS,
  };
  log(`  ${result.sessions.perSecond.toFixed(0)} sessions/s; Redis ${result.sessions.redisSessionKey.meanBytes.toFixed(0)} B per session key`);

  log(`opening ${LEGACY_STREAMS} GET streams (subscribed to ${RESOURCE}) and ${MODERN_STREAMS} listen streams`);
  let armedAt;
  let opened = 0;
  const openOne = async (index, legacy) => {
    const entry = { legacy, arrivals: 0, at: undefined };
    const session = legacy ? sessions[index] : undefined;
    if (legacy) {
      const answer = await postJson(fleet.url, rpc('resources/subscribe', { uri: RESOURCE }), sessionHeaders(session), agent);
      if (answer.status !== 200) throw new Error(`resources/subscribe: HTTP ${answer.status}`);
    }
    const stream = await openStream(VIA_LB ? fleet.url : fleet.replicas[opened++ % fleet.replicas.length].url, {
      session,
      listen: legacy ? undefined : [RESOURCE],
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
  await pool(LEGACY_STREAMS, CONCURRENCY, (i) => openOne(i, true));
  await pool(MODERN_STREAMS, CONCURRENCY, () => openOne(0, false));
  const withStreams = await memory(fleet);

  // The first bump is not measured: it shows every stream is attached wherever the fleet attaches it.
  const bump = () => callTool(fleet.url, undefined, 'bump', { name: 'scale' }, agent, 60_000);
  const waitAll = async (predicate, timeoutMs) => {
    const until = performance.now() + timeoutMs;
    while (!streams.every(predicate) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  };
  await bump();
  await waitAll((s) => s.arrivals >= 1, 30_000);
  const attached = streams.filter((s) => s.arrivals >= 1).length;

  log('broadcasting one bump to every stream');
  armedAt = performance.now();
  const answer = await bump();
  const bumpAnsweredMs = performance.now() - armedAt;
  await waitAll((s) => s.at !== undefined, 30_000);
  const delivery = (list) => ({
    streams: list.length,
    delivered: list.filter((s) => s.at !== undefined).length,
    ...latencySummary(list.filter((s) => s.at !== undefined).map((s) => s.at - armedAt)),
  });
  result.broadcast = {
    bumpStatus: answer.status,
    bumpAnsweredMs,
    attachedBeforeBroadcast: attached,
    all: delivery(streams),
    legacy: delivery(streams.filter((s) => s.legacy)),
    modern: delivery(streams.filter((s) => !s.legacy)),
    replicas: withStreams,
    replicaRssPerStreamBytes: (sum(withStreams, 'rssBytes') - sum(afterSessions, 'rssBytes')) / Math.max(1, STREAMS),
  };

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
} finally {
  for (const s of streams) s.close?.();
  agent.destroy();
  probe.close();
  await fleet.stop();
  fs.rmSync(diagnostics, { recursive: true, force: true });
}

const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const s = result.sessions;
const b = result.broadcast;
const e = result.eviction;
const replicaLines = s.replicas.map((r, i) => {
  const base = s.baseline[i];
  const streamed = b.replicas[i];
  const evicted = e.replicas[i];
  return `| ${r.replica} | ${mb(base.rssBytes)} | ${mb(r.rssBytes)} | ${mb(streamed.rssBytes)} | ${mb(evicted.rssBytes)} | ${mb(base.heapUsedBytes)} | ${mb(r.heapUsedBytes)} | ${mb(streamed.heapUsedBytes)} | ${mb(evicted.heapUsedBytes)} |`;
});
const markdown = [
  `Measured ${result.date} on ${result.machine.nproc} × ${result.machine.cpuModel}, Node ${result.machine.node} (load average ${result.machine.loadAverage.map((v) => v.toFixed(2)).join(' ')} at start): ` +
    `3 replicas + HAProxy on one redis-server; ${SESSIONS} legacy sessions (${s.perSecond.toFixed(0)}/s created, with ${Math.round(SESSIONS * MODERN_SHARE)} modern whoami calls among them), ` +
    `${LEGACY_STREAMS} GET streams (sessions subscribed to ${RESOURCE}) + ${MODERN_STREAMS} listen streams ` +
    `(${VIA_LB ? 'through HAProxy' : 'held on the replicas round robin'}), one bump through HAProxy.`,
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
  `After eviction (streams closed, idle runtimes dropped after RUNTIME_IDLE_SECONDS=${IDLE_SECONDS}; ${e.runtimesLeft} runtimes left): ` +
    `${(e.replicaRssPerSessionBytes / 1024).toFixed(1)} KiB RSS and ${(e.replicaHeapPerSessionBytes / 1024).toFixed(1)} KiB heap per session over the fleet ` +
    `(heap: the lowest each replica reported over ${SETTLE_POLLS * 2} s after a full GC, a heap snapshot's; RSS a process keeps once grown; the session read cache keeps its entries, at most RUNTIME_CACHE_MAX_SESSIONS per replica).`,
  '',
].join('\n');
fs.mkdirSync(values.out, { recursive: true });
fs.writeFileSync(path.join(values.out, 'scale.json'), `${JSON.stringify(result, null, 2)}\n`);
fs.writeFileSync(path.join(values.out, 'scale.md'), markdown);
process.stdout.write(markdown);
process.exit(0);
