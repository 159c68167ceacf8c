import { spawnSync } from 'node:child_process';
import { which } from '../../src/fleet/which.js';

/**
 * promtool (Debian/Ubuntu package `prometheus`). PROMTOOL may name the binary; otherwise it is
 * looked up on PATH. Tests that need it run whenever it is found, and also under CI=true, where a
 * missing promtool makes them fail instead of being skipped.
 */
export function findPromtool(): string | undefined {
  const explicit = process.env.PROMTOOL;
  if (explicit !== undefined && explicit !== '') return explicit;
  return which('promtool');
}

export const PROMTOOL = findPromtool();
const CI = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
/** Run promtool tests: promtool is here, or CI demands it (and the tests fail without it). */
export const RUN_PROMTOOL_TESTS = PROMTOOL !== undefined || CI;

export interface PromtoolResult {
  status: number | null;
  output: string;
}

export function promtool(args: string[], input?: string, cwd?: string): PromtoolResult {
  if (PROMTOOL === undefined) {
    throw new Error('promtool not found: install the `prometheus` apt package or set PROMTOOL');
  }
  const result = spawnSync(PROMTOOL, args, { input, cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
