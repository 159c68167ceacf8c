/**
 * The example project (examples/my-tools) as an author would use it: installed against the
 * `npm pack` output of this checkout, built, and run as 3 replicas of `mcp-fleet serve --workload
 * ./dist/tools.js` on Redis behind the local balancer (HAProxy, round robin, no affinity).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { skipFleet } from '../fleet/available.js';
import { FleetClient } from '../support/fleet-client.js';
import { ModernClient } from '../support/modern-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(ROOT, 'examples/my-tools');

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

let work: string;
let app: string;
let fleet: Fleet;
const clients: Array<{ close(): Promise<void> }> = [];
/** Calls per era and replica, for the report. */
const tallies: Record<'legacy' | 'modern', Record<string, number>> = { legacy: {}, modern: {} };
const count = (era: 'legacy' | 'modern', replica: string) => (tallies[era][replica] = (tallies[era][replica] ?? 0) + 1);

beforeAll(async () => {
  if (skipFleet) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-example-'));
  // The package as it would be published (prepack builds dist/).
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').at(-1)!;
  console.log(`npm pack: ${tarball}, ${fs.statSync(path.join(work, tarball)).size} bytes`);
  app = path.join(work, 'my-tools');
  fs.cpSync(EXAMPLE, app, { recursive: true, filter: (source) => !/[/\\](node_modules|dist|vendor)$/.test(source) });
  fs.mkdirSync(path.join(app, 'vendor'));
  fs.renameSync(path.join(work, tarball), path.join(app, 'vendor/mcp-fleet.tgz'));
  run('npm', ['install', '--prefer-offline'], app);
  run('npm', ['run', 'build'], app);
  fleet = await startFleet({
    replicas: 3,
    server: { main: path.join(app, 'node_modules/mcp-fleet/bin/mcp-fleet.mjs'), args: ['serve', '--workload', './dist/tools.js'], cwd: app },
  });
}, 600_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await fleet?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  console.log(`example, 3 replicas: calls per replica ${JSON.stringify(tallies)}`);
});

async function legacy(): Promise<FleetClient> {
  const client = await FleetClient.connect(fleet.url);
  clients.push(client);
  return client;
}

async function modern(): Promise<ModernClient> {
  const client = await ModernClient.connect(fleet.url);
  clients.push(client);
  return client;
}

describe.skipIf(skipFleet)('the example project on 3 replicas', () => {
  it("runs the installed package's bin with the example's workload on every replica", async () => {
    expect(fleet.replicas).toHaveLength(3);
    const client = await modern();
    const tools = (await client.client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['greet', 'reset-votes', 'vote']);
  });

  it('serves both eras, each call on whichever replica the balancer picks', async () => {
    const [old, now] = [await legacy(), await modern()];
    for (let i = 0; i < 9; i++) {
      const a = await old.tool('greet', { name: `legacy-${i}` });
      const b = await now.tool('greet', { name: `modern-${i}` });
      expect(a.greeting).toBe(`Hello, legacy-${i}!`);
      expect(b.greeting).toBe(`Hello, modern-${i}!`);
      count('legacy', a.replica);
      count('modern', b.replica);
    }
    expect(Object.keys(tallies.legacy).length).toBeGreaterThan(1);
    expect(Object.keys(tallies.modern).length).toBeGreaterThan(1);
  });

  it('keeps one fleet-wide tally through ctx.shared, whichever replica and era counts a vote', async () => {
    const option = `shared-${Date.now()}`;
    const [old, now] = [await legacy(), await modern()];
    const counts: number[] = [];
    const replicas = new Set<string>();
    for (let i = 0; i < 6; i++) {
      for (const [era, client] of [
        ['legacy', old],
        ['modern', now],
      ] as const) {
        const vote = await client.tool('vote', { option });
        counts.push(vote.votes);
        replicas.add(vote.replica);
        count(era, vote.replica);
      }
    }
    expect(counts).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(replicas.size).toBeGreaterThan(1);
    for (const client of [old, now]) {
      const read = await client.client.readResource({ uri: `votes://${option}` });
      expect(JSON.parse((read.contents[0] as { text: string }).text)).toEqual({ option, votes: 12 });
    }
  });

  it('sends an update of votes://{option} to subscribers of both eras, from votes counted on other replicas', async () => {
    const option = `update-${Date.now()}`;
    const uri = `votes://${option}`;
    const subscriber = await legacy();
    await subscriber.client.subscribeResource({ uri });
    await subscriber.waitForStream();
    const listener = await modern();
    const subscription = await listener.client.listen({ resourceSubscriptions: [uri] });
    const listenReplica = listener.served.find((s) => s.method === 'subscriptions/listen')?.replica;
    const voter = await modern();
    const voters = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const vote = await voter.tool('vote', { option });
      voters.add(vote.replica);
      count('modern', vote.replica);
    }
    // Three votes in a row go to three replicas: at least one is not where either stream is held.
    expect([...voters].some((r) => r !== subscriber.streamReplica)).toBe(true);
    expect([...voters].some((r) => r !== listenReplica)).toBe(true);
    await expect.poll(() => subscriber.updates.filter((u) => u === uri).length, { timeout: 15_000 }).toBe(3);
    await expect.poll(() => listener.updates.filter((u) => u === uri).length, { timeout: 15_000 }).toBe(3);
    await subscription.close?.();
  });

  it('asks the user before a reset (2026-07-28): the retry with the answer lands on another replica and is honoured', async () => {
    const option = `reset-modern-${Date.now()}`;
    const client = await modern();
    await client.tool('vote', { option });
    const result = await client.tool('reset-votes', { option });
    expect(result).toMatchObject({ option, reset: true });
    const rounds = client.roundsOf('reset-votes');
    expect(rounds).toHaveLength(2);
    expect(rounds[0]).not.toBe(rounds[1]);
    for (const replica of rounds) count('modern', replica!);
    const read = await client.client.readResource({ uri: `votes://${option}` });
    expect(JSON.parse((read.contents[0] as { text: string }).text).votes).toBe(0);
  });

  it('asks the user before a reset (2025 session): the elicitation is answered through another replica', async () => {
    const option = `reset-legacy-${Date.now()}`;
    const client = await legacy();
    await client.waitForStream();
    await client.tool('vote', { option });
    const before = client.served.length;
    const result = await client.tool('reset-votes', { option });
    expect(result).toMatchObject({ option, reset: true });
    const exchange = client.served.slice(before).filter((s) => s.method === 'tools/call' || s.method === 'response');
    expect(exchange.map((s) => s.method)).toEqual(expect.arrayContaining(['tools/call', 'response']));
    const call = exchange.find((s) => s.method === 'tools/call')!.replica;
    const answer = exchange.find((s) => s.method === 'response')!.replica;
    expect(answer).not.toBe(call);
    count('legacy', call!);
    count('legacy', answer!);
  });
});
