import { McpServer } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ServerPool } from '../../src/server/modern/server-pool.js';
import type { Workload } from '../../src/workload/types.js';
import { startInProcess, type InProcessServer } from '../support/in-process-server.js';
import { modernRequest, postModern, toolJson } from '../support/raw-mcp.js';

/** The 2026-07-28 leg lends server instances from a pool: what one request leaves must not reach another. */

let built = 0;
/** Held calls of the `hold` tool: what releases each, and the instance serving it. */
const holds = new Map<string, { release: () => void; instance: number }>();

const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });

const probe: Workload = {
  name: 'pool-probe',
  register(server) {
    const instance = ++built;
    server.registerTool('instance', { inputSchema: z.object({ echo: z.string().optional() }) }, async ({ echo }) =>
      // The deprecated accessor reads what the SDK seeded on the instance from this request's _meta.
      text({ instance, echo: echo ?? null, client: server.server.getClientVersion()?.name ?? null }),
    );
    // Waits until the test releases it, whatever happens to its request meanwhile.
    server.registerTool('hold', { inputSchema: z.object({ key: z.string() }) }, async ({ key }) => {
      await new Promise<void>((release) => holds.set(key, { release, instance }));
      return text({ instance, key });
    });
    server.registerTool('fail', { inputSchema: z.object({}) }, async () => {
      throw new Error('this tool fails');
    });
    const extra = server.registerTool('extra', { inputSchema: z.object({}) }, async () => text({ instance }));
    server.registerTool('retire', { inputSchema: z.object({}) }, async () => {
      extra.disable();
      return text({ instance });
    });
  },
};

let replica: InProcessServer;

beforeAll(async () => {
  replica = await startInProcess({}, probe);
});

afterAll(async () => {
  for (const { release } of holds.values()) release();
  await replica?.stop();
});

const call = (name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) =>
  postModern(replica.url, modernRequest('tools/call', { name, arguments: args, ...(meta ? { _meta: meta } : {}) }));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('the modern leg reuses server instances', () => {
  it('builds the workload once for requests that come one after another', async () => {
    await call('instance');
    const before = built;
    const instances = new Set<number>();
    for (let i = 0; i < 10; i++) instances.add(toolJson(await call('instance')).instance);
    expect(built).toBe(before);
    expect(instances.size).toBe(1);
  });

  it('gives requests in flight together an instance each, and each its own answer', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const answers = keys.map((key) => call('hold', { key }));
    await until(() => keys.every((key) => holds.has(key)));
    expect(new Set(keys.map((key) => holds.get(key)!.instance)).size).toBe(keys.length);
    for (const key of keys) holds.get(key)!.release();
    const results = (await Promise.all(answers)).map(toolJson);
    expect(results.map((r) => r.key)).toEqual(keys);
    expect(results.map((r) => r.instance)).toEqual(keys.map((key) => holds.get(key)!.instance));
  });

  it('takes an instance back after a tool that threw', async () => {
    const failed = await call('fail');
    expect(failed.status).toBe(200);
    expect(failed.messages[0]).toMatchObject({ result: { isError: true } });
    const before = built;
    expect(toolJson(await call('instance', { echo: 'after' }))).toMatchObject({ echo: 'after' });
    expect(built).toBe(before);
  });

  it('does not lend again an instance whose request the client abandoned while its handler runs', async () => {
    const abandon = new AbortController();
    const gone = fetch(replica.url, {
      method: 'POST',
      signal: abandon.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'hold',
      },
      body: JSON.stringify(modernRequest('tools/call', { name: 'hold', arguments: { key: 'gone' } })),
    }).catch(() => undefined);
    await until(() => holds.has('gone'));
    abandon.abort();
    await gone;
    const running = holds.get('gone')!.instance;
    const served = new Set<number>();
    for (let i = 0; i < 5; i++) served.add(toolJson(await call('instance')).instance);
    expect(served.has(running)).toBe(false);
    holds.get('gone')!.release();
  });

  it("does not carry one request's client identity to the next", async () => {
    const first = toolJson(await call('instance', {}, { 'io.modelcontextprotocol/clientInfo': { name: 'first-client', version: '1' } }));
    expect(first.client).toBe('first-client');
    // clientInfo is optional in the envelope: this request names no client.
    const second = toolJson(await call('instance', {}, { 'io.modelcontextprotocol/clientInfo': undefined }));
    expect(second.instance).toBe(first.instance);
    expect(second.client).toBeNull();
  });

  it('retires an instance whose registrations a handler changed', async () => {
    const retired = toolJson(await call('retire')).instance;
    const list = await postModern(replica.url, modernRequest('tools/list'));
    const names = (list.messages[0]!.result.tools as { name: string }[]).map((t) => t.name);
    expect(names).toContain('extra');
    for (let i = 0; i < 3; i++) expect(toolJson(await call('instance')).instance).not.toBe(retired);
  });
});

describe('ServerPool', () => {
  const build = () => new McpServer({ name: 'pool-unit', version: '1' });

  it('keeps at most maxIdle instances, each once, and none whose exchange did not settle', () => {
    const pool = new ServerPool(build, 2);
    const [a, b, c, d] = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set([a, b, c, d]).size).toBe(4);
    pool.release(a, { settled: true });
    pool.release(a, { settled: true });
    expect(pool.size).toBe(1);
    pool.release(b, { settled: false });
    expect(pool.size).toBe(1);
    pool.release(c, { settled: true });
    pool.release(d, { settled: true });
    expect(pool.size).toBe(2);
    expect(pool.acquire()).toBe(c);
    expect(pool.acquire()).toBe(a);
    expect(pool.acquire()).not.toBe(d);
  });

  it('drops what it holds on clear', () => {
    const pool = new ServerPool(build, 4);
    const a = pool.acquire();
    pool.release(a, { settled: true });
    pool.clear();
    expect(pool.size).toBe(0);
    expect(pool.acquire()).not.toBe(a);
  });
});
