import type { LatencySummary } from './stats.js';

export interface Scenario {
  id: string;
  impl: string;
  setup: string;
  era: string;
}
export type RoundMetrics = Partial<Record<(typeof METRICS)[number], number>>;
export interface NotifyProbe {
  samples: number;
  delivered: number;
  latency: LatencySummary;
}
export interface Round {
  scenarios: Record<string, RoundMetrics>;
  notifications?: Record<string, { same?: NotifyProbe; cross?: NotifyProbe }>;
}
export interface Results {
  date: string;
  machine: { nproc: number; cpuModel: string; node: string; nodeSource?: string; os: string; loadAverage?: number[] };
  settings: { rounds: number; clients: number; warmupMs: number; measureMs: number };
  scenarios: Scenario[];
  rounds: Round[];
}
export interface ScenarioSummary {
  medians: Record<string, number>;
  notifications?: {
    sameP50Ms: number;
    crossP50Ms: number;
    crossMinusSameMs: number;
    delivered: { same?: { delivered: number; samples: number }; cross?: { delivered: number; samples: number } };
  };
  ratios: Record<string, { id: string; callsPerSecond: number; serverCpuUsPerCall: number }>;
}
export interface TargetCheck {
  target: string;
  measured: number;
  met: boolean;
}

export const METRICS: readonly [
  'callsPerSecond',
  'p50Ms',
  'p99Ms',
  'serverCpuUsPerCall',
  'lbCpuUsPerCall',
  'redisCpuUsPerCall',
  'redisCommandsPerCall',
  'redisRoundTripsPerCall',
  'rssMbPerReplica',
  'errors',
];
export const TABLE_HEADER: string[];
export function scenarioId(impl: string, setup: string, era: string): string;
export function referencesOf(scenario: Scenario): { tmcp?: string; sdk?: string; floor?: string; baseline?: string; reference?: string };
export function summarise(results: Results): Record<string, ScenarioSummary>;
export function checkTargets(summary: Record<string, ScenarioSummary>): TargetCheck[];
export function tableRows(results: Results, summary: Record<string, ScenarioSummary>): string[][];
export function markdownTable(header: string[], rows: string[][]): string;
export function renderMarkdown(results: Results, summary: Record<string, ScenarioSummary>, checks: TargetCheck[]): string;
