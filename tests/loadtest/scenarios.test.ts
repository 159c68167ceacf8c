import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../loadtest/lib/config.js';
import { BUILTIN_METRICS, METRICS, thresholdsFor } from '../../loadtest/lib/expectations.js';
import { McpSession } from '../../loadtest/lib/mcp.js';
import { aggregate, parseExpression, parseThresholdKey } from './thresholds.js';

/**
 * Loads every k6 scenario file under Node with k6's modules replaced by recording stand-ins, and
 * checks it is what k6 needs: options with scenarios and the shared thresholds, a default function,
 * a summary; and that the k6 adapter speaks k6's API.
 */

const k6 = vi.hoisted(() => ({
  metrics: [] as Array<{ type: string; name: string; isTime: boolean; samples: Array<[number | boolean, unknown]> }>,
  checks: [] as Array<[unknown, Record<string, (v: unknown) => boolean>, unknown]>,
  requests: [] as Array<{ method: string; url: string; body: unknown; params: Record<string, unknown> }>,
  responses: [] as Array<Record<string, unknown>>,
}));

vi.mock('k6', () => ({
  check: (value: unknown, sets: Record<string, (v: unknown) => boolean>, tags: unknown) => {
    k6.checks.push([value, sets, tags]);
    return Object.values(sets).every((fn) => fn(value));
  },
  sleep: () => {
    throw new Error('sleep blocks the event loop: the adapter must use timers where they exist');
  },
}));

vi.mock('k6/http', () => ({
  default: {
    expectedStatuses: (...statuses: unknown[]) => ({ expectedStatuses: statuses }),
    asyncRequest: (method: string, url: string, body: unknown, params: Record<string, unknown>) => {
      k6.requests.push({ method, url, body, params });
      const next = k6.responses.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no response queued'));
    },
  },
}));

vi.mock('k6/metrics', () => {
  class Metric {
    samples: Array<[number | boolean, unknown]> = [];
    constructor(
      readonly type: string,
      readonly name: string,
      readonly isTime = false,
    ) {
      k6.metrics.push(this);
    }
    add(value: number | boolean, tags?: unknown) {
      this.samples.push([value, tags]);
    }
  }
  return {
    Counter: class extends Metric {
      constructor(name: string) {
        super('counter', name);
      }
    },
    Rate: class extends Metric {
      constructor(name: string) {
        super('rate', name);
      }
    },
    Trend: class extends Metric {
      constructor(name: string, isTime?: boolean) {
        super('trend', name, isTime);
      }
    },
  };
});

const LOADTEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtest');
const SCENARIO_FILES = fs
  .readdirSync(LOADTEST)
  .filter((f) => f.endsWith('.js'))
  .sort();

interface ScenarioModule {
  options: { scenarios: Record<string, { executor: string }>; thresholds: Record<string, string[]>; noConnectionReuse?: boolean };
  default: () => Promise<void>;
  handleSummary: (data: unknown) => Record<string, string>;
}

async function loadScenario(file: string, env: Record<string, string> = {}): Promise<ScenarioModule> {
  vi.resetModules();
  k6.metrics.length = 0;
  Object.assign(globalThis, { __ENV: env, __ITER: 0, __VU: 1 });
  return (await import(path.join(LOADTEST, file))) as ScenarioModule;
}

beforeEach(() => {
  k6.checks.length = 0;
  k6.requests.length = 0;
  k6.responses.length = 0;
});

describe('the k6 scenario files', () => {
  it('are the six scenarios of the load test suite', () => {
    expect(SCENARIO_FILES).toEqual(['404-recovery.js', 'cross-replica-notifications.js', 'modern.js', 'smoke.js', 'sustained-load.js', 'tasks.js']);
  });

  describe.each(SCENARIO_FILES)('%s', (file) => {
    const name = file.replace(/\.js$/, '');

    it('exports options with scenarios and exactly the shared thresholds, a default function and a summary', async () => {
      const scenario = await loadScenario(file);
      const scenarios = Object.entries(scenario.options.scenarios);
      expect(scenarios.length).toBeGreaterThan(0);
      for (const [key, config] of scenarios) {
        expect(key).toMatch(/^[0-9A-Za-z_-]+$/);
        expect(['constant-vus', 'shared-iterations', 'ramping-arrival-rate']).toContain(config.executor);
      }
      expect(scenario.options.thresholds).toEqual(thresholdsFor(name, loadConfig({})));
      expect(typeof scenario.default).toBe('function');
      expect(typeof scenario.handleSummary).toBe('function');
    });

    it('has thresholds that k6 can evaluate: declared metrics, aggregations that fit their type', async () => {
      const scenario = await loadScenario(file);
      const declared = { ...METRICS, ...BUILTIN_METRICS };
      for (const [key, expressions] of Object.entries(scenario.options.thresholds)) {
        const { metric } = parseThresholdKey(key);
        expect(declared, key).toHaveProperty(metric);
        expect(expressions.length).toBeGreaterThan(0);
        for (const expression of expressions) expect(() => aggregate(declared[metric]!, [1], parseExpression(expression).aggregation)).not.toThrow();
      }
    });

    it('creates every custom metric in its init code, with its type', async () => {
      await loadScenario(file);
      expect(Object.fromEntries(k6.metrics.map((m) => [m.name, m.type]))).toEqual(METRICS);
      expect(k6.metrics.filter((m) => m.type === 'trend').every((m) => m.isTime)).toBe(true);
      for (const m of k6.metrics) expect(m.name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/);
    });

    it('summarises each threshold with its outcome', async () => {
      const scenario = await loadScenario(file, { K6_MCP_SUMMARY_JSON: 'summary.json' });
      const [key, expressions] = Object.entries(scenario.options.thresholds)[0]!;
      const metric = parseThresholdKey(key).metric;
      const data = {
        metrics: { [metric]: { type: 'rate', values: { rate: 0.5, passes: 1, fails: 1 }, thresholds: { [expressions[0]!]: { ok: false } } } },
        root_group: { checks: [{ name: 'notify answered', passes: 3, fails: 1 }], groups: [] },
      };
      const out = scenario.handleSummary(data);
      expect(out.stdout).toContain(`✗ ${metric} ${expressions[0]}`);
      expect(out.stdout).toContain('check "notify answered": 1 failed');
      expect(out.stdout).toContain('FAILED: 1 of 1 thresholds not met');
      expect(JSON.parse(out['summary.json']!)).toEqual(data);
    });
  });

  it('take their settings from the environment', async () => {
    const load = await loadScenario('sustained-load.js', { K6_MCP_RATE: '123', K6_MCP_P95_MS: '77', K6_MCP_VUS: '9' });
    expect(load.options.scenarios.load).toMatchObject({ preAllocatedVUs: 9, stages: [{ target: 123 }, { target: 123 }, { target: 0 }] });
    expect(load.options.thresholds['mcp_tool_duration{tool:whoami}']).toContain('p(95)<77');
    const notifications = await loadScenario('cross-replica-notifications.js', { K6_MCP_SCENARIO_VUS: '4', K6_MCP_CROSS_REPLICA_FLOOR: '0.9' });
    expect(notifications.options.scenarios.notifications).toMatchObject({ vus: 4 });
    expect(notifications.options.thresholds.mcp_cross_replica).toEqual(['rate>=0.9']);
    expect(notifications.options.noConnectionReuse).toBe(true);
    await expect(loadScenario('404-recovery.js', { K6_MCP_KILL: 'sometimes' })).rejects.toThrow(/K6_MCP_KILL must be one of delete, ttl/);
    const modern = await loadScenario('modern.js', { K6_MCP_SCENARIO_VUS: '7', K6_MCP_DURATION: '45s', K6_MCP_CROSS_REPLICA_FLOOR: '0.8' });
    expect(modern.options.scenarios.modern).toMatchObject({ executor: 'constant-vus', vus: 7, duration: '45s' });
    expect(modern.options.thresholds.mcp_mrtr_cross_replica).toEqual(['rate>=0.8']);
    expect(modern.options.thresholds.mcp_listen_cross_replica).toEqual(['rate>=0.8']);
    expect(modern.options.noConnectionReuse).toBe(true);
    await expect(loadScenario('modern.js', { K6_MCP_LISTEN_WINDOW_MS: '700', K6_MCP_LISTEN_SETTLE_MS: '300', K6_MCP_LISTEN_MARGIN_MS: '400' })).rejects.toThrow(
      /K6_MCP_LISTEN_WINDOW_MS \(700\) must exceed K6_MCP_LISTEN_SETTLE_MS \+ K6_MCP_LISTEN_MARGIN_MS \(700\)/,
    );
  });

  it('modern: the strictest thresholds of the legacy scenarios, on its own metrics', async () => {
    const modern = await loadScenario('modern.js');
    expect(modern.options.thresholds).toEqual({
      mcp_listen_updates_expected: ['count>0'],
      mcp_listen_updates_delivered: ['rate==1'],
      mcp_listen_updates_lost: ['count==0'],
      mcp_listen_updates_duplicated: ['count==0'],
      mcp_listen_unexpected: ['count==0'],
      mcp_listen_errors: ['count==0'],
      mcp_listen_acknowledged: ['rate==1'],
      mcp_listen_ready: ['rate==1'],
      mcp_listen_complete: ['rate==1'],
      mcp_listen_cross_replica: ['rate>=0.5'],
      mcp_mrtr_completed: ['rate==1'],
      mcp_mrtr_cross_replica: ['rate>=0.5'],
      mcp_mrtr_tamper_rejected: ['rate==1'],
      checks: ['rate==1'],
    });
  });

  it('tasks: one terminal state per task, once, and polls on other replicas than the creator', async () => {
    const tasks = await loadScenario('tasks.js', { K6_MCP_SCENARIO_VUS: '4', K6_MCP_DURATION: '20s', K6_MCP_CROSS_REPLICA_FLOOR: '0.7', K6_MCP_TASKS: '6' });
    expect(tasks.options.scenarios.tasks).toMatchObject({ executor: 'constant-vus', vus: 4, duration: '20s' });
    expect(tasks.options.noConnectionReuse).toBe(true);
    expect(tasks.options.thresholds).toEqual({
      mcp_tasks_created: ['count>0'],
      mcp_task_created: ['rate==1'],
      mcp_task_terminal_once: ['rate==1'],
      mcp_task_regressions: ['count==0'],
      mcp_task_poll_errors: ['count==0'],
      mcp_task_completed: ['rate==1'],
      mcp_task_cross_replica: ['rate>=0.7'],
      checks: ['rate==1'],
    });
    expect(loadConfig({ K6_MCP_TASKS: '6' }).taskCount).toBe(6);
    await expect(loadScenario('tasks.js', { K6_MCP_TASK_TIMEOUT_MS: '5' })).rejects.toThrow(/K6_MCP_TASK_TIMEOUT_MS="5" must be a number of at least 100/);
  });
});

describe('the k6 adapter', () => {
  it('sends MCP requests with http.asyncRequest and reads k6 responses (canonical header names, SSE bodies)', async () => {
    const { createK6Context } = await import('../../loadtest/lib/k6-adapter.js');
    const ctx = createK6Context(loadConfig({ K6_MCP_URL: 'http://lb.test/mcp' }));
    k6.responses.push(
      {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'Mcp-Session-Id': 's-1', 'X-Mcp-Replica': 'replica-a' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25' } }),
        error: '',
      },
      { status: 202, headers: {}, body: '', error: '' },
      {
        status: 200,
        headers: { 'Content-Type': 'text/event-stream', 'X-Mcp-Replica': 'replica-b' },
        body: 'id: p.0-0\nretry: 1000\ndata: \n\nevent: message\nid: p.1-0\ndata: {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"{}"}]}}\n\n',
        error: '',
      },
      { status: 404, headers: {}, body: '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}', error: '' },
      { status: 0, headers: {}, body: null, error: 'request timeout' },
    );
    const session = new McpSession(ctx);
    expect((await session.initialize()).ok).toBe(true);
    expect(session.id).toBe('s-1');
    const call = await session.callTool('whoami', {});
    expect(call.ok).toBe(true);
    expect(call.replica).toBe('replica-b');
    const gone = await session.callTool('whoami', {}, {}, { expect404: true });
    expect(gone.sessionNotFound).toBe(true);
    const stream = await session.getStream('p.1-0');
    expect(stream.ok).toBe(false);
    expect(stream.error).toBe('request timeout');

    const [init, initialized, tool, notFound, get] = k6.requests;
    expect(init).toMatchObject({ method: 'POST', url: 'http://lb.test/mcp', params: { tags: { op: 'initialize' } } });
    expect(JSON.parse(init!.body as string)).toMatchObject({ method: 'initialize' });
    expect(initialized!.params.headers).toMatchObject({ 'Mcp-Session-Id': 's-1', 'MCP-Protocol-Version': '2025-11-25' });
    expect(tool!.params).toMatchObject({ tags: { op: 'call', tool: 'whoami' } });
    expect(tool!.params.responseCallback).toBeUndefined();
    expect(notFound!.params.responseCallback).toEqual({ expectedStatuses: [{ min: 200, max: 399 }, 404] });
    expect(get).toMatchObject({ method: 'GET', body: null, params: { timeout: 30000, headers: { Accept: 'text/event-stream', 'Last-Event-ID': 'p.1-0' } } });
  });

  it('sends 2026-07-28 requests: _meta on every request, the standard headers, listen streams with the stream timeout', async () => {
    const { createK6Context } = await import('../../loadtest/lib/k6-adapter.js');
    const { ModernClient } = await import('../../loadtest/lib/modern-mcp.js');
    const ctx = createK6Context(loadConfig({ K6_MCP_URL: 'http://lb.test/mcp', K6_MCP_STREAM_TIMEOUT_MS: '9000' }));
    k6.responses.push(
      {
        status: 200,
        headers: { 'Content-Type': 'text/event-stream', 'X-Mcp-Replica': 'replica-a' },
        body:
          'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"notifications":{"resourceSubscriptions":["counter://x"]},"_meta":{"io.modelcontextprotocol/subscriptionId":1}}}\n\n' +
          'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"counter://x","_meta":{"io.modelcontextprotocol/subscriptionId":1}}}\n\n',
        error: '',
      },
      {
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-Mcp-Replica': 'replica-b' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '{}' }], resultType: 'complete' } }),
        error: '',
      },
    );
    const client = new ModernClient(ctx);
    const listened = await client.listen(['counter://x']);
    expect(listened.replica).toBe('replica-a');
    expect(listened.acknowledgement).toBeDefined();
    expect(listened.updatesByUri(['counter://x'])).toEqual({ counts: { 'counter://x': 1 }, unexpected: 0 });
    const call = await client.callTool('bump', { name: 'x' }, { requestState: 's' });
    expect(call.ok).toBe(true);

    const [listen, tool] = k6.requests;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-fleet-loadtest', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
    };
    expect(listen).toMatchObject({ method: 'POST', url: 'http://lb.test/mcp', params: { timeout: 9000, tags: { op: 'listen' } } });
    expect(listen!.params.headers).toEqual({
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'subscriptions/listen',
    });
    expect(JSON.parse(listen!.body as string)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'subscriptions/listen',
      params: { notifications: { resourceSubscriptions: ['counter://x'] }, _meta: meta },
    });
    expect(tool!.params.headers).toMatchObject({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'bump', 'MCP-Protocol-Version': '2026-07-28' });
    expect(tool!.params.headers).not.toHaveProperty('Mcp-Session-Id');
    expect(tool!.params.timeout).toBeUndefined();
    expect(JSON.parse(tool!.body as string)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'bump', arguments: { name: 'x' }, requestState: 's', _meta: meta },
    });
  });

  it('records metrics and checks on k6 objects, and waits with timers rather than sleep', async () => {
    const { createK6Context } = await import('../../loadtest/lib/k6-adapter.js');
    const ctx = createK6Context(loadConfig({}));
    ctx.metrics.add('mcp_tool_ok', true, { tool: 'whoami' });
    ctx.metrics.check('initialize answered with a session', false);
    expect(() => ctx.metrics.add('not_declared', 1)).toThrow(/not declared/);
    const okMetric = k6.metrics.filter((m) => m.name === 'mcp_tool_ok').at(-1)!;
    expect(okMetric.samples).toEqual([[true, { tool: 'whoami' }]]);
    expect(k6.checks).toHaveLength(1);
    const [value, sets] = k6.checks[0]!;
    expect(Object.keys(sets)).toEqual(['initialize answered with a session']);
    expect(sets['initialize answered with a session']!(value)).toBe(false);
    await ctx.http.delay(1);
  });
});
