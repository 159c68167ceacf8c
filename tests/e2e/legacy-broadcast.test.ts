import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet, type FleetStore } from '../../src/fleet/index.js';
import { FLEET_STORES, patientStoreEnv } from '../support/fleet-stores.js';
import { callTool, initialize, post, request, SseStream, toolJson } from '../support/raw-mcp.js';

/** notifications/resources/updated to legacy sessions: one entry in a shared log per change, fanned out by each replica. */
let fleet: Fleet;
const streams: SseStream[] = [];

const updatesOf = (stream: SseStream, uri: string) =>
  stream.frames.filter((f) => f.data !== '' && JSON.parse(f.data).method === 'notifications/resources/updated' && JSON.parse(f.data).params.uri === uri);

async function subscribedSession(uri: string): Promise<string> {
  const session = await initialize(fleet.url);
  expect((await post(fleet.url, request('resources/subscribe', { uri }), session)).status).toBe(200);
  return session;
}

/** A GET stream held on `url`, once its priming event (written after the stream is attached) has come. */
async function openGet(url: string, session: string, lastEventId?: string): Promise<SseStream> {
  const stream = await SseStream.open(url, session, lastEventId);
  streams.push(stream);
  expect(stream.status).toBe(200);
  await stream.waitFor((s) => s.frames.length > 0, 10_000);
  return stream;
}

const bump = async (name: string) => toolJson(await callTool(fleet.url, await initialize(fleet.url), 'bump', { name }));

describe.each(FLEET_STORES)('legacy resource updates across three replicas, on %s', (store: FleetStore) => {
  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3, store, env: { LOG_LEVEL: 'warn', ...patientStoreEnv(store) } });
  });

  afterAll(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await fleet?.stop();
  });

  it('reaches each subscribed GET stream on every replica exactly once, and no stream of a session that did not subscribe', async () => {
    const name = `fan-${Date.now()}`;
    const uri = `counter://${name}`;
    const subscribed = await Promise.all(Array.from({ length: 6 }, () => subscribedSession(uri)));
    const held = await Promise.all(subscribed.map((session, i) => openGet(fleet.replicas[i % 3]!.url, session)));
    const others = await Promise.all(fleet.replicas.map(async (replica) => openGet(replica.url, await subscribedSession(`${uri}-other`))));

    expect(await bump(name)).toMatchObject({ value: 1, notified: 6 });
    expect(await bump(name)).toMatchObject({ value: 2, notified: 6 });

    for (const stream of held) await stream.waitFor((s) => updatesOf(s, uri).length >= 2, 10_000);
    for (const stream of held) {
      // Updates come in log order: a duplicate of the first would have come before the second.
      const updates = updatesOf(stream, uri);
      expect(updates).toHaveLength(2);
      expect(new Set(updates.map((f) => f.id)).size).toBe(2);
    }
    for (const stream of others) expect(updatesOf(stream, uri)).toEqual([]);
  });

  it('replays to a session whose GET stream was closed the updates it missed, resumed on another replica', async () => {
    const name = `resume-${Date.now()}`;
    const uri = `counter://${name}`;
    const session = await subscribedSession(uri);
    const first = await openGet(fleet.replicas[0]!.url, session);
    const position = first.frames[0]!.id!;
    first.close();

    await bump(name);
    await bump(name);
    const resumed = await openGet(fleet.replicas[1]!.url, session, position);
    await resumed.waitFor((s) => updatesOf(s, uri).length >= 2, 10_000);
    await bump(name);
    await resumed.waitFor((s) => updatesOf(s, uri).length >= 3, 10_000);
    expect(updatesOf(resumed, uri)).toHaveLength(3);

    // From the last id it received, nothing is replayed twice.
    const last = updatesOf(resumed, uri).at(-1)!.id!;
    resumed.close();
    await bump(name);
    const again = await openGet(fleet.replicas[2]!.url, session, last);
    await again.waitFor((s) => updatesOf(s, uri).length >= 1, 10_000);
    expect(updatesOf(again, uri)).toHaveLength(1);
  });

  // Registered only on Redis (not skipped elsewhere): the image's-Node run of the e2e files requires none skipped.
  if (store === 'redis')
    it('costs a constant number of Redis publishes per change, not one per subscribed session', async () => {
      const name = `cost-${Date.now()}`;
      const uri = `counter://${name}`;
      const subscribed = await Promise.all(Array.from({ length: 30 }, () => subscribedSession(uri)));
      const held = await Promise.all(subscribed.slice(0, 6).map((session, i) => openGet(fleet.replicas[i % 3]!.url, session)));
      const bumper = await initialize(fleet.url);
      const redis = fleet.redis!;
      const publishes = async () => {
        const stats = String(await redis.command('INFO', 'commandstats'));
        const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
        return calls('publish') + calls('spublish');
      };
      const before = await publishes();
      expect(toolJson(await callTool(fleet.url, bumper, 'bump', { name }))).toMatchObject({ notified: 30 });
      for (const stream of held) await stream.waitFor((s) => updatesOf(s, uri).length >= 1, 10_000);
      // One for the resource-update log, one for the modern event bus; the old design published once per subscriber (30).
      expect((await publishes()) - before).toBe(2);
    });
});
