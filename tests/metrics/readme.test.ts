import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EXPECTED_METRICS } from './expected-metrics.js';

const readme = readFileSync(fileURLToPath(new URL('../../monitoring/README.md', import.meta.url)), 'utf8');
const rules = readFileSync(fileURLToPath(new URL('../../charts/mcp-fleet/files/prometheus-rules.yaml', import.meta.url)), 'utf8');

/** Rows of the metrics table: name → [type, labels]. */
function documentedMetrics(): Map<string, { type: string; labels: string }> {
  const rows = new Map<string, { type: string; labels: string }>();
  for (const match of readme.matchAll(/^\| `(mcp_fleet_[a-z_]+)` \| (\w+) \|([^|]*)\|/gm)) {
    rows.set(match[1]!, { type: match[2]!, labels: match[3]!.trim() });
  }
  return rows;
}

describe('monitoring/README.md', () => {
  it('documents exactly the metrics the observer defines, with their types', () => {
    const documented = documentedMetrics();
    expect(Object.fromEntries([...documented].map(([name, row]) => [name, row.type]))).toEqual(EXPECTED_METRICS);
  });

  it('documents the labels of each metric', () => {
    const documented = documentedMetrics();
    expect(documented.get('mcp_fleet_request_store_seconds')?.labels).toBe('`era`, `method`, `store`');
    expect(documented.get('mcp_fleet_request_store_commands')?.labels).toBe('`era`, `method`, `store`');
    expect(documented.get('mcp_fleet_request_duration_seconds')?.labels).toBe('`era`, `method`, `status`');
    expect(documented.get('mcp_fleet_input_rounds_total')?.labels).toBe('`era`, `phase`');
    expect(documented.get('mcp_fleet_store_command_seconds')?.labels).toBe('`store`, `operation`');
    expect(documented.get('mcp_fleet_deliveries_total')?.labels).toBe('`kind`, `path`');
    expect(documented.get('mcp_fleet_ready')?.labels).toBe('');
  });

  it('names the metrics port the server really defaults to', () => {
    const { metricsPort, port } = loadConfig({});
    expect(readme).toContain(`\`METRICS_PORT\` (default ${metricsPort})`);
    expect(readme).toContain(`\`PORT\`, default ${port}`);
  });

  it('lists every alert of the rule file', () => {
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) expect(readme).toContain(`| \`${alert}\` |`);
  });
});
