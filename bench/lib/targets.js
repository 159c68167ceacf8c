// The systems under test, each started on loopback with its own redis-server where it uses one:
// mcp-fleet (dist/main.js; one process in memory, one on Redis, three + HAProxy through
// startFleet), the same with the 50-tool workload (bench/workloads/wide.js, in memory), tmcp
// (bench/peers/tmcp-server.js, the same three setups), the SDK's stock createMcpHandler server
// (bench/peers/sdk-stock-server.js; one process, three + HAProxy), and the floor
// (bench/peers/floor-server.js: bare node:http, a canned answer; one process, three + HAProxy).
// With a baseline (another checkout's build), its dist/main.js runs in mcp-fleet's setups too.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFleet } from '../../dist/fleet/index.js';
import { LoadBalancer } from '../../dist/fleet/load-balancer.js';
import { ManagedProcess } from '../../dist/fleet/managed-process.js';
import { track } from '../../dist/fleet/reaper.js';
import { freePort } from '../../dist/fleet/free-port.js';
import { RedisProcess } from '../../dist/fleet/redis-process.js';
import { Replica } from '../../dist/fleet/replica.js';
import { waitForOk } from '../../dist/fleet/wait-ready.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAINS = {
  'mcp-fleet': path.join(ROOT, 'dist/main.js'),
  'mcp-fleet-50tools': path.join(ROOT, 'dist/main.js'),
  tmcp: path.join(ROOT, 'bench/peers/tmcp-server.js'),
  sdk: path.join(ROOT, 'bench/peers/sdk-stock-server.js'),
  floor: path.join(ROOT, 'bench/peers/floor-server.js'),
};

/** Extra environment of an implementation's servers. */
const IMPL_ENV = { 'mcp-fleet-50tools': { MCP_WORKLOAD: path.join(ROOT, 'bench/workloads/wide.js') } };

/** Which eras each implementation serves in the benchmark (the SDK's stock server: modern only). */
export const ERAS = {
  'mcp-fleet': ['legacy', 'modern'],
  'mcp-fleet-50tools': ['legacy', 'modern'],
  baseline: ['legacy', 'modern'],
  tmcp: ['legacy', 'modern'],
  sdk: ['modern'],
  floor: ['legacy', 'modern'],
};

/** Implementations without the notify/bump tools: no notification probe. */
export const WITHOUT_NOTIFICATIONS = new Set(['floor', 'mcp-fleet-50tools']);

/** Every target: implementation × setup. */
export const TARGETS = [
  { impl: 'mcp-fleet', setup: 'memory-1' },
  { impl: 'mcp-fleet', setup: 'redis-1' },
  { impl: 'mcp-fleet', setup: 'redis-3-lb' },
  { impl: 'mcp-fleet-50tools', setup: 'memory-1' },
  { impl: 'tmcp', setup: 'memory-1' },
  { impl: 'tmcp', setup: 'redis-1' },
  { impl: 'tmcp', setup: 'redis-3-lb' },
  { impl: 'sdk', setup: 'memory-1' },
  { impl: 'sdk', setup: 'memory-3-lb' },
  { impl: 'floor', setup: 'memory-1' },
  { impl: 'floor', setup: 'memory-3-lb' },
].map((t) => ({ ...t, id: `${t.impl}/${t.setup}` }));

/** The targets of a baseline build (`--baseline <checkout>`): its dist/main.js in mcp-fleet's setups. */
export function baselineTargets(checkout) {
  const main = path.resolve(checkout, 'dist/main.js');
  if (!fs.existsSync(main)) throw new Error(`--baseline ${checkout}: no ${main} (build that checkout first)`);
  MAINS.baseline = main;
  return ['memory-1', 'redis-1', 'redis-3-lb'].map((setup) => ({ impl: 'baseline', setup, id: `baseline/${setup}` }));
}

export const replicaCount = (setup) => (setup.endsWith('-3-lb') ? 3 : 1);
export const usesRedis = (setup) => setup.startsWith('redis');

/**
 * A server process started as `node --cpu-prof --cpu-prof-dir=<dir> <main>` (Node refuses --cpu-prof
 * in NODE_OPTIONS), with the part of Replica's interface the benchmark uses. Its profile is
 * written when it exits after SIGTERM.
 */
class ProfiledReplica {
  constructor(name, port, main, env, logDir, profileDir) {
    Object.assign(this, { name, port, main, env, logDir, profileDir });
  }

  get url() {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get pid() {
    return this.process?.running ? this.process.pid : undefined;
  }

  async start(metricsPort) {
    fs.mkdirSync(this.profileDir, { recursive: true });
    const env = { ...this.env, PORT: String(this.port), HOST: '127.0.0.1', METRICS_PORT: String(metricsPort), POD_NAME: this.name };
    this.process = ManagedProcess.spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, this.main], {
      env,
      cwd: ROOT,
      logFile: path.join(this.logDir, `${this.name}.log`),
    });
    await waitForOk(`http://127.0.0.1:${this.port}/readyz`, this.name, this.process);
  }

  async kill(signal = 'SIGTERM') {
    await this.process?.stop(signal, 15_000);
  }
}

async function replica(main, name, env, logDir, profileDir) {
  if (profileDir) {
    const r = new ProfiledReplica(name, await freePort(), main, env, logDir, profileDir);
    await r.start(await freePort());
    return r;
  }
  const r = new Replica({
    name,
    port: await freePort(),
    metricsPort: await freePort(),
    main,
    env,
    cwd: ROOT,
    logDir,
    mirror: false,
    stopGraceMs: 15_000,
  });
  await r.start();
  return r;
}

/**
 * Starts `target`; resolves with { id, impl, setup, url, replicaUrls, serverPids(), lbPid(), redis, stop() }.
 * `profileDir`: the server processes run under --cpu-prof and write their profiles there on exit.
 */
export async function startTarget(target, { profileDir } = {}) {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), `mcp-bench-${target.impl}-`));
  // Each target decides its own Redis, whatever this process's environment says.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REDIS_')));
  const base = { ...inherited, LOG_LEVEL: 'warn', ...IMPL_ENV[target.impl] };
  const count = replicaCount(target.setup);

  // The fleet through its own launcher; under the profiler the same shape (one Redis, the
  // replicas, HAProxy) is put together here, since the launcher starts replicas without node flags.
  if (target.impl === 'mcp-fleet' && count > 1 && !profileDir) {
    const fleet = await startFleet({ replicas: count, env: { LOG_LEVEL: 'warn' }, logDir, quiet: true });
    return {
      ...target,
      url: fleet.url,
      replicaUrls: fleet.replicas.map((r) => r.url),
      serverPids: () => fleet.replicas.map((r) => r.pid).filter(Boolean),
      lbPid: () => fleet.lbPid,
      redis: fleet.redis,
      logDir,
      stop: async () => {
        await fleet.stop();
        fs.rmSync(logDir, { recursive: true, force: true });
      },
    };
  }

  const redis = usesRedis(target.setup) ? await RedisProcess.start() : undefined;
  // Killed with this process if it dies before stop().
  track(redis?.pid);
  const env = { ...base, ...(redis ? { REDIS_URL: redis.url, REQUEST_STATE_KEYS: randomBytes(32).toString('base64url') } : {}) };
  const replicas = [];
  let lb;
  try {
    for (let i = 0; i < count; i++) replicas.push(await replica(MAINS[target.impl], `${target.impl}-${i}`, env, logDir, profileDir));
    if (count > 1) {
      lb = await LoadBalancer.start({
        port: await freePort(),
        servers: replicas.map((r) => ({ name: r.name, port: r.port })),
        configDir: logDir,
        logFile: path.join(logDir, 'haproxy.log'),
      });
      await Promise.all(replicas.map((r) => lb.waitFor(r.name, 'UP')));
    }
  } catch (error) {
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await redis?.dispose();
    throw error;
  }
  return {
    ...target,
    url: lb ? lb.url : replicas[0].url,
    replicaUrls: replicas.map((r) => r.url),
    serverPids: () => replicas.map((r) => r.pid).filter(Boolean),
    lbPid: () => lb?.pid,
    redis,
    logDir,
    stop: async () => {
      await lb?.stop();
      await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
      await redis?.dispose();
      fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}
