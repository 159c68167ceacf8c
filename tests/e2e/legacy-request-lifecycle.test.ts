import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { callTool, initialize, post, request, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** What happens to a legacy request between its arrival and its answer, on real replica processes. */
let redis: RedisProcess;
let A: ServerProcess;
let B: ServerProcess;
let stateless: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  [A, B, stateless] = await Promise.all([
    ServerProcess.start('life-a', { REDIS_URL: redis.url, CLIENT_REQUEST_TIMEOUT_MS: '400' }),
    ServerProcess.start('life-b', { REDIS_URL: redis.url }),
    ServerProcess.start('life-stateless', { SESSION_MODE: 'stateless' }),
  ]);
});

afterAll(async () => {
  await Promise.all([A, B, stateless].map((server) => server?.stop('SIGKILL')));
  await redis?.dispose();
});

describe('legacy requests from arrival to answer', () => {
  it('names the id the client saw when a server-to-client request times out', async () => {
    const session = await initialize(A.url, { sampling: {} });
    const answer = await callTool(A.url, session, 'sample', { prompt: 'never answered' });
    const [asked, cancelled] = answer.messages;
    expect(asked).toMatchObject({ method: 'sampling/createMessage' });
    expect(String(asked!.id)).toMatch(/^[A-Za-z0-9_-]{12}~[A-Za-z0-9_-]{16}$/);
    expect(cancelled).toMatchObject({ method: 'notifications/cancelled', params: { requestId: asked!.id } });
    expect(answer.messages.at(-1)?.result).toMatchObject({ isError: true });
  });

  it('leaks no Redis subscription when the client of a GET stream leaves while the replica is still subscribing', async () => {
    const session = await initialize(B.url);
    const channel = `mcp-fleet:session-events:{${session}}`;
    await redis.command('CLIENT', 'PAUSE', '800', 'ALL');
    const abort = new AbortController();
    const get = fetch(B.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' },
      signal: abort.signal,
    }).catch(() => undefined);
    setTimeout(() => abort.abort(), 200);
    await get;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await redis.command('PUBSUB', 'NUMSUB', channel)).toMatch(/:0$/);
    expect(toolJson(await callTool(B.url, session, 'whoami'))).toMatchObject({ sessionId: session });
  });

  it('refuses an invalid log level without storing it, so another replica still rebuilds the session', async () => {
    const session = await initialize(A.url);
    const refused = await post(A.url, request('logging/setLevel', { level: 'loud' }), session);
    expect(refused.messages[0]?.error).toMatchObject({ code: -32602 });
    const elsewhere = await callTool(B.url, session, 'whoami');
    expect(elsewhere.status).toBe(200);
    expect(toolJson(elsewhere)).toMatchObject({ replica: 'life-b', sessionId: session });
  });

  it('in stateless mode, answers a tool that needs client input with a tool error at once: there is no session to ask', async () => {
    const started = Date.now();
    const answer = await post(stateless.url, request('tools/call', { name: 'sample', arguments: { prompt: 'mine' } }));
    expect(answer.status).toBe(200);
    expect(answer.messages).toHaveLength(1);
    expect(answer.messages[0]?.result).toMatchObject({ isError: true });
    expect(JSON.stringify(answer.messages[0])).toContain('did not declare the required capability');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('routes an answer only within its own session: ids of another session are refused, sequential guesses too', async () => {
    const victim = await initialize(B.url, { sampling: {} });
    const attacker = await initialize(A.url, { sampling: {} });
    const response = await fetch(B.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': victim,
        'MCP-Protocol-Version': '2025-11-25',
      },
      body: JSON.stringify(request('tools/call', { name: 'sample', arguments: { prompt: 'mine' } })),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const asked = /data: (\{.*sampling\/createMessage.*\})\n/;
    while (!asked.test(text)) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended without a sampling request: ${text}`);
      text += decoder.decode(chunk.value, { stream: true });
    }
    const askedId = String(JSON.parse(asked.exec(text)![1]!).id);
    const instance = askedId.split('~')[0]!;
    const forged = { role: 'assistant', model: 'x', content: { type: 'text', text: 'forged by another client' } };
    await post(A.url, { jsonrpc: '2.0', id: askedId, result: forged }, attacker);
    for (let n = 0; n < 20; n++) await post(A.url, { jsonrpc: '2.0', id: `${instance}~${n}`, result: forged }, attacker);
    await post(A.url, { jsonrpc: '2.0', id: askedId, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'the real answer' } } }, victim);
    while (!text.includes('"result"')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    expect(text).toContain('the real answer');
    expect(text).not.toContain('forged by another client');
  });
});
