export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';

/** One entry of a scenario's checks.json, as the suite writes it. */
export interface Check {
  id: string;
  name?: string;
  description?: string;
  status: CheckStatus;
  errorMessage?: string;
}

export interface NotScored {
  scenario: string;
  /** Why the revision runs it without scoring it: extension, pending, added-after-release. */
  reason: string;
}

/** A revision's server scenarios. */
export interface RequirementSet {
  required: string[];
  notScored: NotScored[];
}

export interface ScenarioSummary {
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
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

export interface InformationalRow extends NotScored {
  summary: ScenarioSummary | undefined;
}

export interface RunEvaluation {
  /** The required scenarios. */
  rows: ScenarioRow[];
  /** The scenarios run without being scored. */
  informational: InformationalRow[];
  /** Required scenarios that failed, or left no result, without being expected to. */
  unexpected: string[];
  /** Expected failures that passed, and entries that name no required scenario. */
  stale: string[];
  totals: { checksPassed: number; checks: number; warnings: number; skipped: number; scenariosPassed: number; scenarios: number };
  ok: boolean;
}

/** One run of the suite (a target at a revision) in the tally. */
export interface RunColumn {
  name: string;
  evaluation?: RunEvaluation;
  error?: string;
}

export type ExpectedFailures = Record<string, Record<string, string>>;

export function parseRequirementList(output: string): RequirementSet;
export function scenarioFromResultDir(dirName: string): string | undefined;
export function summarizeChecks(checks: readonly Check[]): ScenarioSummary;
export function parseExpectedFailures(text: string, revisions: readonly string[]): ExpectedFailures;
export function evaluateRun(
  scenarios: { required: readonly string[]; notScored?: readonly NotScored[] },
  results: ReadonlyMap<string, ScenarioSummary>,
  expected: Readonly<Record<string, string>>,
): RunEvaluation;
export function formatSideBySide(columns: readonly RunColumn[]): string;
