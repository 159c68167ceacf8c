// k6 scenario: MCP Tasks (protocol 2026-07-28, the io.modelcontextprotocol/tasks extension). Each
// iteration creates K6_MCP_TASKS generate_report tasks through the load balancer, polls each with
// tasks/get (Mcp-Name: its taskId) wherever the balancer sends the poll, answers its mid-way
// question with tasks/update, and judges it: exactly one terminal state, reached once (never seen
// working again, never a second terminal state), the report completed, polls served by other
// replicas than the one that created it.
//
//   k6 run -e K6_MCP_URL=http://127.0.0.1:8080/mcp loadtest/tasks.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { createK6Context } from './lib/k6-adapter.js';
import { summarize } from './lib/summary.js';
import { tasksIteration } from './lib/task-flows.js';

const NAME = 'tasks';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    tasks: { executor: 'constant-vus', vus: config.vus, duration: config.duration, gracefulStop: '60s' },
  },
  thresholds: thresholdsFor(NAME, config),
  // A fresh connection per request: even a per-connection (L4) balancer spreads the polls.
  noConnectionReuse: true,
};

export default async function () {
  await tasksIteration(ctx);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
