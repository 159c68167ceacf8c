// handleSummary for the scenarios: one line per threshold (✓ or ✗, the expression, what was
// measured), the checks that failed, and a verdict. K6_MCP_SUMMARY_JSON=path also writes k6's full
// summary data there.

function measured(metric) {
  const v = metric.values || {};
  if (metric.type === 'rate') return 'rate=' + round(v.rate) + ' (' + (v.passes || 0) + ' of ' + ((v.passes || 0) + (v.fails || 0)) + ')';
  if (metric.type === 'counter') return 'count=' + (v.count || 0);
  if (metric.type === 'trend') {
    const parts = [];
    for (const stat of ['avg', 'med', 'p(95)', 'p(99)', 'max'])
      if (v[stat] !== undefined) parts.push(stat + '=' + round(v[stat]) + (metric.contains === 'time' ? 'ms' : ''));
    return parts.join(' ');
  }
  return JSON.stringify(v);
}

function round(value) {
  return typeof value === 'number' ? Math.round(value * 1000) / 1000 : value;
}

function failedChecks(group, into) {
  for (const c of (group && group.checks) || []) if (c.fails > 0) into.push('  ✗ check "' + c.name + '": ' + c.fails + ' failed, ' + c.passes + ' passed');
  for (const g of (group && group.groups) || []) failedChecks(g, into);
  return into;
}

/** The text summary of a run: every threshold with its outcome, failed checks, and a verdict. */
export function formatSummary(scenario, data, url) {
  const lines = ['', 'mcp-fleet ' + scenario + ' against ' + url];
  let failed = 0;
  let total = 0;
  const names = Object.keys(data.metrics || {}).sort();
  for (const name of names) {
    const metric = data.metrics[name];
    if (!metric.thresholds) continue;
    for (const expression of Object.keys(metric.thresholds)) {
      total++;
      const ok = metric.thresholds[expression].ok;
      if (!ok) failed++;
      lines.push('  ' + (ok ? '✓' : '✗') + ' ' + name + ' ' + expression + '   ' + measured(metric));
    }
  }
  for (const name of [
    'mcp_notifications_expected',
    'mcp_notifications_received',
    'mcp_listen_updates_received',
    'mcp_listen_bumps_skipped',
    'mcp_stream_polls',
    'mcp_task_polls',
    'mcp_task_questions_answered',
    'mcp_task_duration',
    'mcp_sessions_killed',
    'mcp_session_not_found',
    'http_reqs',
    'iterations',
  ]) {
    const metric = (data.metrics || {})[name];
    if (metric && !metric.thresholds) lines.push('    ' + name + '   ' + measured(metric));
  }
  failedChecks(data.root_group, lines);
  lines.push(failed === 0 ? 'PASSED: ' + total + ' thresholds met' : 'FAILED: ' + failed + ' of ' + total + ' thresholds not met');
  lines.push('');
  return lines.join('\n');
}

export function summarize(scenario, data, config) {
  const out = { stdout: formatSummary(scenario, data, config.url) };
  if (config.summaryJson) out[config.summaryJson] = JSON.stringify(data, null, 2);
  return out;
}
