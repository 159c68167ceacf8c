import { describe, expect, it } from 'vitest';
import { metricNames, observerSeries } from './promql.js';

describe('metricNames', () => {
  it('finds the metrics of a quantile over a rate, ignoring functions, labels and grouping', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (method, le) (rate(mcp_fleet_request_store_seconds_bucket{namespace=~"$namespace", method!="GET"}[$__rate_interval])))',
      ),
    ).toEqual(['mcp_fleet_request_store_seconds_bucket']);
  });

  it('finds every operand of binary operations and set operators', () => {
    expect(
      metricNames(
        '(sum by (namespace, job) (mcp_fleet_ready) or sum by (namespace, job) (up{job=~".*mcp-fleet.*"}) * 0) == 0 and on (job) foo:bar unless baz offset 5m',
      ),
    ).toEqual(['baz', 'foo:bar', 'mcp_fleet_ready', 'up']);
  });

  it('ignores numbers, durations, string contents and Grafana variables', () => {
    expect(metricNames('sum(rate(x_total{a="not_a_metric(1)"}[5m])) / 1e3 > 0.5 * ${factor} + $other')).toEqual(['x_total']);
  });

  it('lists what the observer exposes, histograms by their series names', async () => {
    const series = await observerSeries();
    expect(series.has('mcp_fleet_request_store_seconds_bucket')).toBe(true);
    expect(series.has('mcp_fleet_request_store_seconds')).toBe(false);
    expect(series.has('mcp_fleet_ready')).toBe(true);
    expect(series.has('process_resident_memory_bytes')).toBe(true);
  });
});
