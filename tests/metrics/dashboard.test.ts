import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPECTED_METRICS } from './expected-metrics.js';
import { SCRAPE_SERIES, metricNames, observerSeries } from './promql.js';
import { RUN_PROMTOOL_TESTS, promtool } from './promtool.js';

const file = fileURLToPath(new URL('../../charts/mcp-fleet/files/grafana-dashboard.json', import.meta.url));

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  datasource?: { type: string; uid: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Base metric name of a series (histogram _bucket/_sum/_count folded back). */
function baseName(series: string): string {
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(series);
  return histogram && EXPECTED_METRICS[histogram[1]!] === 'histogram' ? histogram[1]! : series;
}

describe('grafana-dashboard.json', () => {
  it('is a Grafana dashboard of a recent schema with a stable uid', () => {
    expect(dashboard.uid).toBe('mcp-fleet');
    expect(dashboard.title).toMatch(/mcp-fleet/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(panels.length).toBeGreaterThanOrEqual(15);
  });

  it('templates the Prometheus data source, the namespace and the pod', () => {
    const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(byName.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['namespace', 'pod']) {
      const variable = byName.get(name);
      expect(variable, name).toMatchObject({ type: 'query', datasource: DATASOURCE });
      expect(variable?.definition, name).toMatch(new RegExp(`^label_values\\(mcp_fleet_ready.*, ${name}\\)$`));
    }
  });

  it('gives every panel and every query the templated data source', () => {
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
    }
    for (const { panel, target } of targets) expect(target.datasource, panel.title).toEqual(DATASOURCE);
  });

  it('has unique panel ids and refIds, and panels that fit the grid without overlapping', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of panels) {
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
    const cells = new Set<string>();
    for (const { title, gridPos: g } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('queries only metrics the observer defines (or the scrape series)', async () => {
    const known = await observerSeries();
    for (const { panel, target } of targets) {
      const names = metricNames(target.expr);
      expect(names.length, `${panel.title} ${target.refId}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(known.has(name) || SCRAPE_SERIES.includes(name), `${panel.title}: ${name}`).toBe(true);
      }
    }
  });

  it('filters every selector by the namespace and pod variables', () => {
    for (const { panel, target } of targets) {
      for (const name of metricNames(target.expr)) {
        const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const uses = [...target.expr.matchAll(new RegExp(`(?<![\\w:])${escaped}(\\{[^}]*\\})?`, 'g'))];
        for (const use of uses) {
          expect(use[1], `${panel.title}: ${name}`).toMatch(/namespace=~"\$namespace"/);
          expect(use[1], `${panel.title}: ${name}`).toMatch(/pod=~"\$pod"/);
        }
      }
    }
  });

  it('shows every mcp_fleet_ metric somewhere', () => {
    const shown = new Set(targets.flatMap(({ target }) => metricNames(target.expr).map(baseName)));
    for (const metric of Object.keys(EXPECTED_METRICS)) expect(shown.has(metric), metric).toBe(true);
  });

  const exprsOf = (title: RegExp): string[] => panels.filter((p) => title.test(p.title)).flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('compares the two eras: request rate, duration and store commands by era', () => {
    for (const title of [/^Request rate by era$/, /^Request duration by era/, /^Store commands per request by era/]) {
      const exprs = exprsOf(title);
      expect(exprs.length, String(title)).toBeGreaterThan(0);
      for (const expr of exprs) expect(expr, String(title)).toMatch(/sum by \(era(, le)?\)/);
    }
  });

  it('leaves long-lived streams (GET and subscriptions/listen) out of every request-duration quantile', () => {
    const quantiles = targets.filter(({ target }) => target.expr.includes('mcp_fleet_request_duration_seconds_bucket'));
    expect(quantiles.length).toBeGreaterThan(0);
    for (const { panel, target } of quantiles) expect(target.expr, panel.title).toContain('method!~"GET|subscriptions/listen"');
  });

  it('shows open listen streams, and event bus deliveries and latency local vs store', () => {
    expect(exprsOf(/listen streams/).some((e) => /mcp_fleet_open_streams\{[^}]*kind="listen"/.test(e))).toBe(true);
    const deliveries = exprsOf(/^Event bus: events handed/);
    expect(deliveries).toEqual([expect.stringMatching(/^sum by \(path\) \(rate\(mcp_fleet_deliveries_total\{[^}]*kind="event"/)]);
    const latency = exprsOf(/^Event bus latency/);
    for (const q of ['0.5', '0.99']) {
      expect(
        latency.some(
          (e) => e.startsWith(`histogram_quantile(${q}, sum by (path, le) (rate(mcp_fleet_delivery_latency_seconds_bucket{`) && e.includes('kind="event"'),
        ),
      ).toBe(true);
    }
  });

  it('shows input rounds by era and phase, and rounds per tool call for each era', () => {
    expect(exprsOf(/^Input rounds by era and phase$/)).toEqual([expect.stringMatching(/^sum by \(era, phase\) \(rate\(mcp_fleet_input_rounds_total\{/)]);
    const perCall = panels.find((p) => p.title === 'Input rounds per tool call');
    const byEra = new Map((perCall?.targets ?? []).map((t) => [t.legendFormat, t.expr]));
    expect([...byEra.keys()].sort()).toEqual(['legacy', 'modern']);
    for (const [era, expr] of byEra) {
      expect(expr).toContain(`era="${era}", phase="requested"`);
      expect(expr).toContain(`era="${era}", method="tools/call"`);
    }
    // a modern round comes back as a tools/call of its own: those retries are not calls started
    expect(byEra.get('modern')).toContain('era="modern", phase="resumed"');
    expect(byEra.get('legacy')).not.toContain('resumed');
  });

  it('shows store time per request by method at p50, p95 and p99', () => {
    const panel = panels.find((p) => /Store time per request by method/.test(p.title));
    const exprs = (panel?.targets ?? []).map((t) => t.expr);
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q}, sum by (method, le) (rate(mcp_fleet_request_store_seconds_bucket{`))).toBe(true);
    }
  });
});

describe.runIf(RUN_PROMTOOL_TESTS)('dashboard queries checked by promtool', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-fleet-dashboard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are valid PromQL once the Grafana variables are substituted', () => {
    const substitute = (expr: string) =>
      expr
        .replaceAll('$__rate_interval', '5m')
        .replaceAll('$__interval', '1m')
        .replace(/\$\{?(namespace|pod)\}?/g, '.*');
    const rules = targets.map(({ panel, target }) => ({
      record: `dashboard:panel_${panel.id}_${target.refId}`,
      expr: substitute(target.expr),
    }));
    const rulesFile = path.join(dir, 'dashboard-queries.yaml');
    writeFileSync(rulesFile, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = promtool(['check', 'rules', rulesFile]);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status, result.output).toBe(0);
  });
});
