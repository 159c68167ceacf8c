#!/usr/bin/env node
// What the Redis path costs per request, measured: tools/call latency (p50/p95/p99), throughput,
// Redis commands and Redis time per request, in memory vs on Redis, and across replicas.
// Usage: npm run bench:request-cost [-- --calls 2000 --concurrency 16]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config.js';
import { RedisProcess } from '../dist/fleet/redis-process.js';
import { NOOP_OBSERVER } from '../dist/observability/observer.js';
import { createFleetServer } from '../dist/server/fleet-server.js';
import { referenceWorkload } from '../dist/workload/reference.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' } } });
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

async function replica(name, env, costs) {
  const observer = {
    ...NOOP_OBSERVER,
    requestFinished: (e) => {
      if (e.method === 'tools/call') costs.push(e);
    },
  };
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', POD_NAME: name, LOG_LEVEL: 'warn', ...env });
  const server = await createFleetServer({ config, workload: referenceWorkload, observer });
  const port = await server.listen();
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return { server, url: `http://127.0.0.1:${port}/mcp` };
}

async function initialize(url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  });
  await response.text();
  return response.headers.get('mcp-session-id');
}

async function run(label, urls, tool, args) {
  const session = await initialize(urls[0]);
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        const i = next++;
        const t0 = performance.now();
        const response = await fetch(urls[i % urls.length], {
          method: 'POST',
          headers: { ...HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' },
          body: JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: tool, arguments: args } }),
        });
        await response.text();
        if (response.status !== 200) throw new Error(`${label}: HTTP ${response.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
  return { label, seconds, latencies, q };
}

function row(result, costs) {
  const commands = costs.reduce((s, c) => s + c.storeCommands, 0) / Math.max(1, costs.length);
  const redisMs = (costs.reduce((s, c) => s + c.storeSeconds, 0) / Math.max(1, costs.length)) * 1000;
  const redisSorted = costs.map((c) => c.storeSeconds * 1000).sort((a, b) => a - b);
  const rq = (p) => (redisSorted.length ? redisSorted[Math.min(redisSorted.length - 1, Math.floor(p * redisSorted.length))].toFixed(3) : '0');
  return [
    result.label,
    (CALLS / result.seconds).toFixed(0),
    result.q(0.5),
    result.q(0.95),
    result.q(0.99),
    commands.toFixed(2),
    redisMs.toFixed(3),
    rq(0.5),
    rq(0.99),
  ];
}

const redis = await RedisProcess.start();
// On Redis every replica must share the requestState keys.
const onRedis = { REDIS_URL: redis.url, REQUEST_STATE_KEYS: randomBytes(32).toString('base64url') };
const rows = [];
const scenarios = [
  { label: 'memory, 1 replica, whoami', env: {}, replicas: 1, tool: 'whoami', args: {} },
  { label: 'redis, 1 replica, whoami', env: onRedis, replicas: 1, tool: 'whoami', args: {} },
  { label: 'redis, 3 replicas round-robin, whoami', env: onRedis, replicas: 3, tool: 'whoami', args: {} },
  { label: 'memory, 1 replica, notify x3', env: {}, replicas: 1, tool: 'notify', args: { message: 'b', count: 3 } },
  { label: 'redis, 3 replicas, notify x3', env: onRedis, replicas: 3, tool: 'notify', args: { message: 'b', count: 3 } },
];
for (const scenario of scenarios) {
  const costs = [];
  const replicas = [];
  for (let i = 0; i < scenario.replicas; i++) replicas.push(await replica(`bench-${i}`, scenario.env, costs));
  await run(
    'warm-up',
    replicas.map((r) => r.url),
    scenario.tool,
    scenario.args,
  );
  costs.length = 0;
  const result = await run(
    scenario.label,
    replicas.map((r) => r.url),
    scenario.tool,
    scenario.args,
  );
  rows.push(row(result, costs));
  for (const r of replicas) await r.server.shutdown();
}
await redis.dispose();

const header = ['scenario', 'calls/s', 'p50 ms', 'p95 ms', 'p99 ms', 'redis cmds/call', 'redis ms/call', 'redis p50 ms', 'redis p99 ms'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ');
console.log(`${CALLS} tools/call per scenario, ${CONCURRENCY} concurrent, one session, client and replicas in one Node process on loopback`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
process.exit(0);
