import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thresholdsFor } from '../../loadtest/lib/expectations.js';
import { closeSession, crossReplicaNotifications, recoveryAfter404, smoke, sustainedToolCall, type VuState } from '../../loadtest/lib/flows.js';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { skipFleet } from '../fleet/available.js';
import { nodeContext, runIterations, type NodeContext } from './harness.js';
import { describeVerdicts, evaluateThresholds } from './thresholds.js';

/**
 * The k6 scenarios' flows, run under Node over a local fleet of three replicas behind HAProxy, for
 * a few iterations each, and judged by the scenarios' own thresholds (loadtest/lib/expectations.js).
 */

// The poll window after which replicas end GET streams: the notifications flow reads streams by it.
const POLL_WINDOW_MS = '1500';

let fleet: Fleet;
const contexts: NodeContext[] = [];

function context(url: string, env: Record<string, string> = {}, options: { reuse?: boolean } = {}): NodeContext {
  const ctx = nodeContext(url, env, options);
  contexts.push(ctx);
  return ctx;
}

function failedThresholds(scenario: string, ctx: NodeContext): string {
  const verdicts = evaluateThresholds(thresholdsFor(scenario, ctx.config), ctx.metrics);
  const failed = verdicts.filter((v) => !v.ok);
  return failed.length === 0 ? '' : describeVerdicts(verdicts);
}

describe.skipIf(skipFleet)('load scenarios over a local fleet', () => {
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3, env: { GET_STREAM_MAX_MS: POLL_WINDOW_MS, LOG_LEVEL: 'warn' } });
  });

  afterAll(async () => {
    for (const ctx of contexts) ctx.close();
    await fleet?.stop();
  });

  describe('the k6 scenarios as end-to-end tests over a three-replica fleet', () => {
    it('cross-replica-notifications: every notification exactly once, in order, sent through other replicas than the stream', async () => {
      const ctx = context(fleet.url, { K6_MCP_NOTIFY_CALLS: '3', K6_MCP_NOTIFY_COUNT: '5' });
      const reports = await runIterations(6, 3, () => crossReplicaNotifications(ctx));
      expect(failedThresholds('cross-replica-notifications', ctx)).toBe('');
      expect(reports.map((r) => [r.lost, r.duplicated, r.inOrder])).toEqual(Array(6).fill([0, 0, true]));
      expect(ctx.metrics.sum('mcp_notifications_expected')).toBe(6 * 15);
      expect(ctx.metrics.sum('mcp_notifications_received')).toBe(6 * 15);
      // HAProxy balances each request: the streams and the notify calls landed on every replica.
      const replicas = new Set(reports.flatMap((r) => [r.streamReplica, ...r.notifyReplicas]));
      expect(replicas).toEqual(new Set(['replica-0', 'replica-1', 'replica-2']));
      expect(ctx.logs).toEqual([]);
    });

    it('404-recovery: a session deleted from a second handle answers 404, and the call succeeds on a new session', async () => {
      const ctx = context(fleet.url);
      const reports = await runIterations(8, 4, () => recoveryAfter404(ctx));
      expect(failedThresholds('404-recovery', ctx)).toBe('');
      expect(reports.every((r) => r.notFound && r.recovered && r.replacement !== r.killed)).toBe(true);
      expect(ctx.metrics.sum('mcp_recoveries')).toBe(8);
      // The expected 404s are not failed requests.
      expect(ctx.metrics.values('http_req_failed').filter((failed) => failed !== 0)).toEqual([]);
    });

    it('sustained-load: every tool of the mix within its latency thresholds, no errors, over sessions kept per VU', async () => {
      const ctx = context(fleet.url, {}, { reuse: true });
      const states: VuState[] = [];
      const reports = await runIterations(120, 12, (state, n) => {
        if (!states.includes(state)) states.push(state);
        return sustainedToolCall(ctx, state, n);
      });
      await Promise.all(states.map((state) => closeSession(state)));
      expect(failedThresholds('sustained-load', ctx)).toBe('');
      expect(states).toHaveLength(12);
      const byTool = new Map<string, number>();
      for (const r of reports) byTool.set(r.tool, (byTool.get(r.tool) ?? 0) + 1);
      expect(Object.fromEntries(byTool)).toEqual({ whoami: 30, progress: 30, bump: 30, notify: 30 });
      expect(new Set(reports.map((r) => r.replica)).size).toBe(3);
    });

    it('smoke: one of each passes its thresholds', async () => {
      const ctx = context(fleet.url);
      const report = await smoke(ctx);
      expect(report.ok).toBe(true);
      expect(failedThresholds('smoke', ctx)).toBe('');
    });
  });

  describe('the thresholds catch a broken promise', () => {
    it('a client pinned to one replica fails the cross-replica floor', async () => {
      const ctx = context(fleet.replicas[0]!.url, { K6_MCP_NOTIFY_CALLS: '2', K6_MCP_NOTIFY_COUNT: '2' });
      await runIterations(2, 2, () => crossReplicaNotifications(ctx));
      const failed = evaluateThresholds(thresholdsFor('cross-replica-notifications', ctx.config), ctx.metrics).filter((v) => !v.ok);
      expect(failed.map((v) => `${v.key} ${v.expression}`)).toEqual([`mcp_cross_replica rate>=${ctx.config.crossReplicaFloor}`]);
    });

    it('streams the client cannot read to their end lose notifications, and the run says why', async () => {
      // The client gives up on each GET stream before the server's poll window ends it.
      const ctx = context(fleet.url, { K6_MCP_STREAM_TIMEOUT_MS: '300', K6_MCP_NOTIFY_CALLS: '1', K6_MCP_NOTIFY_COUNT: '3', K6_MCP_MAX_POLLS: '1' });
      const [report] = await runIterations(1, 1, () => crossReplicaNotifications(ctx));
      expect(report!.lost).toBe(3);
      const failed = evaluateThresholds(thresholdsFor('cross-replica-notifications', ctx.config), ctx.metrics)
        .filter((v) => !v.ok)
        .map((v) => v.key);
      expect(failed).toEqual(expect.arrayContaining(['mcp_notifications_delivered', 'mcp_notifications_lost', 'mcp_stream_errors', 'checks']));
      expect(ctx.logs.join('\n')).toMatch(/GET_STREAM_MAX_MS/);
    });
  });

  describe('404-recovery by session expiry', () => {
    let shortLived: Fleet;
    beforeAll(async () => {
      shortLived = await startFleet({ replicas: 2, env: { SESSION_TTL_SECONDS: '1', LOG_LEVEL: 'warn' } });
    });
    afterAll(async () => {
      await shortLived?.stop();
    });

    it('a session that outlived its TTL answers 404, and the call succeeds on a new session', async () => {
      const ctx = context(shortLived.url, { K6_MCP_KILL: 'ttl', K6_MCP_SESSION_TTL_SECONDS: '1' });
      const reports = await runIterations(2, 2, () => recoveryAfter404(ctx));
      expect(reports.every((r) => r.ok && r.notFound && r.recovered)).toBe(true);
      expect(failedThresholds('404-recovery', ctx)).toBe('');
    });
  });
});
