import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/fleet/free-port.js';
import { RedisProcess, waitForPort } from '../../src/fleet/redis-process.js';
import { callTool, initialize, post, SseStream, startToolCall, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * The same cross-replica session over the other Redis topologies ioredis supports: two replica
 * processes, initialize on one, GET stream on the other, notify and a tool call across them.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function crossReplicaSession(env: Record<string, string>): Promise<[ServerProcess, ServerProcess]> {
  const [a, b] = await Promise.all([ServerProcess.start('topo-a', env), ServerProcess.start('topo-b', env)]);
  cleanups.push(
    () => a.stop('SIGKILL'),
    () => b.stop('SIGKILL'),
  );
  await sessionAcross(a, b);
  return [a, b];
}

/** Initialize on `a`, GET stream on `b`, notify and tool calls across them, DELETE. */
async function sessionAcross(a: ServerProcess, b: ServerProcess): Promise<void> {
  const session = await initialize(a.url);
  const stream = await SseStream.open(b.url, session);
  expect(stream.status).toBe(200);
  await callTool(a.url, session, 'notify', { message: 'across', count: 3 });
  await stream.waitFor((s) => s.messages.length === 3);
  expect(stream.messages.map((m) => m.params.data.index)).toEqual([0, 1, 2]);
  expect(toolJson(await callTool(b.url, session, 'bump', { name: `topo-${Date.now()}` }))).toMatchObject({ value: 1 });
  expect(toolJson(await callTool(b.url, session, 'whoami'))).toEqual({ replica: 'topo-b', sessionId: session });
  stream.close();
  expect((await fetch(b.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session } })).status).toBe(200);
  expect((await callTool(a.url, session, 'whoami')).status).toBe(404);
}

/**
 * An answer to a server-to-client request whose replica was killed is refused (409), not taken with
 * a 202: on a Cluster too, where the owner's instance channel is a shard channel whose SPUBLISH
 * counts its subscribers exactly.
 */
async function answerToKilledOwner(env: Record<string, string>, survivor: string): Promise<void> {
  const owner = await ServerProcess.start('topo-owner', { ...env, OWNER_LIVENESS_MS: '600' });
  cleanups.push(() => owner.stop('SIGKILL'));
  const session = await initialize(owner.url, { sampling: {} });
  const call = startToolCall(owner.url, session, 5, 'sample', { prompt: 'lost' });
  await expect.poll(() => call.messages().some((m) => m.method === 'sampling/createMessage'), { timeout: 5000 }).toBe(true);
  const asked = call.messages().find((m) => m.method === 'sampling/createMessage')!;
  await owner.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 700));
  const answer = await post(
    survivor,
    { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'late' } } },
    session,
  );
  expect(answer.status).toBe(409);
}

describe('Redis topologies', () => {
  it('Redis Cluster (three masters) through REDIS_CLUSTER_NODES', async () => {
    const nodes = await Promise.all([0, 1, 2].map(() => RedisProcess.start({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] })));
    cleanups.push(...nodes.map((node) => () => node.dispose()));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
    });
    expect(created.status, created.stdout + created.stderr).toBe(0);
    await expect.poll(async () => (await nodes[0]!.command('CLUSTER', 'INFO')).includes('cluster_state:ok'), { timeout: 15_000 }).toBe(true);
    const env = { REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') };
    const [a, b] = await crossReplicaSession(env);
    // Each replica's instance channel is a shard channel, subscribed on the master of its slot only.
    const replies = await Promise.all(nodes.map((node) => node.command('PUBSUB', 'SHARDCHANNELS', '*instance:*')));
    expect(replies.reduce((sum, reply) => sum + Number(reply.split('\r\n')[0]!.slice(1)), 0)).toBe(2);
    await answerToKilledOwner(env, a.url);

    // A master down for a while (its shard subscribers cannot reconnect) takes no replica down,
    // and once it is back sessions work across the replicas again.
    await nodes[1]!.stop();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect([a.alive, b.alive]).toEqual([true, true]);
    await nodes[1]!.restart();
    await expect
      .poll(async () => (await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO')))).every((info) => info.includes('cluster_state:ok')), {
        timeout: 20_000,
      })
      .toBe(true);
    await expect
      .poll(async () => (await fetch(`${a.base}/readyz`)).status === 200 && (await fetch(`${b.base}/readyz`)).status === 200, { timeout: 20_000 })
      .toBe(true);
    await sessionAcross(a, b);
  });

  it('Redis behind Sentinel through REDIS_SENTINELS and REDIS_SENTINEL_NAME', async () => {
    const master = await RedisProcess.start();
    cleanups.push(() => master.dispose());
    const sentinelPort = await freePort();
    const config = path.join(master.dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${master.dir}`,
        `sentinel monitor fleet 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds fleet 2000',
        '',
      ].join('\n'),
    );
    const sentinel: ChildProcess = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    cleanups.push(async () => sentinel.kill('SIGKILL'));
    await waitForPort(sentinelPort);
    await crossReplicaSession({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'fleet' });
  });
});
