import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { describe, expect, it } from 'vitest';
import { PendingClientRequests } from '../../src/server/legacy/pending-client-requests.js';

const target = () => {
  const received: JSONRPCMessage[] = [];
  return { received, deliverClientResponse: (m: JSONRPCMessage) => received.push(m) };
};

describe('PendingClientRequests', () => {
  it('gives fleet-unique ids naming the instance, and restores the original id on the answer', () => {
    const pending = new PendingClientRequests('inst1');
    const t = target();
    const id = pending.register(t, 0, 'session-a');
    expect(PendingClientRequests.instanceOf(id)).toBe('inst1');
    expect(pending.resolve({ jsonrpc: '2.0', id, result: { ok: true } }, 'session-a')).toBe(true);
    expect(t.received).toEqual([{ jsonrpc: '2.0', id: 0, result: { ok: true } }]);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 'session-a')).toBe(false);
    pending.close();
  });

  it('two instances never issue the same id, even for the same original id', () => {
    const [a, b] = [new PendingClientRequests('a'), new PendingClientRequests('b')];
    expect(a.register(target(), 0, 's')).not.toBe(b.register(target(), 0, 's'));
    a.close();
    b.close();
  });

  it('refuses an answer from another session', () => {
    const pending = new PendingClientRequests('inst');
    const t = target();
    const id = pending.register(t, 5, 'owner');
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 'intruder')).toBe(false);
    expect(t.received).toEqual([]);
    pending.close();
  });

  it('does not claim ids that are not its own', () => {
    expect(PendingClientRequests.instanceOf(7)).toBeUndefined();
    expect(PendingClientRequests.instanceOf('plain')).toBeUndefined();
    expect(PendingClientRequests.instanceOf('~1')).toBeUndefined();
  });

  it('forgets the requests of a closed transport', () => {
    const pending = new PendingClientRequests('inst');
    const t = target();
    const id = pending.register(t, 1, 's');
    pending.forget(t);
    expect(pending.size).toBe(0);
    expect(pending.resolve({ jsonrpc: '2.0', id, result: {} }, 's')).toBe(false);
    pending.close();
  });
});
