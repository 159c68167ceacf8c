/** Types of expectations.js. */
import type { LoadConfig } from './config.js';
export type MetricType = 'counter' | 'rate' | 'trend';
/** metric (optionally with a {tag:value} filter) → k6 threshold expressions */
export type Thresholds = Record<string, string[]>;
export declare const METRICS: Record<string, MetricType>;
export declare const BUILTIN_METRICS: Record<string, MetricType>;
export declare const LOAD_TOOLS: string[];
export declare const SCENARIOS: Record<string, (config: LoadConfig) => Thresholds>;
export declare function thresholdsFor(scenario: string, config: LoadConfig): Thresholds;
