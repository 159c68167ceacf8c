/**
 * A stop is always bounded: SIGTERM drains up to DRAIN_TIMEOUT_MS, then every connection closes
 * within a bound, Redis reachable or not; a second signal exits at once. Real replica processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/fleet/free-port.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { MAIN, TEST_REQUEST_STATE_KEY } from '../support/server-process.js';

const DRAIN_TIMEOUT_MS = 1000;
/** What "a few seconds" past the drain may be: closing is bounded by CLOSE_BOUND_MS (5 s); a loaded machine gets the rest. */
const STOP_BOUND_MS = DRAIN_TIMEOUT_MS + 10_000;

interface Replica {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Replica[] = [];
let redis: RedisProcess | undefined;

afterEach(async () => {
  for (const r of started.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await redis?.dispose();
  redis = undefined;
});

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      POD_NAME: 'stopper',
      REQUEST_STATE_KEYS: TEST_REQUEST_STATE_KEY,
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const replica = { child, port, output: () => output, exited };
  started.push(replica);
  await until(
    () => output.includes('"msg":"listening"'),
    () => `the replica did not listen: ${output}`,
    exited,
  );
  return replica;
}

async function until(condition: () => boolean | Promise<boolean>, message: () => string, exited?: Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  let gone = false;
  void exited?.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (gone || Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const readyStatus = (r: Replica): Promise<number> =>
  fetch(`http://127.0.0.1:${r.port}/readyz`).then(
    (res) => res.status,
    () => 0,
  );

/** The time from SIGTERM to the exit, and how it exited. */
async function timeStop(r: Replica, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ ms: number; code: number | null }> {
  const start = performance.now();
  r.child.kill(signal);
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_BOUND_MS).unref());
  const exit = await Promise.race([r.exited, timeout]);
  if (exit === 'timeout') throw new Error(`no exit ${STOP_BOUND_MS} ms after ${signal}: ${r.output()}`);
  return { ms: performance.now() - start, code: exit.code };
}

/** Waits out a few of the connection's reconnection attempts (the state a stop used to hang in). */
const reconnecting = (r: Replica) =>
  until(
    () => (r.output().match(/redis connection problem|Redis is not connected/g) ?? []).length > 0,
    () => `no Redis warning: ${r.output()}`,
  ).then(() => new Promise((resolve) => setTimeout(resolve, 5000)));

describe('a stop is bounded', () => {
  it('a replica whose Redis is down from the start exits 0 on SIGTERM within DRAIN_TIMEOUT_MS + a few seconds', async () => {
    const replica = await startReplica({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(await readyStatus(replica)).toBe(503);
    await reconnecting(replica);
    const { ms, code } = await timeStop(replica);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
  }, 120_000);

  it('a replica whose Redis goes down while it runs exits 0 on SIGTERM within the same bound', async () => {
    redis = await RedisProcess.start();
    const replica = await startReplica({ REDIS_URL: redis.url });
    await until(
      async () => (await readyStatus(replica)) === 200,
      () => `never ready: ${replica.output()}`,
    );
    await redis.stop();
    await until(
      async () => (await readyStatus(replica)) === 503,
      () => `still ready without Redis: ${replica.output()}`,
    );
    await reconnecting(replica);
    const { ms, code } = await timeStop(replica);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(STOP_BOUND_MS);
  }, 120_000);

  it('a second signal during the stop exits at once, non-zero, and says so', async () => {
    // The first SIGTERM leaves rotation for a minute before draining: only the second can end it soon.
    const replica = await startReplica({ SHUTDOWN_DELAY_MS: '60000' });
    replica.child.kill('SIGTERM');
    await until(
      () => replica.output().includes('leaving rotation'),
      () => `no stop began: ${replica.output()}`,
    );
    const { code } = await timeStop(replica, 'SIGINT');
    expect(code).toBe(130);
    expect(replica.output()).toMatch(/"level":"error","msg":"stopping at once: a second signal during the drain","signal":"SIGINT"/);
  }, 120_000);
});
