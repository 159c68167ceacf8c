export interface PostgresSettings {
  /** postgres:// or postgresql:// URL; TLS through its sslmode. */
  url: string;
  /** A direct (not transaction-pooled) URL for the LISTEN connection; `url` when unset. */
  listenUrl: string | undefined;
  /** Schema holding the fleet's tables; its name also prefixes the notification channels. */
  schema: string;
  poolSize: number;
  /** Longest a statement may run (server side) or wait for its answer (client side). */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,23}$/;
