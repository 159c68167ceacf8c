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

/**
 * Every node is started and serving (RedisProcess.start waits for each) before redis-cli joins
 * them; a creation that still fails (a port lost to another process meanwhile) is tried again
 * on new nodes.
 */
async function startCluster(): Promise<RedisProcess[]> {
  for (let attempt = 1; ; attempt++) {
    const nodes = await Promise.all([0, 1, 2].map(() => RedisProcess.start({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] })));
    try {
      const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8',
      });
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      await clusterReady(nodes);
      return nodes;
    } catch (error) {
      for (const node of nodes) await node.dispose();
      if (attempt >= 3) throw error;
    }
  }
}

/** Waits until every node reports cluster_state:ok (after creating or restarting them). */
export async function clusterReady(nodes: RedisProcess[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => n.command('CLUSTER', 'INFO').catch(() => '')));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not reach cluster_state:ok in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
