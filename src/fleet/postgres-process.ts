import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { waitForPort } from './redis-process.js';
import { which } from './which.js';

const MISSING =
  'PostgreSQL server binaries (initdb, postgres) were not found on the PATH or under /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: apt-get install -y postgresql; macOS: brew install postgresql) or set DATABASE_URL.';

/** Where initdb and postgres are: on the PATH, or Debian's versioned directory (newest first). */
export function findPostgresBin(): string | undefined {
  const onPath = which('initdb');
  if (onPath && which('postgres')) return path.dirname(fs.realpathSync(onPath));
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(root, v, 'bin')).find((dir) => fs.existsSync(path.join(dir, 'initdb')));
}

/** initdb and postgres refuse to run as root: as root, they run as the `postgres` account. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, PostgreSQL needs an unprivileged account named postgres (Debian: apt-get install -y postgresql creates it)');
  }
}

/**
 * A private PostgreSQL cluster (initdb into a temporary directory, trust authentication on
 * 127.0.0.1, a free port) that tests and the local fleet can stop, kill, restart on the same port
 * and data, and remove. Durability settings are relaxed (no fsync): the data survives a server
 * restart or kill, not a machine crash.
 */
export class PostgresProcess {
  private child: ChildProcess | undefined;
  readonly dir: string;
  private readonly dataDir: string;

  private constructor(
    readonly port: number,
    private readonly bin: string,
    private readonly account: { uid: number; gid: number } | undefined,
    /** In a process group of its own: a terminal's Ctrl-C reaches whoever started it, not this server. */
    private readonly detached: boolean,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-postgres-'));
    this.dataDir = path.join(this.dir, 'data');
    if (account) fs.chownSync(this.dir, account.uid, account.gid);
  }

  static async start(options: { port?: number; detached?: boolean } = {}): Promise<PostgresProcess> {
    const bin = findPostgresBin();
    if (!bin) throw new Error(MISSING);
    const server = new PostgresProcess(options.port ?? (await freePort()), bin, serverAccount(), options.detached ?? false);
    try {
      server.initdb();
      await server.startProcess();
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  /** The superuser's URL (trust authentication: no password). */
  get url(): string {
    return this.urlFor('postgres');
  }

  urlFor(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private initdb(): void {
    execFileSync(
      path.join(this.bin, 'initdb'),
      ['-D', this.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { stdio: ['ignore', 'ignore', 'pipe'], uid: this.account?.uid, gid: this.account?.gid, env: { ...process.env, LC_ALL: 'C' } },
    );
  }

  private async startProcess(): Promise<void> {
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.dir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=32MB',
      '-c',
      'log_min_messages=fatal',
    ];
    const child = spawn(path.join(this.bin, 'postgres'), args, {
      stdio: ['ignore', 'ignore', 'ignore'],
      uid: this.account?.uid,
      gid: this.account?.gid,
      detached: this.detached,
      env: { ...process.env, LC_ALL: 'C' },
    });
    this.child = child;
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`postgres exited with code ${code} while starting`))));
    exited.catch(() => {});
    await Promise.race([waitForPort(this.port, '127.0.0.1', 30_000), exited]);
    // The port opens before the server accepts sessions (57P03 "starting up"): wait for that too.
    await this.waitAccepting();
  }

  private async waitAccepting(): Promise<void> {
    const pg = (await import('pg')).default;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({ connectionString: this.url });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /**
   * Stops the server: `fast` (pg_ctl's default: clients disconnected, a clean shutdown) or
   * `immediate` (every process quits at once without a checkpoint, as in a crash; the next start
   * recovers from the write-ahead log).
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** Runs one statement as the superuser (on `database`, default postgres). */
  async query(text: string, values: unknown[] = [], database = 'postgres'): Promise<Array<Record<string, unknown>>> {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: this.urlFor(database) });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
