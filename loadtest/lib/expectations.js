// What each scenario must show, defined once: the k6 scenario files put these thresholds in their
// options, and the end-to-end tests (tests/loadtest) evaluate the very same expressions over the
// same metrics recorded by the same flows against a local fleet.

/** Every custom metric the flows record: name → k6 type (trend metrics are times in ms). */
export const METRICS = {
  mcp_notifications_expected: 'counter',
  mcp_notifications_received: 'counter',
  mcp_notifications_duplicated: 'counter',
  mcp_notifications_lost: 'counter',
  mcp_notifications_delivered: 'rate',
  mcp_notifications_in_order: 'rate',
  mcp_cross_replica: 'rate',
  mcp_stream_polls: 'counter',
  mcp_stream_errors: 'counter',
  mcp_operation_ok: 'rate',
  mcp_sessions_killed: 'counter',
  mcp_session_not_found: 'counter',
  mcp_recoveries: 'counter',
  mcp_recovered: 'rate',
  mcp_tool_duration: 'trend',
  mcp_tool_ok: 'rate',
  mcp_listen_updates_expected: 'counter',
  mcp_listen_bumps_skipped: 'counter',
  mcp_listen_updates_received: 'counter',
  mcp_listen_updates_lost: 'counter',
  mcp_listen_updates_duplicated: 'counter',
  mcp_listen_updates_delivered: 'rate',
  mcp_listen_unexpected: 'counter',
  mcp_listen_acknowledged: 'rate',
  mcp_listen_ready: 'rate',
  mcp_listen_complete: 'rate',
  mcp_listen_errors: 'counter',
  mcp_listen_cross_replica: 'rate',
  mcp_mrtr_completed: 'rate',
  mcp_mrtr_cross_replica: 'rate',
  mcp_mrtr_tamper_rejected: 'rate',
  mcp_tasks_created: 'counter',
  mcp_task_created: 'rate',
  mcp_task_polls: 'counter',
  mcp_task_poll_errors: 'counter',
  mcp_task_questions_answered: 'counter',
  mcp_task_terminal_once: 'rate',
  mcp_task_regressions: 'counter',
  mcp_task_completed: 'rate',
  mcp_task_cross_replica: 'rate',
  mcp_task_duration: 'trend',
};

/** k6's own metrics that thresholds below use. */
export const BUILTIN_METRICS = {
  checks: 'rate',
  http_req_failed: 'rate',
  http_req_duration: 'trend',
};

/** The tools of the sustained-load mix, each with latency thresholds of its own. */
export const LOAD_TOOLS = ['whoami', 'progress', 'bump', 'notify'];

function notificationThresholds() {
  return {
    // every notification sent arrives, exactly once, in order
    mcp_notifications_expected: ['count>0'],
    mcp_notifications_delivered: ['rate==1'],
    mcp_notifications_lost: ['count==0'],
    mcp_notifications_duplicated: ['count==0'],
    mcp_notifications_in_order: ['rate==1'],
    mcp_stream_errors: ['count==0'],
  };
}

function recoveryThresholds() {
  return {
    // every logical operation succeeds, through a recovery where its session was killed
    mcp_operation_ok: ['rate==1'],
    mcp_recovered: ['rate==1'],
    mcp_recoveries: ['count>0'],
  };
}

function loadThresholds(config) {
  const thresholds = {
    mcp_tool_ok: ['rate>=' + (1 - config.maxErrorRate)],
    http_req_failed: ['rate<=' + config.maxErrorRate],
  };
  for (const tool of LOAD_TOOLS) {
    thresholds['mcp_tool_duration{tool:' + tool + '}'] = ['p(95)<' + config.p95Ms, 'p(99)<' + config.p99Ms];
  }
  return thresholds;
}

function modernThresholds(config) {
  return {
    // every update bumped while a listen stream was subscribed arrives on it exactly once
    mcp_listen_updates_expected: ['count>0'],
    mcp_listen_updates_delivered: ['rate==1'],
    mcp_listen_updates_lost: ['count==0'],
    mcp_listen_updates_duplicated: ['count==0'],
    mcp_listen_unexpected: ['count==0'],
    mcp_listen_errors: ['count==0'],
    // the acknowledgement came first; the stream was subscribed before the bumps and outlived them
    mcp_listen_acknowledged: ['rate==1'],
    mcp_listen_ready: ['rate==1'],
    mcp_listen_complete: ['rate==1'],
    // bumps reached the stream from other replicas; MRTR retries completed on other replicas
    mcp_listen_cross_replica: ['rate>=' + config.crossReplicaFloor],
    mcp_mrtr_completed: ['rate==1'],
    mcp_mrtr_cross_replica: ['rate>=' + config.crossReplicaFloor],
    mcp_mrtr_tamper_rejected: ['rate==1'],
    checks: ['rate==1'],
  };
}

function taskThresholds(config) {
  return {
    // every tools/call answered with a task, every task polled to exactly one terminal state, once:
    // never seen working again after it, never two different terminal states
    mcp_tasks_created: ['count>0'],
    mcp_task_created: ['rate==1'],
    mcp_task_terminal_once: ['rate==1'],
    mcp_task_regressions: ['count==0'],
    mcp_task_poll_errors: ['count==0'],
    // the reference report, its question answered by tasks/update, completes
    mcp_task_completed: ['rate==1'],
    // polls were served by other replicas than the one that created the task
    mcp_task_cross_replica: ['rate>=' + config.crossReplicaFloor],
    checks: ['rate==1'],
  };
}

/** Scenario name → its thresholds for a configuration (loadConfig). */
export const SCENARIOS = {
  'cross-replica-notifications': (config) =>
    Object.assign(notificationThresholds(), {
      // the stream and the notify calls were served by different replicas in most iterations
      mcp_cross_replica: ['rate>=' + config.crossReplicaFloor],
      checks: ['rate==1'],
    }),
  modern: (config) => modernThresholds(config),
  tasks: (config) => taskThresholds(config),
  '404-recovery': () => Object.assign(recoveryThresholds(), { checks: ['rate==1'] }),
  'sustained-load': (config) => loadThresholds(config),
  smoke: () =>
    Object.assign(notificationThresholds(), recoveryThresholds(), {
      mcp_tool_ok: ['rate==1'],
      checks: ['rate==1'],
    }),
};

export function thresholdsFor(scenario, config) {
  const make = SCENARIOS[scenario];
  if (!make) throw new Error('unknown scenario ' + scenario);
  return make(config);
}
