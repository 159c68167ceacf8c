// k6 scenario: smoke. One of each (cross-replica notifications, a 404 recovery, every tool of the
// load mix), seconds long: a quick check after `helm install`.
//
//   k6 run -e K6_MCP_URL=https://mcp.example.com/mcp loadtest/smoke.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { smoke } from './lib/flows.js';
import { createK6Context } from './lib/k6-adapter.js';
import { summarize } from './lib/summary.js';

const NAME = 'smoke';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    smoke: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: '2m' },
  },
  thresholds: thresholdsFor(NAME, config),
  noConnectionReuse: true,
};

export default async function () {
  await smoke(ctx);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
