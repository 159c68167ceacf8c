export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';

/** One entry of a scenario's checks.json, as the suite writes it. */
export interface Check {
  id: string;
  name?: string;
  description?: string;
  status: CheckStatus;
  errorMessage?: string;
}

export interface ScenarioSummary {
  passed: number;
  failed: number;
  warnings: number;
  /** No FAILURE and no WARNING. */
  ok: boolean;
  problems: string[];
}

export type Verdict = 'pass' | 'fail' | 'missing' | 'expected-failure' | 'stale';

export interface ScenarioRow {
  scenario: string;
  summary: ScenarioSummary | undefined;
  verdict: Verdict;
}

export interface TargetEvaluation {
  rows: ScenarioRow[];
  /** Scenarios that failed, or left no result, without being expected to. */
  unexpected: string[];
  /** Expected failures that passed, and entries that name no scenario of the suite. */
  stale: string[];
  totals: { checksPassed: number; checks: number; warnings: number; scenariosPassed: number; scenarios: number };
  ok: boolean;
}

export interface TargetColumn {
  name: string;
  evaluation?: TargetEvaluation;
  error?: string;
}

export function parseScenarioList(output: string): string[];
export function scenarioFromResultDir(dirName: string): string | undefined;
export function summarizeChecks(checks: readonly Check[]): ScenarioSummary;
export function parseExpectedFailures(text: string): Record<string, string>;
export function evaluateTarget(
  scenarios: readonly string[],
  results: ReadonlyMap<string, ScenarioSummary>,
  expected: Readonly<Record<string, string>>,
): TargetEvaluation;
export function formatSideBySide(scenarios: readonly string[], targets: readonly TargetColumn[]): string;
