import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecoveringTransport } from '../../src/client/index.js';
import { startFleet, type Fleet, type FleetStore } from '../../src/fleet/index.js';
import { FleetClient, tally } from '../support/fleet-client.js';
import { FLEET_STORES, flushStore, patientStoreEnv } from '../support/fleet-stores.js';
import { callTool, initialize, post, request, toolJson, untilForgotten } from '../support/raw-mcp.js';

/** Every MCP feature through the load balancer only: no request names a replica. */
let fleet: Fleet;
const clients: FleetClient[] = [];

async function connect(): Promise<FleetClient> {
  const client = await FleetClient.connect(fleet.url);
  clients.push(client);
  return client;
}

describe.each(FLEET_STORES)('a three-replica fleet behind a round-robin load balancer, on %s', (store: FleetStore) => {
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3, store, env: { LOG_LEVEL: 'warn', ...patientStoreEnv(store) } });
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) await client.close().catch(() => {});
    await fleet?.stop();
  });

  it('spreads the requests of one session over every replica', async () => {
    const client = await connect();
    for (let i = 0; i < 6; i++) await client.tool('whoami');
    const replicas = new Set(client.served.map((s) => s.replica));
    expect(replicas).toEqual(new Set(fleet.replicas.map((r) => r.name)));
  });

  it('delivers every notify sent through other replicas to the GET stream, in order, none lost or duplicated', async () => {
    const listener = await connect();
    await listener.waitForStream();
    const sessionId = listener.sessionId;
    const rounds = 9;
    const perRound = 20;
    const senders = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const answer = await callTool(fleet.url, sessionId, 'notify', { message: `round-${round}`, count: perRound });
      expect(answer.status).toBe(200);
      senders.add(answer.headers.get('x-mcp-replica')!);
    }
    await expect.poll(() => listener.notifications.length, { timeout: 10_000 }).toBe(rounds * perRound);
    for (let round = 0; round < rounds; round++) {
      const { received, duplicates, indexes } = tally(listener.notifications, `round-${round}`);
      expect({ received, duplicates }).toEqual({ received: perRound, duplicates: 0 });
      expect(indexes).toEqual([...Array(perRound).keys()]);
    }
    expect(listener.notifications.map((n) => n.message)).toEqual(Array.from({ length: rounds * perRound }, (_, i) => `round-${Math.floor(i / perRound)}`));
    expect(senders.size).toBe(3);
    expect([...senders].filter((s) => s !== listener.streamReplica).length).toBeGreaterThanOrEqual(2);
  });

  it('completes sampling and elicitation round trips whose answers land on other replicas', async () => {
    const client = await connect();
    const crossed: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const before = client.served.length;
      const sampled = await client.tool(i % 2 === 0 ? 'sample' : 'elicit', i % 2 === 0 ? { prompt: `p${i}` } : { question: `q${i}` });
      if (i % 2 === 0) expect(sampled.answer).toBe(`echo: p${i}`);
      else expect(sampled).toMatchObject({ action: 'accept', content: { answer: 'yes' } });
      // The tool's result can arrive before the 202 acknowledging the answer's POST is recorded.
      await expect.poll(() => client.served.slice(before).some((s) => s.method === 'response')).toBe(true);
      const answers = client.served.slice(before).filter((s) => s.method === 'response');
      crossed.push(answers.some((a) => a.replica !== sampled.replica));
    }
    expect(crossed.filter(Boolean).length).toBeGreaterThanOrEqual(3);
  });

  it('notifies subscribers held on any replica of a change made through any other', async () => {
    const name = `fleet-${Date.now()}`;
    const uri = `counter://${name}`;
    const subscribers = await Promise.all([0, 1, 2].map(() => connect()));
    for (const s of subscribers) {
      await s.waitForStream();
      await s.client.subscribeResource({ uri });
    }
    const changer = await initialize(fleet.url);
    for (let i = 1; i <= 3; i++) expect(toolJson(await callTool(fleet.url, changer, 'bump', { name }))).toMatchObject({ value: i, notified: 3 });
    for (const s of subscribers) await expect.poll(() => s.updates.filter((u) => u === uri).length).toBe(3);
  });

  it('recovers through the load balancer after a DELETE, a flush of the store and a TTL expiry: each call resolves, one recovery each', async () => {
    const recovering = async (url: string) => {
      const transport = new RecoveringTransport(new URL(url));
      const client = new Client({ name: 'fleet-recovery', version: '1.0.0' });
      await client.connect(transport);
      const whoami = async () =>
        JSON.parse(((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text) as { sessionId: string };
      return { transport, client, whoami };
    };
    const c = await recovering(fleet.url);
    await c.whoami();
    const replicaUrls = fleet.replicas.map((r) => r.url);
    const deleted = c.transport.sessionId!;
    await fetch(fleet.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': deleted } });
    await untilForgotten(replicaUrls, deleted);
    expect((await c.whoami()).sessionId).toBe(c.transport.sessionId);
    expect(c.transport.recoveries).toBe(1);
    const flushed = c.transport.sessionId!;
    await flushStore(fleet);
    await untilForgotten(replicaUrls, flushed);
    expect((await c.whoami()).sessionId).toBe(c.transport.sessionId);
    expect(c.transport.recoveries).toBe(2);
    await c.client.close();

    const shortLived = await startFleet({ replicas: 2, store, env: { LOG_LEVEL: 'warn', SESSION_TTL_SECONDS: '1', ...patientStoreEnv(store) } });
    try {
      const t = await recovering(shortLived.url);
      const first = t.transport.sessionId;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await t.whoami()).sessionId).not.toBe(first);
      expect(t.transport.recoveries).toBe(1);
      await t.client.close();
    } finally {
      await shortLived.stop();
    }
  });

  it('serves 200 concurrent sessions doing a few calls each with zero failures', async () => {
    const failures: string[] = [];
    const replicasSeen = new Set<string>();
    await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        try {
          const session = await initialize(fleet.url);
          for (const name of ['whoami', 'whoami', 'bump']) {
            const answer = await post(fleet.url, request('tools/call', { name, arguments: name === 'bump' ? { name: `load-${n % 10}` } : {} }), session);
            if (answer.status !== 200 || answer.messages[0]?.result?.isError) failures.push(`${n} ${name}: ${answer.status}`);
            replicasSeen.add(answer.headers.get('x-mcp-replica')!);
          }
          const deleted = await fetch(fleet.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
          if (deleted.status !== 200) failures.push(`${n} DELETE: ${deleted.status}`);
        } catch (error) {
          failures.push(`${n}: ${String(error)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(replicasSeen.size).toBe(3);
  });
});
