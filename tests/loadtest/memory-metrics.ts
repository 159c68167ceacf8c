import type { MetricsSink } from '../../loadtest/lib/mcp.js';
import { BUILTIN_METRICS, METRICS, type MetricType } from '../../loadtest/lib/expectations.js';

export interface Sample {
  value: number;
  tags: Record<string, string>;
}

/**
 * The flows' metrics kept in memory, with k6's semantics for the few built-in metrics the
 * thresholds use (checks, http_req_failed, http_req_duration), so k6 threshold expressions can be
 * evaluated over them (thresholds.ts).
 */
export class MemoryMetrics implements MetricsSink {
  readonly samples = new Map<string, Sample[]>();
  readonly failedChecks: string[] = [];
  readonly types: Record<string, MetricType> = { ...METRICS, ...BUILTIN_METRICS };

  add(name: string, value: number | boolean, tags: Record<string, string> = {}): void {
    if (!(name in this.types)) throw new Error(`metric ${name} is not declared in loadtest/lib/expectations.js`);
    const list = this.samples.get(name) ?? [];
    list.push({ value: Number(value), tags: { ...tags } });
    this.samples.set(name, list);
  }

  check(name: string, ok: boolean, tags: Record<string, string> = {}): void {
    this.add('checks', ok, { ...tags, check: name });
    if (!ok) this.failedChecks.push(name);
  }

  /** What k6 records for every HTTP request. */
  request(tags: Record<string, string>, durationMs: number, failed: boolean): void {
    this.add('http_req_duration', durationMs, tags);
    this.add('http_req_failed', failed, tags);
  }

  values(name: string, filter: Record<string, string> = {}): number[] {
    return (this.samples.get(name) ?? []).filter((s) => Object.entries(filter).every(([k, v]) => s.tags[k] === v)).map((s) => s.value);
  }

  sum(name: string): number {
    return this.values(name).reduce((a, b) => a + b, 0);
  }
}
