import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoadgen, type LoadgenMessage } from '../../bench/lib/loadgen-process.js';

/**
 * The benchmark's load generator (bench/loadgen.js) against a stand-in MCP endpoint: it runs its
 * phases and stops by itself, at the end of its phases or at its call bound, and it refuses
 * anything but loopback.
 */

const seen = { initialize: 0, initialized: 0, toolCalls: 0, sessions: new Set<string>() };
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number; method: string };
      if (message.method === 'initialize') {
        seen.initialize++;
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': `s-${seen.initialize}` });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-06-18' } }));
        return;
      }
      if (message.method === 'notifications/initialized') {
        seen.initialized++;
        res.writeHead(202).end();
        return;
      }
      seen.toolCalls++;
      const session = req.headers['mcp-session-id'];
      if (typeof session === 'string') seen.sessions.add(`${session}@${String(req.headers['mcp-protocol-version'])}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: '{}' }] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function collect(loadgen: ReturnType<typeof startLoadgen>, names: string[]): Promise<LoadgenMessage[]> {
  return Promise.all(names.map((name) => loadgen.next('phase-end', name)));
}

describe('the load generator', () => {
  it('gives each legacy client its own session, runs every phase, then exits by itself', async () => {
    const before = seen.toolCalls;
    const loadgen = startLoadgen({
      mode: 'load',
      url,
      era: 'legacy',
      clients: 3,
      tool: 'whoami',
      args: {},
      phases: [
        { name: 'warmup', ms: 50 },
        { name: 'measure', ms: 100 },
      ],
      maxCalls: 1_000_000,
      timeoutMs: 5000,
    });
    expect((await loadgen.next('ready')).sessions).toBe(3);
    const [warmup, measure] = await collect(loadgen, ['warmup', 'measure']);
    expect(await loadgen.exited).toEqual({ code: 0, signal: null });
    expect(seen.initialize).toBeGreaterThanOrEqual(3);
    expect(seen.initialized).toBe(seen.initialize);
    // Calls carry the session and the version the server chose at initialize.
    expect([...seen.sessions].every((s) => s.endsWith('@2025-06-18'))).toBe(true);
    expect(measure!.errors).toBe(0);
    // Latencies only of calls that started and ended in the phase; calls, of all that ended in it.
    expect(measure!.latency.count).toBeLessThanOrEqual(measure!.calls);
    expect(warmup!.calls + measure!.calls).toBeLessThanOrEqual(seen.toolCalls - before);
  });

  it('stops at its call bound even when its phases would run for minutes', async () => {
    const before = seen.toolCalls;
    const loadgen = startLoadgen({
      mode: 'load',
      url,
      era: 'modern',
      clients: 4,
      tool: 'whoami',
      args: {},
      phases: [
        { name: 'warmup', ms: 600_000 },
        { name: 'measure', ms: 600_000 },
      ],
      maxCalls: 25,
      timeoutMs: 5000,
    });
    await loadgen.next('ready');
    expect(await loadgen.exited).toEqual({ code: 0, signal: null });
    // Each of the 4 clients may have one call in flight when the bound is reached.
    expect(seen.toolCalls - before).toBeGreaterThanOrEqual(25);
    expect(seen.toolCalls - before).toBeLessThanOrEqual(25 + 3);
  }, 20_000);

  it('runs a census of exactly the asked number of calls, with nothing else in flight, once told to go', async () => {
    const loadgen = startLoadgen({
      mode: 'load',
      url,
      era: 'legacy',
      clients: 3,
      tool: 'whoami',
      args: {},
      phases: [{ name: 'measure', ms: 50 }],
      maxCalls: 1_000_000,
      timeoutMs: 5000,
      census: { calls: 7 },
    });
    await loadgen.next('phase', 'census');
    const before = seen.toolCalls;
    loadgen.send({ type: 'go' });
    const census = await loadgen.next('phase-end', 'census');
    expect(census).toMatchObject({ calls: 7, errors: 0 });
    expect(seen.toolCalls - before).toBe(7);
    expect(await loadgen.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses a target that is not on loopback, sending nothing', async () => {
    const before = seen.toolCalls + seen.initialize;
    const loadgen = startLoadgen({
      mode: 'load',
      url: 'http://10.0.0.1:80/mcp',
      era: 'modern',
      clients: 1,
      tool: 'whoami',
      args: {},
      phases: [{ name: 'measure', ms: 100 }],
      maxCalls: 10,
      timeoutMs: 1000,
    });
    await expect(loadgen.next('ready')).rejects.toThrow(/loopback/);
    expect((await loadgen.exited).code).toBe(1);
    expect(seen.toolCalls + seen.initialize).toBe(before);
  });
});
