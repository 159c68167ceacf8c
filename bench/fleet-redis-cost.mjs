#!/usr/bin/env node
// Redis time per MCP request as the replicas' own histograms report it, after known traffic
// through the local fleet (3 replica processes, HAProxy, one redis-server).
// Usage: npm run bench:fleet [-- --calls 3000 --concurrency 32]
import { parseArgs } from 'node:util';
import { startFleet } from '../dist/fleet/index.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '32' } } });
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

/** Sums the cumulative buckets of one histogram over every replica's exposition. */
function buckets(texts, name, labels) {
  const totals = new Map();
  const match = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`);
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = match.exec(line);
      if (!m) continue;
      const pairs = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1], p[2]]));
      if (!Object.entries(labels).every(([k, v]) => pairs[k] === v)) continue;
      const le = pairs.le === '+Inf' ? Infinity : Number(pairs.le);
      totals.set(le, (totals.get(le) ?? 0) + Number(m[2]));
    }
  }
  return [...totals.entries()].sort((a, b) => a[0] - b[0]);
}

/** The sum of one series (`_sum` or `_count`) over every replica's exposition. */
function total(texts, series, labels) {
  const match = new RegExp(`^${series}\\{([^}]*)\\} (\\S+)$`);
  let sum = 0;
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = match.exec(line);
      if (!m) continue;
      const pairs = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1], p[2]]));
      if (Object.entries(labels).every(([k, v]) => pairs[k] === v)) sum += Number(m[2]);
    }
  }
  return sum;
}

/** histogram_quantile's linear interpolation within the bucket that holds the rank. */
function quantile(q, sorted) {
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return previousLe;
      return previousLe + ((le - previousLe) * (rank - previousCount)) / Math.max(1, count - previousCount);
    }
    previousLe = le;
    previousCount = count;
  }
  return NaN;
}

async function post(url, body, session) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, ...(session ? { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' } : {}) },
    body: JSON.stringify(body),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return response;
}

const fleet = await startFleet({ replicas: 3, env: { LOG_LEVEL: 'warn' } });
try {
  const sessions = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const response = await post(fleet.url, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    });
    sessions.push(response.headers.get('mcp-session-id'));
  }
  const scrape = () => Promise.all(fleet.replicas.map((r) => fetch(r.metricsUrl).then((x) => x.text())));
  const before = await scrape();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    sessions.map(async (session) => {
      while (next < CALLS) {
        const id = ++next;
        await post(fleet.url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, session);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await scrape();
  const labels = { method: 'tools/call', store: 'redis' };
  const diff = (name, l) => {
    const a = new Map(buckets(after, name, l));
    for (const [le, count] of buckets(before, name, l)) a.set(le, a.get(le) - count);
    return [...a.entries()].sort((x, y) => x[0] - y[0]);
  };
  const redis = diff('mcp_fleet_request_store_seconds', labels);
  const duration = diff('mcp_fleet_request_duration_seconds', { method: 'tools/call', status: '200' });
  const delta = (series) => total(after, series, labels) - total(before, series, labels);
  const commandsPerCall = delta('mcp_fleet_request_store_commands_sum') / delta('mcp_fleet_request_store_commands_count');
  const ms = (v) => (v * 1000).toFixed(3);
  console.log(
    `${CALLS} tools/call (whoami) through HAProxy to 3 replica processes on one redis-server, ${CONCURRENCY} sessions in parallel, ${(CALLS / seconds).toFixed(0)} calls/s`,
  );
  console.log("figure (from the replicas' histograms)      | p50 ms  | p99 ms  | observations");
  console.log('-------------------------------------------|---------|---------|-------------');
  console.log(
    `Redis time per tools/call                  | ${ms(quantile(0.5, redis)).padStart(7)} | ${ms(quantile(0.99, redis)).padStart(7)} | ${redis.at(-1)[1]}`,
  );
  console.log(
    `tools/call duration inside the replica     | ${ms(quantile(0.5, duration)).padStart(7)} | ${ms(quantile(0.99, duration)).padStart(7)} | ${duration.at(-1)[1]}`,
  );
  console.log(
    `Redis commands per tools/call (mean)       | ${commandsPerCall.toFixed(2).padStart(7)} |         | ${delta('mcp_fleet_request_store_commands_count')}`,
  );
} finally {
  await fleet.stop();
}
