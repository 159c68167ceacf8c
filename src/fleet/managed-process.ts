import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { track, untrack } from './reaper.js';

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended to this file. */
  logFile: string;
  /** When set, output is also copied to this process's stdout, each line prefixed with it. */
  mirrorPrefix?: string;
  /**
   * In a process group of its own: a terminal's Ctrl-C then reaches the launcher alone, which stops
   * the processes in order (a replica drains while its Redis still runs), not every process at once.
   */
  detached?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output goes to a log file, killed with the launcher if it is still running. */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    track(child.pid);
    this.exited = new Promise((resolve) => {
      const done = (exit: Exit) => {
        if (this.exit) return;
        this.exit = exit;
        untrack(child.pid);
        resolve(exit);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: null, signal: null }));
    });
  }

  static spawn(command: string, args: string[], options: SpawnOptions): ManagedProcess {
    const log = fs.openSync(options.logFile, 'a');
    try {
      const mirror = options.mirrorPrefix !== undefined;
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        detached: options.detached ?? false,
        stdio: ['ignore', mirror ? 'pipe' : log, mirror ? 'pipe' : log],
      });
      if (mirror) {
        for (const stream of [child.stdout, child.stderr]) {
          stream?.on('data', (chunk: Buffer) => {
            fs.appendFileSync(options.logFile, chunk);
            const lines = chunk.toString().replace(/\n$/, '').split('\n');
            process.stdout.write(lines.map((line) => `${options.mirrorPrefix}${line}\n`).join(''));
          });
        }
      }
      return new ManagedProcess(child, options.logFile);
    } finally {
      fs.closeSync(log);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if the process is still there. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    if (signal === 'SIGKILL') return this.exited;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The end of the log file, for error messages. */
  tail(maxBytes = 4000): string {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      return text.length > maxBytes ? `...${text.slice(-maxBytes)}` : text;
    } catch {
      return '';
    }
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
