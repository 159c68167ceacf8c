#!/usr/bin/env node
// How long an event-loop stall of a replica makes it look dead to the fleet (OWNER_LIVENESS_MS).
// Starts a private redis-server and one replica (`node dist/main.js`, run `npm run build` first),
// stops the replica's process (SIGSTOP: its event loop, its heartbeat with it, stands still) for a
// series of durations at random moments of its heartbeat, and watches its liveness key in Redis.
// Usage: node scripts/measure-owner-stall.mjs [OWNER_LIVENESS_MS=3000] [trials per stall=5]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../dist/fleet/free-port.js';
import { RedisProcess } from '../dist/fleet/redis-process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const livenessMs = Number(process.argv[2] ?? 3000);
const trials = Number(process.argv[3] ?? 5);
const stalls = [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1].map((f) => Math.round(f * livenessMs));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const redis = await RedisProcess.start();
const port = await freePort();
const replica = spawn(process.execPath, [path.join(root, 'dist/main.js')], {
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    REDIS_URL: redis.url,
    OWNER_LIVENESS_MS: String(livenessMs),
    LOG_LEVEL: 'error',
    REQUEST_STATE_KEYS: 'measure-owner-stall-key-0123456789',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  let key;
  for (let i = 0; i < 200 && !key; i++) {
    await sleep(50);
    const reply = await redis.command('KEYS', '*instance-alive:*');
    key = /\$\d+\r\n(.*instance-alive:[^\r]+)/.exec(reply)?.[1];
  }
  if (!key) throw new Error('the replica never wrote its liveness key');
  const exists = async () => (await redis.command('EXISTS', key)) === ':1';
  const rows = [];
  for (const stallMs of stalls) {
    let dead = 0;
    let deadForMs = 0;
    for (let t = 0; t < trials; t++) {
      await sleep(livenessMs + Math.random() * livenessMs);
      replica.kill('SIGSTOP');
      const stoppedAt = Date.now();
      let goneAt;
      while (Date.now() - stoppedAt < stallMs) {
        if (goneAt === undefined && !(await exists())) goneAt = Date.now();
        await sleep(5);
      }
      replica.kill('SIGCONT');
      let backAt;
      if (goneAt !== undefined) {
        while (!(await exists())) await sleep(5);
        backAt = Date.now();
      }
      if (goneAt !== undefined) {
        dead += 1;
        deadForMs = Math.max(deadForMs, backAt - goneAt);
      }
    }
    rows.push({ stallMs, trials, lookedDead: dead, longestDeadMs: deadForMs });
  }
  console.log(`OWNER_LIVENESS_MS=${livenessMs} (heartbeat every ${Math.floor(livenessMs / 3)} ms)`);
  console.table(rows);
} finally {
  replica.kill('SIGKILL');
  await redis.dispose();
}
