import type { MetricType, Thresholds } from '../../loadtest/lib/expectations.js';
import type { MemoryMetrics } from './memory-metrics.js';

/** `name{tag:value,...}` → the metric and its tag filter, as k6 reads a threshold's key. */
export function parseThresholdKey(key: string): { metric: string; tags: Record<string, string> } {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\{([^}]*)\})?$/.exec(key);
  if (!match) throw new Error(`not a k6 threshold key: ${key}`);
  const tags: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new Error(`bad tag filter in ${key}`);
    tags[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return { metric: match[1]!, tags };
}

export interface Expression {
  aggregation: string;
  operator: string;
  value: number;
}

/** `p(95)<250`, `rate==1`, `count>0` ... (k6's threshold expression syntax). */
export function parseExpression(expression: string): Expression {
  const match = /^\s*(count|rate|value|avg|min|max|med|p\(\d+(?:\.\d+)?\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expression);
  if (!match) throw new Error(`not a k6 threshold expression: ${expression}`);
  return { aggregation: match[1]!, operator: match[2]!, value: Number(match[3]) };
}

const ALLOWED: Record<MetricType, string[]> = {
  counter: ['count'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p'],
};

/** k6's percentile: linear interpolation between the closest ranks. */
export function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0]!;
  const i = fraction * (sorted.length - 1);
  const low = sorted[Math.floor(i)]!;
  const high = sorted[Math.ceil(i)]!;
  return low + (high - low) * (i - Math.floor(i));
}

export function aggregate(type: MetricType, values: number[], aggregation: string): number {
  const kind = aggregation.startsWith('p(') ? 'p' : aggregation;
  if (!ALLOWED[type].includes(kind)) throw new Error(`${aggregation} is not an aggregation of a ${type} metric`);
  const sorted = [...values].sort((a, b) => a - b);
  switch (kind) {
    case 'count':
      return values.reduce((a, b) => a + b, 0);
    case 'rate':
      return values.length === 0 ? 0 : values.filter((v) => v !== 0).length / values.length;
    case 'avg':
      return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return sorted[0] ?? 0;
    case 'max':
      return sorted.at(-1) ?? 0;
    case 'med':
      return percentile(sorted, 0.5);
    default:
      return percentile(sorted, Number(aggregation.slice(2, -1)) / 100);
  }
}

function compare(actual: number, operator: string, expected: number): boolean {
  switch (operator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '!=':
      return actual !== expected;
    default:
      return actual === expected;
  }
}

export interface Verdict {
  key: string;
  expression: string;
  ok: boolean;
  actual: number;
  samples: number;
}

/**
 * Evaluates k6 thresholds over recorded metrics. Stricter than k6 in one way: a threshold whose
 * metric has no samples fails, since a flow that never recorded it did not test it.
 */
export function evaluateThresholds(thresholds: Thresholds, metrics: MemoryMetrics): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const [key, expressions] of Object.entries(thresholds)) {
    const { metric, tags } = parseThresholdKey(key);
    const type = metrics.types[metric];
    if (!type) throw new Error(`threshold on an undeclared metric: ${key}`);
    const values = metrics.values(metric, tags);
    for (const expression of expressions) {
      const parsed = parseExpression(expression);
      const actual = aggregate(type, values, parsed.aggregation);
      verdicts.push({ key, expression, actual, samples: values.length, ok: values.length > 0 && compare(actual, parsed.operator, parsed.value) });
    }
  }
  return verdicts;
}

export function describeVerdicts(verdicts: Verdict[]): string {
  return verdicts.map((v) => `${v.ok ? 'ok  ' : 'FAIL'} ${v.key} ${v.expression} (measured ${v.actual} over ${v.samples} samples)`).join('\n');
}
