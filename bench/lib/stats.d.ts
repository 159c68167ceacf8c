export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}
export function percentile(sorted: number[], p: number): number;
export function median(values: Array<number | undefined>): number;
export function latencySummary(latencies: number[]): LatencySummary;
export function ratio(a: number | undefined, b: number | undefined): number;
