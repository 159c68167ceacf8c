import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceUpdatePublisher } from '../../src/server/legacy/resource-events.js';
import { ResourceFanout, type ResourceTap } from '../../src/server/legacy/resource-fanout.js';
import type { SessionRecord, SessionStore } from '../../src/sessions/session-store.js';
import type { StreamEvent, StreamManager } from '../../src/streams/stream-manager.js';
import { streamHarnesses, type StreamHarness } from '../support/stream-harness.js';

const implementations = streamHarnesses();

/** The subscribers index of a session store, counting its reads and the most ids one read asked about. */
class Subscriptions {
  readonly index = new Map<string, Set<string>>();
  reads = 0;
  widestRead = 0;

  subscribe(sessionId: string, uri: string): void {
    let ids = this.index.get(uri);
    if (!ids) this.index.set(uri, (ids = new Set()));
    ids.add(sessionId);
  }

  async subscribers(uri: string): Promise<string[]> {
    this.reads++;
    return [...(this.index.get(uri) ?? [])];
  }

  async countSubscribers(uri: string): Promise<number> {
    return this.index.get(uri)?.size ?? 0;
  }

  async subscribedAmong(uri: string, ids: string[]): Promise<string[]> {
    this.reads++;
    this.widestRead = Math.max(this.widestRead, ids.length);
    return ids.filter((id) => this.index.get(uri)?.has(id));
  }

  readonly forgotten: string[][] = [];

  async forgetSubscribers(_uri: string, ids: string[]): Promise<void> {
    this.forgotten.push(ids);
  }

  record(sessionId: string): SessionRecord {
    const subscriptions = [...this.index].filter(([, ids]) => ids.has(sessionId)).map(([uri]) => uri);
    return { id: sessionId, subscriptions } as SessionRecord;
  }
}

/** A StreamManager whose publish calls are counted: each is one store write and one message. */
function countingPublishes(streams: StreamManager): { streams: StreamManager; publishes: () => number } {
  let publishes = 0;
  const counted = Object.create(streams) as StreamManager;
  counted.publish = (...args) => {
    publishes++;
    return streams.publish(...args);
  };
  return { streams: counted, publishes: () => publishes };
}

/** What one GET stream's tap wrote (updated URIs) and how many entries it passed over. */
interface OpenTap {
  tap: ResourceTap;
  written: StreamEvent[];
  passed: string[];
  uris: () => string[];
}

async function openTap(fanout: ResourceFanout, record: SessionRecord, after?: string): Promise<OpenTap> {
  const written: StreamEvent[] = [];
  const passed: string[] = [];
  const tap = await fanout.open(record, after, { write: (event) => written.push(event), pass: (entryId) => passed.push(entryId) });
  tap.start();
  const uris = () => written.map((e) => (e.type === 'message' ? String((e.message as { params?: { uri?: string } }).params?.uri) : e.type));
  return { tap, written, passed, uris };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(implementations)('legacy resource updates, one log entry per change: %s', (_name, makeHarness) => {
  let harness: StreamHarness | undefined;
  const taps: OpenTap[] = [];
  afterEach(async () => {
    for (const open of taps.splice(0)) await open.tap.close();
    await harness?.dispose();
    harness = undefined;
  });

  it('publishes one entry per update whatever the number of subscribers, and each replica writes it once to each subscribed stream', async () => {
    harness = await makeHarness(1000);
    const subs = new Subscriptions();
    const uri = `counter://${randomUUID()}`;
    const other = `counter://${randomUUID()}`;
    const subscribed = Array.from({ length: 40 }, () => randomUUID());
    for (const id of subscribed) subs.subscribe(id, uri);
    const bystander = randomUUID();
    subs.subscribe(bystander, other);
    const [here, there] = [new ResourceFanout(harness.here, subs), new ResourceFanout(harness.there, subs)];
    // Streams open for some subscribers on each replica, and for a session subscribed to another URI.
    const onHere = [
      await openTap(here, subs.record(subscribed[0]!)),
      await openTap(here, subs.record(subscribed[1]!)),
      await openTap(here, subs.record(bystander)),
    ];
    const onThere = [await openTap(there, subs.record(subscribed[2]!)), await openTap(there, subs.record(subscribed[3]!))];
    taps.push(...onHere, ...onThere);
    const publisher = countingPublishes(harness.there);
    const events = new ResourceUpdatePublisher(subs as unknown as SessionStore, publisher.streams);
    const readsBefore = subs.reads;

    expect(await events.notifyUpdated(uri)).toBe(subscribed.length);
    expect(await events.notifyUpdated(uri)).toBe(subscribed.length);

    expect(publisher.publishes()).toBe(2);
    const seen = (t: OpenTap) => t.written.length + t.passed.length;
    await until(() => taps.every((t) => seen(t) === 2));
    for (const t of [onHere[0]!, onHere[1]!, ...onThere]) expect(t.uris()).toEqual([uri, uri]);
    expect(onHere[2]!.written).toEqual([]);
    // One read per update by each replica's fan-out (plus the publisher's count), not one per stream,
    // asking only about the sessions whose streams that replica holds.
    expect(subs.reads - readsBefore).toBeLessThanOrEqual(2 * 3);
    expect(subs.widestRead).toBeLessThanOrEqual(onHere.length + onThere.length);
  });

  it('replays to a resumed stream the updates of the URIs its session subscribes to, after its position, once each', async () => {
    harness = await makeHarness(1000);
    const subs = new Subscriptions();
    const [watched, unwatched] = [`counter://${randomUUID()}`, `counter://${randomUUID()}`];
    const session = randomUUID();
    subs.subscribe(session, watched);
    subs.subscribe(randomUUID(), unwatched);
    const fanout = new ResourceFanout(harness.here, subs);
    const events = new ResourceUpdatePublisher(subs as unknown as SessionStore, harness.there);
    await events.notifyUpdated(watched);
    const first = await openTap(fanout, subs.record(session));
    const position = first.tap.cursor;
    await first.tap.close();

    // While its stream is closed: two updates it subscribes to, one it does not.
    await events.notifyUpdated(watched);
    await events.notifyUpdated(unwatched);
    await events.notifyUpdated(watched);
    const resumed = await openTap(fanout, subs.record(session), position);
    taps.push(resumed);
    expect(resumed.tap.backlog.map((e) => e.type)).toEqual(['message', 'message']);
    expect(resumed.written).toEqual([]);
    await events.notifyUpdated(watched);
    await until(() => resumed.written.length === 1);
    expect(resumed.uris()).toEqual([watched]);
    // Resuming from the last update written replays nothing more.
    const last = resumed.written[0]!;
    const again = await openTap(fanout, subs.record(session), 'entryId' in last ? last.entryId : undefined);
    taps.push(again);
    expect(again.tap.backlog).toEqual([]);
  });

  it('ends a stream with interrupted when the subscribers cannot be read, so its client resumes from the log', async () => {
    harness = await makeHarness(1000);
    const session = randomUUID();
    const uri = `counter://${randomUUID()}`;
    const failing = {
      subscribedAmong: async (): Promise<string[]> => {
        throw new Error('store down');
      },
    };
    const open = await openTap(new ResourceFanout(harness.here, failing), { id: session, subscriptions: [uri] } as SessionRecord);
    taps.push(open);
    await harness.there.publish('resource-updates', 'g', { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } });
    await until(() => open.written.length === 1);
    expect(open.written).toEqual([{ type: 'interrupted' }]);
  });

  it('checks a page of the subscriber index for gone sessions now and then, not on every change', async () => {
    harness = await makeHarness(1000);
    const subs = new Subscriptions();
    const uri = `counter://${randomUUID()}`;
    const ids = Array.from({ length: 700 }, () => randomUUID());
    for (const id of ids) subs.subscribe(id, uri);
    let now = 1_000_000;
    const events = new ResourceUpdatePublisher(subs as unknown as SessionStore, harness.there, () => now);
    const readsBefore = subs.reads;
    await events.notifyUpdated(uri);
    await until(() => subs.forgotten.length === 1);
    await events.notifyUpdated(uri);
    now += 30_000;
    await events.notifyUpdated(uri);
    await until(() => subs.forgotten.length === 2);
    now += 30_000;
    await events.notifyUpdated(uri);
    await until(() => subs.forgotten.length === 3);
    expect(subs.forgotten).toEqual([ids.slice(0, 500), ids.slice(500), ids.slice(0, 500)]);
    // The subscribers' ids are read for the sweeps only, not for each change's count.
    expect(subs.reads - readsBefore).toBe(3);
  });
});
