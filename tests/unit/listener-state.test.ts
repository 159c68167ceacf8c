import { describe, expect, it } from 'vitest';
import { ListenerState, newListenerId } from '../../src/streams/listener-state.js';
import type { StreamEvent } from '../../src/streams/stream-manager.js';

const message = (entryId: string): StreamEvent => ({ type: 'message', entryId, message: { jsonrpc: '2.0', method: 'x' }, publishedAt: 0 });

function make(exclusive = true, id = 'me') {
  const got: StreamEvent[] = [];
  const listener = new ListenerState(
    's',
    'g',
    id,
    exclusive,
    (e) => got.push(e),
    async () => {},
  );
  return { listener, got };
}

describe('ListenerState', () => {
  it('holds live events until started, and drops those at or before the cursor (no replay overlap)', () => {
    const { listener, got } = make();
    listener.accept(message('5-0'));
    listener.accept(message('6-0'));
    listener.setBacklog('3-0', [message('4-0'), message('5-0')]);
    expect(listener.cursor).toBe('6-0');
    expect(got).toEqual([]);
    listener.start();
    listener.accept(message('6-0'));
    listener.accept(message('7-0'));
    expect(got.map((e) => ('entryId' in e ? e.entryId : e.type))).toEqual(['6-0', '7-0']);
  });

  it('ignores its own takeover notice and, when not exclusive, everyone else’s', () => {
    const { listener, got } = make();
    listener.setBacklog('0-0', []);
    listener.start();
    listener.accept({ type: 'takeover', listener: 'me' });
    expect(got).toEqual([]);
    listener.accept({ type: 'takeover', listener: 'mz' });
    expect(got).toEqual([{ type: 'takeover', listener: 'mz' }]);
    const shared = make(false);
    shared.listener.setBacklog('0-0', []);
    shared.listener.start();
    shared.listener.accept({ type: 'takeover', listener: 'other' });
    expect(shared.got).toEqual([]);
  });

  it('yields only to a newer listener or to a disconnect, so of two opened at once exactly one survives', () => {
    const [older, newer] = [newListenerId(1000), newListenerId(2000)];
    const a = make(true, older);
    const b = make(true, newer);
    for (const side of [a, b]) {
      side.listener.setBacklog('0-0', []);
      side.listener.start();
    }
    a.listener.accept({ type: 'takeover', listener: newer });
    b.listener.accept({ type: 'takeover', listener: older });
    expect(a.got).toEqual([{ type: 'takeover', listener: newer }]);
    expect(b.got).toEqual([]);
    b.listener.accept({ type: 'takeover', listener: '' });
    expect(b.got).toEqual([{ type: 'takeover', listener: '' }]);
    expect(newListenerId(1000) < newListenerId(1001)).toBe(true);
  });

  it('delivers nothing after close', async () => {
    const { listener, got } = make();
    listener.setBacklog('0-0', []);
    listener.start();
    await listener.close();
    listener.accept(message('1-0'));
    expect(got).toEqual([]);
    expect(listener.isClosed).toBe(true);
  });
});
