import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thresholdsFor } from '../../loadtest/lib/expectations.js';
import { closeSession, crossReplicaNotifications, recoveryAfter404, smoke, sustainedToolCall, type VuState } from '../../loadtest/lib/flows.js';
import { modernIteration } from '../../loadtest/lib/modern-flows.js';
import { tasksIteration } from '../../loadtest/lib/task-flows.js';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { skipFleet } from '../fleet/available.js';
import { nodeContext, runIterations, type NodeContext } from './harness.js';
import { describeVerdicts, evaluateThresholds } from './thresholds.js';

/**
 * The k6 scenarios' flows, run under Node over a local fleet of three replicas behind HAProxy, for
 * a few iterations each, and judged by the scenarios' own thresholds (loadtest/lib/expectations.js).
 */

// The poll window after which replicas end GET streams: the notifications flow reads streams by it;
// and the one after which they end listen streams, which the modern flow reads by.
const POLL_WINDOW_MS = '1500';
const LISTEN_WINDOW_MS = '2000';
const MODERN_ENV = { K6_MCP_LISTEN_WINDOW_MS: LISTEN_WINDOW_MS, K6_MCP_LISTEN_SETTLE_MS: '400', K6_MCP_LISTEN_MARGIN_MS: '300' };
/** What the runs measured, printed at the end (the README quotes such figures). */
const measured: string[] = [];

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
    fleet = await startFleet({ replicas: 3, env: { GET_STREAM_MAX_MS: POLL_WINDOW_MS, LISTEN_STREAM_MAX_MS: LISTEN_WINDOW_MS, LOG_LEVEL: 'warn' } });
  });

  afterAll(async () => {
    for (const ctx of contexts) ctx.close();
    await fleet?.stop();
    if (measured.length > 0) console.info(measured.join('\n'));
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

    it('sustained-load: every tool of the mix within its thresholds, no errors, over sessions kept per VU', async () => {
      // The scenario's latency thresholds (p95 250 ms, p99 1 s) judge a deployment; on a test machine
      // other processes may starve the fleet, so here they only catch a call held for seconds.
      const ctx = context(fleet.url, { K6_MCP_P95_MS: '3000', K6_MCP_P99_MS: '6000' }, { reuse: true });
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

    it('modern: every update bumped on other replicas reaches the listen stream exactly once, every sampling retry completes on another replica, a tampered requestState is refused', async () => {
      // One VU: the balancer's round robin sends each retry to the replica after its first round's.
      const ctx = context(fleet.url, MODERN_ENV);
      const reports = await runIterations(4, 1, () => modernIteration(ctx));
      expect(failedThresholds('modern', ctx)).toBe('');
      expect(reports.map((r) => [r.listen.judged, r.listen.lost, r.listen.duplicated, r.listen.unexpected])).toEqual(Array(4).fill([true, 0, 0, 0]));
      // 3 counters bumped 3 times each, but for bumps a slow machine had no time left for
      expect(ctx.metrics.sum('mcp_listen_updates_expected') + ctx.metrics.sum('mcp_listen_bumps_skipped')).toBe(4 * 9);
      expect(ctx.metrics.sum('mcp_listen_updates_received')).toBe(ctx.metrics.sum('mcp_listen_updates_expected'));
      const samples = reports.flatMap((r) => r.samples);
      expect(samples.map((s) => s.ok && s.cross)).toEqual(Array(8).fill(true));
      expect(reports.map((r) => r.tamper.error)).toEqual(
        Array(4).fill({ code: -32602, message: 'Invalid or expired requestState', data: { reason: 'invalid_request_state' } }),
      );
      const replicas = new Set(reports.flatMap((r) => [r.listen.streamReplica, ...r.listen.bumpReplicas]));
      expect(replicas).toEqual(new Set(['replica-0', 'replica-1', 'replica-2']));
      expect(ctx.logs).toEqual([]);
    });

    it('modern with three VUs at once: each stream hears its own counters, each update exactly once', async () => {
      // Concurrent VUs interleave their requests, so where a retry lands is left to chance here.
      const ctx = context(fleet.url, { ...MODERN_ENV, K6_MCP_CROSS_REPLICA_FLOOR: '0' });
      const reports = await runIterations(6, 3, () => modernIteration(ctx));
      expect(failedThresholds('modern', ctx)).toBe('');
      expect(reports.map((r) => [r.ok, r.listen.lost, r.listen.duplicated, r.listen.unexpected])).toEqual(Array(6).fill([true, 0, 0, 0]));
      expect(ctx.metrics.sum('mcp_listen_updates_expected') + ctx.metrics.sum('mcp_listen_bumps_skipped')).toBe(6 * 9);
      expect(ctx.metrics.sum('mcp_listen_updates_received')).toBe(ctx.metrics.sum('mcp_listen_updates_expected'));
      const samples = reports.flatMap((r) => r.samples);
      measured.push(
        `modern, 3 VUs: ${ctx.metrics.sum('mcp_listen_updates_received')} of ${ctx.metrics.sum('mcp_listen_updates_expected')} updates delivered, ` +
          `${ctx.metrics.sum('mcp_listen_updates_lost')} lost, ${ctx.metrics.sum('mcp_listen_updates_duplicated')} duplicated, ` +
          `${ctx.metrics.sum('mcp_listen_bumps_skipped')} bumps skipped; ` +
          `${samples.filter((s) => s.cross).length} of ${samples.length} sampling retries on another replica`,
      );
    });

    it('tasks: every task created through the balancer is polled to exactly one terminal state, once, its question answered on any replica, polls spread over the replicas', async () => {
      const ctx = context(fleet.url, { K6_MCP_TASKS: '5', K6_MCP_TASK_STEP_MS: '100', K6_MCP_TASK_POLL_MS: '50' });
      const reports = await runIterations(6, 3, () => tasksIteration(ctx));
      expect(failedThresholds('tasks', ctx)).toBe('');
      const tasks = reports.flatMap((r) => r.tasks);
      expect(tasks).toHaveLength(30);
      expect(tasks.map((t) => [t.created, t.terminals, t.regressions])).toEqual(Array(30).fill([true, ['completed'], 0]));
      // Each asked its question once, and the answer (on whichever replica) led to the appendix.
      expect(tasks.every((t) => t.statuses.includes('input_required'))).toBe(true);
      expect(ctx.metrics.sum('mcp_task_questions_answered')).toBe(30);
      expect(new Set(tasks.map((t) => t.taskId)).size).toBe(30);
      const pollsPerReplica: Record<string, number> = {};
      for (const replica of tasks.flatMap((t) => t.pollReplicas)) pollsPerReplica[replica] = (pollsPerReplica[replica] ?? 0) + 1;
      expect(Object.keys(pollsPerReplica).sort()).toEqual(['replica-0', 'replica-1', 'replica-2']);
      expect(ctx.metrics.sum('mcp_task_polls')).toBe(tasks.reduce((n, t) => n + t.pollReplicas.length, 0));
      expect(ctx.logs).toEqual([]);
      measured.push(
        `tasks, 3 VUs: ${ctx.metrics.sum('mcp_tasks_created')} created, ${ctx.metrics.values('mcp_task_completed').filter((v) => v === 1).length} completed, ` +
          `${ctx.metrics.sum('mcp_task_regressions')} regressions, polls per replica ${JSON.stringify(pollsPerReplica)}, ` +
          `${tasks.filter((t) => t.cross).length} of ${tasks.length} tasks polled on another replica than their creator's`,
      );
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

    it('a modern client pinned to one replica fails both cross-replica floors, and nothing else', async () => {
      const ctx = context(fleet.replicas[0]!.url, { ...MODERN_ENV, K6_MCP_LISTEN_COUNTERS: '1', K6_MCP_LISTEN_BUMPS: '2', K6_MCP_SAMPLE_CALLS: '1' });
      await runIterations(2, 2, () => modernIteration(ctx));
      const failed = evaluateThresholds(thresholdsFor('modern', ctx.config), ctx.metrics).filter((v) => !v.ok);
      const floor = `rate>=${ctx.config.crossReplicaFloor}`;
      expect(failed.map((v) => `${v.key} ${v.expression}`)).toEqual([`mcp_listen_cross_replica ${floor}`, `mcp_mrtr_cross_replica ${floor}`]);
    });

    it('a task client pinned to one replica fails the cross-replica floor, and nothing else', async () => {
      const ctx = context(fleet.replicas[0]!.url, { K6_MCP_TASKS: '2', K6_MCP_TASK_STEP_MS: '0', K6_MCP_TASK_POLL_MS: '50' });
      await runIterations(2, 2, () => tasksIteration(ctx));
      const failed = evaluateThresholds(thresholdsFor('tasks', ctx.config), ctx.metrics).filter((v) => !v.ok);
      expect(failed.map((v) => `${v.key} ${v.expression}`)).toEqual([`mcp_task_cross_replica rate>=${ctx.config.crossReplicaFloor}`]);
    });

    it("a task that does not end within the client's wait fails the run, and it says why", async () => {
      // Steps of 2 s: the report needs about 8 s, the flow waits 1 s.
      const ctx = context(fleet.url, { K6_MCP_TASKS: '1', K6_MCP_TASK_STEP_MS: '2000', K6_MCP_TASK_POLL_MS: '100', K6_MCP_TASK_TIMEOUT_MS: '1000' });
      const [report] = await runIterations(1, 1, () => tasksIteration(ctx));
      expect(report!.tasks[0]).toMatchObject({ created: true, terminals: [], regressions: 0 });
      const failed = evaluateThresholds(thresholdsFor('tasks', ctx.config), ctx.metrics)
        .filter((v) => !v.ok)
        .map((v) => v.key);
      expect(failed).toEqual(['mcp_task_terminal_once', 'mcp_task_completed', 'checks']);
      expect(ctx.logs.join('\n')).toMatch(/never ended within K6_MCP_TASK_TIMEOUT_MS/);
    });

    it('listen streams the client cannot read to their end fail the modern run, and it says why', async () => {
      const ctx = context(fleet.url, {
        ...MODERN_ENV,
        K6_MCP_STREAM_TIMEOUT_MS: '300',
        K6_MCP_LISTEN_COUNTERS: '1',
        K6_MCP_LISTEN_BUMPS: '1',
        K6_MCP_SAMPLE_CALLS: '1',
      });
      const [report] = await runIterations(1, 1, () => modernIteration(ctx));
      expect(report!.listen).toMatchObject({ judged: false, acknowledged: false, ready: false });
      const failed = evaluateThresholds(thresholdsFor('modern', ctx.config), ctx.metrics)
        .filter((v) => !v.ok)
        .map((v) => v.key);
      expect(failed).toEqual(expect.arrayContaining(['mcp_listen_errors', 'mcp_listen_acknowledged', 'mcp_listen_ready', 'mcp_listen_complete', 'checks']));
      expect(ctx.logs.join('\n')).toMatch(/LISTEN_STREAM_MAX_MS/);
    });

    it('a listen stream that ends while its counters are being bumped is not judged for loss: the run fails on the end marker instead', async () => {
      // The flow believes in a 4 s window and bumps for about 3.5 s; the replicas end listen streams at 2 s.
      const ctx = context(fleet.url, {
        K6_MCP_LISTEN_WINDOW_MS: '4000',
        K6_MCP_LISTEN_SETTLE_MS: '400',
        K6_MCP_LISTEN_MARGIN_MS: '500',
        K6_MCP_LISTEN_COUNTERS: '1',
        K6_MCP_LISTEN_BUMPS: '10000',
        K6_MCP_SAMPLE_CALLS: '1',
      });
      const [report] = await runIterations(1, 1, () => modernIteration(ctx));
      expect(report!.listen).toMatchObject({ judged: false, acknowledged: true, ready: true, complete: false, lost: undefined, duplicated: 0 });
      // Some updates arrived before the stream ended; the bumps after it are not counted as lost.
      expect(report!.listen.received).toBeGreaterThan(0);
      expect(report!.listen.received).toBeLessThan(report!.listen.expected);
      expect(ctx.metrics.values('mcp_listen_updates_lost')).toEqual([]);
      const failed = evaluateThresholds(thresholdsFor('modern', ctx.config), ctx.metrics)
        .filter((v) => !v.ok)
        .map((v) => v.key);
      expect(failed).toEqual(['mcp_listen_updates_expected', 'mcp_listen_updates_delivered', 'mcp_listen_updates_lost', 'mcp_listen_complete', 'checks']);
      expect(ctx.logs.join('\n')).toMatch(/end marker did not reach the listen stream/);
    });

    it('bumps made after the server ended the listen stream are not judged as lost: the run fails on the start marker instead', async () => {
      // The flow believes in a 4 s window and waits 2.1 s; the replicas end listen streams at 2 s.
      const ctx = context(fleet.url, {
        K6_MCP_LISTEN_WINDOW_MS: '4000',
        K6_MCP_LISTEN_SETTLE_MS: '2100',
        K6_MCP_LISTEN_COUNTERS: '1',
        K6_MCP_LISTEN_BUMPS: '1',
        K6_MCP_SAMPLE_CALLS: '1',
      });
      const [report] = await runIterations(1, 1, () => modernIteration(ctx));
      expect(report!.listen).toMatchObject({ judged: false, acknowledged: true, ready: false, complete: false, received: 0, lost: undefined });
      expect(ctx.metrics.values('mcp_listen_updates_lost')).toEqual([]);
      const failed = evaluateThresholds(thresholdsFor('modern', ctx.config), ctx.metrics)
        .filter((v) => !v.ok)
        .map((v) => v.key);
      expect(failed).toEqual(expect.arrayContaining(['mcp_listen_ready', 'mcp_listen_complete']));
      expect(failed).not.toContain('mcp_listen_errors');
      expect(ctx.logs.join('\n')).toMatch(/start marker did not reach the listen stream/);
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
