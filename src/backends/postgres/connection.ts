import pg from 'pg';
import type { ServerObserver } from '../../observability/observer.js';
import { currentRequestCost } from '../request-cost.js';
import { log } from '../../log.js';
import { describePostgresError, storeError } from './errors.js';
import type { PostgresSettings } from './settings.js';

export type { PostgresSettings } from './settings.js';

/** Connection options shared by the pool and the listen connection. */
export function clientConfig(settings: PostgresSettings, url: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: applicationName.slice(0, 63),
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: true,
  };
}

/**
 * The pool every command goes through, instrumented like the Redis client: each query is timed,
 * reported under its operation name and added to the current request's cost. Errors are mapped to
 * the seam's errors; an idle client's error is logged, never thrown (node-postgres emits it on the
 * pool, and an EventEmitter error nobody listens to would end the process).
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  private lastProblem: string | undefined;

  constructor(
    readonly settings: PostgresSettings,
    private readonly observer: ServerObserver,
    applicationName: string,
  ) {
    this.pool = new pg.Pool({
      ...clientConfig(settings, settings.url, applicationName),
      max: settings.poolSize,
      idleTimeoutMillis: 30_000,
      statement_timeout: settings.statementTimeoutMs,
      // A server that stops answering without closing the socket: the client gives up too.
      query_timeout: settings.statementTimeoutMs + 1000,
    });
    this.pool.on('error', (error) => this.problem(error));
  }

  /** Logs a connection problem once until the next success. */
  problem(error: unknown): void {
    const reason = describePostgresError(error);
    if (reason !== this.lastProblem) log.warn('postgres connection problem', { reason });
    this.lastProblem = reason;
  }

  /** Why the last command failed, until one succeeds. */
  get lastError(): string | undefined {
    return this.lastProblem;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(operation: string, text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.measured(operation, () => this.pool.query<R>(text, values));
  }

  /** Runs `work` in one transaction on one pooled client (rolled back when it throws). */
  async transaction<T>(operation: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.measured(operation, async () => {
      const client = await this.pool.connect();
      // A checked-out client's errors are emitted on the client, not the pool.
      const onError = (error: Error) => this.problem(error);
      client.on('error', onError);
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = error;
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken instanceof Error && !('code' in broken) ? broken : undefined);
      }
    });
  }

  private async measured<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const cost = currentRequestCost();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      this.lastProblem = undefined;
      return result;
    } catch (error) {
      const mapped = storeError(error);
      if (mapped.name === 'StoreUnavailableError') this.problem(error);
      throw mapped;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.observer.storeCommand(operation, seconds, ok);
      if (cost) {
        cost.storeCommands += 1;
        cost.storeSeconds += seconds;
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}

/** A quoted identifier (schema, channel). */
export const ident = (name: string): string => pg.escapeIdentifier(name);
