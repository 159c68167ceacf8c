// k6 scenario: cross-replica notifications. Each iteration opens a session, holds its GET stream on
// one replica and sends `notify` through requests that the load balancer spreads over the others;
// every notification must reach the stream exactly once, in order. The server must end GET streams
// after a poll window (GET_STREAM_MAX_MS): k6 reads a response only when it is complete.
//
//   k6 run -e K6_MCP_URL=http://127.0.0.1:8080/mcp loadtest/cross-replica-notifications.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { crossReplicaNotifications } from './lib/flows.js';
import { createK6Context } from './lib/k6-adapter.js';
import { summarize } from './lib/summary.js';

const NAME = 'cross-replica-notifications';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    notifications: { executor: 'constant-vus', vus: config.vus, duration: config.duration, gracefulStop: '30s' },
  },
  thresholds: thresholdsFor(NAME, config),
  // A fresh connection per request: even a per-connection (L4) balancer spreads the requests.
  noConnectionReuse: true,
};

export default async function () {
  await crossReplicaNotifications(ctx);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
