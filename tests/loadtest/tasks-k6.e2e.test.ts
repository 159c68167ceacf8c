import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../src/fleet/which.js';
import { skipFleet } from '../fleet/available.js';

/**
 * The tasks scenario under real k6 (K6 or the PATH), through npm run loadtest against a local
 * fleet of three replicas: its thresholds pass, and its polls landed on every replica.
 */

const RUN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtest/run.mjs');
const k6 = process.env.K6 || which('k6');
if (!k6) console.info('tasks under real k6: skipped, k6 is neither in K6 nor on the PATH (the flow still runs in flows.e2e.test.ts)');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-k6-tasks-'));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // No K6_MCP_URL: run.mjs starts a local fleet.
    const { K6_MCP_URL: _url, ...inherited } = process.env;
    const child = spawn(process.execPath, [RUN, ...args], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

/** Sums of a counter's points by one tag, from k6's JSON output. */
function sumByTag(file: string, metric: string, tag: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const point = JSON.parse(line) as { type: string; metric: string; data: { value: number; tags?: Record<string, string> } };
    if (point.type !== 'Point' || point.metric !== metric) continue;
    const key = point.data.tags?.[tag] ?? '?';
    sums[key] = (sums[key] ?? 0) + point.data.value;
  }
  return sums;
}

describe.skipIf(skipFleet || !k6)('the tasks scenario under real k6', () => {
  it('passes its thresholds against a local three-replica fleet, every task completed once, polls on every replica', async () => {
    const summary = path.join(work, 'summary.json');
    const points = path.join(work, 'points.json');
    const env: Record<string, string> = { K6: k6!, K6_MCP_SCENARIO_VUS: '3', K6_MCP_DURATION: '8s', K6_MCP_SUMMARY_JSON: summary };
    const result = await run(['tasks', '--quiet', '--out', `json=${points}`], env);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('PASSED: 8 thresholds met');
    const data = JSON.parse(fs.readFileSync(summary, 'utf8')) as { metrics: Record<string, { values: Record<string, number> }> };
    const created = data.metrics.mcp_tasks_created!.values.count!;
    const completed = data.metrics.mcp_task_completed!.values.passes!;
    expect(created).toBeGreaterThan(0);
    expect(completed).toBe(created);
    expect(data.metrics.mcp_task_terminal_once!.values).toMatchObject({ passes: created, fails: 0 });
    const polls = sumByTag(points, 'mcp_task_polls', 'replica');
    expect(Object.keys(polls).sort()).toEqual(['replica-0', 'replica-1', 'replica-2']);
    console.info(`tasks under k6, 3 VUs for 8 s: ${created} created, ${completed} completed, polls per replica ${JSON.stringify(polls)}`);
  }, 180_000);
});
