import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { PostgresProcess } from '../../src/fleet/postgres-process.js';
import type { PostgresSettings } from '../../src/backends/postgres/settings.js';
import { clientConfig, PgDatabase } from '../../src/backends/postgres/connection.js';
import { PgListener } from '../../src/backends/postgres/listener.js';
import { migrate } from '../../src/backends/postgres/schema.js';
import { NOOP_OBSERVER, type ServerObserver } from '../../src/observability/observer.js';

/** A private PostgreSQL cluster for the current test file, stopped and removed after it. */
export function usePostgresServer(): () => PostgresProcess {
  let server: PostgresProcess | undefined;
  beforeAll(async () => {
    server = await PostgresProcess.start();
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
  });
  return () => {
    if (!server) throw new Error('postgres has not started');
    return server;
  };
}

/** A schema name no other test uses: each test gets its own tables and channels. */
export const freshSchema = (): string => `t_${randomBytes(6).toString('hex')}`;

export function postgresSettings(url: string, overrides: Partial<PostgresSettings> = {}): PostgresSettings {
  return { url, listenUrl: undefined, schema: freshSchema(), poolSize: 5, statementTimeoutMs: 5000, connectTimeoutMs: 5000, ...overrides };
}

/** One replica's connections to a schema: the pool (schema migrated) and the LISTEN connection (connected). */
export interface PostgresReplica {
  db: PgDatabase;
  listener: PgListener;
  schema: string;
  settings: PostgresSettings;
  close(): Promise<void>;
}

export async function openPostgresReplica(
  url: string,
  schema = freshSchema(),
  name = 'contract',
  observer: ServerObserver = NOOP_OBSERVER,
): Promise<PostgresReplica> {
  const settings = postgresSettings(url, { schema });
  const db = new PgDatabase(settings, observer, name);
  await migrate(db, schema);
  const listener = new PgListener(() => clientConfig(settings, url, `${name}-listen`));
  const ready = new Promise<void>((resolve) => listener.on({ ready: resolve, lost: () => {} }));
  listener.start();
  await ready;
  return {
    db,
    listener,
    schema,
    settings,
    close: async () => {
      await listener.stop();
      await db.close();
    },
  };
}

/** Ends every LISTEN connection of the cluster (application_name `...-listen`), as a network fault would. */
export async function terminateListenConnections(server: PostgresProcess): Promise<number> {
  const rows = await server.query(`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name LIKE '%-listen%'`);
  return rows.length;
}
