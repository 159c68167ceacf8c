import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RequestFinished } from '../../src/observability/observer.js';
import { METHOD_LABELS, PrometheusObserver } from '../../src/metrics/index.js';
import { EXPECTED_METRICS } from './expected-metrics.js';
import { labelValues, parseExposition, select, valueOf, type Sample } from './exposition.js';
import { RUN_PROMTOOL_TESTS, promtool } from './promtool.js';

const call: RequestFinished = {
  era: 'legacy',
  method: 'tools/call',
  httpStatus: 200,
  durationSeconds: 0.012,
  storeCommands: 4,
  storeSeconds: 0.0004,
  store: 'redis',
};

async function scrape(observer: PrometheusObserver): Promise<Sample[]> {
  return parseExposition(await observer.registry.metrics());
}

/** Bucket counts of a histogram series, by upper bound. */
function buckets(samples: Sample[], name: string, labels: Record<string, string>): Map<string, number> {
  return new Map(select(samples, `${name}_bucket`, labels).map((s) => [s.labels.le!, s.value]));
}

describe('PrometheusObserver', () => {
  it('counts tasks created, ended by status and reason, orphaned and refused, and the rounds running and overdue', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    let samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_tasks_ended_total', { status: 'failed', reason: 'owner_lost' })).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_tasks_orphaned_total', { outcome: 'rerun' })).toBe(0);
    observer.taskCreated();
    observer.taskEnded('completed', 'tool_error', 2);
    observer.taskEnded('failed', 'not-a-reason', 1);
    observer.taskOrphaned('rerun');
    observer.taskRefused('active_per_principal');
    observer.tasksRunning(3, 1);
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_tasks_created_total', {})).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_tasks_ended_total', { status: 'completed', reason: 'tool_error' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_tasks_ended_total', { status: 'failed', reason: 'other' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_task_duration_seconds_count', { status: 'completed' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_tasks_orphaned_total', { outcome: 'rerun' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_task_limit_refusals_total', { limit: 'active_per_principal' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_tasks_running', {})).toBe(3);
    expect(valueOf(samples, 'mcp_fleet_tasks_overdue', {})).toBe(1);
  });

  it('uses its own registry, with the default process metrics, and leaves the global one alone', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).length;
    const observer = new PrometheusObserver();
    const samples = await scrape(observer);
    expect(select(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(select(samples, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(before);
    // a second observer can coexist (no duplicate registration on a shared registry)
    expect(() => new PrometheusObserver()).not.toThrow();
  });

  it('records N requestFinished calls as N observations in each per-request histogram', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    const n = 7;
    for (let i = 0; i < n; i++) observer.requestFinished(call);
    observer.requestFinished({ ...call, method: 'initialize', store: 'memory', storeCommands: 0, storeSeconds: 0 });
    const samples = await scrape(observer);
    const byMethodStore = { era: 'legacy', method: 'tools/call', store: 'redis' };
    expect(valueOf(samples, 'mcp_fleet_request_store_seconds_count', byMethodStore)).toBe(n);
    expect(valueOf(samples, 'mcp_fleet_request_store_seconds_sum', byMethodStore)).toBeCloseTo(n * 0.0004, 9);
    expect(valueOf(samples, 'mcp_fleet_request_store_commands_count', byMethodStore)).toBe(n);
    expect(valueOf(samples, 'mcp_fleet_request_store_commands_sum', byMethodStore)).toBe(n * 4);
    expect(valueOf(samples, 'mcp_fleet_request_duration_seconds_count', { era: 'legacy', method: 'tools/call', status: '200' })).toBe(n);
    expect(valueOf(samples, 'mcp_fleet_request_store_seconds_count', { method: 'initialize', store: 'memory' })).toBe(1);

    // 0.4 ms falls in the 0.5 ms bucket, not in the 0.25 ms one; 4 commands in the "4" bucket
    const redisBuckets = buckets(samples, 'mcp_fleet_request_store_seconds', byMethodStore);
    expect(redisBuckets.get('0.00025')).toBe(0);
    expect(redisBuckets.get('0.0005')).toBe(n);
    expect(redisBuckets.get('+Inf')).toBe(n);
    const commandBuckets = buckets(samples, 'mcp_fleet_request_store_commands', byMethodStore);
    expect(commandBuckets.get('3')).toBe(0);
    expect(commandBuckets.get('4')).toBe(n);
  });

  it('keeps the two eras apart on every per-request histogram, folding anything else to other', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    observer.requestFinished(call);
    observer.requestFinished({ ...call, era: 'modern', storeCommands: 0, storeSeconds: 0 });
    observer.requestFinished({ ...call, era: 'modern', storeCommands: 0, storeSeconds: 0 });
    observer.requestFinished({ ...call, era: '2024' as never });
    const samples = await scrape(observer);
    for (const name of ['mcp_fleet_request_store_seconds_count', 'mcp_fleet_request_store_commands_count', 'mcp_fleet_request_duration_seconds_count']) {
      expect(valueOf(samples, name, { era: 'legacy', method: 'tools/call' }), name).toBe(1);
      expect(valueOf(samples, name, { era: 'modern', method: 'tools/call' }), name).toBe(2);
      expect(valueOf(samples, name, { era: 'other' }), name).toBe(1);
      expect(labelValues(samples, name, 'era'), name).toEqual(['legacy', 'modern', 'other']);
    }
    expect(valueOf(samples, 'mcp_fleet_request_store_commands_sum', { era: 'modern', method: 'tools/call' })).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_request_store_commands_sum', { era: 'legacy', method: 'tools/call' })).toBe(4);
  });

  it('has tools/call of both eras at zero from the start, for per-era rates and rounds per call', async () => {
    const samples = await scrape(new PrometheusObserver({ defaultMetrics: false }));
    for (const era of ['legacy', 'modern']) {
      expect(valueOf(samples, 'mcp_fleet_request_duration_seconds_count', { era, method: 'tools/call', status: '200' })).toBe(0);
    }
    expect(select(samples, 'mcp_fleet_request_duration_seconds_count')).toHaveLength(2);
  });

  it('has buckets from 50 µs to 1 s for Redis time and from 1 ms to 30 s for requests', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    observer.requestFinished(call);
    observer.storeCommand('get', 0.00003, true);
    const samples = await scrape(observer);
    const bounds = (name: string, labels: Record<string, string>) => [...buckets(samples, name, labels).keys()].filter((le) => le !== '+Inf').map(Number);
    for (const redis of [
      bounds('mcp_fleet_request_store_seconds', { method: 'tools/call' }),
      bounds('mcp_fleet_store_command_seconds', { operation: 'get' }),
    ]) {
      expect(Math.min(...redis)).toBe(0.00005);
      expect(Math.max(...redis)).toBe(1);
    }
    const request = bounds('mcp_fleet_request_duration_seconds', { era: 'legacy', method: 'tools/call' });
    expect(Math.min(...request)).toBe(0.001);
    expect(Math.max(...request)).toBe(30);
    expect(valueOf(samples, 'mcp_fleet_store_command_seconds_bucket', { operation: 'get', le: '0.00005' })).toBe(1);
  });

  it('folds methods, statuses and stores to bounded label sets', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    for (const method of METHOD_LABELS) observer.requestFinished({ ...call, method });
    observer.requestFinished({ ...call, method: 'notifications/cancelled', era: 'modern' });
    for (let i = 0; i < 200; i++) {
      observer.requestFinished({ ...call, method: `tools/call-${i}`, httpStatus: 1000 + i });
    }
    observer.requestFinished({ ...call, store: 'postgres' });
    observer.requestFinished({ ...call, store: 'Not a store name!' });
    const samples = await scrape(observer);
    const methods = labelValues(samples, 'mcp_fleet_request_store_seconds_count', 'method');
    expect(methods).toEqual([...METHOD_LABELS, 'other'].sort());
    expect(valueOf(samples, 'mcp_fleet_request_duration_seconds_count', { method: 'other', status: 'other' })).toBe(200);
    expect(valueOf(samples, 'mcp_fleet_request_duration_seconds_count', { era: 'legacy', method: 'notification' })).toBe(1);
    expect(labelValues(samples, 'mcp_fleet_request_duration_seconds_count', 'status')).toEqual(['200', 'other']);
    expect(valueOf(samples, 'mcp_fleet_request_duration_seconds_count', { era: 'modern', method: 'notification' })).toBe(1);
    expect(labelValues(samples, 'mcp_fleet_request_store_seconds_count', 'store')).toEqual(['other', 'postgres', 'redis']);
  });

  it('records store command latency by folded operation, and errors separately', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false, maxOtherOperations: 2 });
    observer.storeCommand('HSET', 0.0002, true);
    observer.storeCommand('hset', 0.0003, true);
    observer.storeCommand('evalsha', 0.002, false);
    observer.storeCommand('append_event', 0.001, true);
    observer.storeCommand('route_answer', 0.001, true);
    observer.storeCommand('third_script', 0.001, false);
    observer.storeCommand('sess:{0b5e…}', 0.001, false);
    const samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_store_command_seconds_count', { operation: 'hset' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_store_command_seconds_sum', { operation: 'hset' })).toBeCloseTo(0.0005, 9);
    expect(labelValues(samples, 'mcp_fleet_store_command_seconds_count', 'operation')).toEqual(['append_event', 'evalsha', 'hset', 'other', 'route_answer']);
    expect(valueOf(samples, 'mcp_fleet_store_command_seconds_count', { operation: 'other' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_store_errors_total', { operation: 'evalsha' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_store_errors_total', { operation: 'other' })).toBe(2);
    expect(select(samples, 'mcp_fleet_store_errors_total', { operation: 'hset' })).toHaveLength(0);
  });

  it('labels store commands with the store the replica selected', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    observer.storeSelected('redis');
    observer.storeCommand('get', 0.0002, true);
    observer.storeCommand('get', 0.0002, false);
    const samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_store_command_seconds_count', { store: 'redis', operation: 'get' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_store_errors_total', { store: 'redis', operation: 'get' })).toBe(1);
    expect(labelValues(samples, 'mcp_fleet_store_command_seconds_count', 'store')).toEqual(['redis']);
  });

  it('counts deliveries by kind and path from zero, with their latency', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    let samples = await scrape(observer);
    expect(select(samples, 'mcp_fleet_deliveries_total')).toHaveLength(8);
    expect(select(samples, 'mcp_fleet_deliveries_total').every((s) => s.value === 0)).toBe(true);

    observer.delivered('notification', 'store', 0.0015);
    observer.delivered('notification', 'store', 0.003);
    observer.delivered('response', 'local', 0.00005);
    observer.delivered('request', 'store', -0.002); // publisher's clock ahead: clamped to 0
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'notification', path: 'store' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'notification', path: 'local' })).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'response', path: 'local' })).toBe(1);
    const notificationLatency = { kind: 'notification', path: 'store' };
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_count', notificationLatency)).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_bucket', { ...notificationLatency, le: '0.0025' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_sum', { kind: 'request', path: 'store' })).toBe(0);
  });

  it('counts fleet events handed to listeners, local and through Redis apart, latency series from zero', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    let samples = await scrape(observer);
    for (const path of ['local', 'store']) {
      expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'event', path })).toBe(0);
      expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_count', { kind: 'event', path })).toBe(0);
    }

    observer.delivered('event', 'local', 0.00002);
    observer.delivered('event', 'store', 0.0008);
    observer.delivered('event', 'store', 0.004);
    observer.delivered('broadcast' as never, 'store', 0.001);
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'event', path: 'local' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'event', path: 'store' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'other', path: 'store' })).toBe(1);
    const redisEvents = { kind: 'event', path: 'store' };
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_bucket', { ...redisEvents, le: '0.001' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_bucket', { ...redisEvents, le: '0.005' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_sum', redisEvents)).toBeCloseTo(0.0048, 9);
    expect(valueOf(samples, 'mcp_fleet_delivery_latency_seconds_bucket', { kind: 'event', path: 'local', le: '0.0001' })).toBe(1);
  });

  it('counts input rounds by era and phase, all four from zero', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    let samples = await scrape(observer);
    expect(select(samples, 'mcp_fleet_input_rounds_total')).toHaveLength(4);
    expect(select(samples, 'mcp_fleet_input_rounds_total').every((s) => s.value === 0)).toBe(true);

    observer.inputRound('modern', 'requested');
    observer.inputRound('modern', 'requested');
    observer.inputRound('modern', 'resumed');
    observer.inputRound('legacy', 'resumed');
    observer.inputRound('modern', 'abandoned' as never);
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_input_rounds_total', { era: 'modern', phase: 'requested' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_input_rounds_total', { era: 'modern', phase: 'resumed' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_input_rounds_total', { era: 'legacy', phase: 'requested' })).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_input_rounds_total', { era: 'legacy', phase: 'resumed' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_input_rounds_total', { era: 'modern', phase: 'other' })).toBe(1);
  });

  it('counts the session lifecycle, 404s and replays', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    observer.sessionCreated();
    observer.sessionCreated();
    observer.sessionCreated();
    observer.sessionDeleted();
    observer.sessionExpired();
    observer.sessionNotFound();
    observer.sessionNotFound();
    observer.replayServed(5);
    observer.replayServed(0);
    const samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_sessions_created_total')).toBe(3);
    expect(valueOf(samples, 'mcp_fleet_sessions_deleted_total')).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_sessions_expired_total')).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_session_not_found_total')).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_replays_total')).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_replayed_events_total')).toBe(5);
  });

  it('tracks open streams by kind, cached sessions and readiness as gauges', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    let samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_ready')).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_open_streams', { kind: 'get' })).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_open_streams', { kind: 'listen' })).toBe(0);

    observer.streamOpened('get');
    observer.streamOpened('get');
    observer.streamOpened('post');
    observer.streamClosed('get');
    observer.streamOpened('listen');
    observer.streamOpened('listen');
    observer.streamOpened('listen');
    observer.streamClosed('listen');
    observer.cachedSessions(12);
    observer.cachedSessions(9);
    observer.readiness(true);
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_open_streams', { kind: 'get' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_open_streams', { kind: 'post' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_open_streams', { kind: 'listen' })).toBe(2);
    expect(valueOf(samples, 'mcp_fleet_cached_sessions')).toBe(9);
    expect(valueOf(samples, 'mcp_fleet_ready')).toBe(1);

    observer.readiness(false);
    samples = await scrape(observer);
    expect(valueOf(samples, 'mcp_fleet_ready')).toBe(0);
  });

  it('drops invalid figures instead of throwing at the server', async () => {
    const observer = new PrometheusObserver({ defaultMetrics: false });
    expect(() => {
      observer.requestFinished({ ...call, durationSeconds: NaN, storeSeconds: Infinity, storeCommands: -1 });
      observer.storeCommand('get', NaN, false);
      observer.delivered('notification', 'local', NaN);
      observer.replayServed(-3);
      observer.replayServed(NaN);
      observer.cachedSessions(-1);
    }).not.toThrow();
    const samples = await scrape(observer);
    expect(select(samples, 'mcp_fleet_request_duration_seconds_count').every((s) => s.value === 0)).toBe(true);
    expect(select(samples, 'mcp_fleet_request_store_seconds_count')).toHaveLength(0);
    expect(select(samples, 'mcp_fleet_request_store_commands_count')).toHaveLength(0);
    expect(select(samples, 'mcp_fleet_store_command_seconds_count')).toHaveLength(0);
    expect(valueOf(samples, 'mcp_fleet_store_errors_total', { operation: 'get' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_deliveries_total', { kind: 'notification', path: 'local' })).toBe(1);
    expect(valueOf(samples, 'mcp_fleet_replays_total')).toBe(0);
    expect(valueOf(samples, 'mcp_fleet_cached_sessions')).toBe(0);
  });

  it('defines exactly the documented mcp_fleet_* metrics, besides the default process metrics', async () => {
    const observer = new PrometheusObserver();
    const metrics = await observer.registry.getMetricsAsJSON();
    const own = metrics.filter((m) => !m.name.startsWith('process_') && !m.name.startsWith('nodejs_'));
    expect(Object.fromEntries(own.map((m) => [m.name, String(m.type)]))).toEqual(EXPECTED_METRICS);
  });
});

/** Lint findings promtool reports for prom-client's own default metrics, not for ours. */
const PROM_CLIENT_LINT = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

describe.runIf(RUN_PROMTOOL_TESTS)('exposition checked by promtool', () => {
  function exercised(): PrometheusObserver {
    const observer = new PrometheusObserver();
    for (const method of [...METHOD_LABELS, 'unknown/method']) observer.requestFinished({ ...call, method });
    observer.storeCommand('evalsha', 0.0004, false);
    observer.delivered('notification', 'store', 0.002);
    observer.delivered('event', 'store', 0.001);
    observer.streamOpened('get');
    observer.streamOpened('listen');
    observer.inputRound('modern', 'requested');
    observer.replayServed(3);
    observer.readiness(true);
    return observer;
  }

  it('accepts our metrics without a single lint finding', async () => {
    const text = await exercised().registry.metrics();
    const ours =
      text
        .split('\n')
        .filter((line) => line.includes('mcp_fleet_'))
        .join('\n') + '\n';
    expect(ours).toContain('mcp_fleet_request_store_seconds_bucket');
    const result = promtool(['check', 'metrics'], ours);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('parses the whole exposition, with lint findings only on prom-client default metric names', async () => {
    const result = promtool(['check', 'metrics'], await exercised().registry.metrics());
    const findings = result.output.split('\n').filter((line) => line !== '');
    for (const finding of findings) expect(finding).toMatch(PROM_CLIENT_LINT);
    expect(result.status).toBe(findings.length === 0 ? 0 : 3);
  });

  it('rejects a broken exposition (the check is real)', () => {
    const result = promtool(['check', 'metrics'], 'mcp_fleet_ready{kind="x" 1\n');
    expect(result.status).toBe(1);
  });
});
