import { ident, type PgDatabase } from './connection.js';

/** Every replica of every fleet takes this one lock to migrate: start-up DDL never runs concurrently. */
const MIGRATION_LOCK = 0x6d63_7066; // "mcpf"

/** The notification channels of a schema: its name prefixes each, so fleets sharing a database stay apart. */
export interface Channels {
  sessions: string;
  bus: string;
  instances: string;
  instance(instanceId: string): string;
  /** Per session: md5 of the id, so any id fits a channel name (at most 63 bytes). */
  sessionSql: string;
}

export function channelsOf(schema: string): Channels {
  return {
    sessions: `${schema}_sessions`,
    bus: `${schema}_bus`,
    instances: `${schema}_instances`,
    instance: (instanceId) => `${schema}_i_${instanceId}`,
    sessionSql: `'${schema}_s_' || md5($1)`,
  };
}

/**
 * Versioned migrations: each is applied once, in order, inside the lock's transaction, and the
 * schema records the highest applied. A migration is never edited once released; add the next one.
 */
function migrations(schema: string): string[][] {
  const s = ident(schema);
  const channels = channelsOf(schema);
  return [
    [
      `CREATE TABLE ${s}.sessions (
        id text PRIMARY KEY,
        record text NOT NULL,
        log_level text,
        slid_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL)`,
      `CREATE INDEX ON ${s}.sessions (expires_at)`,
      `CREATE TABLE ${s}.session_subscriptions (
        session_id text NOT NULL REFERENCES ${s}.sessions ON DELETE CASCADE,
        uri text NOT NULL,
        uri_hash text GENERATED ALWAYS AS (md5(uri)) STORED,
        ord bigserial,
        PRIMARY KEY (session_id, uri_hash))`,
      `CREATE INDEX ON ${s}.session_subscriptions (uri_hash)`,
      // Every change to what a replica caches of a session is announced, so read caches drop it.
      `CREATE FUNCTION ${s}.announce_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify(TG_ARGV[0], '*');
        ELSIF TG_TABLE_NAME = 'sessions' THEN
          PERFORM pg_notify(TG_ARGV[0], OLD.id);
        ELSIF TG_OP = 'DELETE' THEN
          PERFORM pg_notify(TG_ARGV[0], OLD.session_id);
        ELSE
          PERFORM pg_notify(TG_ARGV[0], NEW.session_id);
        END IF;
        RETURN NULL;
      END $$`,
      `CREATE TRIGGER session_changed AFTER UPDATE OR DELETE ON ${s}.sessions
        FOR EACH ROW EXECUTE FUNCTION ${s}.announce_session_change('${channels.sessions}')`,
      `CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON ${s}.sessions
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.announce_session_change('${channels.sessions}')`,
      `CREATE TRIGGER subscription_changed AFTER INSERT OR DELETE ON ${s}.session_subscriptions
        FOR EACH ROW EXECUTE FUNCTION ${s}.announce_session_change('${channels.sessions}')`,
      `CREATE TABLE ${s}.stream_heads (
        session_id text NOT NULL,
        stream_key text NOT NULL,
        last_seq bigint NOT NULL DEFAULT 0,
        trimmed_to bigint NOT NULL DEFAULT 0,
        owner_listener text COLLATE "C",
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, stream_key))`,
      `CREATE INDEX ON ${s}.stream_heads (updated_at)`,
      `CREATE TABLE ${s}.stream_events (
        session_id text NOT NULL,
        stream_key text NOT NULL,
        seq bigint NOT NULL,
        is_end boolean NOT NULL,
        message text NOT NULL,
        published_at bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, stream_key, seq))`,
      `CREATE INDEX ON ${s}.stream_events (created_at)`,
      `CREATE TABLE ${s}.instances (
        instance_id text PRIMARY KEY,
        alive_until timestamptz NOT NULL,
        listening boolean NOT NULL DEFAULT false)`,
      `CREATE TABLE ${s}.inflight (
        session_id text NOT NULL,
        stream_key text NOT NULL,
        instance_id text NOT NULL,
        request_ids text NOT NULL,
        since bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (session_id, stream_key))`,
      `CREATE INDEX ON ${s}.inflight (expires_at)`,
      `CREATE TABLE ${s}.spill (
        id bigserial PRIMARY KEY,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE ${s}.shared_state (
        key text PRIMARY KEY,
        value text NOT NULL,
        expires_at bigint NOT NULL)`,
      `CREATE INDEX ON ${s}.shared_state (expires_at)`,
      `CREATE TABLE ${s}.rate_counts (
        key text NOT NULL,
        window_start bigint NOT NULL,
        n integer NOT NULL,
        PRIMARY KEY (key, window_start))`,
      `CREATE INDEX ON ${s}.rate_counts (window_start)`,
      `CREATE TABLE ${s}.session_quota (
        key text NOT NULL,
        admitted_at bigint NOT NULL,
        token text NOT NULL,
        PRIMARY KEY (key, token))`,
      `CREATE INDEX ON ${s}.session_quota (key, admitted_at)`,
    ],
    [
      `CREATE TABLE ${s}.tasks (
        task_id text PRIMARY KEY,
        principal text NOT NULL,
        status text NOT NULL,
        indexed_owner text,
        version integer NOT NULL,
        record text NOT NULL,
        expires_at bigint NOT NULL)`,
      `CREATE INDEX ON ${s}.tasks (indexed_owner) WHERE indexed_owner IS NOT NULL`,
      `CREATE INDEX ON ${s}.tasks (principal) WHERE status IN ('working', 'input_required')`,
      `CREATE INDEX ON ${s}.tasks (expires_at)`,
    ],
    [
      `CREATE TABLE ${s}.session_slots (
        session_id text NOT NULL,
        slot text NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (session_id, slot))`,
      `CREATE INDEX ON ${s}.session_slots (expires_at)`,
    ],
  ];
}

export const SCHEMA_VERSION = migrations('x').length;

/**
 * Creates or upgrades the schema. Under a transaction-scoped advisory lock (a session-level one would
 * stick to one pooled connection), so replicas starting together apply each migration once: the
 * others wait, then find it applied. Returns the version the schema is at.
 */
export async function migrate(db: PgDatabase, schema: string): Promise<number> {
  const s = ident(schema);
  const steps = migrations(schema);
  return db.transaction('migrate', async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer NOT NULL)`);
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.schema_version`);
    const current = rows[0]?.version ?? 0;
    if (current > steps.length) throw new Error(`schema ${schema} is at version ${current}, newer than this server knows (${steps.length}): roll forward`);
    for (let version = current + 1; version <= steps.length; version++) {
      for (const statement of steps[version - 1]!) await client.query(statement);
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [version]);
    }
    return steps.length;
  });
}
