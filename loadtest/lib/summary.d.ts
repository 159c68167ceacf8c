/** Types of summary.js. */
import type { LoadConfig } from './config.js';
export declare function formatSummary(scenario: string, data: unknown, url: string): string;
export declare function summarize(scenario: string, data: unknown, config: LoadConfig): Record<string, string>;
