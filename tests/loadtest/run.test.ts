import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { which } from '../../src/fleet/which.js';
import { skipFleet } from '../fleet/available.js';

/** npm run loadtest (loadtest/run.mjs), with a stand-in for k6 that records how it was run. */

const RUN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtest/run.mjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-loadtest-run-'));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

/**
 * A k6 stand-in: writes its arguments, K6_MCP_URL, K6_MCP_LISTEN_WINDOW_MS and what the URL's
 * /healthz answered, then exits with `exitCode`. With `listen`, it first holds a 2026-07-28
 * subscriptions/listen stream and records whether the server ended it within 10 s.
 */
function fakeK6(exitCode: number, options: { listen?: boolean } = {}): { binary: string; record: string } {
  const record = path.join(work, `record-${exitCode}-${Date.now()}.json`);
  const binary = path.join(work, `k6-${exitCode}-${Date.now()}`);
  fs.writeFileSync(
    binary,
    `#!${process.execPath}
const http = require('node:http');
const url = process.env.K6_MCP_URL;
const found = { args: process.argv.slice(2), url, listenWindowMs: process.env.K6_MCP_LISTEN_WINDOW_MS };
const save = () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(found));
const health = () => http.get(url.replace(/\\/mcp$/, '/healthz'), (res) => { res.resume(); found.health = { status: res.statusCode, replica: res.headers['x-mcp-replica'] }; save(); process.exit(${exitCode}); })
  .on('error', (e) => { found.health = { error: e.code }; save(); process.exit(${exitCode}); });
const listen = (then) => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'fake-k6', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { _meta: meta, notifications: { resourceSubscriptions: ['counter://fake-k6'] } } });
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'subscriptions/listen' };
  const timer = setTimeout(() => { found.listen = { endedByServer: false }; then(); }, 10000);
  http.request(url, { method: 'POST', headers }, (res) => {
    res.resume();
    res.on('end', () => { clearTimeout(timer); found.listen = { status: res.statusCode, endedByServer: true }; then(); });
  }).on('error', (e) => { clearTimeout(timer); found.listen = { error: e.code }; then(); }).end(body);
};
${options.listen ? 'listen(health);' : 'health();'}
`,
    { mode: 0o755 },
  );
  return { binary, record };
}

function refused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        res.resume();
        resolve(false);
      })
      .on('error', () => resolve(true));
  });
}

describe('npm run loadtest', () => {
  it('lists the scenarios when none or an unknown one is named', async () => {
    const none = await run([], {});
    expect(none.code).toBe(2);
    expect(none.out).toContain('scenarios: smoke, cross-replica-notifications, 404-recovery, sustained-load, modern, tasks');
    const unknown = await run(['stress'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('unknown scenario stress');
  });

  it.skipIf(which('k6') !== undefined)('says how to install k6 when it is not on the PATH', async () => {
    const result = await run(['smoke'], { K6_MCP_URL: 'http://127.0.0.1:1/mcp' });
    expect(result.code).toBe(3);
    expect(result.out).toContain('k6 was not found on the PATH');
    expect(result.out).toContain('brew install k6');
  });

  it('runs k6 on the scenario against K6_MCP_URL, passing options and k6 exit code through', async () => {
    const k6 = fakeK6(99);
    const result = await run(['404-recovery.js', '--vus', '2'], { K6: k6.binary, K6_MCP_URL: 'http://127.0.0.1:1/mcp' });
    expect(result.code).toBe(99);
    const record = JSON.parse(fs.readFileSync(k6.record, 'utf8'));
    expect(record.args).toEqual(['run', '--vus', '2', path.join(path.dirname(RUN), '404-recovery.js')]);
    expect(record.url).toBe('http://127.0.0.1:1/mcp');
  });

  it.skipIf(skipFleet)(
    'starts a local fleet when no URL is given, ending listen streams after the window it tells the scenario, runs k6 against it, and stops it',
    async () => {
      const k6 = fakeK6(0, { listen: true });
      const result = await run(['modern'], { K6: k6.binary, LISTEN_STREAM_MAX_MS: '1000' });
      expect(result.out).toContain('starting a local fleet');
      expect(result.code).toBe(0);
      const record = JSON.parse(fs.readFileSync(k6.record, 'utf8'));
      expect(record.args).toEqual(['run', path.join(path.dirname(RUN), 'modern.js')]);
      expect(record.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(record.listenWindowMs).toBe('1000');
      expect(record.listen).toEqual({ status: 200, endedByServer: true });
      expect(record.health).toMatchObject({ status: 200, replica: expect.stringMatching(/^replica-\d$/) });
      expect(await refused(record.url.replace(/\/mcp$/, '/healthz'))).toBe(true);
    },
  );
});
