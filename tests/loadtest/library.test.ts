import { describe, expect, it } from 'vitest';
import { judgeDelivery } from '../../loadtest/lib/flows.js';
import { answerMessages } from '../../loadtest/lib/mcp.js';
import { expectedNotificationKeys, notificationKey } from '../../loadtest/lib/payloads.js';
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
    const sse = answerMessages({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'id: p.0-0\ndata: \n\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n', error: '' });
    expect(sse.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(answerMessages({ status: 202, headers: {}, body: '', error: '' }).messages).toEqual([]);
  });

  it('keys notify notifications by message and index, and ignores other messages', () => {
    expect(notificationKey({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: { message: 'm', index: 2, count: 3 } } })).toBe('m#2');
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
