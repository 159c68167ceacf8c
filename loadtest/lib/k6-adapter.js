// The flows' context on k6's own modules: requests through http.asyncRequest (so a flow can hold a
// GET stream while it sends other requests), metrics as k6 custom metrics, checks as k6 checks.
// Import it from a scenario's init code: k6 creates metrics and response callbacks only there.

import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { METRICS } from './expectations.js';

// A 404 is how a server says "session unknown"; where the flow expects one, it is not a failed request.
const EXPECT_404 = http.expectedStatuses({ min: 200, max: 399 }, 404);

function lowerCaseHeaders(headers) {
  const lower = {};
  const names = Object.keys(headers || {});
  for (const name of names) {
    const value = headers[name];
    lower[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return lower;
}

/** k6's response as the flows read it: { status, headers (lower-case), body, error }. */
export function fromK6Response(response) {
  return {
    status: response.status,
    headers: lowerCaseHeaders(response.headers),
    body: typeof response.body === 'string' ? response.body : '',
    error: response.error || '',
  };
}

export function k6Http() {
  return {
    request(method, url, body, params) {
      const options = { headers: params.headers, tags: params.tags };
      if (params.timeoutMs) options.timeout = params.timeoutMs;
      if (params.expect404) options.responseCallback = EXPECT_404;
      return http.asyncRequest(method, url, body === undefined ? null : body, options).then(fromK6Response, (error) => ({
        status: 0,
        headers: {},
        body: '',
        error: String(error),
      }));
    },
    delay(ms) {
      // k6 v0.50+ has timers on its event loop; before, sleep (in-flight async requests go on meanwhile).
      if (typeof setTimeout === 'function') return new Promise((resolve) => setTimeout(resolve, ms));
      sleep(ms / 1000);
      return Promise.resolve();
    },
  };
}

/** Creates every metric of expectations.js (call from init code). */
export function k6Metrics() {
  const made = {};
  for (const name of Object.keys(METRICS)) {
    const type = METRICS[name];
    if (type === 'counter') made[name] = new Counter(name);
    else if (type === 'rate') made[name] = new Rate(name);
    else if (type === 'trend') made[name] = new Trend(name, true);
    else throw new Error('metric ' + name + ' has an unknown type ' + type);
  }
  return {
    add(name, value, tags) {
      const metric = made[name];
      if (!metric) throw new Error('metric ' + name + ' is not declared in expectations.js');
      metric.add(value, tags);
    },
    check(name, ok, tags) {
      const sets = {};
      sets[name] = (value) => value === true;
      check(ok === true, sets, tags);
    },
  };
}

export function createK6Context(config) {
  return {
    http: k6Http(),
    metrics: k6Metrics(),
    config: config,
    log: (message) => console.warn(message),
  };
}
