import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { renderHaproxyConfig } from './haproxy-config.js';
import { describeExit, ManagedProcess } from './managed-process.js';
import { pollUntil } from './poll.js';
import { waitForPort } from './redis-process.js';
import { which } from './which.js';

export const HAPROXY_MISSING =
  'haproxy was not found on the PATH; the local fleet needs it as its load balancer. Install it (Debian/Ubuntu: apt-get install -y haproxy; macOS: brew install haproxy) or set HAPROXY to its path.';

/** Where Debian and others install haproxy, off the PATH of users other than root. */
export const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * The haproxy binary: $HAPROXY, else the one on the PATH or in `sbinDirs`; throws, saying how to
 * install it, when there is none.
 */
export function findHaproxy(environment: NodeJS.ProcessEnv = process.env, sbinDirs: string[] = SBIN_DIRS): string {
  const configured = environment.HAPROXY;
  if (configured) {
    try {
      fs.accessSync(configured, fs.constants.X_OK);
    } catch {
      throw new Error(`HAPROXY=${configured} is not an executable file. ${HAPROXY_MISSING}`);
    }
    return configured;
  }
  const found = which('haproxy', environment) ?? which('haproxy', { PATH: sbinDirs.join(path.delimiter) });
  if (!found) throw new Error(HAPROXY_MISSING);
  return found;
}

/** A server's state as the load balancer's health checks see it: UP, DOWN, MAINT, ... */
export type RotationState = string;

export interface LoadBalancerOptions {
  port: number;
  servers: Array<{ name: string; port: number }>;
  /** Where the generated configuration and the runtime socket live. */
  configDir: string;
  logFile: string;
  binary?: string;
  /** In a process group of its own (see ManagedProcess). */
  detached?: boolean;
}

/** HAProxy in front of the replicas, from a configuration generated into `configDir`. */
export class LoadBalancer {
  private constructor(
    readonly port: number,
    readonly configFile: string,
    private readonly socket: string,
    private readonly process: ManagedProcess,
  ) {}

  static async start(options: LoadBalancerOptions): Promise<LoadBalancer> {
    const binary = options.binary ?? findHaproxy();
    const configFile = path.join(options.configDir, 'haproxy.cfg');
    const socket = path.join(options.configDir, 'haproxy.sock');
    fs.writeFileSync(configFile, renderHaproxyConfig({ port: options.port, servers: options.servers, statsSocket: socket }));
    const check = spawnSync(binary, ['-c', '-q', '-f', configFile], { encoding: 'utf8' });
    if (check.status !== 0) {
      throw new Error(`haproxy rejected the generated configuration ${configFile}:\n${check.stderr || check.stdout || check.error?.message}`);
    }
    // -db: stay in the foreground, so the launcher owns the process and its exit.
    const child = ManagedProcess.spawn(binary, ['-db', '-f', configFile], { env: process.env, logFile: options.logFile, detached: options.detached });
    const lb = new LoadBalancer(options.port, configFile, socket, child);
    try {
      await Promise.race([
        // HAProxy binds the frontend port and its runtime socket one after the other: wait for both.
        waitForPort(options.port).then(() => lb.waitForRuntimeApi()),
        child.exited.then((exit) => {
          throw new Error(`haproxy ${describeExit(exit)} at start. Its log (${options.logFile}):\n${child.tail()}`);
        }),
      ]);
    } catch (error) {
      await child.stop('SIGKILL');
      throw error;
    }
    return lb;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get pid(): number | undefined {
    return this.process.running ? this.process.pid : undefined;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Each replica's state in the load balancer (from `show stat` on the runtime socket). */
  async rotation(): Promise<Record<string, RotationState>> {
    const states: Record<string, RotationState> = {};
    for (const [name, field] of await this.serverStats()) states[name] = (field('status') ?? '').split(' ')[0] ?? '';
    return states;
  }

  /** Connections the load balancer opened to the replicas, and requests it sent on one it already had. */
  async backendConnections(): Promise<{ opened: number; reused: number }> {
    let opened = 0;
    let reused = 0;
    for (const [, field] of await this.serverStats()) {
      opened += Number(field('connect') ?? 0);
      reused += Number(field('reuse') ?? 0);
    }
    return { opened, reused };
  }

  /** Requests the load balancer refused itself as malformed (the frontend's `ereq`): no replica saw them. */
  async requestErrors(): Promise<number> {
    const frontend = (await this.stats()).find(([proxy, name]) => proxy !== 'replicas' && name === 'FRONTEND');
    return Number(frontend?.[2]('ereq') ?? 0);
  }

  /** The `show stat` rows of the replicas, by server name. */
  private async serverStats(): Promise<Array<[string, (column: string) => string | undefined]>> {
    return (await this.stats())
      .filter(([proxy, name]) => proxy === 'replicas' && name !== 'BACKEND' && name !== 'FRONTEND')
      .map(([, name, field]) => [name, field]);
  }

  /** Every `show stat` row: proxy, server (FRONTEND, BACKEND or a server's name), and its columns. */
  private async stats(): Promise<Array<[string, string, (column: string) => string | undefined]>> {
    const csv = await this.command('show stat');
    const lines = csv.split('\n').filter((line) => line !== '');
    const header = (lines[0] ?? '').replace(/^# /, '').split(',');
    return lines.slice(1).map((line) => {
      const fields = line.split(',');
      const field = (column: string) => fields[header.indexOf(column)];
      return [field('pxname') ?? '', field('svname') ?? '', field];
    });
  }

  /** Waits until the health checks report `server` as `state` (UP after a start, DOWN after a kill). */
  async waitFor(server: string, state: 'UP' | 'DOWN', timeoutMs = 10_000): Promise<void> {
    let current: RotationState | undefined;
    await pollUntil(
      async () => {
        current = (await this.rotation())[server];
        return current === state ? true : undefined;
      },
      { timeoutMs, timedOut: () => new Error(`the load balancer still reports ${server} as ${current ?? 'unknown'}, not ${state}, after ${timeoutMs} ms`) },
    );
  }

  private async waitForRuntimeApi(timeoutMs = 10_000): Promise<void> {
    let lastError: unknown;
    await pollUntil(
      () =>
        this.command('show info').then(
          () => true,
          (error: unknown) => {
            lastError = error;
            if (!this.process.running) throw new Error(`haproxy exited before its runtime socket ${this.socket} answered`);
            return undefined;
          },
        ),
      { timeoutMs, intervalMs: 20, timedOut: () => new Error(`haproxy's runtime socket ${this.socket} does not answer: ${String(lastError)}`) },
    );
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 5000);
  }

  private command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const connection = net.connect(this.socket);
      let reply = '';
      connection.setEncoding('utf8');
      connection.once('error', reject);
      connection.on('data', (chunk: string) => (reply += chunk));
      connection.once('end', () => resolve(reply));
      connection.end(`${line}\n`);
    });
  }
}
