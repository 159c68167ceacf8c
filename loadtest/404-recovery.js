// k6 scenario: 404 recovery. Each iteration kills its session under the client (DELETE from a
// second handle, or K6_MCP_KILL=ttl: waits out a short SESSION_TTL_SECONDS configured on the
// server); the next call gets 404 and the client follows the spec: initialize again, retry. Every
// logical operation must succeed and every killed session be recovered.
//
//   k6 run -e K6_MCP_URL=http://127.0.0.1:8080/mcp loadtest/404-recovery.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { recoveryAfter404 } from './lib/flows.js';
import { createK6Context } from './lib/k6-adapter.js';
import { summarize } from './lib/summary.js';

const NAME = '404-recovery';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    recovery: { executor: 'constant-vus', vus: config.vus, duration: config.duration, gracefulStop: '30s' },
  },
  thresholds: thresholdsFor(NAME, config),
  noConnectionReuse: true,
};

export default async function () {
  await recoveryAfter404(ctx);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
