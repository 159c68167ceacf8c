import path from 'node:path';
import { ManagedProcess } from './managed-process.js';
import { waitForOk } from './wait-ready.js';

export interface ReplicaOptions {
  name: string;
  port: number;
  metricsPort: number;
  /** The server entry point (dist/main.js), run with `args` after it. */
  main: string;
  args?: string[];
  /** The whole environment of the process, apart from the settings the replica decides (PORT, ...). */
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Copy the output to this terminal too. */
  mirror: boolean;
  cwd: string;
  /** How long SIGTERM's drain may take before the process is killed. */
  stopGraceMs: number;
  /** In a process group of its own (see ManagedProcess). */
  detached?: boolean;
  /** Awaited after each start, once the replica answers /readyz (the fleet waits for its load balancer). */
  afterStart?: (replica: Replica) => Promise<void>;
}

/** One `node dist/main.js` of the fleet, on ports that stay the same across restarts. */
export class Replica {
  readonly name: string;
  readonly port: number;
  readonly metricsPort: number;
  private process: ManagedProcess | undefined;

  constructor(private readonly options: ReplicaOptions) {
    this.name = options.name;
    this.port = options.port;
    this.metricsPort = options.metricsPort;
  }

  /** This replica's own MCP endpoint, bypassing the load balancer. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get readyUrl(): string {
    return `http://127.0.0.1:${this.port}/readyz`;
  }

  get logFile(): string {
    return path.join(this.options.logDir, `${this.name}.log`);
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** Starts the process (if it is not running) and waits until it answers /readyz with 200. */
  async start(): Promise<void> {
    if (this.running) return;
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(this.metricsPort),
      POD_NAME: this.name,
    };
    const started = ManagedProcess.spawn(process.execPath, [this.options.main, ...(this.options.args ?? [])], {
      env,
      cwd: this.options.cwd,
      logFile: this.logFile,
      detached: this.options.detached,
      mirrorPrefix: this.options.mirror ? `[${this.name}] ` : undefined,
    });
    this.process = started;
    try {
      await waitForOk(this.readyUrl, this.name, started);
    } catch (error) {
      await started.stop('SIGKILL');
      throw error;
    }
    await this.options.afterStart?.(this);
  }

  /**
   * Sends `signal` (SIGTERM by default: the replica drains) and waits for the process to exit;
   * after a SIGTERM it is killed if the drain outlasts the grace period.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.process?.stop(signal, this.options.stopGraceMs);
  }

  /** SIGTERM, wait for the drain and the exit, then start again on the same ports. */
  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.start();
  }
}
