import { Client, type RequestOptions } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableSubscription, RecoveringTransport, versionNegotiation, type Era, type Reissue, type SubscriptionReopen } from '../../src/client/index.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { ServerProcess } from '../support/server-process.js';
import { CuttingProxy } from './cutting-proxy.js';

/** A 2026-07-28 client on the recovering transport that answers sampling, elicitation and roots. */
async function modernClient(url: string, era: Era = 'modern') {
  const reissues: Reissue[] = [];
  const updates: string[] = [];
  const transport = new RecoveringTransport(new URL(url), { onReissue: (reissue) => reissues.push(reissue) });
  const client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: {} }, versionNegotiation: versionNegotiation(era) },
  );
  client.setRequestHandler('sampling/createMessage', async (request) => ({
    role: 'assistant',
    model: 'test-model',
    content: { type: 'text', text: `echo: ${(request.params.messages[0]!.content as { text: string }).text}` },
  }));
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { answer: 'yes' } }));
  client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  client.setNotificationHandler('notifications/resources/updated', (n) => {
    updates.push(n.params.uri);
  });
  await client.connect(transport);
  const tool = async (name: string, args: Record<string, unknown> = {}, options?: RequestOptions) =>
    JSON.parse(((await client.callTool({ name, arguments: args }, options)).content as Array<{ text: string }>)[0]!.text) as Record<string, unknown>;
  return { client, transport, reissues, updates, tool };
}

const backoff = { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 40 };
/** Without the re-issue a broken call would wait for this, then fail. */
const timeout = 10_000;
/** Progress notifications make the server answer on an SSE stream. */
const streamed: RequestOptions = { timeout, onprogress: () => {} };

let redis: RedisProcess;
let replicas: ServerProcess[];
let proxy: CuttingProxy;

beforeAll(async () => {
  redis = await RedisProcess.start();
  replicas = await Promise.all(['modern-a', 'modern-b'].map((name) => ServerProcess.start(name, { REDIS_URL: redis.url })));
  proxy = await CuttingProxy.start(replicas.map((r) => r.port));
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all((replicas ?? []).map((r) => r.stop('SIGKILL')));
  await redis?.dispose();
});

/** Restarts whichever replica a test stopped. */
async function allReplicasUp(): Promise<void> {
  await Promise.all(replicas.filter((r) => !r.alive).map((r) => r.start()));
}

describe('2026-07-28 calls', () => {
  it('pinned: stateless calls, no initialize, no session; sampling, elicitation and roots answered', async () => {
    const c = await modernClient(proxy.url);
    expect(c.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(c.transport.era).toBe('modern');
    expect(await c.tool('whoami')).toMatchObject({ sessionId: null });
    expect(c.transport.sessionId).toBeUndefined();
    expect(await c.tool('sample', { prompt: '2+2?' })).toMatchObject({ answer: 'echo: 2+2?' });
    expect(await c.tool('elicit', { question: 'ok?' })).toMatchObject({ action: 'accept', content: { answer: 'yes' } });
    expect(await c.tool('roots')).toMatchObject({ roots: [{ uri: 'file:///work', name: 'work' }] });
    expect(proxy.served.some((s) => s.method === 'initialize' || s.method === 'GET')).toBe(false);
    await c.client.close();
  });

  it('auto: server/discover finds the modern era', async () => {
    const c = await modernClient(replicas[0]!.url, 'auto');
    expect(c.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(c.transport.era).toBe('modern');
    expect(await c.tool('whoami')).toMatchObject({ replica: 'modern-a', sessionId: null });
    await c.client.close();
  });

  it('the retry of a multi round-trip call lands on the other replica of a non-sticky fleet and completes', async () => {
    const c = await modernClient(proxy.url);
    const before = proxy.served.length;
    const result = await c.tool('sample', { prompt: 'where?' });
    const legs = proxy.served.slice(before).filter((s) => s.method === 'tools/call');
    expect(legs.map((l) => l.target).sort()).toEqual([0, 1]);
    expect(result).toMatchObject({ answer: 'echo: where?', replica: replicas[legs[1]!.target]!.name });
    await c.client.close();
  });
});

describe('2026-07-28: a broken response stream is re-issued once as a new request', () => {
  it('the stream is cut after the first events: the call resolves from the re-issue, counted and reported', async () => {
    const c = await modernClient(proxy.url);
    proxy.cutNext((method) => method === 'tools/call', 2);
    const before = proxy.served.length;
    const result = await c.tool('progress', { steps: 5, delayMs: 20 }, streamed);
    const calls = proxy.served.slice(before).filter((s) => s.method === 'tools/call');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.id).not.toEqual(calls[0]!.id);
    expect(result).toMatchObject({ steps: 5, replica: replicas[calls[1]!.target]!.name });
    expect(c.transport.reissues).toBe(1);
    expect(c.reissues).toEqual([{ method: 'tools/call', requestId: calls[0]!.id, reissuedAs: calls[1]!.id, cause: 'stream-broke' }]);
    await c.client.close();
  });

  it('the replica serving the call is killed mid-stream: the re-issue completes on the other one', async () => {
    const c = await modernClient(proxy.url);
    let firstProgress!: () => void;
    const progressed = new Promise<void>((resolve) => (firstProgress = resolve));
    try {
      const call = c.tool('progress', { steps: 20, delayMs: 100 }, { timeout, onprogress: () => firstProgress() });
      await progressed;
      const victim = replicas[proxy.served.at(-1)!.target]!;
      await victim.stop('SIGKILL');
      const result = await call;
      expect(result.replica).not.toBe(victim.name);
      expect(c.reissues).toMatchObject([{ method: 'tools/call', cause: 'stream-broke' }]);
    } finally {
      await allReplicasUp();
      await c.client.close();
    }
  });

  it('the connection is reset before any response (the replica ran the call): re-issued as well', async () => {
    const c = await modernClient(proxy.url);
    proxy.cutNext((method) => method === 'tools/call', 0);
    expect(await c.tool('bump', { name: 'reset-before-response' }, { timeout })).toMatchObject({ value: 2 });
    expect(c.reissues).toMatchObject([{ method: 'tools/call', cause: 'request-failed' }]);
    await c.client.close();
  });

  it('a re-issue whose stream breaks too fails the call: once, no loop', async () => {
    const c = await modernClient(proxy.url);
    proxy.cutNext((method) => method === 'tools/call', 1);
    proxy.cutNext((method) => method === 'tools/call', 1);
    const before = proxy.count('tools/call');
    await expect(c.tool('progress', { steps: 5, delayMs: 20 }, streamed)).rejects.toThrow(/broke again after the request was re-issued/);
    expect(proxy.count('tools/call') - before).toBe(2);
    expect(c.transport.reissues).toBe(1);
    await c.client.close();
  });

  it('a cancelled call is neither re-issued nor cancelled by notification: closing its stream is the cancel', async () => {
    const c = await modernClient(proxy.url);
    const abort = new AbortController();
    const before = proxy.served.length;
    const call = c.tool('progress', { steps: 20, delayMs: 100 }, { signal: abort.signal, onprogress: () => abort.abort('enough') });
    await expect(call).rejects.toThrow(/enough/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proxy.served.slice(before).map((s) => s.method)).toEqual(['tools/call']);
    expect(c.transport.reissues).toBe(0);
    await c.client.close();
  });
});

describe('2026-07-28: a dropped subscriptions/listen is listened again', () => {
  it('SIGTERM on the replica holding it ends the stream; it is re-opened and later bumps from the other replica arrive', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const c = await modernClient(a.url);
    const reopens: SubscriptionReopen[] = [];
    const uri = 'counter://drained';
    const subscription = await DurableSubscription.open(c.client, { resourceSubscriptions: [uri] }, { backoff, onReopen: (r) => reopens.push(r) });
    try {
      expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [uri] });
      const other = await modernClient(b.url);
      await other.tool('bump', { name: 'drained' });
      await expect.poll(() => c.updates.length).toBe(1);
      await a.stop('SIGTERM');
      await a.start();
      // Bump until one arrives: a re-listen may first land on the draining process and end again.
      await expect.poll(async () => (await other.tool('bump', { name: 'drained' }), c.updates.length), { timeout: 15_000, interval: 200 }).toBeGreaterThan(1);
      expect(subscription.reopens).toBeGreaterThanOrEqual(1);
      expect(reopens[0]).toMatchObject({ cause: 'graceful', honoredFilter: { resourceSubscriptions: [uri] } });
      await other.client.close();
    } finally {
      await subscription.close();
      await allReplicasUp();
      await c.client.close();
    }
    expect(await subscription.ended).toBe('local');
  });

  it('the connection under it is cut: re-opened through the load balancer with the same filter', async () => {
    const c = await modernClient(proxy.url);
    proxy.cutNext((method) => method === 'subscriptions/listen', 1);
    const uri = 'counter://cut-listen';
    const subscription = await DurableSubscription.open(c.client, { resourceSubscriptions: [uri], toolsListChanged: true }, { backoff });
    await expect.poll(() => subscription.reopens).toBe(1);
    expect(proxy.count('subscriptions/listen')).toBeGreaterThanOrEqual(2);
    await c.tool('bump', { name: 'cut-listen' });
    await expect.poll(() => c.updates).toEqual([uri]);
    await subscription.close();
    await c.client.close();
  });

  it('a replica that ends listen streams after LISTEN_STREAM_MAX_MS: listened again each time, bumps keep arriving', async () => {
    const rotating = await ServerProcess.start('modern-rotating', { LISTEN_STREAM_MAX_MS: '200' });
    const c = await modernClient(rotating.url);
    const subscription = await DurableSubscription.open(c.client, { resourceSubscriptions: ['counter://rotating'] }, { backoff });
    try {
      await expect.poll(() => subscription.reopens, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      const before = c.updates.length;
      await expect.poll(async () => (await c.tool('bump', { name: 'rotating' }), c.updates.length), { timeout: 10_000, interval: 100 }).toBeGreaterThan(before);
    } finally {
      await subscription.close();
      await c.client.close();
      await rotating.stop('SIGKILL');
    }
  });

  it('gives up after the configured attempts when nothing answers, and says so', async () => {
    const lonely = await ServerProcess.start('modern-lonely', {});
    const c = await modernClient(lonely.url);
    const lost: Error[] = [];
    const subscription = await DurableSubscription.open(
      c.client,
      { toolsListChanged: true },
      {
        backoff: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
        onLost: (error) => lost.push(error),
      },
    );
    await lonely.stop('SIGKILL');
    const ended = await subscription.ended;
    expect(ended).toBeInstanceOf(Error);
    expect((ended as Error).message).toMatch(/could not be re-opened after 3 attempt\(s\)/);
    expect(lost).toEqual([ended]);
    expect(subscription.reopens).toBe(0);
    await c.client.close();
  });

  it('ends at the first attempt once the Client itself was closed', async () => {
    const c = await modernClient(replicas[1]!.url);
    const subscription = await DurableSubscription.open(c.client, { toolsListChanged: true }, { backoff: { initialDelayMs: 10, maxAttempts: 1000 } });
    await c.client.close();
    expect(String(await subscription.ended)).toMatch(/after 1 attempt\(s\)/);
  });
});
