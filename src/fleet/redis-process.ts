import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { pollUntil } from './poll.js';
import { which } from './which.js';

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  await pollUntil(
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = net.connect(port, host);
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(undefined));
      }),
    { timeoutMs, timedOut: () => new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`) },
  );
}

/**
 * A private redis-server on a free loopback port, with nothing persisted, that tests and the local
 * fleet can stop, restart (same port) and flush.
 */
export class RedisProcess {
  private child: ChildProcess | undefined;
  private thawTimer: NodeJS.Timeout | undefined;
  /** The process's working directory (nothing is persisted there; cluster nodes keep nodes.conf). */
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-redis-'));

  private constructor(
    readonly port: number,
    private readonly binary: string,
    private readonly extraArgs: string[],
    private readonly detached: boolean,
  ) {}

  /**
   * `args` are appended to the command line (e.g. `--cluster-enabled yes`, or a config file and `--sentinel`).
   * Resolves once the process itself answers on its port. A free port can be taken by another
   * process between its choice and the bind (a busy machine runs many tests): the server then
   * exits, and a new port is tried.
   */
  static async start(options: { port?: number; binary?: string; args?: string[]; detached?: boolean } = {}): Promise<RedisProcess> {
    const binary = options.binary ?? which('redis-server');
    if (!binary) {
      throw new Error(
        'redis-server was not found on the PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.',
      );
    }
    for (let attempt = 1; ; attempt++) {
      const redis = new RedisProcess(options.port ?? (await freePort()), binary, options.args ?? [], options.detached ?? false);
      try {
        await redis.startProcess();
        return redis;
      } catch (error) {
        await redis.dispose();
        if (options.port !== undefined || attempt >= 5 || !(error instanceof RedisExitedError)) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async startProcess(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      '--maxclients',
      '4000',
      ...this.extraArgs,
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: this.detached });
    this.child = child;
    await this.untilServing(child);
  }

  /**
   * Until this very process answers on its port (its process id in INFO): something else may
   * listen there, and a node not yet serving refuses the connections a cluster's creation makes.
   */
  private async untilServing(child: ChildProcess): Promise<void> {
    const timeoutMs = 20_000;
    await pollUntil(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new RedisExitedError(this.port, child.exitCode ?? child.signalCode);
        const info = await this.command('INFO', 'server').catch(() => '');
        return new RegExp(`^process_id:${child.pid}\\r?$`, 'm').test(info) ? true : undefined;
      },
      { timeoutMs, timedOut: () => new Error(`redis-server did not answer on 127.0.0.1:${this.port} within ${timeoutMs} ms`) },
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Stops the process without ending it (SIGSTOP): it answers nothing, its connections stay open,
   * until thaw() (at most `maxMs`). Unlike CLIENT PAUSE, whose end is timed in advance, it lasts as long as a test needs.
   */
  freeze(maxMs = 30_000): void {
    if (!this.running) return;
    this.child!.kill('SIGSTOP');
    // Bounded whatever happens to the caller: a process left stopped would hang everything after it.
    clearTimeout(this.thawTimer);
    this.thawTimer = setTimeout(() => this.thaw(), maxMs);
    this.thawTimer.unref();
  }

  thaw(): void {
    clearTimeout(this.thawTimer);
    if (this.running) this.child!.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** Runs a redis-cli-free command through a raw RESP exchange (FLUSHALL, DEBUG SLEEP, CLIENT PAUSE, ...). */
  async command(...args: string[]): Promise<string> {
    const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1');
      let reply = '';
      socket.setEncoding('utf8');
      socket.once('error', reject);
      socket.on('data', (chunk) => {
        reply += chunk;
        if (isWholeReply(reply)) {
          socket.end();
          if (reply.startsWith('-')) reject(new Error(reply.slice(1).trim()));
          else resolve(reply.trim());
        }
      });
      socket.write(payload);
    });
  }

  async flushAll(): Promise<void> {
    await this.command('FLUSHALL');
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** redis-server exited before serving (its port or its cluster bus port taken, most often). */
class RedisExitedError extends Error {
  constructor(port: number, how: number | string | null) {
    super(`redis-server on port ${port} exited before serving (${how})`);
  }
}

/** A bulk reply is whole once its announced length has arrived; any other reply at its final CRLF. */
function isWholeReply(reply: string): boolean {
  if (!reply.endsWith('\r\n')) return false;
  const bulk = /^\$(-?\d+)\r\n/.exec(reply);
  if (!bulk || Number(bulk[1]) < 0) return true;
  return Buffer.byteLength(reply) >= Buffer.byteLength(bulk[0]) + Number(bulk[1]) + 2;
}
