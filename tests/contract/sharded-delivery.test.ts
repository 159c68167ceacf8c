import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisProcess } from '../../src/fleet/redis-process.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { RedisStreamManager } from '../../src/backends/redis/stream-manager.js';
import type { InstanceEnvelope, StreamEvent } from '../../src/streams/stream-manager.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { redisSettings } from '../support/redis-settings.js';

/**
 * On a Redis Cluster, a plain PUBLISH is copied over the cluster bus to every node; the session and
 * instance channels must stay on the master of their slot. The nodes' own counters of pub/sub
 * messages received over the bus tell where the traffic went.
 */
const redisCluster = useRedisCluster();
const clients: RedisClient[] = [];
const managers: RedisStreamManager[] = [];
afterAll(async () => {
  for (const manager of managers) await manager.close();
  for (const client of clients) client.disconnect();
});

async function replica(nodes: RedisProcess[], prefix: string): Promise<RedisStreamManager> {
  const settings = redisSettings('', { url: undefined, clusterNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) });
  const redis = createRedisClient({ settings, observer: NOOP_OBSERVER, name: 'sharded' });
  const subscriber = createRedisClient({ settings, observer: NOOP_OBSERVER, subscriber: true, name: 'sharded-sub' });
  clients.push(redis, subscriber);
  await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
  const manager = new RedisStreamManager({
    redis,
    subscriber,
    prefix,
    retentionSeconds: 60,
    maxEntriesPerStream: 1000,
    sessionKey: (id) => `${prefix}session:{${id}}`,
  });
  managers.push(manager);
  await manager.start();
  return manager;
}

/** The node whose own slot ranges (CLUSTER NODES, `myself`) hold the slot of `channel`. */
async function ownerOf(nodes: RedisProcess[], channel: string): Promise<RedisProcess> {
  const slot = Number((await nodes[0]!.command('CLUSTER', 'KEYSLOT', channel)).slice(1));
  for (const node of nodes) {
    const myself = (await node.command('CLUSTER', 'NODES')).split('\n').find((line) => line.includes('myself'))!;
    const ranges = myself
      .trim()
      .split(' ')
      .slice(8)
      .map((range) => range.split('-').map(Number));
    if (ranges.some(([from, to = from]) => slot >= from! && slot <= to!)) return node;
  }
  throw new Error(`no node owns slot ${slot}`);
}

/** Pub/sub messages a node received over the cluster bus, plain and sharded. */
async function busReceived(node: RedisProcess): Promise<{ publish: number; publishshard: number }> {
  const info = await node.command('CLUSTER', 'INFO');
  const field = (name: string) => Number(new RegExp(`^cluster_stats_messages_${name}_received:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { publish: field('publish'), publishshard: field('publishshard') };
}

/** Subscribers of a shard channel on one node (PUBSUB SHARDNUMSUB, raw reply `*2 $n channel :count`). */
async function shardSubscribers(node: RedisProcess, channel: string): Promise<number> {
  const reply = await node.command('PUBSUB', 'SHARDNUMSUB', channel);
  return Number(reply.split('\r\n').at(-1)!.slice(1));
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Sharded delivery on a Redis Cluster', () => {
  it("keeps session events and instance envelopes on the master of their slot, and counts an instance's subscribers exactly", async () => {
    const nodes = await redisCluster();
    const prefix = `sharded-${randomUUID().slice(0, 8)}:`;
    const [here, there] = [await replica(nodes, prefix), await replica(nodes, prefix)];
    const session = randomUUID();
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => received.push(e));
    listener.start();
    const sessionOwner = await ownerOf(nodes, `${prefix}session-events:{${session}}`);
    const instanceOwner = await ownerOf(nodes, `${prefix}instance:${here.instanceId}`);
    const before = await Promise.all(nodes.map(busReceived));

    const count = 50;
    for (let n = 0; n < count; n++) await there.publish(session, 'g', { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });
    await until(() => received.length === count);
    const atHere: InstanceEnvelope[] = [];
    here.onInstanceMessage((e) => atHere.push(e));
    const envelope: InstanceEnvelope = { type: 'client-response', sessionId: session, message: { jsonrpc: '2.0', id: 1, result: {} }, publishedAt: Date.now() };
    for (let n = 0; n < count; n++) expect(await there.sendToInstance(here.instanceId, envelope)).toBe(true);
    await until(() => atHere.length === count);

    const after = await Promise.all(nodes.map(busReceived));
    const seen = nodes.map((node, i) => ({
      port: node.port,
      publish: after[i]!.publish - before[i]!.publish,
      publishshard: after[i]!.publishshard - before[i]!.publishshard,
    }));
    console.log(`pub/sub messages each node received over the cluster bus for ${count} session events and ${count} envelopes`, JSON.stringify(seen));
    // No node but the slot's master sees them (this cluster has no replicas, which would get shard messages).
    for (const entry of seen) expect(entry).toEqual({ port: entry.port, publish: 0, publishshard: 0 });
    // Each shard channel is subscribed on the master of its slot, and there only.
    for (const [owner, channel] of [
      [sessionOwner, `${prefix}session-events:{${session}}`],
      [instanceOwner, `${prefix}instance:${here.instanceId}`],
    ] as const) {
      expect(await Promise.all(nodes.map((node) => shardSubscribers(node, channel)))).toEqual(nodes.map((node) => (node === owner ? 1 : 0)));
    }
    // A Cluster can tell an instance that nobody listens for.
    expect(await there.sendToInstance('no-such-instance', envelope)).toBe(false);
    await listener.close();
  });
});
