import type { RedisSettings } from '../../config.js';

/** Where the replica tries to reach Redis, for logs: never a password. */
export function redisAddress(settings: RedisSettings): string {
  if (settings.clusterNodes.length > 0) return `cluster ${settings.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (settings.sentinels.length > 0)
    return `sentinels ${settings.sentinels.map((n) => `${n.host}:${n.port}`).join(',')} (master ${settings.sentinelName ?? '?'})`;
  const raw = settings.url ?? 'redis://127.0.0.1:6379';
  try {
    const url = new URL(raw);
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return 'REDIS_URL (unparsable)';
  }
}

export interface ConnectionReportOptions {
  address: string;
  warn: (message: string, fields: Record<string, unknown>) => void;
  info: (message: string, fields: Record<string, unknown>) => void;
  /** While a problem lasts, it is said again at most this often. */
  repeatMs?: number;
  now?: () => number;
}

/**
 * The connections' problems, said at a bounded rate: a new reason at once, the same reason again
 * once per `repeatMs` while it lasts (with how long and how many failures), and the recovery.
 */
export class ConnectionReport {
  private reason: string | undefined;
  private since = 0;
  private lastSaid = 0;
  private failures = 0;
  private readonly repeatMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ConnectionReportOptions) {
    this.repeatMs = options.repeatMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The current problem, or undefined while the connections are fine. */
  get problem(): string | undefined {
    return this.reason;
  }

  failed(reason: string): void {
    const now = this.now();
    this.failures += 1;
    if (reason !== this.reason) {
      if (this.reason === undefined) this.since = now;
      this.reason = reason;
      this.lastSaid = now;
      this.options.warn('redis connection problem', { reason, address: this.options.address });
      return;
    }
    if (now - this.lastSaid >= this.repeatMs) {
      this.lastSaid = now;
      this.options.warn('redis connection problem continues', {
        reason,
        address: this.options.address,
        forSeconds: Math.round((now - this.since) / 1000),
        failures: this.failures,
      });
    }
  }

  ready(): void {
    if (this.reason === undefined) return;
    this.options.info('redis connection ready', { address: this.options.address, afterSeconds: Math.round((this.now() - this.since) / 1000) });
    this.reason = undefined;
    this.failures = 0;
  }
}
