// One iteration of each load scenario, over an injected context (see mcp.js): the k6 scripts run
// them with k6/http, the end-to-end tests with Node's HTTP client against a local fleet. Each
// records the metrics of expectations.js and returns what it saw.

import { McpSession } from './mcp.js';
import { expectedNotificationKeys, notificationKey, notifyArguments, TOOL_MIX, toolJson } from './payloads.js';

let tagCounter = 0;

/** A tag no other iteration of any VU uses (counter names allow at most 64 characters). */
export function uniqueTag(prefix) {
  tagCounter++;
  return prefix + '-' + Date.now().toString(36) + '-' + Math.floor(Math.random() * 1e9).toString(36) + '-' + tagCounter;
}

/** Resolves with the index of the first promise to settle. */
function firstSettled(promises) {
  return new Promise((resolve) => {
    promises.forEach((promise, index) =>
      promise.then(
        () => resolve(index),
        () => resolve(index),
      ),
    );
  });
}

let warnedAboutStreamEnd = false;

function explainStreamFailure(ctx, stream) {
  if (stream.ok || warnedAboutStreamEnd) return;
  warnedAboutStreamEnd = true;
  ctx.log(
    'GET stream failed (status ' +
      stream.status +
      (stream.error ? ', ' + stream.error : '') +
      '). ' +
      'This scenario reads each GET stream when the server ends it: the server must close GET streams after a ' +
      'poll window (GET_STREAM_MAX_MS, chart value server.getStreamMaxMs, e.g. 2000) shorter than ' +
      'K6_MCP_STREAM_TIMEOUT_MS (' +
      ctx.config.streamTimeoutMs +
      ' ms).',
  );
}

/** Counts each expected notification key among the received ones. */
export function judgeDelivery(expected, received) {
  const counts = {};
  for (const key of received) counts[key] = (counts[key] || 0) + 1;
  let lost = 0;
  let duplicated = 0;
  for (const key of expected) if (!counts[key]) lost++;
  for (const key of Object.keys(counts)) duplicated += counts[key] - 1;
  const firstSeen = received.filter((key, i) => received.indexOf(key) === i);
  const inOrder = firstSeen.join('\n') === expected.filter((key) => counts[key]).join('\n');
  const unexpected = Object.keys(counts).filter((key) => expected.indexOf(key) < 0).length;
  return { lost: lost, duplicated: duplicated, inOrder: inOrder, unexpected: unexpected };
}

/**
 * cross-replica-notifications: a session's GET stream is held by one replica while `notify` calls,
 * balanced per request, run on others; every notification must arrive exactly once, in order.
 *
 * k6 hands over a response only when it is complete, so the flow never needs to see a stream
 * "open": it opens two fresh GET streams at once. The server keeps one GET stream per session, so
 * the one that attached last takes over and the other ends; once that one is back, the live one is
 * certainly listening and every notification sent from then on reaches it. The live stream ends at
 * the server's poll window (GET_STREAM_MAX_MS); if anything is missing, the flow resumes with
 * Last-Event-ID, as the spec's polling clients do, up to maxPolls times.
 */
export async function crossReplicaNotifications(ctx) {
  const metrics = ctx.metrics;
  const config = ctx.config;
  const session = new McpSession(ctx);
  const init = await session.initialize();
  metrics.check('initialize answered with a session', init.ok);
  if (!init.ok) {
    metrics.add('mcp_stream_errors', 1);
    return { ok: false, reason: 'initialize ' + init.status + ' ' + init.error };
  }

  const streams = [session.getStream()];
  await ctx.http.delay(20);
  streams.push(session.getStream());
  const firstIndex = await firstSettled(streams);
  const first = await streams[firstIndex];
  const live = streams[1 - firstIndex];

  const tag = uniqueTag('xr');
  const expected = [];
  const notifyReplicas = [];
  let notifyOk = true;
  for (let call = 0; call < config.notifyCalls; call++) {
    const message = tag + '/' + call;
    const answer = await session.callTool('notify', notifyArguments(message, config.notificationsPerCall));
    notifyOk = notifyOk && answer.ok;
    if (answer.replica) notifyReplicas.push(answer.replica);
    const keys = expectedNotificationKeys(message, config.notificationsPerCall);
    for (const key of keys) expected.push(key);
  }
  metrics.check('notify answered', notifyOk);

  const received = [];
  let streamErrors = 0;
  const absorb = (stream) => {
    if (!stream.ok) streamErrors++;
    explainStreamFailure(ctx, stream);
    for (const message of stream.messages) {
      const key = notificationKey(message);
      if (key !== undefined && key.indexOf(tag + '/') === 0) received.push(key);
    }
  };
  absorb(first);
  const held = await live;
  absorb(held);
  let polls = 2;
  let cursor = held.lastEventId || first.lastEventId;
  let missing = judgeDelivery(expected, received).lost;
  while (missing > 0 && cursor && polls < config.maxPolls + 1) {
    const resumed = await session.getStream(cursor);
    polls++;
    absorb(resumed);
    if (resumed.lastEventId) cursor = resumed.lastEventId;
    missing = judgeDelivery(expected, received).lost;
    if (!resumed.ok) break;
  }

  const verdict = judgeDelivery(expected, received);
  const cross = held.replica !== undefined && notifyReplicas.some((replica) => replica !== held.replica);
  metrics.add('mcp_notifications_expected', expected.length);
  metrics.add('mcp_notifications_received', received.length);
  metrics.add('mcp_notifications_lost', verdict.lost);
  metrics.add('mcp_notifications_duplicated', verdict.duplicated + verdict.unexpected);
  for (const key of expected) metrics.add('mcp_notifications_delivered', received.indexOf(key) >= 0);
  metrics.add('mcp_notifications_in_order', verdict.inOrder);
  metrics.add('mcp_cross_replica', cross);
  metrics.add('mcp_stream_polls', polls);
  metrics.add('mcp_stream_errors', streamErrors);
  metrics.check('every notification arrived exactly once', verdict.lost === 0 && verdict.duplicated === 0 && verdict.unexpected === 0);
  const deleted = await session.remove();
  metrics.check('DELETE ended the session', deleted === 200);
  return {
    ok: notifyOk && verdict.lost === 0 && verdict.duplicated === 0 && verdict.unexpected === 0 && verdict.inOrder && streamErrors === 0,
    expected: expected.length,
    received: received.length,
    lost: verdict.lost,
    duplicated: verdict.duplicated,
    inOrder: verdict.inOrder,
    polls: polls,
    streamReplica: held.replica,
    notifyReplicas: notifyReplicas,
    cross: cross,
  };
}

/**
 * 404-recovery: a session is killed under a client that still uses it (DELETE from a second handle,
 * or its TTL runs out); the client's next call gets 404 and follows the spec: initialize again and
 * retry. Every logical operation must succeed and every killed session must be recovered.
 */
export async function recoveryAfter404(ctx) {
  const metrics = ctx.metrics;
  const config = ctx.config;
  const session = new McpSession(ctx);
  const init = await session.initialize();
  metrics.check('initialize answered with a session', init.ok);
  if (!init.ok) {
    metrics.add('mcp_operation_ok', false);
    return { ok: false, reason: 'initialize ' + init.status + ' ' + init.error };
  }
  const before = await session.callTool('whoami', {});
  metrics.add('mcp_operation_ok', before.ok);
  const killed = session.id;
  if (config.killMode === 'delete') {
    const status = await session.handle().remove();
    metrics.check('DELETE from a second handle ended the session', status === 200);
  } else {
    await ctx.http.delay(config.sessionTtlSeconds * 1000 + 1500);
  }
  metrics.add('mcp_sessions_killed', 1);

  const outcome = await session.callToolRecovering('whoami', {});
  const who = toolJson(outcome.answer.result);
  const ok = outcome.answer.ok && who !== undefined && who.sessionId === session.id && session.id !== killed;
  metrics.add('mcp_operation_ok', ok);
  metrics.add('mcp_session_not_found', outcome.notFound ? 1 : 0);
  metrics.add('mcp_recoveries', outcome.recovered ? 1 : 0);
  metrics.add('mcp_recovered', outcome.notFound && outcome.recovered);
  metrics.check('the killed session answered 404', outcome.notFound);
  metrics.check('the call succeeded on a new session', ok);
  await session.remove();
  return { ok: before.ok && ok, notFound: outcome.notFound, recovered: outcome.recovered, killed: killed, replacement: session.id };
}

/**
 * sustained-load: one tool call of the mix, on the session this VU keeps in `state` (created on
 * first use, replaced through 404 recovery). Latency and success are tagged with the tool.
 */
export async function sustainedToolCall(ctx, state, n) {
  const metrics = ctx.metrics;
  if (state.session === undefined) {
    const session = new McpSession(ctx);
    const init = await session.initialize({ tool: 'initialize' });
    if (!init.ok) {
      metrics.add('mcp_tool_ok', false, { tool: 'initialize' });
      return { ok: false, tool: 'initialize', reason: 'initialize ' + init.status + ' ' + init.error };
    }
    state.session = session;
  }
  const tool = TOOL_MIX[n % TOOL_MIX.length];
  const tags = { tool: tool.name };
  const started = Date.now();
  const outcome = await state.session.callToolRecovering(tool.name, tool.args(n));
  metrics.add('mcp_tool_duration', Date.now() - started, tags);
  metrics.add('mcp_tool_ok', outcome.answer.ok, tags);
  if (outcome.notFound) metrics.add('mcp_recoveries', outcome.recovered ? 1 : 0);
  return { ok: outcome.answer.ok, tool: tool.name, replica: outcome.answer.replica, recovered: outcome.recovered };
}

/** Ends the session a VU kept for sustainedToolCall. */
export async function closeSession(state) {
  if (state.session === undefined) return;
  await state.session.remove({ tool: 'delete' });
  state.session = undefined;
}

/** smoke: one of each, for a quick check after an install. */
export async function smoke(ctx) {
  const notifications = await crossReplicaNotifications(ctx);
  const recovery = await recoveryAfter404(ctx);
  const state = {};
  const calls = [];
  for (let n = 0; n < TOOL_MIX.length; n++) calls.push(await sustainedToolCall(ctx, state, n));
  await closeSession(state);
  return { ok: notifications.ok && recovery.ok && calls.every((c) => c.ok), notifications: notifications, recovery: recovery, calls: calls };
}
