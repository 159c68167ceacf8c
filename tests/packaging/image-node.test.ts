/**
 * The server's end-to-end tests on the Node the image ships. `npm test` runs every test on the
 * Node that runs npm (the one `npm start` uses); this file runs the end-to-end files once more,
 * in a second vitest run on the Node of the Dockerfile's major (the test tools' image-node, from
 * the npm registry), so every server process they start runs on the image's runtime.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/paths.js';
import { dockerfileInstructions } from './support/server-env.js';
import { tool } from './support/tools.js';
import { skipFleet } from '../fleet/available.js';

/** The files whose server processes must run on the image's Node. */
const END_TO_END = ['tests/e2e', 'tests/fleet', 'tests/packaging/chart-runtime.test.ts'];

function imageMajor(): string {
  const arg = dockerfileInstructions().find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  const major = /^NODE_IMAGE=node:(\d+)/.exec(arg?.args ?? '')?.[1];
  if (!major) throw new Error('the Dockerfile has no ARG NODE_IMAGE=node:N...');
  return major;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}

describe("the image's Node", () => {
  it("is of the Dockerfile's major", async () => {
    const { code, output } = await run(tool('image-node'), ['--version']);
    expect(code).toBe(0);
    expect(output.trim()).toMatch(new RegExp(`^v${imageMajor()}\\.`));
  });

  // The fleet files skip (and so would fail "none skipped") where haproxy or redis-server is missing outside CI.
  it.skipIf(skipFleet)(
    'runs the end-to-end tests (replicas, fleet, chart runtime): all pass, none skipped',
    async () => {
      const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-image-node-')), 'report.json');
      try {
        // One worker: this run shares the machine with the rest of the suite.
        const vitest = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
        const args = [vitest, 'run', ...END_TO_END, '--maxWorkers=1', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
        const { code, output } = await run(tool('image-node'), args);
        const failed = output
          .split('\n')
          .filter((l) => /FAIL|✗|×|Error/.test(l))
          .slice(0, 40)
          .join('\n');
        expect(code, `the run on the image's Node failed:\n${failed}\n${output.slice(-3000)}`).toBe(0);
        const result = JSON.parse(fs.readFileSync(report, 'utf8')) as JsonReport;
        const files = result.testResults.map((r) => path.relative(repoRoot, r.name)).sort();
        expect(files.filter((f) => f.startsWith('tests/e2e/')).length).toBeGreaterThanOrEqual(8);
        expect(files).toContain('tests/fleet/launcher.test.ts');
        expect(files).toContain('tests/packaging/chart-runtime.test.ts');
        expect({ failed: result.numFailedTests, skipped: result.numPendingTests }).toEqual({ failed: 0, skipped: 0 });
        expect(result.numPassedTests).toBe(result.numTotalTests);
        console.log(`on node ${imageMajor()}: ${result.numPassedTests} end-to-end tests passed in ${files.length} files`);
      } finally {
        fs.rmSync(path.dirname(report), { recursive: true, force: true });
      }
    },
    900_000,
  );
});
