// Settings of the load scenarios, from environment variables (k6: __ENV; Node: process.env), with
// defaults for the local fleet (`npm run fleet`). README: loadtest/README.md.

export const DEFAULT_URL = 'http://127.0.0.1:8080/mcp';

function number(env, name, fallback, min) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!isFinite(value) || value < min) throw new Error(name + '=' + JSON.stringify(raw) + ' must be a number of at least ' + min);
  return value;
}

function text(env, name, fallback) {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : String(raw);
}

function oneOf(env, name, fallback, allowed) {
  const value = text(env, name, fallback);
  if (allowed.indexOf(value) < 0) throw new Error(name + ' must be one of ' + allowed.join(', ') + ' (got ' + JSON.stringify(value) + ')');
  return value;
}

export function loadConfig(env) {
  const e = env || {};
  const config = {
    url: text(e, 'K6_MCP_URL', DEFAULT_URL),
    // k6 holds a GET stream until the server ends it; this bounds the wait.
    streamTimeoutMs: number(e, 'K6_MCP_STREAM_TIMEOUT_MS', 30000, 100),

    // cross-replica-notifications
    notifyCalls: number(e, 'K6_MCP_NOTIFY_CALLS', 3, 1),
    notificationsPerCall: number(e, 'K6_MCP_NOTIFY_COUNT', 5, 1),
    maxPolls: number(e, 'K6_MCP_MAX_POLLS', 4, 1),
    crossReplicaFloor: number(e, 'K6_MCP_CROSS_REPLICA_FLOOR', 0.5, 0),

    // 404-recovery: how sessions are killed (delete: DELETE from a second handle; ttl: wait for expiry)
    killMode: oneOf(e, 'K6_MCP_KILL', 'delete', ['delete', 'ttl']),
    sessionTtlSeconds: number(e, 'K6_MCP_SESSION_TTL_SECONDS', 5, 1),

    // sustained-load: arrival rate in tool calls a second, ramped up, held, ramped down
    rate: number(e, 'K6_MCP_RATE', 50, 1),
    rampUp: text(e, 'K6_MCP_RAMP', '30s'),
    hold: text(e, 'K6_MCP_HOLD', '2m'),
    preAllocatedVUs: number(e, 'K6_MCP_VUS', 20, 1),
    maxVUs: number(e, 'K6_MCP_MAX_VUS', 200, 1),
    p95Ms: number(e, 'K6_MCP_P95_MS', 250, 1),
    p99Ms: number(e, 'K6_MCP_P99_MS', 1000, 1),
    maxErrorRate: number(e, 'K6_MCP_MAX_ERROR_RATE', 0.01, 0),

    // modern: subscriptions/listen streams read when the server ends them, at its
    // LISTEN_STREAM_MAX_MS (listenWindowMs); the bumps start listenSettleMs after the stream was
    // opened and stop listenMarginMs before its window ends.
    listenWindowMs: number(e, 'K6_MCP_LISTEN_WINDOW_MS', 2000, 100),
    listenSettleMs: number(e, 'K6_MCP_LISTEN_SETTLE_MS', 500, 0),
    listenMarginMs: number(e, 'K6_MCP_LISTEN_MARGIN_MS', 400, 0),
    listenCounters: number(e, 'K6_MCP_LISTEN_COUNTERS', 3, 1),
    listenBumps: number(e, 'K6_MCP_LISTEN_BUMPS', 3, 1),
    sampleCalls: number(e, 'K6_MCP_SAMPLE_CALLS', 2, 1),

    // tasks: each iteration creates taskCount generate_report tasks (steps of taskStepMs), polls each
    // every taskPollMs until it ends (at most taskTimeoutMs), then taskRechecks times more
    taskCount: number(e, 'K6_MCP_TASKS', 3, 1),
    taskStepMs: number(e, 'K6_MCP_TASK_STEP_MS', 200, 0),
    taskPollMs: number(e, 'K6_MCP_TASK_POLL_MS', 100, 0),
    taskTimeoutMs: number(e, 'K6_MCP_TASK_TIMEOUT_MS', 30000, 100),
    taskRechecks: number(e, 'K6_MCP_TASK_RECHECKS', 2, 0),

    // cross-replica-notifications, 404-recovery, modern and tasks: closed model
    vus: number(e, 'K6_MCP_SCENARIO_VUS', 10, 1),
    duration: text(e, 'K6_MCP_DURATION', '1m'),

    summaryJson: text(e, 'K6_MCP_SUMMARY_JSON', ''),
  };
  if (config.listenSettleMs + config.listenMarginMs >= config.listenWindowMs) {
    throw new Error(
      'K6_MCP_LISTEN_WINDOW_MS (' +
        config.listenWindowMs +
        ') must exceed K6_MCP_LISTEN_SETTLE_MS + K6_MCP_LISTEN_MARGIN_MS (' +
        (config.listenSettleMs + config.listenMarginMs) +
        ')',
    );
  }
  return config;
}
