import { PrometheusObserver } from '../../src/metrics/index.js';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * Metric names an expression selects (PromQL or a Grafana query with $variables). Strings, label
 * matchers, range selectors, grouping clauses and function names are not metric names.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names].sort();
}

/** Series names the observer exposes (histograms as _bucket, _sum, _count), default metrics included. */
export async function observerSeries(): Promise<Set<string>> {
  const observer = new PrometheusObserver();
  const series = new Set<string>();
  for (const metric of await observer.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) series.add(metric.name + suffix);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) series.add(metric.name + suffix);
    } else {
      series.add(metric.name);
    }
  }
  return series;
}

/** Series Prometheus itself records for every scrape target. */
export const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];
