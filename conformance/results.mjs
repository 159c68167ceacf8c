// Reading and judging the results of the MCP conformance suite's `server` command.
// Plain Node ESM (run before or without a build); types in results.d.mts.

/**
 * The server scenarios of a revision, from `conformance list --server --requirements REV`:
 * the ones it requires, and the ones it runs without scoring (extensions, pending ones), with why.
 */
export function parseRequirementList(output) {
  const required = [];
  const notScored = [];
  let section;
  let reason;
  for (const line of output.split('\n')) {
    if (/^Server scenarios/i.test(line)) section = 'required';
    else if (/^Run and reported, but never scored/i.test(line)) section = 'not-scored';
    else if (/^\S/.test(line)) section = undefined;
    if (section === 'required') {
      const match = /^\s+-\s+(\S+)\s*$/.exec(line);
      if (match) required.push(match[1]);
    } else if (section === 'not-scored') {
      const heading = /^ {2}(\S[^(]*?)\s*\(\d+\):\s*$/.exec(line);
      if (heading) reason = heading[1];
      const match = /^\s+-\s+(\S+)\s+\[server\]\s*$/.exec(line);
      if (match) notScored.push({ scenario: match[1], reason: reason ?? 'not scored' });
    }
  }
  return { required, notScored };
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** The scenario a result directory written by `conformance server -o DIR` belongs to. */
export function scenarioFromResultDir(dirName) {
  return RESULT_DIR.exec(dirName)?.[1];
}

/**
 * Counts a scenario's checks. Like the suite's own expected-failures baseline, a WARNING fails the
 * scenario as much as a FAILURE does; SKIPPED checks are counted but fail nothing, INFO checks are
 * only logged.
 */
export function summarizeChecks(checks) {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  let skipped = 0;
  const problems = [];
  for (const check of checks) {
    if (check.status === 'SUCCESS') passed += 1;
    else if (check.status === 'SKIPPED') skipped += 1;
    else if (check.status === 'FAILURE' || check.status === 'WARNING') {
      if (check.status === 'FAILURE') failed += 1;
      else warnings += 1;
      problems.push(`${check.status} ${check.id}: ${check.errorMessage ?? check.description ?? ''}`.trim());
    }
  }
  return { passed, failed, warnings, skipped, ok: failed === 0 && warnings === 0, problems };
}

/**
 * Parses conformance/expected-failures.json: per revision, an object of scenario name to the
 * reason it cannot pass. Every revision in `revisions` gets an entry (empty when the file has none).
 */
export function parseExpectedFailures(text, revisions) {
  const parsed = JSON.parse(text);
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isObject(parsed)) throw new Error('expected-failures must be a JSON object of revision to { scenario: reason }');
  const unknown = Object.keys(parsed).filter((revision) => !revisions.includes(revision));
  if (unknown.length > 0) throw new Error(`expected-failures names no revision this runner knows: ${unknown.join(', ')}`);
  const result = {};
  for (const revision of revisions) {
    const entries = parsed[revision] ?? {};
    if (!isObject(entries)) throw new Error(`expected-failures ${revision} must be an object of scenario name to reason`);
    result[revision] = {};
    for (const [scenario, reason] of Object.entries(entries)) {
      if (typeof reason !== 'string' || reason.trim() === '') {
        throw new Error(`expected failure ${revision} ${JSON.stringify(scenario)} needs a reason (a non-empty string)`);
      }
      result[revision][scenario] = reason;
    }
  }
  return result;
}

/**
 * Judges one run (a target at a revision) against the expected failures. A required scenario fails
 * unexpectedly when it failed (or left no result) without being expected to; an expected failure
 * that now passes is stale, and so is an entry naming no required scenario: both must be removed
 * from the file. Scenarios the revision does not score are reported and judged by nothing.
 */
export function evaluateRun({ required, notScored = [] }, results, expected) {
  const rows = [];
  const unexpected = [];
  const stale = [];
  for (const scenario of required) {
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
  stale.push(...Object.keys(expected).filter((name) => !required.includes(name)));
  const informational = notScored.map(({ scenario, reason }) => ({ scenario, reason, summary: results.get(scenario) }));
  const totals = { checksPassed: 0, checks: 0, warnings: 0, skipped: 0, scenariosPassed: 0, scenarios: required.length };
  for (const { summary, verdict } of rows) {
    if (summary) {
      totals.checksPassed += summary.passed;
      totals.checks += summary.passed + summary.failed + summary.warnings;
      totals.warnings += summary.warnings;
      totals.skipped += summary.skipped;
    }
    if (verdict === 'pass') totals.scenariosPassed += 1;
  }
  return { rows, informational, unexpected, stale, totals, ok: unexpected.length === 0 && stale.length === 0 };
}

function counts(summary) {
  const warn = summary.warnings > 0 ? ` ${summary.warnings}w` : '';
  const skipped = summary.skipped > 0 ? ` ${summary.skipped}s` : '';
  return `${summary.passed}/${summary.passed + summary.failed + summary.warnings}${warn}${skipped}`;
}

function requiredCell(row) {
  if (!row) return '';
  const { summary, verdict } = row;
  if (summary === undefined) return verdict === 'expected-failure' ? 'xfail (no result)' : 'NO RESULT';
  if (verdict === 'pass') return `pass ${counts(summary)}`;
  if (verdict === 'stale') return `STALE ${counts(summary)}`;
  if (verdict === 'expected-failure') return `xfail ${counts(summary)}`;
  return `${summary.failed > 0 ? 'FAIL' : 'WARN'} ${counts(summary)}`;
}

function informationalCell(row) {
  if (!row) return '';
  if (row.summary === undefined) return 'no result';
  return `${row.summary.ok ? 'pass' : 'fail'} ${counts(row.summary)}`;
}

function renderTable(header, lines) {
  const rows = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const render = (r) =>
    r
      .map((text, i) => text.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

function union(lists) {
  const seen = [];
  for (const list of lists) for (const name of list) if (!seen.includes(name)) seen.push(name);
  return seen;
}

/**
 * The tally of every run side by side: the required scenarios (blank where a revision does not
 * require one), the totals, then the scenarios run without being scored.
 */
export function formatSideBySide(columns) {
  const header = ['scenario', ...columns.map((c) => c.name)];
  const required = union(columns.map((c) => c.evaluation?.rows.map((r) => r.scenario) ?? []));
  const lines = required.map((scenario) => [
    scenario,
    ...columns.map((c) => (c.evaluation ? requiredCell(c.evaluation.rows.find((r) => r.scenario === scenario)) : '-')),
  ]);
  const total = (render) => columns.map((c) => (c.evaluation ? render(c.evaluation.totals) : c.error ? 'NOT RUN' : '-'));
  lines.push(
    ['required passed', ...total((t) => `${t.scenariosPassed}/${t.scenarios}`)],
    ['checks passed', ...total((t) => `${t.checksPassed}/${t.checks}`)],
    ['warnings', ...total((t) => String(t.warnings))],
    ['checks skipped', ...total((t) => String(t.skipped))],
  );
  const tables = [renderTable(header, lines)];
  const extra = union(columns.map((c) => c.evaluation?.informational.map((r) => r.scenario) ?? []));
  if (extra.length > 0) {
    const reasonOf = (scenario) => columns.flatMap((c) => c.evaluation?.informational ?? []).find((r) => r.scenario === scenario)?.reason ?? '';
    const extraLines = extra.map((scenario) => [
      `${scenario} (${reasonOf(scenario)})`,
      ...columns.map((c) => (c.evaluation ? informationalCell(c.evaluation.informational.find((r) => r.scenario === scenario)) : '-')),
    ]);
    tables.push(renderTable(['not scored', ...columns.map((c) => c.name)], extraLines));
  }
  return tables.join('\n\n');
}
