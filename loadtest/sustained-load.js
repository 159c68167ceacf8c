// k6 scenario: sustained load. A ramping arrival rate of tools/call (whoami, progress, bump, notify
// in turn) over many sessions, one a VU, each recovering through 404 if its session is lost.
// Thresholds on p95/p99 latency for each tool and on the error rate.
//
//   k6 run -e K6_MCP_URL=http://127.0.0.1:8080/mcp -e K6_MCP_RATE=200 loadtest/sustained-load.js
//
// Settings: loadtest/README.md. Thresholds: lib/expectations.js.
import { loadConfig } from './lib/config.js';
import { thresholdsFor } from './lib/expectations.js';
import { sustainedToolCall } from './lib/flows.js';
import { createK6Context } from './lib/k6-adapter.js';
import { summarize } from './lib/summary.js';

const NAME = 'sustained-load';
const config = loadConfig(__ENV);
const ctx = createK6Context(config);
// Each VU keeps its own session across iterations.
const state = {};

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    load: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      preAllocatedVUs: config.preAllocatedVUs,
      maxVUs: config.maxVUs,
      stages: [
        { target: config.rate, duration: config.rampUp },
        { target: config.rate, duration: config.hold },
        { target: 0, duration: '10s' },
      ],
    },
  },
  thresholds: thresholdsFor(NAME, config),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)'],
};

export default async function () {
  await sustainedToolCall(ctx, state, __ITER);
}

export function handleSummary(data) {
  return summarize(NAME, data, config);
}
