import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { InMemorySessionSlots } from '../../src/backends/memory/session-slots.js';
import { PendingClientRequests, PendingLimitError } from '../../src/server/legacy/pending-client-requests.js';

const INST = 'instanceAAAA';
const OTHER = 'instanceBBBB';

const target = () => {
  const received: JSONRPCMessage[] = [];
  return { received, deliverClientResponse: (m: JSONRPCMessage) => received.push(m) };
};

describe('PendingClientRequests', () => {
  it('gives fleet-unique ids naming the instance, and restores the original id on the answer', async () => {
    const pending = new PendingClientRequests(INST);
    const t = target();
    const id = await pending.register(t, 0, 'session-a');
    expect(PendingClientRequests.instanceOf(id)).toBe(INST);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: { ok: true } }, 'session-a')).toBe(true);
    expect(t.received).toEqual([{ jsonrpc: '2.0', id: 0, result: { ok: true } }]);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 'session-a')).toBe(false);
    pending.close();
  });

  it('two instances never issue the same id, even for the same original id', async () => {
    const [a, b] = [new PendingClientRequests(INST), new PendingClientRequests(OTHER)];
    expect(await a.register(target(), 0, 's')).not.toBe(await b.register(target(), 0, 's'));
    a.close();
    b.close();
  });

  it('refuses an answer from another session', async () => {
    const pending = new PendingClientRequests(INST);
    const t = target();
    const id = await pending.register(t, 5, 'owner');
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 'intruder')).toBe(false);
    expect(t.received).toEqual([]);
    pending.close();
  });

  it('does not claim ids that are not its own', async () => {
    expect(PendingClientRequests.instanceOf(7)).toBeUndefined();
    expect(PendingClientRequests.instanceOf('plain')).toBeUndefined();
    expect(PendingClientRequests.instanceOf('~1')).toBeUndefined();
  });

  it('routes only to well-formed instance ids: a client cannot make a replica publish to a channel it names', async () => {
    for (const id of ['*~1', 'a\r\nFLUSHALL~1', `${'x'.repeat(10_000)}~1`, 'instanceAAA~1', 'instance:AAA~1']) {
      expect(PendingClientRequests.instanceOf(id)).toBeUndefined();
    }
  });

  it('issues ids no other client can guess from its own', async () => {
    const pending = new PendingClientRequests(INST);
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => pending.register(target(), i, undefined)));
    const suffixes = ids.map((id) => id.slice(INST.length + 1));
    expect(new Set(suffixes).size).toBe(50);
    for (const suffix of suffixes) expect(suffix).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(suffixes.filter((suffix) => /^\d+$/.test(suffix))).toEqual([]);
    pending.close();
  });

  it('names the fleet id of a request that the server cancels, and stops waiting for it', async () => {
    const pending = new PendingClientRequests(INST);
    const t = target();
    const id = await pending.register(t, 3, 's');
    expect(pending.fleetIdOf(t, 3)).toBe(id);
    expect(pending.fleetIdOf(target(), 3)).toBeUndefined();
    pending.drop(id);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 's')).toBe(false);
    pending.close();
  });

  it('forgets the requests of a closed transport', async () => {
    const pending = new PendingClientRequests(INST);
    const t = target();
    const id = await pending.register(t, 1, 's');
    pending.forget(t);
    expect(pending.size).toBe(0);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 's')).toBe(false);
    pending.close();
  });

  it("limits each target's waiting requests on its own, and frees a slot when one is answered or dropped", async () => {
    const pending = new PendingClientRequests(INST);
    const [a, b] = [target(), target()];
    const first = await pending.register(a, 1, 's', 2);
    const second = await pending.register(a, 2, 's', 2);
    await expect(pending.register(a, 3, 's', 2)).rejects.toThrow(PendingLimitError);
    await pending.register(b, 1, 's2', 2);
    expect(pending.resolve({ jsonrpc: '2.0', id: first, result: {} }, 's')).toBe(true);
    const third = await pending.register(a, 3, 's', 2);
    pending.drop(second);
    expect(pending.fleetIdOf(a, 2)).toBeUndefined();
    expect(pending.fleetIdOf(a, 3)).toBe(third);
    await pending.register(a, 4, 's', 2);
    await expect(pending.register(a, 5, 's', 2)).rejects.toThrow(PendingLimitError);
    pending.forget(a);
    expect(pending.size).toBe(1);
    pending.close();
  });

  it("with session slots, limits a session's waiting requests across instances, and frees its slots when answered, dropped or forgotten", async () => {
    const slots = new InMemorySessionSlots();
    const [here, there] = [new PendingClientRequests(INST, { slots, slotTtlMs: 60_000 }), new PendingClientRequests(OTHER, { slots, slotTtlMs: 60_000 })];
    const [a, b] = [target(), target()];
    const first = await here.register(a, 1, 's', 2);
    const second = await there.register(b, 1, 's', 2);
    await expect(here.register(a, 2, 's', 2)).rejects.toThrow(PendingLimitError);
    await expect(there.register(b, 2, 's', 2)).rejects.toThrow(PendingLimitError);
    // Another session has slots of its own.
    await there.register(b, 3, 'other', 2);
    expect(here.resolve({ jsonrpc: '2.0', id: first, result: {} }, 's')).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    const third = await there.register(b, 4, 's', 2);
    there.drop(second);
    await new Promise((resolve) => setImmediate(resolve));
    await here.register(a, 5, 's', 2);
    there.forget(b);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await slots.take('s', 'probe', 2, 1000)).toBe(true);
    expect(there.fleetIdOf(b, 4)).toBeUndefined();
    expect(third).toContain(OTHER);
    here.close();
    there.close();
  });
});
