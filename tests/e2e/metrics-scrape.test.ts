import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/fleet/poll.js';
import { freePort } from '../../src/fleet/free-port.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { parseExposition, select, type Sample } from '../metrics/exposition.js';
import { promtool, RUN_PROMTOOL_TESTS } from '../metrics/promtool.js';
import { callTool, initialize, modernRequest, postModern, SseStream, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** Scrapes real replicas and checks the figures move the right way after known traffic. */

/** A series' value, 0 while it has not been observed yet (a histogram child appears on first use). */
const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  select(samples, name, labels).reduce((sum, sample) => sum + sample.value, 0);
let redis: RedisProcess;
let a: { server: ServerProcess; metrics: string };
let b: { server: ServerProcess; metrics: string };

async function replica(name: string) {
  const port = await freePort();
  const server = await ServerProcess.start(name, { REDIS_URL: redis.url, METRICS_PORT: String(port) });
  return { server, metrics: `http://127.0.0.1:${port}/metrics` };
}

async function scrape(target: { metrics: string }): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(target.metrics);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

/** Scrapes `target` until `predicate` holds (streams close, and Redis relays, asynchronously). */
async function scrapeUntil(target: { metrics: string }, predicate: (samples: Sample[]) => boolean): Promise<Sample[]> {
  let last: Sample[] = [];
  return pollUntil(
    async () => {
      last = (await scrape(target)).samples;
      return predicate(last) ? last : undefined;
    },
    { timeoutMs: 5000, timedOut: () => new Error(`metrics condition not met: ${JSON.stringify(select(last, 'mcp_fleet_open_streams'))}`) },
  );
}

/** Change of each series between two scrapes. */
const deltaOf =
  (before: Sample[], after: Sample[]) =>
  (name: string, labels: Record<string, string> = {}) =>
    valueOf(after, name, labels) - valueOf(before, name, labels);

beforeAll(async () => {
  redis = await RedisProcess.start();
  [a, b] = await Promise.all([replica('metrics-a'), replica('metrics-b')]);
});

afterAll(async () => {
  await Promise.all([a?.server.stop('SIGKILL'), b?.server.stop('SIGKILL')]);
  await redis?.dispose();
});

describe('/metrics of running replicas', () => {
  it('N tools/call give N observations of Redis time, Redis commands and duration', async () => {
    const session = await initialize(a.server.url);
    const before = (await scrape(a)).samples;
    const calls = 7;
    // The session is read once (initialized) and then served from the replica's cache: each
    // call's one command is its notification's append-and-publish.
    for (let i = 0; i < calls; i++) await callTool(a.server.url, session, 'notify', { message: 'm', count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = (await scrape(a)).samples;
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    const call = { method: 'tools/call', store: 'redis' };
    expect(delta('mcp_fleet_request_store_seconds_count', call)).toBe(calls);
    expect(delta('mcp_fleet_request_store_commands_count', call)).toBe(calls);
    expect(delta('mcp_fleet_request_store_commands_sum', call)).toBe(calls);
    expect(delta('mcp_fleet_request_store_seconds_sum', call)).toBeGreaterThan(0);
    expect(delta('mcp_fleet_request_duration_seconds_count', { method: 'tools/call', status: '200' })).toBe(calls);
    expect(delta('mcp_fleet_store_command_seconds_count', { store: 'redis', operation: 'stream_publish' })).toBe(calls);
    expect(delta('mcp_fleet_store_command_seconds_count', { operation: 'hgetall' })).toBe(0);
  });

  it('a notify sent through A and delivered on B counts as a Redis delivery on B, with its latency', async () => {
    const session = await initialize(a.server.url);
    const stream = await SseStream.open(b.server.url, session);
    const before = (await scrape(b)).samples;
    await callTool(a.server.url, session, 'notify', { message: 'm', count: 4 });
    await stream.waitFor((s) => s.messages.length === 4);
    const after = (await scrape(b)).samples;
    const labels = { kind: 'notification', path: 'store' };
    expect(valueOf(after, 'mcp_fleet_deliveries_total', labels) - valueOf(before, 'mcp_fleet_deliveries_total', labels)).toBe(4);
    expect(valueOf(after, 'mcp_fleet_delivery_latency_seconds_count', labels) - valueOf(before, 'mcp_fleet_delivery_latency_seconds_count', labels)).toBe(4);
    expect(valueOf(after, 'mcp_fleet_open_streams', { kind: 'get' })).toBeGreaterThanOrEqual(1);
    stream.close();
  });

  it('reports the session read cache on while Redis announces session changes to the replica', async () => {
    for (const replica of [a, b]) {
      await expect.poll(async () => valueOf((await scrape(replica)).samples, 'mcp_fleet_session_cache_tracking', {}), { timeout: 5000 }).toBe(1);
    }
  });

  it('counts sessions created and deleted, 404s and replays', async () => {
    const [beforeA, beforeB] = [(await scrape(a)).samples, (await scrape(b)).samples];
    const session = await initialize(a.server.url);
    const first = await SseStream.open(b.server.url, session);
    await callTool(a.server.url, session, 'notify', { message: 'r', count: 2 });
    await first.waitFor((s) => s.messages.length === 2);
    const cursor = first.frames[0]!.id!;
    first.close();
    const replay = await SseStream.open(b.server.url, session, cursor);
    await replay.waitFor((s) => s.messages.length === 2);
    replay.close();
    await fetch(b.server.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
    await callTool(b.server.url, session, 'whoami');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [afterA, afterB] = [(await scrape(a)).samples, (await scrape(b)).samples];
    const d = (after: Sample[], before: Sample[], name: string) => valueOf(after, name) - valueOf(before, name);
    expect(d(afterA, beforeA, 'mcp_fleet_sessions_created_total')).toBe(1);
    expect(d(afterB, beforeB, 'mcp_fleet_sessions_deleted_total')).toBe(1);
    expect(d(afterB, beforeB, 'mcp_fleet_session_not_found_total')).toBe(1);
    expect(d(afterB, beforeB, 'mcp_fleet_replays_total')).toBe(1);
    expect(d(afterB, beforeB, 'mcp_fleet_replayed_events_total')).toBe(2);
  });

  it('a 2026-07-28 tools/call counts on the era="modern" series, a session one on era="legacy"', async () => {
    const session = await initialize(a.server.url);
    const before = (await scrape(a)).samples;
    const modern = await postModern(a.server.url, modernRequest('tools/call', { name: 'whoami', arguments: {} }));
    expect(modern.status).toBe(200);
    expect(toolJson(modern).replica).toBe('metrics-a');
    await callTool(a.server.url, session, 'notify', { message: 'm', count: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const delta = deltaOf(before, (await scrape(a)).samples);
    for (const era of ['modern', 'legacy']) {
      const call = { era, method: 'tools/call' };
      expect(delta('mcp_fleet_request_duration_seconds_count', { ...call, status: '200' }), era).toBe(1);
      expect(delta('mcp_fleet_request_store_seconds_count', { ...call, store: 'redis' }), era).toBe(1);
      expect(delta('mcp_fleet_request_store_commands_count', { ...call, store: 'redis' }), era).toBe(1);
    }
    // the stateless leg does not touch Redis; the session leg does (its session is cached here, its notification is not)
    expect(delta('mcp_fleet_request_store_commands_sum', { era: 'modern', method: 'tools/call' })).toBe(0);
    expect(delta('mcp_fleet_request_store_commands_sum', { era: 'legacy', method: 'tools/call' })).toBeGreaterThan(0);
  });

  it('a listen stream on A counts as kind="listen" there until it closes; a bump on B reaches it through Redis', async () => {
    const uri = 'counter://metrics-listen';
    const [beforeA, beforeB] = [(await scrape(a)).samples, (await scrape(b)).samples];
    expect(valueOf(beforeA, 'mcp_fleet_open_streams', { kind: 'listen' })).toBe(0);
    const listen = await SseStream.listen(a.server.url, modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: [uri] } }));
    expect(listen.status).toBe(200);
    await listen.waitFor((s) => s.messages.some((m) => m.method === 'notifications/subscriptions/acknowledged'));
    const open = (await scrape(a)).samples;
    expect(valueOf(open, 'mcp_fleet_open_streams', { kind: 'listen' })).toBe(1);
    expect(valueOf((await scrape(b)).samples, 'mcp_fleet_open_streams', { kind: 'listen' })).toBe(0);

    const bump = await postModern(b.server.url, modernRequest('tools/call', { name: 'bump', arguments: { name: 'metrics-listen' } }));
    expect(toolJson(bump).replica).toBe('metrics-b');
    await listen.waitFor((s) => s.messages.some((m) => m.method === 'notifications/resources/updated' && m.params?.uri === uri));
    const redisEvent = { kind: 'event', path: 'store' };
    const localEvent = { kind: 'event', path: 'local' };
    const deltaA = deltaOf(beforeA, (await scrape(a)).samples);
    const deltaB = deltaOf(beforeB, (await scrape(b)).samples);
    expect(deltaA('mcp_fleet_deliveries_total', redisEvent)).toBe(1);
    expect(deltaA('mcp_fleet_delivery_latency_seconds_count', redisEvent)).toBe(1);
    expect(deltaA('mcp_fleet_deliveries_total', localEvent)).toBe(0);
    expect(deltaB('mcp_fleet_deliveries_total', localEvent)).toBe(1);
    expect(deltaB('mcp_fleet_delivery_latency_seconds_count', localEvent)).toBe(1);
    expect(deltaB('mcp_fleet_deliveries_total', redisEvent)).toBe(0);

    listen.close();
    await scrapeUntil(a, (samples) => valueOf(samples, 'mcp_fleet_open_streams', { kind: 'listen' }) === 0);
  });

  it('a 2026-07-28 sample call asking for input on A and retried on B counts one round requested and one resumed', async () => {
    const [beforeA, beforeB] = [(await scrape(a)).samples, (await scrape(b)).samples];
    const args = { name: 'sample', arguments: { prompt: 'two rounds' } };
    const capabilities = { sampling: {} };
    const first = await postModern(a.server.url, modernRequest('tools/call', args, capabilities));
    const asked = first.messages[0]?.result;
    expect(asked?.resultType).toBe('input_required');
    expect(Object.keys(asked?.inputRequests ?? {})).toEqual(['sample']);
    const answer = { role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'test-model' };
    const retry = await postModern(
      b.server.url,
      modernRequest('tools/call', { ...args, inputResponses: { sample: answer }, requestState: asked.requestState }, capabilities),
    );
    expect(retry.messages[0]?.result?.resultType ?? 'complete').toBe('complete');
    expect(JSON.stringify(toolJson(retry))).toContain('sampled');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const deltaA = deltaOf(beforeA, (await scrape(a)).samples);
    const deltaB = deltaOf(beforeB, (await scrape(b)).samples);
    const rounds = 'mcp_fleet_input_rounds_total';
    expect(deltaA(rounds, { era: 'modern', phase: 'requested' })).toBe(1);
    expect(deltaB(rounds, { era: 'modern', phase: 'resumed' })).toBe(1);
    expect(deltaA(rounds, { phase: 'resumed' }) + deltaB(rounds, { phase: 'requested' })).toBe(0);
    expect(deltaA(rounds, { era: 'legacy' }) + deltaB(rounds, { era: 'legacy' })).toBe(0);
    // both rounds were tools/call requests of the modern era: one on each replica
    expect(deltaA('mcp_fleet_request_duration_seconds_count', { era: 'modern', method: 'tools/call' })).toBe(1);
    expect(deltaB('mcp_fleet_request_duration_seconds_count', { era: 'modern', method: 'tools/call' })).toBe(1);
  });

  it.runIf(RUN_PROMTOOL_TESTS)('promtool check metrics accepts the exposition (prom-client’s own *_total gauges aside)', async () => {
    const { text } = await scrape(a);
    const result = promtool(['check', 'metrics'], text);
    const findings = result.output.split('\n').filter((line) => line.trim() !== '' && !/^nodejs_active_\w+_total /.test(line));
    expect(findings).toEqual([]);
  });
});
