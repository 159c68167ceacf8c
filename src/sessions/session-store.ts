import type { ClientCapabilities, Implementation, LoggingLevel } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.js';
import type { StoreKind } from '../observability/observer.js';

/** Everything a replica needs to serve a session it has never seen: serialisable, no live objects. */
export interface SessionRecord {
  id: string;
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo: Implementation;
  logLevel: LoggingLevel | undefined;
  /** Resource URIs this session subscribed to. */
  subscriptions: string[];
  createdAt: number;
  lastAccessAt: number;
  /** Who created the session (authorization on); only the same principal may use it. */
  principal: Principal | undefined;
}

export interface NewSession {
  id: string;
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo: Implementation;
  principal?: Principal;
}

/**
 * Where session metadata lives. Every method that reads a session also slides its TTL: a session
 * expires `ttlSeconds` after its last request. Implementations throw StoreUnavailableError when
 * their backend cannot be reached.
 */
export interface SessionStore {
  readonly kind: StoreKind;
  readonly ttlSeconds: number;
  /** Stores a new session; false when the id is taken. */
  create(session: NewSession): Promise<boolean>;
  /** The session, with its TTL slid and lastAccessAt set; undefined when unknown, expired or deleted. */
  touch(id: string): Promise<SessionRecord | undefined>;
  setLogLevel(id: string, level: LoggingLevel): Promise<boolean>;
  /**
   * Adds `uri` to the session's subscriptions and to the fleet-wide index of subscribers of `uri`;
   * throws SubscriptionLimitError when the session already holds `limit` other subscriptions.
   */
  subscribe(id: string, uri: string, limit?: number): Promise<boolean>;
  unsubscribe(id: string, uri: string): Promise<boolean>;
  /** Ids of sessions subscribed to `uri`; may still name sessions that expired since (see forgetSubscribers). */
  subscribers(uri: string): Promise<string[]>;
  /** How many sessions subscribe to `uri`, without reading their ids (Redis: may count expired ones until forgotten). */
  countSubscribers(uri: string): Promise<number>;
  /** Those of `ids` that are live sessions subscribed to `uri`: one read, whatever the number of subscribers. */
  subscribedAmong(uri: string, ids: string[]): Promise<string[]>;
  /** Drops from the subscribers of `uri` those of `ids` whose session is gone (expired: the index may outlive it). */
  forgetSubscribers(uri: string, ids: string[]): Promise<void>;
  /** Removes the session and its index entries; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Round trip to the backend, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Session ids are UUIDv4 (122 random bits). Anything else cannot be one of ours. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isWellFormedSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** A session asked for more resource subscriptions than it may hold. */
export class SubscriptionLimitError extends Error {
  constructor(readonly limit: number) {
    super(`a session may hold at most ${limit} resource subscriptions`);
    this.name = 'SubscriptionLimitError';
  }
}
