import pg from 'pg';
import { log } from '../../log.js';
import { StoreUnavailableError } from '../store-errors.js';
import { ident } from './connection.js';
import { describePostgresError } from './errors.js';

/** Called in order for each notification of a channel; a returned promise holds back the next one. */
export type NotificationHandler = (payload: string) => void | Promise<void>;

export interface ListenerEvents {
  /** LISTEN is in place for every channel: notifications flow from now on. */
  ready(): void;
  /** The connection was lost: notifications sent from now until the next ready() are missed. */
  lost(): void;
}

/**
 * The replica's one LISTEN connection (outside the pool, and never in a transaction: notifications
 * are held while a transaction is open). When it is lost, it tells its subscribers and reconnects
 * with backoff, LISTENing every channel again before it says ready.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private readonly channels = new Map<string, Set<NotificationHandler>>();
  /** Per channel, the delivery under way: the next notification waits for it. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly subscribers: ListenerEvents[] = [];
  /** LISTEN commands under way, so a second handler of the channel waits for it too. */
  private readonly pending = new Map<string, Promise<void>>();
  private lastProblem: string | undefined;

  constructor(private readonly config: () => pg.ClientConfig) {}

  get ready(): boolean {
    return this.connected;
  }

  get problem(): string | undefined {
    return this.lastProblem;
  }

  on(events: ListenerEvents): void {
    this.subscribers.push(events);
  }

  /** Connects in the background, and again whenever the connection is lost, until stop(). */
  start(): void {
    if (this.client || this.stopped) return;
    void this.connect();
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    if (this.stopped) return;
    const client = new pg.Client(this.config());
    this.client = client;
    let gone = false;
    const lose = (error?: unknown) => {
      if (gone) return;
      gone = true;
      if (error !== undefined) this.report(error);
      const wasConnected = this.connected;
      this.connected = false;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (wasConnected) for (const events of this.subscribers) this.guard(() => events.lost());
      this.scheduleReconnect();
    };
    client.on('error', lose);
    client.on('end', () => lose());
    client.on('notification', (notice) => this.dispatch(notice.channel, notice.payload ?? ''));
    try {
      await client.connect();
      const names = [...this.channels.keys()];
      if (names.length > 0) await client.query(names.map((name) => `LISTEN ${ident(name)};`).join(' '));
      if (gone || this.stopped) return;
      this.connected = true;
      this.attempt = 0;
      if (this.lastProblem !== undefined) log.info('postgres listen connection ready');
      this.lastProblem = undefined;
      for (const events of this.subscribers) this.guard(() => events.ready());
    } catch (error) {
      lose(error);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const delay = Math.min(50 * 2 ** this.attempt++, 2000);
    this.retry = setTimeout(() => void this.connect(), delay);
    this.retry.unref();
  }

  private report(error: unknown): void {
    const reason = describePostgresError(error);
    if (reason !== this.lastProblem) log.warn('postgres listen connection problem', { reason });
    this.lastProblem = reason;
  }

  private guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      log.warn('postgres notification subscriber failed', { reason: error instanceof Error ? error.message : String(error) });
    }
  }

  private dispatch(channel: string, payload: string): void {
    const handlers = this.channels.get(channel);
    if (!handlers || handlers.size === 0) return;
    const previous = this.queues.get(channel) ?? Promise.resolve();
    const next = previous
      .then(() => Promise.all([...handlers].map((handler) => handler(payload))))
      .then(
        () => {},
        (error: unknown) => log.warn('postgres notification handler failed', { channel, reason: error instanceof Error ? error.message : String(error) }),
      );
    this.queues.set(channel, next);
    void next.then(() => {
      if (this.queues.get(channel) === next) this.queues.delete(channel);
    });
  }

  /**
   * Adds a handler; the first one of a channel LISTENs before this resolves, so whatever is
   * committed afterwards reaches it. Throws StoreUnavailableError while the connection is down.
   */
  async listen(channel: string, handler: NotificationHandler): Promise<void> {
    if (!this.connected || !this.client) throw new StoreUnavailableError(`PostgreSQL listen connection is not connected (${this.lastProblem ?? 'connecting'})`);
    let handlers = this.channels.get(channel);
    const first = handlers === undefined;
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
    if (!first) return this.pending.get(channel);
    const listening = this.client.query(`LISTEN ${ident(channel)}`).then(() => {});
    this.pending.set(
      channel,
      listening.catch(() => {}),
    );
    try {
      await listening;
    } catch (error) {
      handlers.delete(handler);
      if (handlers.size === 0) this.channels.delete(channel);
      throw new StoreUnavailableError(describePostgresError(error), { cause: error });
    } finally {
      this.pending.delete(channel);
    }
  }

  async unlisten(channel: string, handler: NotificationHandler): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    handlers.delete(handler);
    if (handlers.size > 0) return;
    this.channels.delete(channel);
    if (this.connected && this.client) await this.client.query(`UNLISTEN ${ident(channel)}`).catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.end().catch(() => {});
  }
}
