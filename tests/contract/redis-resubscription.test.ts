import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, connectRedis } from '../../src/backends/redis/connection.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';

const redisServer = useRedisServer();

/**
 * A TCP relay to Redis that can hold back Redis's answers once the client has sent a given
 * command, and cut every connection it relays.
 */
class HoldingRelay {
  private readonly sockets = new Set<Socket>();
  private holdAfter: string | undefined;
  held = false;
  readonly server: Server;

  constructor(redisPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(redisPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.on('data', (chunk) => {
        if (this.holdAfter && chunk.toString('latin1').toLowerCase().includes(this.holdAfter)) this.held = true;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => {
        if (!this.held) client.write(chunk);
      });
      for (const socket of [client, upstream]) socket.on('error', () => {});
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** From now on, answers stop once a client sends `command`. */
  holdAnswersAfter(command: string): void {
    this.holdAfter = command.toLowerCase();
  }

  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('a Redis subscriber connection', () => {
  it('leaves no unhandled rejection when it is closed while resubscribing after a reconnect', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    closers.push(() => void process.off('unhandledRejection', onUnhandled));

    const relay = new HoldingRelay(redisServer().port);
    const port = await relay.listen();
    closers.push(() => relay.close());
    const subscriber = createRedisClient({
      settings: redisSettings(`redis://127.0.0.1:${port}`),
      observer: NOOP_OBSERVER,
      subscriber: true,
      name: 'resubscription-test',
    });
    subscriber.on('error', () => {});
    await connectRedis(subscriber);
    await subscriber.subscribe('resubscription-test');

    // The reconnect's SUBSCRIBE (sent by the client library itself) gets no answer...
    relay.holdAnswersAfter('subscribe');
    relay.cutAll();
    await until(() => relay.held);
    // ...and the connection is closed before it does.
    subscriber.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(unhandled.map((reason) => (reason instanceof Error ? reason.message : String(reason)))).toEqual([]);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
