/**
 * `mcp-fleet serve --workload SPEC` (and MCP_WORKLOAD): a module of the author's, loaded from the
 * working directory; one line and exit code 2 when it cannot be used; a TypeScript module on the
 * image's Node (type stripping). Real processes of bin/mcp-fleet.mjs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/mcp-fleet.mjs');
const IMAGE_NODE = path.join(ROOT, '.cache/tools/bin/image-node');
let dir: string;

const WORKLOAD = (name: string) => `export default {
  name: '${name}',
  register(server, ctx) {
    server.registerTool('hello', { description: 'hi' }, async () => ({ content: [{ type: 'text', text: 'hello from ' + ctx.replicaName }] }));
  },
};
`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-workload-'));
  fs.writeFileSync(path.join(dir, 'good.mjs'), WORKLOAD('from-a-module'));
  fs.writeFileSync(
    path.join(dir, 'typed.ts'),
    WORKLOAD('from-typescript').replace('register(server, ctx)', 'register(server: any, ctx: { replicaName: string })'),
  );
  fs.writeFileSync(path.join(dir, 'none.mjs'), 'export const tools = 1;\n');
  fs.writeFileSync(path.join(dir, 'throws.mjs'), 'throw new Error("the module failed at load");\n');
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `mcp-fleet serve ...` in `dir`; when it listens, it is stopped with SIGTERM. */
function serve(args: string[], node = process.execPath, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(node, [BIN, 'serve', ...args], {
      cwd: dir,
      env: { ...process.env, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stopped && stdout.includes('"msg":"listening"')) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('mcp-fleet serve --workload', () => {
  it('serves the default export of a module given as a path from the working directory, and drains on SIGTERM', async () => {
    const run = await serve(['--workload', './good.mjs']);
    expect(run.stdout).toMatch(/"msg":"listening".*"workload":"from-a-module"/);
    expect(run.stdout, run.stderr).toContain('"msg":"stopping","signal":"SIGTERM"');
    expect(run.code).toBe(0);
  }, 60_000);

  it('takes MCP_WORKLOAD the same way', async () => {
    const run = await serve([], process.execPath, { MCP_WORKLOAD: './good.mjs' });
    expect(run.stdout).toMatch(/"workload":"from-a-module"/);
  }, 60_000);

  it.each([
    ['./missing.mjs', /^mcp-fleet: workload "\.\/missing\.mjs": cannot load it: Cannot find module .*missing\.mjs/],
    ['./none.mjs', /^mcp-fleet: workload "\.\/none\.mjs": its default export is not a Workload .*its exports: tools\)$/],
    ['./throws.mjs', /^mcp-fleet: workload "\.\/throws\.mjs": cannot load it: the module failed at load$/],
    [
      'no-such-workload-package',
      /^mcp-fleet: workload "no-such-workload-package": not a built-in workload \(reference, conformance\) and no installed package of that name$/,
    ],
  ])(
    '%s: one line naming it and why, exit code 2, no stack trace',
    async (spec, message) => {
      const run = await serve(['--workload', spec]);
      expect(run.code).toBe(2);
      const lines = run.stderr
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('{'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    },
    60_000,
  );

  it.skipIf(!fs.existsSync(IMAGE_NODE))(
    "runs a TypeScript module on the image's Node (24: its types stripped)",
    async () => {
      const run = await serve(['--workload', './typed.ts'], IMAGE_NODE);
      expect(run.stdout).toMatch(/"workload":"from-typescript"/);
      expect({ code: run.code, signal: run.signal }, run.stdout + run.stderr).toEqual({ code: 0, signal: null });
    },
    60_000,
  );
});
