import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';

const run = promisify(execFile);

/**
 * A three-master Redis Cluster for the current test file, stopped after it. It starts before the
 * file's tests, under the hook timeout: on a loaded machine forming a cluster can take longer than
 * one test may.
 */
export function useRedisCluster(): () => Promise<RedisProcess[]> {
  let starting: Promise<RedisProcess[]> | undefined;
  beforeAll(async () => {
    await (starting ??= startCluster());
  }, 120_000);
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
      // Not spawnSync: redis-cli waits for the nodes to agree, and the test process must keep running meanwhile.
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 60_000,
      }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`redis-cli --cluster create failed: ${error.stdout ?? ''}${error.stderr ?? error.message}`);
      });
      await clusterReady(nodes);
      return nodes;
    } catch (error) {
      for (const node of nodes) await node.dispose();
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * Waits until every node reports cluster_state:ok with every slot served, knows every other node
 * and holds a live link to each (after creating or restarting them). cluster_state:ok alone comes
 * before the nodes' gossip has joined them all, and a PUBLISH on a node not yet linked to another
 * does not reach that node's subscribers.
 */
export async function clusterReady(nodes: RedisProcess[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  const joined = async (node: RedisProcess): Promise<boolean> => {
    const info = await node.command('CLUSTER', 'INFO').catch(() => '');
    if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384') || !info.includes(`cluster_known_nodes:${nodes.length}`)) return false;
    // One line per node ("<id> <ip:port@bus-port> <flags> ... <link-state> <slots>") after the reply's length line.
    const links = (await node.command('CLUSTER', 'NODES').catch(() => '')).split('\n').filter((line) => line.includes('@'));
    return links.length === nodes.length && links.every((line) => line.includes(' connected'));
  };
  for (;;) {
    if ((await Promise.all(nodes.map(joined))).every(Boolean)) return;
    if (Date.now() > deadline) throw new Error('the Redis Cluster did not join (state ok, every slot, every link) in 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
