import { createHash, randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { ListenerState } from '../../streams/listener-state.js';
import type { InstanceEnvelope, ListenOptions, StreamEvent, StreamListener, StreamManager } from '../../streams/stream-manager.js';
import { ident, type PgDatabase } from './connection.js';
import type { PgListener } from './listener.js';
import { channelsOf, type Channels } from './schema.js';
import { fitsNotification, Spill } from './spill.js';

export interface PgStreamOptions {
  db: PgDatabase;
  listener: PgListener;
  schema: string;
  retentionSeconds: number;
  maxEntriesPerStream: number;
  instanceId?: string;
}

type ChannelHandler = (payload: string) => void | Promise<void>;

/**
 * Cross-replica delivery on PostgreSQL. Each stream has a head row (its last sequence number, how
 * far it was trimmed, its exclusive owner) and its events in a log table. An append is one
 * statement: it bumps the head (whose row lock serialises appends to one stream, so commit order is
 * id order and NOTIFY order), inserts the event, trims the log and notifies the session's channel
 * (`<schema>_s_<md5(session)>`), which a replica LISTENs only while it holds one of its streams.
 * Entry ids are `<seq>-0`. A notification carries `E<stream>\n<id>\n<publishedAt>\n<end>\n<message>`;
 * one that would not fit NOTIFY's 8000 bytes carries `R<stream>\n<seq>` and its listeners read the
 * event from the log, in turn with the channel's other notifications, so none overtakes another.
 */
/**
 * Where a new head's sequence starts: the time in microseconds. The sweeper drops a head idle for
 * the retention period, and a head made again must not reuse ids a listener or a client already
 * holds (they would drop the new entries as seen): a later head starts past every id an earlier
 * one could have reached unless it appended a million entries a second. So a log's ids need not
 * start at 1: it is trimmed once it holds more than its bound (its oldest entry is at or before
 * the one that falls out).
 */
const firstSeq = (): string => String(Date.now() * 1000);

export class PgStreamManager implements StreamManager {
  readonly kind = 'postgres' as const;
  readonly deliveryPath = 'store' as const;
  readonly instanceId: string;
  private readonly instanceHandlers: Array<(envelope: InstanceEnvelope) => void> = [];
  private readonly listeners = new Set<ListenerState>();
  private readonly channels: Channels;
  private readonly heads: string;
  private readonly events: string;
  private readonly sessions: string;
  private readonly instances: string;
  private readonly spill: Spill;

  constructor(private readonly options: PgStreamOptions) {
    this.instanceId = options.instanceId ?? randomBytes(9).toString('base64url');
    this.channels = channelsOf(options.schema);
    const s = ident(options.schema);
    this.heads = `${s}.stream_heads`;
    this.events = `${s}.stream_events`;
    this.sessions = `${s}.sessions`;
    this.instances = `${s}.instances`;
    this.spill = new Spill(options.db, options.schema);
    // Notifications sent while the LISTEN connection is down are lost: every listener is told, so
    // its client reconnects with Last-Event-ID and replays them from the log.
    options.listener.on({
      ready: () => {},
      lost: () => {
        for (const listener of [...this.listeners]) listener.accept({ type: 'interrupted' });
      },
    });
  }

  /** LISTENs this instance's own channel and the broadcast channel; call once before serving. */
  async start(): Promise<void> {
    const deliver = async (payload: string) => {
      const text = await this.spill.resolve(payload);
      if (text === undefined) return;
      let envelope: InstanceEnvelope;
      try {
        envelope = JSON.parse(text) as InstanceEnvelope;
      } catch {
        return;
      }
      for (const handler of this.instanceHandlers) handler(envelope);
    };
    await this.options.listener.listen(this.channels.instance(this.instanceId), deliver);
    await this.options.listener.listen(this.channels.instances, deliver);
  }

  private sessionChannel(sessionId: string): string {
    return `${this.options.schema}_s_${createHash('md5').update(sessionId).digest('hex')}`;
  }

  async publish(sessionId: string, streamKey: string, message: JSONRPCMessage, options: { requireSession?: boolean } = {}): Promise<string | undefined> {
    return this.append(sessionId, streamKey, JSON.stringify(message), false, options.requireSession ?? false);
  }

  async end(sessionId: string, streamKey: string): Promise<void> {
    await this.append(sessionId, streamKey, '', true, false);
  }

  private async append(sessionId: string, streamKey: string, message: string, end: boolean, requireSession: boolean): Promise<string | undefined> {
    const publishedAt = Date.now();
    const head = `E${streamKey}\n`;
    const tail = `\n${publishedAt}\n${end ? '1' : '0'}\n${message}`;
    // 20 digits of a sequence number and its "-0" at the most.
    const inline = fitsNotification(head + '0'.repeat(22) + tail);
    const { rows } = await this.options.db.query<{ seq: string }>(
      'stream_publish',
      `WITH live AS (
         SELECT NOT $7::boolean OR EXISTS (SELECT 1 FROM ${this.sessions} WHERE id = $1 AND expires_at > now()) AS ok
       ), head AS (
         INSERT INTO ${this.heads} AS h (session_id, stream_key, last_seq, trimmed_to, updated_at)
         SELECT $1, $2, $11::bigint, 0, now() FROM live WHERE ok
         ON CONFLICT (session_id, stream_key) DO UPDATE
           SET last_seq = h.last_seq + 1,
             trimmed_to = CASE
               WHEN h.last_seq + 1 - $6 >= coalesce((SELECT min(seq) FROM ${this.events} WHERE session_id = $1 AND stream_key = $2), h.last_seq + 1)
               THEN greatest(h.trimmed_to, h.last_seq + 1 - $6) ELSE h.trimmed_to END,
             updated_at = now()
         RETURNING last_seq, trimmed_to
       ), added AS (
         INSERT INTO ${this.events} (session_id, stream_key, seq, is_end, message, published_at)
         SELECT $1, $2, last_seq, $4, $3, $5 FROM head RETURNING seq
       ), trimmed AS (
         DELETE FROM ${this.events} WHERE session_id = $1 AND stream_key = $2 AND seq <= (SELECT trimmed_to FROM head)
       )
       SELECT seq::text AS seq, pg_notify(${this.channels.sessionSql},
         CASE WHEN $8::boolean THEN $9 || seq || '-0' || $10 ELSE 'R' || $2 || E'\\n' || seq END)
       FROM added`,
      [sessionId, streamKey, message, end, publishedAt, this.options.maxEntriesPerStream, requireSession, inline, head, tail, firstSeq()],
    );
    const seq = rows[0]?.seq;
    return seq === undefined ? undefined : `${seq}-0`;
  }

  async listen(sessionId: string, streamKey: string, options: ListenOptions, onEvent: (event: StreamEvent) => void): Promise<StreamListener> {
    const channel = this.sessionChannel(sessionId);
    const handler: ChannelHandler = async (payload) => {
      const event = await this.parsePayload(sessionId, payload, streamKey);
      if (event) listener.accept(event);
    };
    const listener: ListenerState = new ListenerState(sessionId, streamKey, options.listenerId, options.exclusive, onEvent, async () => {
      this.listeners.delete(listener);
      await this.options.listener.unlisten(channel, handler);
    });
    this.listeners.add(listener);
    try {
      await this.options.listener.listen(channel, handler);
      if (options.after === undefined) {
        const { rows } = await this.options.db.query<{ last_seq: string }>(
          'stream_head',
          `SELECT last_seq::text FROM ${this.heads} WHERE session_id = $1 AND stream_key = $2`,
          [sessionId, streamKey],
        );
        listener.setBacklog(`${rows[0]?.last_seq ?? 0}-0`, []);
      } else {
        listener.setBacklog(options.after, await this.replay(sessionId, streamKey, options.after));
      }
      if (options.exclusive) {
        const owner = await this.claim(sessionId, streamKey, options.listenerId, channel);
        if (owner !== options.listenerId) listener.accept({ type: 'takeover', listener: owner });
      }
    } catch (error) {
      await listener.close();
      throw error;
    }
    return listener;
  }

  /**
   * The entries after `after`, preceded by a gap when the log no longer holds all of them: it was
   * trimmed past the position, or it is gone (expired or terminated) while the client had one.
   */
  private async replay(sessionId: string, streamKey: string, after: string): Promise<StreamEvent[]> {
    const [position = '0'] = after.split('-');
    const { rows } = await this.options.db.query<{ seq: string | null; is_end: boolean; message: string; published_at: string; trimmed_to: string | null }>(
      'stream_replay',
      `SELECT e.seq::text, e.is_end, e.message, e.published_at::text, h.trimmed_to::text
       FROM (SELECT 1) one
       LEFT JOIN ${this.heads} h ON h.session_id = $1 AND h.stream_key = $2
       LEFT JOIN ${this.events} e ON e.session_id = $1 AND e.stream_key = $2 AND e.seq > $3::numeric
       ORDER BY e.seq`,
      [sessionId, streamKey, position],
    );
    const trimmedTo = rows[0]?.trimmed_to;
    const lost = trimmedTo === null || trimmedTo === undefined ? after !== '0-0' : BigInt(position) < BigInt(trimmedTo);
    const replay = rows.filter((row) => row.seq !== null).map((row) => toEvent(row.seq!, row.is_end, row.message, row.published_at));
    return lost ? [{ type: 'gap', after }, ...replay] : replay;
  }

  /**
   * Claims an exclusive stream for the newest listener: the stored owner is replaced only by a newer
   * listener id (ids compare bytewise, as in JavaScript), and the winner is announced. A listener
   * that opened while a newer one holds the stream learns it from the answer.
   */
  private async claim(sessionId: string, streamKey: string, listenerId: string, channel: string): Promise<string> {
    const { rows } = await this.options.db.query<{ owner: string }>(
      'stream_claim',
      `WITH claimed AS (
         INSERT INTO ${this.heads} AS h (session_id, stream_key, owner_listener, last_seq, updated_at) VALUES ($1, $2, $3, $5::bigint - 1, now())
         ON CONFLICT (session_id, stream_key) DO UPDATE
           SET owner_listener = CASE WHEN h.owner_listener IS NULL OR h.owner_listener < EXCLUDED.owner_listener THEN EXCLUDED.owner_listener ELSE h.owner_listener END
         RETURNING owner_listener
       )
       SELECT owner_listener AS owner, CASE WHEN owner_listener = $3 THEN pg_notify($4, 'K' || $2 || E'\\n' || $3) END FROM claimed`,
      [sessionId, streamKey, listenerId, channel, firstSeq()],
    );
    return rows[0]?.owner ?? listenerId;
  }

  private async parsePayload(sessionId: string, payload: string, streamKey: string): Promise<StreamEvent | undefined> {
    const kind = payload[0];
    if (kind === 'T') return { type: 'terminated' };
    const newline = payload.indexOf('\n');
    if (newline < 0 || payload.slice(1, newline) !== streamKey) return undefined;
    const rest = payload.slice(newline + 1);
    if (kind === 'K') return { type: 'takeover', listener: rest };
    if (kind === 'R') return this.readEntry(sessionId, streamKey, rest);
    if (kind !== 'E') return undefined;
    const parts: string[] = [];
    let remaining = rest;
    for (let i = 0; i < 3; i++) {
      const at = remaining.indexOf('\n');
      if (at < 0) return undefined;
      parts.push(remaining.slice(0, at));
      remaining = remaining.slice(at + 1);
    }
    const [entryId, publishedAt, end] = parts as [string, string, string];
    return end === '1'
      ? { type: 'end', entryId }
      : { type: 'message', entryId, message: JSON.parse(remaining) as JSONRPCMessage, publishedAt: Number(publishedAt) };
  }

  /** An entry too large for its notification, read from the log; undefined when it is gone already (trimmed, terminated). */
  private async readEntry(sessionId: string, streamKey: string, seq: string): Promise<StreamEvent | undefined> {
    const { rows } = await this.options.db.query<{ is_end: boolean; message: string; published_at: string }>(
      'stream_read',
      `SELECT is_end, message, published_at::text FROM ${this.events} WHERE session_id = $1 AND stream_key = $2 AND seq = $3`,
      [sessionId, streamKey, seq],
    );
    const row = rows[0];
    return row && toEvent(seq, row.is_end, row.message, row.published_at);
  }

  async disconnect(sessionId: string, streamKey: string): Promise<void> {
    await this.options.db.query('stream_disconnect', `SELECT pg_notify(${this.channels.sessionSql}, 'K' || $2 || E'\\n')`, [sessionId, streamKey]);
  }

  async terminate(sessionId: string): Promise<void> {
    await this.options.db.query(
      'stream_terminate',
      `WITH events AS (DELETE FROM ${this.events} WHERE session_id = $1), heads AS (DELETE FROM ${this.heads} WHERE session_id = $1)
       SELECT pg_notify(${this.channels.sessionSql}, 'T')`,
      [sessionId],
    );
  }

  /** False unless the instance is alive and its LISTEN connection up (NOTIFY itself counts no receivers). */
  async sendToInstance(instanceId: string, envelope: InstanceEnvelope): Promise<boolean> {
    const notified = await this.spill.notify(
      'instance_send',
      this.channels.instance(instanceId),
      JSON.stringify(envelope),
      `EXISTS (SELECT 1 FROM ${this.instances} WHERE instance_id = $3 AND alive_until > now() AND listening)`,
      [instanceId],
    );
    return notified;
  }

  async broadcast(envelope: InstanceEnvelope): Promise<void> {
    await this.spill.notify('instance_broadcast', this.channels.instances, JSON.stringify(envelope));
  }

  onInstanceMessage(handler: (envelope: InstanceEnvelope) => void): void {
    this.instanceHandlers.push(handler);
  }

  async close(): Promise<void> {
    for (const listener of [...this.listeners]) listener.accept({ type: 'interrupted' });
    for (const listener of [...this.listeners]) await listener.close();
  }
}

function toEvent(seq: string, isEnd: boolean, message: string, publishedAt: string): StreamEvent {
  const entryId = `${seq}-0`;
  return isEnd ? { type: 'end', entryId } : { type: 'message', entryId, message: JSON.parse(message) as JSONRPCMessage, publishedAt: Number(publishedAt) };
}
