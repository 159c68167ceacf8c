import { EventEmitter } from 'node:events';
import type { ServerEvent } from '@modelcontextprotocol/server';
import { describe, expect, it, vi } from 'vitest';
import { admitEvent, decodeEnvelope, encodeEnvelope, MAX_PAYLOAD_BYTES, MAX_URI_LENGTH } from '../../src/bus/event-envelope.js';
import { LocalListeners } from '../../src/bus/local-listeners.js';
import { RedisChangeEventBus } from '../../src/backends/redis/event-bus.js';
import type { RedisClient } from '../../src/backends/redis/connection.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';

const tools: ServerEvent = { kind: 'tools_list_changed' };

describe('event envelope', () => {
  it('round-trips an envelope and rebuilds the event from its known fields only', () => {
    const sent = { o: 'replica-1', t: 1_700_000_000_000, e: { kind: 'tools_list_changed', uri: 'stray', extra: 1, params: { a: 1 } } };
    expect(decodeEnvelope(JSON.stringify(sent))).toEqual({ o: 'replica-1', t: 1_700_000_000_000, e: { kind: 'tools_list_changed', params: { a: 1 } } });
    const event: ServerEvent = { kind: 'resource_updated', uri: 'file:///x', params: { _meta: { progressToken: 'p' } } };
    expect(decodeEnvelope(encodeEnvelope({ o: 'r', t: 5, e: event }))).toEqual({ o: 'r', t: 5, e: event });
  });

  it('bounds the URI and the payload in bytes, not characters', () => {
    expect(admitEvent({ kind: 'resource_updated', uri: 'u'.repeat(MAX_URI_LENGTH) })).toBeTruthy();
    expect(() => admitEvent({ kind: 'resource_updated', uri: 'u'.repeat(MAX_URI_LENGTH + 1) })).toThrow(TypeError);
    // Two bytes a character: under the limit in characters, over it in bytes.
    const wide: ServerEvent = { kind: 'tools_list_changed', params: { text: 'ü'.repeat(MAX_PAYLOAD_BYTES / 2) } };
    expect(() => encodeEnvelope({ o: 'r', t: 1, e: wide })).toThrow(RangeError);
    expect(decodeEnvelope(JSON.stringify({ o: 'r', t: 1, e: wide }))).toBeUndefined();
  });

  it('refuses what is not an event with a TypeError naming the kind', () => {
    expect(() => admitEvent(null as unknown as ServerEvent)).toThrow(/object/);
    expect(() => admitEvent({ kind: 'tool_list_changed' } as unknown as ServerEvent)).toThrow(/kind "tool_list_changed"/);
    expect(() => admitEvent({ kind: 'resource_updated' } as unknown as ServerEvent)).toThrow(TypeError);
  });
});

describe('LocalListeners', () => {
  it('calls neither a listener added during delivery nor one removed by an earlier listener', () => {
    const local = new LocalListeners({});
    const calls: string[] = [];
    let removeSecond = () => {};
    local.subscribe(() => {
      calls.push('first');
      removeSecond();
      local.subscribe(() => calls.push('added'));
    });
    removeSecond = local.subscribe(() => calls.push('second'));
    local.deliver(tools, 'local', Date.now());
    expect(calls).toEqual(['first']);
  });

  it('treats one function subscribed twice as two subscriptions', () => {
    const local = new LocalListeners({});
    const listener = vi.fn();
    const offFirst = local.subscribe(listener);
    local.subscribe(listener);
    local.deliver(tools, 'local', Date.now());
    offFirst();
    offFirst();
    local.deliver(tools, 'local', Date.now());
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('skips only the listener that is publishing, not the others of an outer delivery', () => {
    const local = new LocalListeners({});
    const seen: Array<[string, string]> = [];
    local.subscribe((event) => {
      seen.push(['outer', event.kind]);
      if (event.kind === 'tools_list_changed') local.deliver({ kind: 'prompts_list_changed' }, 'local', Date.now());
    });
    local.subscribe((event) => seen.push(['other', event.kind]));
    local.deliver(tools, 'local', Date.now());
    expect(seen).toEqual([
      ['outer', 'tools_list_changed'],
      ['other', 'prompts_list_changed'],
      ['other', 'tools_list_changed'],
    ]);
  });

  it('lets nothing thrown by onDelivered or onError escape, and clamps latency from a clock ahead of ours', () => {
    const latencies: number[] = [];
    const local = new LocalListeners({
      onDelivered: (_path, seconds) => {
        latencies.push(seconds);
        throw new Error('observer failed');
      },
      onError: () => {
        throw new Error('error callback failed');
      },
    });
    const listener = vi.fn();
    local.subscribe(listener);
    expect(() => local.deliver(tools, 'store', Date.now() + 60_000)).not.toThrow();
    expect(listener).toHaveBeenCalledOnce();
    expect(latencies).toEqual([0]);
  });

  it('logs a warning when no onError is given', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const local = new LocalListeners({});
      local.subscribe(() => {
        throw new Error('listener failed');
      });
      local.deliver(tools, 'local', Date.now());
      expect(String(write.mock.calls[0]?.[0])).toMatch(/"level":"warn".*listener failed/);
    } finally {
      write.mockRestore();
    }
  });

  it('once closed, delivers nothing and refuses to admit events', () => {
    const local = new LocalListeners({});
    const listener = vi.fn();
    local.subscribe(listener);
    local.close();
    local.subscribe(listener);
    local.deliver(tools, 'local', Date.now());
    expect(listener).not.toHaveBeenCalled();
    expect(() => local.admit(tools)).toThrow(/closed/);
  });
});

/** A subscriber connection shared with other code, and a command connection, both fake. */
function fakeConnections(publish: () => Promise<number> = async () => 1) {
  const subscriber = Object.assign(new EventEmitter(), {
    status: 'ready',
    subscribe: vi.fn(async () => 1),
    unsubscribe: vi.fn(async () => 0),
  });
  const redis = { publish: vi.fn(publish) };
  return { subscriber, redis, options: { subscriber: subscriber as unknown as RedisClient, redis: redis as unknown as RedisClient, prefix: 'p:' } };
}

describe('RedisChangeEventBus on a shared subscriber', () => {
  it('adds one message listener however often it starts, and takes only its own away on close', async () => {
    const { subscriber, options } = fakeConnections();
    const otherCode = vi.fn();
    subscriber.on('message', otherCode);
    const bus = new RedisChangeEventBus({ ...options, instanceId: 'me' });
    await bus.start();
    await bus.start();
    expect(subscriber.listenerCount('message')).toBe(2);
    expect(subscriber.subscribe).toHaveBeenCalledWith('p:server-events');
    const got = vi.fn();
    bus.subscribe(got);
    const envelope = (o: string) => JSON.stringify({ o, t: Date.now(), e: tools });
    subscriber.emit('message', 'p:server-events', envelope('other'));
    subscriber.emit('message', 'p:server-events', envelope('me'));
    subscriber.emit('message', 'p:session-events:{s}', envelope('other'));
    expect(got).toHaveBeenCalledTimes(1);
    await bus.close();
    expect(subscriber.listeners('message')).toEqual([otherCode]);
    expect(subscriber.unsubscribe).toHaveBeenCalledWith('p:server-events');
  });

  it('closes without waiting for an unsubscribe queued while Redis is away', async () => {
    const { subscriber, options } = fakeConnections();
    const bus = new RedisChangeEventBus(options);
    await bus.start();
    subscriber.status = 'reconnecting';
    subscriber.unsubscribe.mockImplementation(() => new Promise(() => {}));
    await expect(bus.close()).resolves.toBeUndefined();
    expect(subscriber.unsubscribe).toHaveBeenCalledWith('p:server-events');
  });

  it('turns a Redis failure into StoreUnavailableError with a readable reason', async () => {
    const { options } = fakeConnections(async () => {
      throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    });
    const bus = new RedisChangeEventBus(options);
    const failure = bus.publishAndWait(tools);
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow('Redis is unreachable');
  });
});
