import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SCRAPE_SERIES, metricNames, observerSeries } from './promql.js';
import { RUN_PROMTOOL_TESTS, promtool } from './promtool.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'charts/mcp-fleet/files/prometheus-rules.yaml';
const RULE_TESTS = 'monitoring/rules.test.yaml';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ name?: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

const ruleFile = parse(readFileSync(root + RULES, 'utf8')) as RuleFile;
const ruleTests = parse(readFileSync(root + RULE_TESTS, 'utf8')) as RuleTestFile;
const alerts = ruleFile.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => r.alert !== undefined);

describe('prometheus-rules.yaml', () => {
  it('is a plain rule file (groups only), for the chart to put under a PrometheusRule spec', () => {
    expect(Object.keys(ruleFile)).toEqual(['groups']);
    expect(ruleFile.groups.length).toBeGreaterThan(0);
  });

  it('has the alerts the fleet needs', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'McpFleetStoreOverheadHigh',
        'McpFleetStoreErrors',
        'McpFleetDeliveryLatencyHigh',
        'McpFleetEventBusStalled',
        'McpFleetReplicaNotReady',
        'McpFleetTargetDown',
        'McpFleetNoReadyReplica',
        'McpFleetSessionNotFoundHigh',
        'McpFleetEventLoopStalled',
      ]),
    );
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
  });

  it('gives every alert a runbook_url to its own section of docs/runbook.md', () => {
    const runbook = readFileSync(root + 'docs/runbook.md', 'utf8');
    const sections = [...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!);
    for (const alert of alerts) {
      expect(alert.annotations?.runbook_url, alert.alert).toBe(`docs/runbook.md#${alert.alert.toLowerCase()}`);
      expect(sections, alert.alert).toContain(alert.alert);
    }
    expect(sections.sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('gives every alert a severity, a summary, a description and a for duration', () => {
    for (const alert of alerts) {
      expect(['warning', 'critical'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toMatch(/\S/);
      expect(alert.annotations?.description, alert.alert).toMatch(/\S/);
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('selects only metrics the observer defines, or the scrape series', async () => {
    const known = await observerSeries();
    for (const alert of alerts) {
      const names = metricNames(alert.expr);
      expect(names.length, alert.alert).toBeGreaterThan(0);
      for (const name of names) {
        expect(known.has(name) || SCRAPE_SERIES.includes(name), `${alert.alert} uses ${name}`).toBe(true);
      }
    }
  });

  it('has unit tests for each alert both firing and staying quiet', () => {
    expect(ruleTests.rule_files).toEqual([`../${RULES}`]);
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const names = new Set(alerts.map((a) => a.alert));
    for (const c of cases) expect(names.has(c.alertname), `test of unknown alert ${c.alertname}`).toBe(true);
    for (const alert of names) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} never expected to fire`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} never expected quiet`,
      ).toBe(true);
    }
  });
});

describe.runIf(RUN_PROMTOOL_TESTS)('promtool', () => {
  it('check rules accepts the rule file', () => {
    const result = promtool(['check', 'rules', RULES], undefined, root);
    expect(result.output).toContain(`SUCCESS: ${ruleFile.groups.flatMap((g) => g.rules).length} rules found`);
    expect(result.status).toBe(0);
  });

  it('test rules passes the unit tests', () => {
    const result = promtool(['test', 'rules', RULE_TESTS], undefined, root);
    expect(result.output).toContain('SUCCESS');
    expect(result.status, result.output).toBe(0);
  });
});
