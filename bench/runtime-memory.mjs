#!/usr/bin/env node
// Heap bytes per cached legacy session runtime (one McpServer + SessionTransport), built through the
// replica's own code path: the same build deps as src/server/fleet-server.ts (memory backends), a
// RuntimeCache, createFresh + initialize + notifications/initialized as the session endpoint does,
// and optionally some use of each session (tools/list, a whoami call, prompts/list, resources/read).
//
//   node --expose-gc bench/runtime-memory.mjs [--sizes 500,1000,2000] [--workload reference|conformance]
//        [--use none|list-call] [--json out.json]
//
// Needs `npm run build` (imports dist/). Memory figures are deltas of heapUsed (after forced GCs)
// between an empty cache and one holding N runtimes, divided by N; the store's records are not
// counted (the runtimes are built without storing sessions).
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../dist/config.js';
import { NOOP_OBSERVER } from '../dist/observability/observer.js';
import { createBackends } from '../dist/backends/index.js';
import { ChangeEventPublisher } from '../dist/server/change-events.js';
import { ResourceUpdatePublisher } from '../dist/server/legacy/resource-events.js';
import { PendingClientRequests } from '../dist/server/legacy/pending-client-requests.js';
import { RequestLives } from '../dist/server/legacy/request-life.js';
import { RuntimeCache } from '../dist/server/legacy/runtime-cache.js';
import { bindToMethodAndPrincipal, createKeyRingCodec, ephemeralKey } from '../dist/request-state/key-ring.js';
import { loadWorkload } from '../dist/workload/load-workload.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '500,1000,2000' },
    workload: { type: 'string', default: 'reference' },
    use: { type: 'string', default: 'list-call' },
    json: { type: 'string' },
  },
});
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const sizes = values.sizes.split(',').map(Number);
const use = values.use;
if (!['none', 'list-call'].includes(use)) throw new Error('--use is none or list-call');

const config = loadConfig({ POD_NAME: 'bench-replica', LOG_LEVEL: 'error' });
const backends = await createBackends(config, NOOP_OBSERVER);
const { store, streams, shared, bus } = backends;
const pending = new PendingClientRequests(streams.instanceId);
const runtimeDeps = {
  build: {
    workload: await loadWorkload(values.workload),
    replicaName: config.replicaName,
    shared,
    events: new ChangeEventPublisher(bus, new ResourceUpdatePublisher(store, streams)),
    requestState: createKeyRingCodec({ keys: [ephemeralKey()], ttlSeconds: 60, bind: bindToMethodAndPrincipal }),
    observer: NOOP_OBSERVER,
    clientRequestTimeoutMs: config.clientRequestTimeoutMs,
  },
  store,
  maxSubscriptionsPerSession: config.maxSubscriptionsPerSession,
  maxPendingClientRequests: config.maxPendingClientRequests,
  streams,
  pending,
  lives: new RequestLives(),
};

const PROTOCOL = '2025-11-25';
let nextId = 0;
const call = async (runtime, method, params) => {
  const response = await runtime.transport.request({ jsonrpc: '2.0', id: `bench-${++nextId}`, method, params });
  if ('error' in response) throw new Error(`${method}: ${JSON.stringify(response.error)}`);
  return response;
};

async function buildRuntime(cache, sessionId) {
  const runtime = await cache.createFresh(sessionId);
  const response = await runtime.initialize({
    jsonrpc: '2.0',
    id: `init-${++nextId}`,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL, capabilities: { sampling: {}, elicitation: {}, roots: {} }, clientInfo: { name: 'bench', version: '1' } },
  });
  if ('error' in response) throw new Error(`initialize: ${JSON.stringify(response.error)}`);
  runtime.transport.dispatchNotification({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (use === 'list-call') {
    await call(runtime, 'tools/list', {});
    if (values.workload === 'reference') {
      await call(runtime, 'tools/call', { name: 'whoami', arguments: {} });
      await call(runtime, 'prompts/list', {});
      await call(runtime, 'resources/read', { uri: 'counter://bench' });
    } else {
      await call(runtime, 'tools/call', { name: 'test_simple_text', arguments: {} });
      await call(runtime, 'prompts/list', {});
      await call(runtime, 'resources/list', {});
    }
  }
  return runtime;
}

async function settledHeap() {
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

// Warm-up: module-level caches, lazy SDK singletons, JIT; not counted.
{
  const cache = new RuntimeCache(runtimeDeps, NOOP_OBSERVER, 3_600_000, 1_000_000);
  for (let i = 0; i < 200; i++) await buildRuntime(cache, `warm-${i}`);
  await cache.closeAll();
}

const rows = [];
for (const n of sizes) {
  const cache = new RuntimeCache(runtimeDeps, NOOP_OBSERVER, 3_600_000, 1_000_000);
  const before = await settledHeap();
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) await buildRuntime(cache, `s-${n}-${i}`);
  const cpu = process.cpuUsage(started);
  const after = await settledHeap();
  if (cache.size !== n) throw new Error(`cache holds ${cache.size}, expected ${n}`);
  rows.push({ n, heapBytes: after - before, bytesPerRuntime: Math.round((after - before) / n), buildCpuUsPerRuntime: Math.round((cpu.user + cpu.system) / n) });
  await cache.closeAll();
  await settledHeap();
}

console.log(`workload ${values.workload}, use ${use}, node ${process.version}`);
console.log('| runtimes | heap delta (MiB) | bytes/runtime | KiB/runtime | build CPU µs/runtime |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(
    `| ${row.n} | ${(row.heapBytes / 1048576).toFixed(1)} | ${row.bytesPerRuntime} | ${(row.bytesPerRuntime / 1024).toFixed(1)} | ${row.buildCpuUsPerRuntime} |`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify({ workload: values.workload, use, node: process.version, rows }, null, 2));
pending.close();
await backends.close();
await store.close();
