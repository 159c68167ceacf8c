// k6 scenario: the modern era (protocol 2026-07-28: no initialize, no session, `_meta` and the
// standard headers on every request). Each iteration holds a subscriptions/listen stream on one
// replica and bumps its counters through the load balancer: every update must arrive exactly once;
// meanwhile it completes sampling round trips (MRTR) whose retries land on other replicas, and has
// a tampered requestState refused. The server must end listen streams after LISTEN_STREAM_MAX_MS
// (K6_MCP_LISTEN_WINDOW_MS): k6 reads a response only when it is complete. Updates published after a
// stream ended are not counted: a listen stream cannot be resumed.
//
//   k6 run -e K6_MCP_URL=http://127.0.0.1:8080/mcp loadtest/modern.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { createK6Context } from './lib/k6-adapter.js';
import { modernIteration } from './lib/modern-flows.js';
import { summarize } from './lib/summary.js';

const NAME = 'modern';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    modern: { executor: 'constant-vus', vus: config.vus, duration: config.duration, gracefulStop: '30s' },
  },
  thresholds: thresholdsFor(NAME, config),
  // A fresh connection per request: even a per-connection (L4) balancer spreads the requests.
  noConnectionReuse: true,
};

export default async function () {
  await modernIteration(ctx);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
