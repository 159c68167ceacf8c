import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { leavesRotationWithinMs } from './haproxy-config.js';
import { findHaproxy, LoadBalancer, type RotationState } from './load-balancer.js';
import { PostgresProcess } from './postgres-process.js';
import { freePort } from './free-port.js';
import { RedisProcess } from './redis-process.js';
import { Replica } from './replica.js';
import { track, trackDir, untrackDir } from './reaper.js';

export { findHaproxy, HAPROXY_MISSING } from './load-balancer.js';
export { RedisProcess } from './redis-process.js';
export { PostgresProcess } from './postgres-process.js';
export { Replica } from './replica.js';

export interface FleetOptions {
  /** How many server processes (default 3). */
  replicas?: number;
  /** The fleet's store: Redis (default) or PostgreSQL. */
  store?: FleetStore;
  /** Use this Redis instead of starting a private redis-server (store redis). */
  redisUrl?: string;
  /** Use this PostgreSQL instead of starting a private cluster (store postgres). */
  databaseUrl?: string;
  /** Extra environment for every replica (on top of this process's environment). */
  env?: Record<string, string>;
  /**
   * Consecutive ports from here: the load balancer on basePort, then each replica's MCP and
   * metrics ports. Free ports are picked when unset.
   */
  basePort?: number;
  /** The load balancer's port (overrides basePort for it); free when unset. */
  lbPort?: number;
  /** Where each process's log goes (`replica-0.log`, `haproxy.log`, ...); a temporary directory, removed by stop(), when unset. */
  logDir?: string;
  /**
   * The server each replica runs (default: this package's dist/main.js, from its root): e.g. an
   * installed package's `node_modules/mcp-fleet/bin/mcp-fleet.mjs` with `serve --workload ./dist/tools.js`.
   */
  server?: { main: string; args?: string[]; cwd: string };
  /** false: copy the replicas' output to this terminal too (it always goes to the log files). */
  quiet?: boolean;
  /**
   * Every process in a process group of its own (the CLI): a terminal's Ctrl-C reaches only the
   * launcher, which stops the load balancer, then the replicas (they drain), then Redis.
   */
  detached?: boolean;
}

export interface Fleet {
  /** The one MCP endpoint, through the load balancer. */
  url: string;
  lbPort: number;
  /** The load balancer's process id, while it runs. */
  readonly lbPid: number | undefined;
  store: FleetStore;
  /** The private redis-server the fleet started; undefined when it was given a URL or runs on PostgreSQL. */
  redis: RedisProcess | undefined;
  /** The private PostgreSQL cluster the fleet started; undefined when it was given a URL or runs on Redis. */
  postgres: PostgresProcess | undefined;
  /** The store's URL the replicas use (REDIS_URL or DATABASE_URL). */
  storeUrl: string;
  replicas: Replica[];
  logDir: string;
  /** The generated load balancer configuration. */
  lbConfigFile: string;
  /** Each replica's state in the load balancer's health checks (UP, DOWN, ...). */
  rotation(): Promise<Record<string, RotationState>>;
  /** Connections the load balancer opened to the replicas so far, and requests it sent on one it kept open. */
  backendConnections(): Promise<{ opened: number; reused: number }>;
  /** Requests the load balancer refused itself as malformed so far (none reached a replica). */
  requestErrors(): Promise<number>;
  /** Stops the load balancer, the replicas (SIGTERM, drain) and the store it started; resolves when all have exited. */
  stop(): Promise<void>;
}

/** Settings the launcher decides for each replica, whatever this process's environment says. */
const DECIDED = /^(PORT|HOST|METRICS_PORT|POD_NAME|REDIS_URL|REDIS_SENTINELS|REDIS_SENTINEL_NAME|REDIS_CLUSTER_NODES|DATABASE_URL|DATABASE_LISTEN_URL)$/;

export type FleetStore = 'redis' | 'postgres';

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('the fleet launcher is not inside the mcp-fleet package');
    dir = parent;
  }
  return dir;
}

function serverMain(root: string): string {
  const main = path.join(root, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  return main;
}

async function allocatePorts(options: FleetOptions, count: number): Promise<{ lb: number; replicas: Array<[number, number]> }> {
  const base = options.basePort;
  if (base !== undefined) {
    return {
      lb: options.lbPort ?? base,
      replicas: Array.from({ length: count }, (_, i) => [base + 1 + 2 * i, base + 2 + 2 * i] as [number, number]),
    };
  }
  const replicas: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) replicas.push([await freePort(), await freePort()]);
  return { lb: options.lbPort ?? (await freePort()), replicas };
}

/**
 * Starts a local fleet: a redis-server (unless `redisUrl`), N replicas of `node dist/main.js` and
 * HAProxy balancing every request over them. Resolves when every replica answers /readyz and the
 * load balancer has them in rotation.
 */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const count = options.replicas ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`replicas must be a whole number of at least 1 (got ${count})`);
  const root = options.server?.cwd ?? packageRoot();
  const main = options.server?.main ?? serverMain(root);
  // Say what is missing before starting anything.
  const haproxy = findHaproxy();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-'));
  trackDir(workDir);
  const logDir = options.logDir ?? workDir;
  fs.mkdirSync(logDir, { recursive: true });

  const store: FleetStore = options.store ?? (options.databaseUrl !== undefined || options.env?.DATABASE_URL !== undefined ? 'postgres' : 'redis');
  const givenUrl = store === 'postgres' ? (options.databaseUrl ?? options.env?.DATABASE_URL) : (options.redisUrl ?? options.env?.REDIS_URL);
  let redis: RedisProcess | undefined;
  let postgres: PostgresProcess | undefined;
  let lb: LoadBalancer | undefined;
  const replicas: Replica[] = [];
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await lb?.stop();
      await Promise.all(replicas.map((replica) => replica.kill('SIGTERM')));
      await redis?.dispose();
      await postgres?.dispose();
      if (redis) untrackDir(redis.dir);
      if (postgres) untrackDir(postgres.dir);
      fs.rmSync(workDir, { recursive: true, force: true });
      untrackDir(workDir);
    })();
    return stopped;
  };

  try {
    if (givenUrl === undefined && store === 'redis') {
      redis = await RedisProcess.start({ detached: options.detached });
      track(redis.pid);
      trackDir(redis.dir);
    }
    if (givenUrl === undefined && store === 'postgres') {
      postgres = await PostgresProcess.start({ detached: options.detached });
      track(postgres.pid);
      trackDir(postgres.dir);
    }
    const url = givenUrl ?? redis?.url ?? postgres!.url;
    // The store's settings are the launcher's: a REDIS_* setting beside DATABASE_URL is a configuration error.
    const storeSetting = store === 'postgres' ? /^(REDIS_|DATABASE_)/ : /^(REDIS_URL|REDIS_SENTINELS|REDIS_SENTINEL_NAME|REDIS_CLUSTER_NODES|DATABASE_)/;
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !DECIDED.test(name) && !storeSetting.test(name)));
    Object.assign(env, options.env, store === 'postgres' ? { DATABASE_URL: url } : { REDIS_URL: url });
    // One fleet, one key ring: a requestState sealed by one replica must verify on every other.
    env.REQUEST_STATE_KEYS ??= randomBytes(32).toString('base64url');
    // Like a preStop hook: a replica told to stop stays up until HAProxy has taken it out of rotation.
    env.SHUTDOWN_DELAY_MS ??= String(leavesRotationWithinMs());
    const ports = await allocatePorts(options, count);
    for (let i = 0; i < count; i++) {
      const [port, metricsPort] = ports.replicas[i]!;
      replicas.push(
        new Replica({
          name: `replica-${i}`,
          port,
          metricsPort,
          main,
          args: options.server?.args,
          env,
          cwd: root,
          logDir,
          mirror: options.quiet === false,
          stopGraceMs: 15_000,
          detached: options.detached,
          // After a restart, the replica is back when the load balancer sends it requests again.
          afterStart: async (replica) => {
            if (lb?.running) await lb.waitFor(replica.name, 'UP');
          },
        }),
      );
    }
    await Promise.all(replicas.map((replica) => replica.start()));
    lb = await LoadBalancer.start({
      port: ports.lb,
      servers: replicas.map((r) => ({ name: r.name, port: r.port })),
      configDir: workDir,
      binary: haproxy,
      logFile: path.join(logDir, 'haproxy.log'),
      detached: options.detached,
    });
    const started = lb;
    await Promise.all(replicas.map((r) => started.waitFor(r.name, 'UP')));
    return {
      url: started.url,
      lbPort: started.port,
      get lbPid() {
        return started.pid;
      },
      store,
      redis,
      postgres,
      storeUrl: url,
      replicas,
      logDir,
      lbConfigFile: started.configFile,
      rotation: () => started.rotation(),
      backendConnections: () => started.backendConnections(),
      requestErrors: () => started.requestErrors(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
