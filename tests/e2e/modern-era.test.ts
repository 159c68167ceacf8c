import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { FleetClient } from '../support/fleet-client.js';
import { ModernClient } from '../support/modern-client.js';
import { modernRequest, postModern, toolJson, type RpcAnswer } from '../support/raw-mcp.js';

/**
 * 2026-07-28 clients on a fleet of three replica processes on one Redis behind HAProxy: stateless
 * calls anywhere, listen streams fed from every replica, multi round-trip requests whose retry
 * lands elsewhere, and both eras hearing each other's change events.
 */
let fleet: Fleet;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  fleet = await startFleet({ replicas: 3, env: { LOG_LEVEL: 'warn' } });
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => {});
  await fleet?.stop();
});

async function modern(url = fleet.url): Promise<ModernClient> {
  const client = await ModernClient.connect(url);
  closers.push(() => client.close());
  return client;
}

const replicaUrl = (index: number): string => fleet.replicas[index]!.url;
const SAMPLE_ANSWER = { role: 'assistant', model: 'raw', content: { type: 'text', text: 'forty-two' } };

function resultOf(answer: RpcAnswer): Record<string, any> {
  const message = answer.messages.find((m) => 'result' in m || 'error' in m);
  if (!message) throw new Error(`no response in ${JSON.stringify(answer.messages)}`);
  return message;
}

describe('2026-07-28 clients on a three-replica fleet', () => {
  it('serves a pinned client statelessly: calls spread over every replica, no session id', async () => {
    const client = await modern();
    expect(client.client.getProtocolEra()).toBe('modern');
    for (let i = 0; i < 9; i++) expect(await client.tool('whoami')).toMatchObject({ sessionId: null });
    const replicas = new Set(client.roundsOf('whoami'));
    expect(replicas).toEqual(new Set(fleet.replicas.map((r) => r.name)));
  });

  it('completes sample, elicit and roots with the retry served by another replica than the first round', async () => {
    const client = await modern();
    expect(await client.tool('sample', { prompt: 'ping' })).toMatchObject({ answer: 'echo: ping', model: 'modern-test-model' });
    expect(await client.tool('elicit', { question: 'meaning?' })).toMatchObject({ action: 'accept', content: { answer: 'forty-two' } });
    expect(await client.tool('roots')).toMatchObject({ roots: [{ uri: 'file:///work', name: 'work' }] });
    for (const tool of ['sample', 'elicit', 'roots']) {
      const rounds = client.roundsOf(tool);
      expect(rounds).toHaveLength(2);
      expect(rounds[0]).not.toBe(rounds[1]);
    }
  });

  it('seals requestState so that a retry on any replica completes, and a tampered one is refused', async () => {
    const call = (extra: Record<string, unknown> = {}) =>
      modernRequest('tools/call', { name: 'sample', arguments: { prompt: 'p' }, ...extra }, { sampling: {} });
    const first = resultOf(await postModern(replicaUrl(0), call())).result;
    expect(first).toMatchObject({ resultType: 'input_required', inputRequests: { sample: { method: 'sampling/createMessage' } } });
    expect(typeof first.requestState).toBe('string');

    const retry = await postModern(replicaUrl(1), call({ inputResponses: { sample: SAMPLE_ANSWER }, requestState: first.requestState }));
    expect(retry.headers.get('x-mcp-replica')).toBe(fleet.replicas[1]!.name);
    expect(toolJson(retry)).toMatchObject({ answer: 'forty-two', replica: fleet.replicas[1]!.name });

    const state = String(first.requestState);
    const tampered = state.slice(0, -2) + (state.endsWith('AA') ? 'BB' : 'AA');
    const refused = resultOf(await postModern(replicaUrl(2), call({ inputResponses: { sample: SAMPLE_ANSWER }, requestState: tampered })));
    expect(refused.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });
  });

  it('delivers each update bumped on other replicas to a listen stream exactly once', async () => {
    const listener = await modern(replicaUrl(0));
    const uri = `counter://listen-${Date.now()}`;
    const name = uri.slice('counter://'.length);
    const subscription = await listener.client.listen({ resourceSubscriptions: [uri] });
    closers.push(() => subscription.close());
    const bumpers = [replicaUrl(1), replicaUrl(2)];
    for (let i = 0; i < 10; i++) {
      const answer = await postModern(bumpers[i % 2]!, modernRequest('tools/call', { name: 'bump', arguments: { name } }));
      expect(toolJson(answer)).toMatchObject({ value: i + 1 });
    }
    await expect.poll(() => listener.updates.filter((u) => u === uri).length, { timeout: 10_000 }).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listener.updates.filter((u) => u === uri)).toHaveLength(10);
  });

  it('lets both eras hear each other: a modern bump reaches a legacy subscriber, a legacy bump a modern listener', async () => {
    const uri = `counter://both-${Date.now()}`;
    const name = uri.slice('counter://'.length);
    const legacy = await FleetClient.connect(fleet.url);
    closers.push(() => legacy.close());
    await legacy.waitForStream();
    await legacy.client.subscribeResource({ uri });
    const listener = await modern();
    const subscription = await listener.client.listen({ resourceSubscriptions: [uri] });
    closers.push(() => subscription.close());

    const bumper = await modern();
    await bumper.tool('bump', { name });
    await expect.poll(() => legacy.updates.filter((u) => u === uri).length, { timeout: 10_000 }).toBe(1);
    await legacy.tool('bump', { name });
    await expect.poll(() => listener.updates.filter((u) => u === uri).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => legacy.updates.filter((u) => u === uri).length, { timeout: 10_000 }).toBe(2);
  });
});
