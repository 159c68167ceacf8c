import type { LoggingLevel } from '@modelcontextprotocol/server';
import { SubscriptionLimitError, type NewSession, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';

interface Entry {
  record: SessionRecord;
  expiresAt: number;
}

/** One process, nothing to install: a Map with sliding expiry, swept periodically. */
export class InMemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  private readonly sessions = new Map<string, Entry>();
  private readonly subscriptionIndex = new Map<string, Set<string>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly ttlSeconds: number,
    private readonly onExpired: (id: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(ttlSeconds * 1000, 30_000));
    this.sweeper.unref();
  }

  async create(session: NewSession): Promise<boolean> {
    if (this.live(session.id)) return false;
    const at = this.now();
    this.sessions.set(session.id, {
      record: { ...structuredClone(session), principal: session.principal, logLevel: undefined, subscriptions: [], createdAt: at, lastAccessAt: at },
      expiresAt: at + this.ttlSeconds * 1000,
    });
    return true;
  }

  async touch(id: string): Promise<SessionRecord | undefined> {
    const entry = this.live(id);
    if (!entry) return undefined;
    const at = this.now();
    entry.record.lastAccessAt = at;
    entry.expiresAt = at + this.ttlSeconds * 1000;
    return structuredClone(entry.record);
  }

  async setLogLevel(id: string, level: LoggingLevel): Promise<boolean> {
    const entry = this.live(id);
    if (!entry) return false;
    entry.record.logLevel = level;
    return true;
  }

  async subscribe(id: string, uri: string, limit = Infinity): Promise<boolean> {
    const entry = this.live(id);
    if (!entry) return false;
    if (!entry.record.subscriptions.includes(uri)) {
      if (entry.record.subscriptions.length >= limit) throw new SubscriptionLimitError(limit);
      entry.record.subscriptions.push(uri);
    }
    let subscribers = this.subscriptionIndex.get(uri);
    if (!subscribers) this.subscriptionIndex.set(uri, (subscribers = new Set()));
    subscribers.add(id);
    return true;
  }

  async unsubscribe(id: string, uri: string): Promise<boolean> {
    const entry = this.live(id);
    if (!entry) return false;
    entry.record.subscriptions = entry.record.subscriptions.filter((u) => u !== uri);
    this.removeFromIndex(id, uri);
    return true;
  }

  async subscribers(uri: string): Promise<string[]> {
    return [...(this.subscriptionIndex.get(uri) ?? [])].filter((id) => this.live(id) !== undefined);
  }

  async countSubscribers(uri: string): Promise<number> {
    return (await this.subscribers(uri)).length;
  }

  async subscribedAmong(uri: string, ids: string[]): Promise<string[]> {
    const subscribers = this.subscriptionIndex.get(uri);
    return ids.filter((id) => subscribers?.has(id) && this.live(id) !== undefined);
  }

  async forgetSubscribers(uri: string, ids: string[]): Promise<void> {
    for (const id of ids) if (this.live(id) === undefined) this.removeFromIndex(id, uri);
  }

  async delete(id: string): Promise<boolean> {
    const entry = this.live(id);
    if (!entry) return false;
    this.remove(id, entry);
    return true;
  }

  /** Whether the session is live, without sliding its TTL. */
  async exists(id: string): Promise<boolean> {
    return this.live(id) !== undefined;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(id: string): Entry | undefined {
    const entry = this.sessions.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(id, entry);
      this.onExpired(id);
      return undefined;
    }
    return entry;
  }

  private remove(id: string, entry: Entry): void {
    this.sessions.delete(id);
    for (const uri of entry.record.subscriptions) this.removeFromIndex(id, uri);
  }

  private removeFromIndex(id: string, uri: string): void {
    const subscribers = this.subscriptionIndex.get(uri);
    subscribers?.delete(id);
    if (subscribers?.size === 0) this.subscriptionIndex.delete(uri);
  }

  private sweep(): void {
    for (const id of [...this.sessions.keys()]) this.live(id);
  }
}
