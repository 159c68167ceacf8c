import { spawnSync } from 'node:child_process';
import { afterAll } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';

/** A three-master Redis Cluster for the current test file, started on first use, stopped after it. */
export function useRedisCluster(): () => Promise<RedisProcess[]> {
  let starting: Promise<RedisProcess[]> | undefined;
  afterAll(async () => {
    for (const node of (await starting?.catch(() => [])) ?? []) await node.dispose();
  });
  return () => (starting ??= startCluster());
}

async function startCluster(): Promise<RedisProcess[]> {
  const nodes = await Promise.all([0, 1, 2].map(() => RedisProcess.start({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] })));
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
    encoding: 'utf8',
  });
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  await clusterReady(nodes);
  return nodes;
}

/** Waits until every node reports cluster_state:ok (after creating or restarting them). */
export async function clusterReady(nodes: RedisProcess[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO').catch(() => '')));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
