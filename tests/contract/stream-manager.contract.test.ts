import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { newListenerId } from '../../src/streams/listener-state.js';
import { compareEntryIds, type InstanceEnvelope, type StreamEvent } from '../../src/streams/stream-manager.js';
import { streamHarnesses, type StreamHarness } from '../support/stream-harness.js';

const implementations = streamHarnesses();

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });
const dataOf = (event: StreamEvent) => (event.type === 'message' ? (event.message as unknown as { params: { data: number } }).params.data : event.type);

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(implementations)('StreamManager contract: %s', (_name, makeHarness) => {
  let harness: StreamHarness | undefined;
  const open = async (maxEntries = 1000) => (harness = await makeHarness(maxEntries));
  afterEach(async () => {
    await harness?.dispose();
    harness = undefined;
  });

  it('delivers what any replica publishes to a listener on another, in order, once each', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => received.push(e));
    listener.start();
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push((await (n % 2 === 0 ? there : here).publish(session, 'g', note(n)))!);
    await until(() => received.length === 20);
    expect(received.map(dataOf)).toEqual([...Array(20).keys()]);
    expect(received.map((e) => ('entryId' in e ? e.entryId : ''))).toEqual(ids);
    for (let i = 1; i < ids.length; i++) expect(compareEntryIds(ids[i - 1]!, ids[i]!)).toBe(-1);
    await listener.close();
  });

  it('replays what was missed after an entry id, then continues live with no gap and no duplicate', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const ids: string[] = [];
    for (let n = 0; n < 10; n++) ids.push((await there.publish(session, 'g', note(n)))!);
    const received: StreamEvent[] = [];
    const publishing = (async () => {
      for (let n = 10; n < 30; n++) await there.publish(session, 'g', note(n));
    })();
    const listener = await here.listen(session, 'g', { after: ids[3], listenerId: 'l1', exclusive: true }, (e) => received.push(e));
    const backlog = listener.backlog.map(dataOf);
    listener.start();
    await publishing;
    await until(() => backlog.length + received.length >= 26);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([...backlog, ...received.map(dataOf)]).toEqual([...Array(26).keys()].map((i) => i + 4));
    await listener.close();
  });

  it('positions a live-only listener after the newest entry, so its cursor replays exactly what follows', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    for (let n = 0; n < 3; n++) await there.publish(session, 'g', note(n));
    const live = await here.listen(session, 'g', { listenerId: 'l1', exclusive: false }, () => {});
    expect(live.backlog).toEqual([]);
    const cursor = live.cursor;
    await live.close();
    await there.publish(session, 'g', note(3));
    const resumed = await here.listen(session, 'g', { after: cursor, listenerId: 'l2', exclusive: false }, () => {});
    expect(resumed.backlog.map(dataOf)).toEqual([3]);
    await resumed.close();
  });

  it('keeps streams of one session apart', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const onGet: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => onGet.push(e));
    listener.start();
    await there.publish(session, 'pAAAAAAAAAAAAAAAAAAAAAA', note(1));
    await there.publish(randomUUID(), 'g', note(2));
    await there.publish(session, 'g', note(3));
    await until(() => onGet.length === 1);
    expect(onGet.map(dataOf)).toEqual([3]);
    await listener.close();
  });

  it('passes the end marker of a stream to its listener', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'pBBBBBBBBBBBBBBBBBBBBBB', { listenerId: 'l1', exclusive: true }, (e) => received.push(e));
    listener.start();
    await there.publish(session, 'pBBBBBBBBBBBBBBBBBBBBBB', note(1));
    await there.end(session, 'pBBBBBBBBBBBBBBBBBBBBBB');
    await until(() => received.length === 2);
    expect(received.map((e) => e.type)).toEqual(['message', 'end']);
    await listener.close();
  });

  it('hands a stream to the newest exclusive listener and tells the older one', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const first: StreamEvent[] = [];
    const second: StreamEvent[] = [];
    const older = await here.listen(session, 'g', { listenerId: newListenerId(), exclusive: true }, (e) => first.push(e));
    older.start();
    const newerId = newListenerId(Date.now() + 1);
    const newer = await there.listen(session, 'g', { listenerId: newerId, exclusive: true }, (e) => second.push(e));
    newer.start();
    await until(() => first.length === 1);
    expect(first[0]).toEqual({ type: 'takeover', listener: newerId });
    await older.close();
    await here.publish(session, 'g', note(7));
    await until(() => second.length === 1);
    expect(second.map(dataOf)).toEqual([7]);
    await newer.close();
  });

  it('of two exclusive listeners opened at the same moment on two replicas, exactly one survives', async () => {
    const { here, there } = await open();
    for (let round = 0; round < 10; round++) {
      const session = randomUUID();
      const events: StreamEvent[][] = [[], []];
      const listeners = await Promise.all(
        [here, there].map((manager, i) => manager.listen(session, 'g', { listenerId: newListenerId(), exclusive: true }, (e) => events[i]!.push(e))),
      );
      for (const listener of listeners) listener.start();
      await until(() => events[0]!.length + events[1]!.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(events.map((e) => e.length > 0).sort()).toEqual([false, true]);
      await Promise.all(listeners.map((l) => l.close()));
    }
  });

  it('disconnects and terminates listeners wherever they are', async () => {
    const { here, there } = await open();
    const session = randomUUID();
    const events: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => events.push(e));
    listener.start();
    await there.disconnect(session, 'g');
    await until(() => events.length === 1);
    expect(events[0]!.type).toBe('takeover');
    await there.terminate(session);
    await until(() => events.length === 2);
    expect(events[1]!.type).toBe('terminated');
    await listener.close();
    const afterTerminate = await here.listen(session, 'g', { after: '0-0', listenerId: 'l2', exclusive: false }, () => {});
    expect(afterTerminate.backlog).toEqual([]);
    await afterTerminate.close();
  });

  it('tells a resume from a position the log was trimmed past that it missed events, and no one else', async () => {
    const { here, there, createSession } = await open(10);
    const session = randomUUID();
    await createSession(session);
    const ids: string[] = [];
    for (let i = 0; i < 250; i++)
      ids.push((await there.publish(session, 'g', { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: i } }))!);
    const resume = async (after: string) => {
      const listener = await here.listen(session, 'g', { after, listenerId: randomUUID(), exclusive: false }, () => {});
      await listener.close();
      return listener.backlog;
    };
    expect((await resume(ids[0]!))[0]).toEqual({ type: 'gap', after: ids[0] });
    const recent = await resume(ids[245]!);
    expect(recent.map((e) => e.type)).toEqual(['message', 'message', 'message', 'message']);
    const other = randomUUID();
    await createSession(other);
    const expired = await here.listen(other, 'g', { after: ids[0]!, listenerId: randomUUID(), exclusive: false }, () => {});
    await expired.close();
    expect(expired.backlog).toEqual([{ type: 'gap', after: ids[0] }]);
  });

  it('terminating a session deletes the logs of its POST streams too, not only its GET stream', async () => {
    const { here, there, createSession } = await open();
    const session = randomUUID();
    const other = randomUUID();
    await createSession(session);
    await createSession(other);
    const message = { jsonrpc: '2.0' as const, method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
    await there.publish(session, 'pAAAAAAAAAAAAAAAAAAAA', message);
    await there.publish(session, 'g', message);
    await there.publish(other, 'pAAAAAAAAAAAAAAAAAAAA', message);
    await there.terminate(session);
    for (const [id, key, left] of [
      [session, 'pAAAAAAAAAAAAAAAAAAAA', 0],
      [session, 'g', 0],
      [other, 'pAAAAAAAAAAAAAAAAAAAA', 1],
    ] as const) {
      const replay = await here.listen(id, key, { after: '0-0', listenerId: randomUUID(), exclusive: false }, () => {});
      expect(replay.backlog.filter((e) => e.type === 'message')).toHaveLength(left);
      await replay.close();
    }
  });

  it('publishes with requireSession only while the session exists', async () => {
    const { here, createSession } = await open();
    const session = randomUUID();
    expect(await here.publish(session, 'g', note(1), { requireSession: true })).toBeUndefined();
    await createSession(session);
    expect(await here.publish(session, 'g', note(2), { requireSession: true })).toMatch(/^\d+-\d+$/);
  });

  it('routes an envelope to the instance it names', async () => {
    const { here, there } = await open();
    const atHere: InstanceEnvelope[] = [];
    here.onInstanceMessage((e) => atHere.push(e));
    const envelope: InstanceEnvelope = {
      type: 'client-response',
      sessionId: randomUUID(),
      message: { jsonrpc: '2.0', id: `${here.instanceId}~1`, result: {} },
      publishedAt: Date.now(),
    };
    expect(await there.sendToInstance(here.instanceId, envelope)).toBe(true);
    await until(() => atHere.length === 1);
    expect(atHere[0]).toEqual(envelope);
    expect(await there.sendToInstance('no-such-instance', envelope)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(atHere).toHaveLength(1);
  });

  it('interrupts listeners when the subscriber connections drop, and delivers again once they are back', async (context) => {
    const { here, there, dropSubscribers } = await open();
    if (!dropSubscribers) return context.skip();
    const session = randomUUID();
    const events: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => events.push(e));
    listener.start();
    await dropSubscribers();
    await until(() => events.some((e) => e.type === 'interrupted'), 10_000);
    await listener.close();
    const envelope: InstanceEnvelope = { type: 'client-response', sessionId: session, message: { jsonrpc: '2.0', id: 1, result: {} }, publishedAt: Date.now() };
    const atHere: InstanceEnvelope[] = [];
    here.onInstanceMessage((e) => atHere.push(e));
    // The instance channel is subscribed again on its own, a session channel on the next listen.
    const deadline = Date.now() + 10_000;
    while (!(await there.sendToInstance(here.instanceId, envelope).catch(() => false))) {
      if (Date.now() > deadline) throw new Error('the instance channel was not subscribed again');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await until(() => atHere.length > 0);
    const resumed: StreamEvent[] = [];
    const again = await here.listen(session, 'g', { after: listener.cursor, listenerId: 'l2', exclusive: true }, (e) => resumed.push(e));
    again.start();
    await there.publish(session, 'g', note(1));
    await until(() => resumed.some((e) => e.type === 'message'), 10_000);
    expect(resumed.filter((e) => e.type === 'message').map(dataOf)).toEqual([1]);
    await again.close();
  });

  it('bounds the log of a stream', async () => {
    const { here } = await open(10);
    const session = randomUUID();
    for (let n = 0; n < 300; n++) await here.publish(session, 'g', note(n));
    const all = await here.listen(session, 'g', { after: '0-0', listenerId: 'l', exclusive: false }, () => {});
    expect(all.backlog.length).toBeGreaterThanOrEqual(10);
    expect(all.backlog.length).toBeLessThan(300);
    expect(dataOf(all.backlog.at(-1)!)).toBe(299);
    await all.close();
  });
});
