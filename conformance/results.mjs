// Reading and judging the results of the MCP conformance suite's `server` command.
// Plain Node ESM (run before or without a build); types in results.d.mts.

/** Scenario names from the output of `conformance list --server`. */
export function parseScenarioList(output) {
  const names = [];
  let inServerSection = false;
  for (const line of output.split('\n')) {
    if (/^Server scenarios/i.test(line)) {
      inServerSection = true;
      continue;
    }
    if (/^\S/.test(line)) inServerSection = false;
    const match = inServerSection ? /^\s+-\s+(\S+)/.exec(line) : null;
    if (match) names.push(match[1]);
  }
  return names;
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** The scenario a result directory written by `conformance server -o DIR` belongs to. */
export function scenarioFromResultDir(dirName) {
  return RESULT_DIR.exec(dirName)?.[1];
}

/**
 * Counts a scenario's checks. Like the suite's own expected-failures baseline, a WARNING fails the
 * scenario as much as a FAILURE does; INFO checks are only logged.
 */
export function summarizeChecks(checks) {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  const problems = [];
  for (const check of checks) {
    if (check.status === 'SUCCESS') passed += 1;
    else if (check.status === 'FAILURE' || check.status === 'WARNING') {
      if (check.status === 'FAILURE') failed += 1;
      else warnings += 1;
      problems.push(`${check.status} ${check.id}: ${check.errorMessage ?? check.description ?? ''}`.trim());
    }
  }
  return { passed, failed, warnings, ok: failed === 0 && warnings === 0, problems };
}

/** Parses conformance/expected-failures.json: an object of scenario name to the reason it cannot pass. */
export function parseExpectedFailures(text) {
  const parsed = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('expected-failures must be a JSON object of scenario name to reason');
  }
  const result = {};
  for (const [scenario, reason] of Object.entries(parsed)) {
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new Error(`expected failure ${JSON.stringify(scenario)} needs a reason (a non-empty string)`);
    }
    result[scenario] = reason;
  }
  return result;
}

/**
 * Judges one target's results against the expected failures. A scenario fails unexpectedly when it
 * failed (or left no result) without being expected to; an expected failure that now passes is
 * stale, and so is an entry naming no scenario of this suite: both must be removed from the file.
 */
export function evaluateTarget(scenarios, results, expected) {
  const rows = [];
  const unexpected = [];
  const stale = [];
  for (const scenario of scenarios) {
    const summary = results.get(scenario);
    const isExpected = Object.hasOwn(expected, scenario);
    const failedHere = summary === undefined || !summary.ok;
    let verdict;
    if (failedHere && isExpected) verdict = 'expected-failure';
    else if (failedHere) verdict = summary === undefined ? 'missing' : 'fail';
    else verdict = isExpected ? 'stale' : 'pass';
    if (verdict === 'fail' || verdict === 'missing') unexpected.push(scenario);
    if (verdict === 'stale') stale.push(scenario);
    rows.push({ scenario, summary, verdict });
  }
  const unknown = Object.keys(expected).filter((name) => !scenarios.includes(name));
  stale.push(...unknown);
  const totals = { checksPassed: 0, checks: 0, warnings: 0, scenariosPassed: 0, scenarios: scenarios.length };
  for (const { summary, verdict } of rows) {
    if (summary) {
      totals.checksPassed += summary.passed;
      totals.checks += summary.passed + summary.failed;
      totals.warnings += summary.warnings;
    }
    if (verdict === 'pass') totals.scenariosPassed += 1;
  }
  return { rows, unexpected, stale, totals, ok: unexpected.length === 0 && stale.length === 0 };
}

function cell(row) {
  if (!row) return '-';
  const { summary, verdict } = row;
  if (summary === undefined) return verdict === 'expected-failure' ? 'xfail (no result)' : 'NO RESULT';
  const counts = `${summary.passed}/${summary.passed + summary.failed}`;
  const warn = summary.warnings > 0 ? ` ${summary.warnings}w` : '';
  if (verdict === 'pass') return `pass ${counts}`;
  if (verdict === 'stale') return `STALE ${counts}`;
  if (verdict === 'expected-failure') return `xfail ${counts}${warn}`;
  return `${summary.failed > 0 ? 'FAIL' : 'WARN'} ${counts}${warn}`;
}

/** A table of every scenario with one column per target, then the totals. */
export function formatSideBySide(scenarios, targets) {
  const header = ['scenario', ...targets.map((t) => t.name)];
  const lines = scenarios.map((scenario) => [
    scenario,
    ...targets.map((t) => (t.evaluation ? cell(t.evaluation.rows.find((r) => r.scenario === scenario)) : '-')),
  ]);
  lines.push(
    ['checks passed', ...targets.map((t) => (t.evaluation ? `${t.evaluation.totals.checksPassed}/${t.evaluation.totals.checks}` : '-'))],
    ['warnings', ...targets.map((t) => (t.evaluation ? String(t.evaluation.totals.warnings) : '-'))],
    ['scenarios passed', ...targets.map((t) => (t.evaluation ? `${t.evaluation.totals.scenariosPassed}/${t.evaluation.totals.scenarios}` : t.error ? 'NOT RUN' : '-'))],
  );
  const rows = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const render = (r) => r.map((text, i) => text.padEnd(widths[i])).join('  ').trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}
