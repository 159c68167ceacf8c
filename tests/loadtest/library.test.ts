import { describe, expect, it } from 'vitest';
import { judgeDelivery } from '../../loadtest/lib/flows.js';
import { answerMessages } from '../../loadtest/lib/mcp.js';
import { judgeUpdates } from '../../loadtest/lib/modern-flows.js';
import { loadConfig } from '../../loadtest/lib/config.js';
import { ListenAnswer } from '../../loadtest/lib/modern-mcp.js';
import { judgeStatuses, taskClient } from '../../loadtest/lib/task-flows.js';
import { expectedNotificationKeys, notificationKey, tamperedState } from '../../loadtest/lib/payloads.js';
import { lastEventId, parseSse, sseMessages } from '../../loadtest/lib/sse.js';
import { MemoryMetrics } from './memory-metrics.js';
import { aggregate, evaluateThresholds, parseExpression, parseThresholdKey, percentile } from './thresholds.js';

describe('SSE and answer parsing', () => {
  it('reads priming, message and retry frames as the server sends them', () => {
    const body = 'id: g.0-0\nretry: 1000\ndata: \n\nevent: message\nid: g.5-0\ndata: {"jsonrpc":"2.0","method":"x"}\n\n: keep-alive\n\nretry: 1000\n\n';
    const frames = parseSse(body);
    expect(frames).toEqual([
      { id: 'g.0-0', event: undefined, retry: 1000, data: '' },
      { id: 'g.5-0', event: 'message', retry: undefined, data: '{"jsonrpc":"2.0","method":"x"}' },
      { id: undefined, event: undefined, retry: 1000, data: '' },
    ]);
    expect(sseMessages(frames)).toEqual([{ jsonrpc: '2.0', method: 'x' }]);
    expect(lastEventId(frames)).toBe('g.5-0');
    expect(parseSse('data: a\r\ndata: b\r\n\r\n')).toEqual([{ id: undefined, event: undefined, retry: undefined, data: 'a\nb' }]);
  });

  it('reads a POST answer in JSON or SSE, and nothing from a 202', () => {
    const json = answerMessages({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"result":{}}', error: '' });
    expect(json.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    const sse = answerMessages({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'id: p.0-0\ndata: \n\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
      error: '',
    });
    expect(sse.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(answerMessages({ status: 202, headers: {}, body: '', error: '' }).messages).toEqual([]);
  });

  it('keys notify notifications by message and index, and ignores other messages', () => {
    expect(notificationKey({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: { message: 'm', index: 2, count: 3 } } })).toBe(
      'm#2',
    );
    expect(notificationKey({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })).toBeUndefined();
    expect(expectedNotificationKeys('m', 3)).toEqual(['m#0', 'm#1', 'm#2']);
  });

  it('judges delivery: lost, duplicated, out of order, unexpected', () => {
    const expected = ['a#0', 'a#1', 'a#2'];
    expect(judgeDelivery(expected, ['a#0', 'a#1', 'a#2'])).toEqual({ lost: 0, duplicated: 0, inOrder: true, unexpected: 0 });
    expect(judgeDelivery(expected, ['a#0', 'a#2'])).toEqual({ lost: 1, duplicated: 0, inOrder: true, unexpected: 0 });
    expect(judgeDelivery(expected, ['a#0', 'a#1', 'a#1', 'a#2'])).toEqual({ lost: 0, duplicated: 1, inOrder: true, unexpected: 0 });
    expect(judgeDelivery(expected, ['a#1', 'a#0', 'a#2'])).toMatchObject({ inOrder: false });
    expect(judgeDelivery(expected, ['a#0', 'a#1', 'a#2', 'b#0'])).toMatchObject({ unexpected: 1 });
  });
});

describe('listen streams and requestState (modern)', () => {
  const SUB = 'io.modelcontextprotocol/subscriptionId';
  const frame = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
  const ack = (id: unknown) => ({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: { resourceSubscriptions: ['counter://a'] }, _meta: { [SUB]: id } },
  });
  const updated = (uri: string, id: unknown) => ({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: { [SUB]: id } } });
  const stream = (...messages: unknown[]) =>
    new ListenAnswer({ status: 200, headers: { 'x-mcp-replica': 'r-0' }, body: messages.map(frame).join(': keepalive\n\n'), error: '' }, 7);

  it('counts resources/updated by requested URI, stamped with this subscription, after the acknowledgement', () => {
    const answer = stream(ack(7), updated('counter://a', 7), updated('counter://b', 7), updated('counter://a', 7), {
      jsonrpc: '2.0',
      id: 7,
      result: { resultType: 'complete' },
    });
    expect(answer.ok).toBe(true);
    expect(answer.replica).toBe('r-0');
    expect(answer.acknowledgement).toEqual(ack(7));
    expect(answer.updatesByUri(['counter://a', 'counter://b', 'counter://c'])).toEqual({
      counts: { 'counter://a': 2, 'counter://b': 1, 'counter://c': 0 },
      unexpected: 0,
    });
  });

  it('counts as unexpected what was not requested, not stamped with this subscription, or not an update', () => {
    const answer = stream(
      ack(7),
      updated('counter://other', 7),
      updated('counter://a', 8),
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'counter://a' } },
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { [SUB]: 7 } } },
    );
    expect(answer.updatesByUri(['counter://a'])).toEqual({ counts: { 'counter://a': 0 }, unexpected: 4 });
  });

  it('has no acknowledgement unless the first message is one, for this subscription', () => {
    expect(stream(updated('counter://a', 7), ack(7)).acknowledgement).toBeUndefined();
    expect(stream(ack(8)).acknowledgement).toBeUndefined();
    // without an acknowledgement first, every message counts, the misplaced acknowledgement as unexpected
    expect(stream(updated('counter://a', 7), ack(7)).updatesByUri(['counter://a'])).toEqual({ counts: { 'counter://a': 1 }, unexpected: 1 });
    const failed = new ListenAnswer({ status: 0, headers: {}, body: '', error: 'request timeout' }, 7);
    expect([failed.ok, failed.messages, failed.acknowledgement]).toEqual([false, [], undefined]);
  });

  it('judges updates per URI: lost and duplicated against the bumps', () => {
    expect(judgeUpdates({ a: 3, b: 2 }, { a: 3, b: 2 })).toEqual({ expected: 5, lost: 0, duplicated: 0 });
    expect(judgeUpdates({ a: 3, b: 2 }, { a: 2, b: 3 })).toEqual({ expected: 5, lost: 1, duplicated: 1 });
    expect(judgeUpdates({ a: 1 }, {})).toEqual({ expected: 1, lost: 1, duplicated: 0 });
  });

  it('tampers with a requestState in its middle, not in its last character', () => {
    const state = 'v1.eyJwIjp7InRvb2wiOiJzYW1wbGUifX0.CJA8okZsoAW5FOmOAYQoHmfzTywS4748Mu60mbFGgrE';
    const tampered = tamperedState(state);
    expect(tampered).toHaveLength(state.length);
    const differing = [...state].flatMap((c, i) => (c !== tampered[i] ? [i] : []));
    expect(differing).toHaveLength(1);
    expect(differing[0]).toBeGreaterThan(2);
    expect(differing[0]).toBeLessThan(state.length - 1);
    expect(tamperedState('AAAA')).toBe('AABA');
    expect(tamperedState('ab.cd')).toBe('ab.Ad');
  });
});

describe('k6 threshold evaluation', () => {
  it('parses keys with tag filters and expressions', () => {
    expect(parseThresholdKey('mcp_tool_duration{tool:whoami}')).toEqual({ metric: 'mcp_tool_duration', tags: { tool: 'whoami' } });
    expect(parseThresholdKey('checks')).toEqual({ metric: 'checks', tags: {} });
    expect(parseExpression('p(99.9)<250')).toEqual({ aggregation: 'p(99.9)', operator: '<', value: 250 });
    expect(parseExpression('rate==1')).toEqual({ aggregation: 'rate', operator: '==', value: 1 });
    expect(() => parseExpression('rate is 1')).toThrow(/not a k6 threshold expression/);
  });

  it('aggregates like k6: counts, rates, interpolated percentiles', () => {
    expect(aggregate('counter', [1, 2, 3], 'count')).toBe(6);
    expect(aggregate('rate', [1, 0, 1, 1], 'rate')).toBe(0.75);
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(aggregate('trend', [40, 10, 30, 20], 'p(95)')).toBeCloseTo(38.5);
    expect(aggregate('trend', [5], 'max')).toBe(5);
    expect(() => aggregate('counter', [1], 'p(95)')).toThrow(/not an aggregation of a counter/);
  });

  it('fails a threshold that is not met, and one whose metric has no samples', () => {
    const metrics = new MemoryMetrics();
    metrics.add('mcp_tool_duration', 100, { tool: 'whoami' });
    metrics.add('mcp_tool_duration', 900, { tool: 'bump' });
    metrics.add('mcp_notifications_duplicated', 0);
    const verdicts = evaluateThresholds(
      {
        'mcp_tool_duration{tool:whoami}': ['p(95)<250'],
        'mcp_tool_duration{tool:bump}': ['p(95)<250'],
        mcp_notifications_duplicated: ['count==0'],
        mcp_recovered: ['rate==1'],
      },
      metrics,
    );
    expect(verdicts.map((v) => [v.key, v.ok])).toEqual([
      ['mcp_tool_duration{tool:whoami}', true],
      ['mcp_tool_duration{tool:bump}', false],
      ['mcp_notifications_duplicated', true],
      ['mcp_recovered', false],
    ]);
    expect(() => metrics.add('undeclared', 1)).toThrow(/not declared/);
  });
});

describe('tasks: judging what the polls saw', () => {
  it('one terminal state, reached once, is the only good ending', () => {
    expect(judgeStatuses(['working', 'input_required', 'working', 'completed', 'completed'])).toEqual({ terminals: ['completed'], regressions: 0, once: true });
    expect(judgeStatuses(['working', 'working'])).toEqual({ terminals: [], regressions: 0, once: false });
    expect(judgeStatuses(['working', 'completed', 'working', 'completed'])).toEqual({ terminals: ['completed'], regressions: 1, once: false });
    expect(judgeStatuses(['working', 'cancelled', 'completed'])).toEqual({ terminals: ['cancelled', 'completed'], regressions: 0, once: false });
  });

  it('a task client declares the extension and names the task in Mcp-Name on tasks/*', () => {
    const client = taskClient({
      http: { request: () => Promise.reject(new Error('unused')), delay: () => Promise.resolve() },
      metrics: new MemoryMetrics(),
      config: loadConfig({}),
      log: () => undefined,
    });
    expect(client.body(1, 'tasks/get', { taskId: 't-1' }).params._meta['io.modelcontextprotocol/clientCapabilities']).toEqual({
      extensions: { 'io.modelcontextprotocol/tasks': {} },
    });
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel'])
      expect(client.headers(method, { taskId: 't-1' })).toMatchObject({ 'Mcp-Method': method, 'Mcp-Name': 't-1' });
    expect(client.headers('tools/call', { name: 'generate_report' })).toMatchObject({ 'Mcp-Name': 'generate_report' });
  });
});
