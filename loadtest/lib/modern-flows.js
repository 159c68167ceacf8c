// One iteration of the modern scenario (protocol 2026-07-28), over the same injected context as
// flows.js: a subscriptions/listen stream that hears bumps made through the load balancer, and
// multi round-trip sampling whose retry may land on any replica.

import { uniqueTag } from './flows.js';
import { ModernClient } from './modern-mcp.js';
import { counterUri, samplingAnswer, tamperedState, toolJson } from './payloads.js';

const explained = {};
/** Up to this long between a sampling request and its retry. */
const RETRY_JITTER_MS = 25;

function explainOnce(ctx, cause, message) {
  if (explained[cause]) return;
  explained[cause] = true;
  ctx.log(message);
}

/** Updates lost and duplicated on one stream: for each URI, what arrived against what was bumped. */
export function judgeUpdates(bumped, received) {
  let expected = 0;
  let lost = 0;
  let duplicated = 0;
  for (const uri of Object.keys(bumped)) {
    const got = received[uri] || 0;
    expected += bumped[uri];
    lost += Math.max(0, bumped[uri] - got);
    duplicated += Math.max(0, got - bumped[uri]);
  }
  return { expected: expected, lost: lost, duplicated: duplicated };
}

function sameList(a, b) {
  return Array.isArray(a) && a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * Opens a listen stream on a start marker, the counters and an end marker, then bumps them through
 * the load balancer: the start marker listenSettleMs after opening, each counter up to listenBumps
 * times, the end marker last. Resolves (with the stream still open) with what judgeListen needs.
 *
 * k6 sees the stream only once the server has ended it, so the flow cannot wait for the
 * acknowledgement; it waits listenSettleMs and the markers show afterwards what it could not watch.
 * The server subscribes a stream as it writes the acknowledgement; each bump is handed to the bus
 * (Redis relays it to every replica) before it is answered, and the next is sent only after that.
 * So the start marker on the stream shows that it was subscribed before any counter was bumped, and
 * the end marker that it was still open when every counter's update had reached its replica. A
 * listen stream cannot be resumed: what is published after it ended is not counted, and an
 * iteration whose markers are missing is not judged for loss (mcp_listen_ready or
 * mcp_listen_complete fails and says why).
 */
export async function listenAndBump(ctx, client) {
  const config = ctx.config;
  const tag = uniqueTag('ml');
  const counters = [];
  for (let i = 0; i < config.listenCounters; i++) counters.push(tag + '-c' + i);
  const start = tag + '-start';
  const end = tag + '-end';
  const uris = [start].concat(counters, [end]).map(counterUri);
  const opened = Date.now();
  const stream = client.listen(uris);
  await ctx.http.delay(config.listenSettleMs);

  const replicas = [];
  let bumpsOk = true;
  let slowest = 0;
  const bump = async (name) => {
    const sent = Date.now();
    const answer = await client.callTool('bump', { name: name });
    slowest = Math.max(slowest, Date.now() - sent);
    if (answer.replica) replicas.push(answer.replica);
    const json = toolJson(answer.result);
    const ok = answer.ok && json !== undefined && json.name === name;
    bumpsOk = bumpsOk && ok;
    return ok;
  };
  await bump(start);
  // A counter is bumped only while it and the end marker can still be answered listenMarginMs
  // before the window ends, at the slowest pace seen so far: a slow fleet makes fewer bumps rather
  // than let the end marker miss the stream.
  const deadline = opened + config.listenWindowMs - config.listenMarginMs;
  const bumped = {};
  for (const name of counters) bumped[counterUri(name)] = 0;
  let skipped = 0;
  for (let round = 0; round < config.listenBumps; round++) {
    for (const name of counters) {
      if (Date.now() + 2 * slowest > deadline) skipped++;
      else if (await bump(name)) bumped[counterUri(name)]++;
    }
  }
  await bump(end);
  ctx.metrics.add('mcp_listen_bumps_skipped', skipped);
  ctx.metrics.check('bump answered', bumpsOk);
  return { stream: stream, uris: uris, start: counterUri(start), end: counterUri(end), bumped: bumped, bumpReplicas: replicas };
}

function explainListen(ctx, listened, ready, complete) {
  const config = ctx.config;
  if (!listened.ok && listened.status !== 0) {
    explainOnce(
      ctx,
      'status',
      'subscriptions/listen was answered with HTTP ' + listened.status + (listened.error ? ' (' + listened.error + ')' : '') + ' instead of a stream.',
    );
  } else if (!listened.ok) {
    explainOnce(
      ctx,
      'stream',
      'subscriptions/listen got no complete answer (' +
        listened.error +
        '). ' +
        'This scenario reads each listen stream when the server ends it: replicas must end listen streams after ' +
        'LISTEN_STREAM_MAX_MS (K6_MCP_LISTEN_WINDOW_MS=' +
        config.listenWindowMs +
        ') shorter than K6_MCP_STREAM_TIMEOUT_MS (' +
        config.streamTimeoutMs +
        ' ms).',
    );
  } else if (!ready) {
    explainOnce(
      ctx,
      'ready',
      'the start marker did not reach the listen stream: it was not subscribed K6_MCP_LISTEN_SETTLE_MS (' +
        config.listenSettleMs +
        ' ms) after it was opened, or had already ended.',
    );
  } else if (!complete) {
    explainOnce(
      ctx,
      'complete',
      'the end marker did not reach the listen stream: it ended before the bumps were done; the server must end listen streams no sooner than K6_MCP_LISTEN_WINDOW_MS (' +
        config.listenWindowMs +
        ' ms, its LISTEN_STREAM_MAX_MS), and bumps must take less than K6_MCP_LISTEN_MARGIN_MS (' +
        config.listenMarginMs +
        ' ms) each.',
    );
  }
}

/** Awaits the stream listenAndBump opened and records what it delivered against what was bumped. */
export async function judgeListen(ctx, pending) {
  const metrics = ctx.metrics;
  const listened = await pending.stream;
  const ack = listened.acknowledgement;
  const acknowledged = ack !== undefined && ack.params.notifications !== undefined && sameList(ack.params.notifications.resourceSubscriptions, pending.uris);
  const seen = listened.updatesByUri(pending.uris);
  const ready = listened.ok && seen.counts[pending.start] > 0;
  const complete = listened.ok && seen.counts[pending.end] > 0;
  explainListen(ctx, listened, ready, complete);

  const markers = {};
  markers[pending.start] = 1;
  markers[pending.end] = 1;
  const counters = judgeUpdates(pending.bumped, seen.counts);
  // A marker or counter that arrived more often than it was bumped is duplicated, judged or not.
  const duplicated = counters.duplicated + judgeUpdates(markers, seen.counts).duplicated;
  const judged = ready && complete;
  let received = 0;
  for (const uri of Object.keys(pending.bumped)) received += seen.counts[uri];
  if (judged) {
    metrics.add('mcp_listen_updates_expected', counters.expected);
    metrics.add('mcp_listen_updates_received', received);
    metrics.add('mcp_listen_updates_lost', counters.lost);
    for (let i = 0; i < counters.expected; i++) metrics.add('mcp_listen_updates_delivered', i < counters.expected - counters.lost);
  }
  metrics.add('mcp_listen_updates_duplicated', duplicated);
  metrics.add('mcp_listen_unexpected', seen.unexpected);
  metrics.add('mcp_listen_errors', listened.ok ? 0 : 1);
  metrics.add('mcp_listen_acknowledged', acknowledged);
  metrics.add('mcp_listen_ready', ready);
  metrics.add('mcp_listen_complete', complete);
  const cross = listened.replica !== undefined && pending.bumpReplicas.some((replica) => replica !== listened.replica);
  metrics.add('mcp_listen_cross_replica', cross);
  const exact = judged && counters.lost === 0 && duplicated === 0 && seen.unexpected === 0;
  metrics.check('every update arrived exactly once', exact);
  return {
    ok: exact && acknowledged,
    judged: judged,
    expected: counters.expected,
    received: received,
    lost: judged ? counters.lost : undefined,
    duplicated: duplicated,
    unexpected: seen.unexpected,
    acknowledged: acknowledged,
    ready: ready,
    complete: complete,
    streamReplica: listened.replica,
    bumpReplicas: pending.bumpReplicas,
    cross: cross,
  };
}

/** The first round of `sample`: an input_required result asking for exactly this sampling request. */
async function askToSample(client, prompt) {
  const answer = await client.callTool('sample', { prompt: prompt });
  const result = answer.result || {};
  const request = result.inputRequests && result.inputRequests.sample;
  const message = request && request.params && request.params.messages && request.params.messages[0];
  const asked =
    answer.ok &&
    result.resultType === 'input_required' &&
    request.method === 'sampling/createMessage' &&
    message !== undefined &&
    message.content.text === prompt &&
    typeof result.requestState === 'string';
  return { answer: answer, asked: asked, requestState: result.requestState };
}

/**
 * MRTR: `sample` answers input_required with a sampling request and a sealed requestState; the
 * client answers it in a second tools/call (same arguments, a new id, inputResponses, requestState
 * echoed as received), which the balancer may send to any replica. The result names the replica
 * that completed it, in its JSON and in X-MCP-Replica.
 */
export async function sampleAcrossReplicas(ctx, client, prompt) {
  const metrics = ctx.metrics;
  const first = await askToSample(client, prompt);
  metrics.check('sample asked for sampling/createMessage with a requestState', first.asked);
  if (!first.asked) {
    metrics.add('mcp_mrtr_completed', false);
    return { ok: false, firstReplica: first.answer.replica, retryReplica: undefined, cross: false };
  }
  const text = 'k6 says: ' + prompt;
  // Think time, as an answering user takes; it also keeps VUs running in step from sending every
  // retry to the replica of its first round under a round-robin balancer.
  await ctx.http.delay(Math.floor(Math.random() * RETRY_JITTER_MS));
  const retry = await client.callTool('sample', { prompt: prompt }, { inputResponses: { sample: samplingAnswer(text) }, requestState: first.requestState });
  const json = toolJson(retry.result);
  const completed =
    retry.ok &&
    retry.result.resultType !== 'input_required' &&
    json !== undefined &&
    json.answer === text &&
    json.model === 'k6' &&
    json.replica === retry.replica;
  metrics.add('mcp_mrtr_completed', completed);
  metrics.check('the sampling retry completed with the answer', completed);
  const cross = first.answer.replica !== undefined && retry.replica !== undefined && retry.replica !== first.answer.replica;
  if (retry.replica !== undefined) metrics.add('mcp_mrtr_cross_replica', cross);
  return { ok: completed, firstReplica: first.answer.replica, retryReplica: retry.replica, cross: cross };
}

/** A retry whose requestState was changed must be refused with the spec's -32602 (Invalid params). */
export async function tamperedRetry(ctx, client, prompt) {
  const metrics = ctx.metrics;
  const first = await askToSample(client, prompt);
  if (!first.asked) {
    metrics.add('mcp_mrtr_tamper_rejected', false);
    return { ok: false, error: undefined };
  }
  const retry = await client.callTool(
    'sample',
    { prompt: prompt },
    { inputResponses: { sample: samplingAnswer('tampered') }, requestState: tamperedState(first.requestState) },
  );
  const rejected = retry.status === 200 && retry.result === undefined && retry.rpcError !== undefined && retry.rpcError.code === -32602;
  metrics.add('mcp_mrtr_tamper_rejected', rejected);
  metrics.check('a tampered requestState was refused with -32602', rejected);
  return { ok: rejected, error: retry.rpcError };
}

/**
 * modern: listen and bump; while the stream is still open, sampleCalls sampling round trips and one
 * tampered retry; then judge the stream.
 */
export async function modernIteration(ctx) {
  const client = new ModernClient(ctx);
  const pending = await listenAndBump(ctx, client);
  const samples = [];
  for (let i = 0; i < ctx.config.sampleCalls; i++) samples.push(await sampleAcrossReplicas(ctx, client, 'prompt ' + i + ' of ' + pending.start));
  const tamper = await tamperedRetry(ctx, client, 'tampered ' + pending.start);
  const listen = await judgeListen(ctx, pending);
  return { ok: listen.ok && samples.every((s) => s.ok) && tamper.ok, listen: listen, samples: samples, tamper: tamper };
}
