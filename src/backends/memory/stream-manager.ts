import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { ListenerState } from '../../streams/listener-state.js';
import {
  compareEntryIds,
  type InstanceEnvelope,
  type ListenOptions,
  type StreamEvent,
  type StreamListener,
  type StreamManager,
} from '../../streams/stream-manager.js';

interface LogEntry {
  entryId: string;
  message: JSONRPCMessage | undefined;
  publishedAt: number;
}

interface StreamLog {
  entries: LogEntry[];
  expiresAt: number;
  /** The newest entry dropped to keep the log within its bound: a resume from before it has missed events. */
  trimmedThrough?: string;
}

export interface InMemoryStreamOptions {
  retentionSeconds: number;
  maxEntriesPerStream: number;
  sessionExists: (sessionId: string) => Promise<boolean>;
}

/** Single-process delivery: logs in a Map, listeners called synchronously on publish. */
export class InMemoryStreamManager implements StreamManager {
  readonly deliveryPath = 'local' as const;
  readonly instanceId = randomBytes(9).toString('base64url');
  private readonly logs = new Map<string, StreamLog>();
  private readonly listeners = new Map<string, Set<ListenerState>>();
  private readonly instanceHandlers: Array<(envelope: InstanceEnvelope) => void> = [];
  private lastMs = 0;
  private seq = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: InMemoryStreamOptions) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  private key(sessionId: string, streamKey: string): string {
    return `${sessionId}\u0000${streamKey}`;
  }

  private nextEntryId(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq += 1;
    }
    return `${this.lastMs}-${this.seq}`;
  }

  private append(sessionId: string, streamKey: string, message: JSONRPCMessage | undefined): LogEntry {
    const key = this.key(sessionId, streamKey);
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = { entries: [], expiresAt: 0 }));
    const entry = { entryId: this.nextEntryId(), message, publishedAt: Date.now() };
    log.entries.push(entry);
    if (log.entries.length > this.options.maxEntriesPerStream) log.trimmedThrough = log.entries.shift()!.entryId;
    log.expiresAt = Date.now() + this.options.retentionSeconds * 1000;
    return entry;
  }

  private toEvent(entry: LogEntry): StreamEvent {
    return entry.message === undefined
      ? { type: 'end', entryId: entry.entryId }
      : { type: 'message', entryId: entry.entryId, message: entry.message, publishedAt: entry.publishedAt };
  }

  private emit(sessionId: string, streamKey: string, event: StreamEvent): void {
    for (const listener of [...(this.listeners.get(this.key(sessionId, streamKey)) ?? [])]) listener.accept(event);
  }

  async publish(sessionId: string, streamKey: string, message: JSONRPCMessage, options: { requireSession?: boolean } = {}): Promise<string | undefined> {
    if (options.requireSession && !(await this.options.sessionExists(sessionId))) return undefined;
    const entry = this.append(sessionId, streamKey, message);
    this.emit(sessionId, streamKey, this.toEvent(entry));
    return entry.entryId;
  }

  async end(sessionId: string, streamKey: string): Promise<void> {
    const entry = this.append(sessionId, streamKey, undefined);
    this.emit(sessionId, streamKey, this.toEvent(entry));
  }

  async listen(sessionId: string, streamKey: string, options: ListenOptions, onEvent: (event: StreamEvent) => void): Promise<StreamListener> {
    const key = this.key(sessionId, streamKey);
    const listener = new ListenerState(sessionId, streamKey, options.listenerId, options.exclusive, onEvent, async (l) => {
      const set = this.listeners.get(key);
      set?.delete(l);
      if (set?.size === 0) this.listeners.delete(key);
    });
    const entries = this.logs.get(key)?.entries ?? [];
    if (options.after === undefined) {
      listener.setBacklog(entries.at(-1)?.entryId ?? '0-0', []);
    } else {
      const after = options.after;
      const log = this.logs.get(key);
      const lost = log === undefined ? after !== '0-0' : log.trimmedThrough !== undefined && compareEntryIds(after, log.trimmedThrough) < 0;
      const replay = entries.filter((e) => compareEntryIds(e.entryId, after) > 0).map((e) => this.toEvent(e));
      listener.setBacklog(after, lost ? [{ type: 'gap', after }, ...replay] : replay);
    }
    if (options.exclusive) {
      // A newer listener already holds the stream: this one yields at once (it would never hear that one's notice).
      const newest = [...(this.listeners.get(key) ?? [])]
        .filter((l) => l.exclusive && !l.isClosed)
        .reduce((max, l) => (l.listenerId > max ? l.listenerId : max), '');
      if (newest > options.listenerId) listener.accept({ type: 'takeover', listener: newest });
      else this.emit(sessionId, streamKey, { type: 'takeover', listener: options.listenerId });
    }
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return listener;
  }

  async disconnect(sessionId: string, streamKey: string): Promise<void> {
    this.emit(sessionId, streamKey, { type: 'takeover', listener: '' });
  }

  async terminate(sessionId: string): Promise<void> {
    const prefix = `${sessionId}\u0000`;
    for (const [key, set] of [...this.listeners]) {
      if (key.startsWith(prefix)) for (const listener of [...set]) listener.accept({ type: 'terminated' });
    }
    for (const key of [...this.logs.keys()]) if (key.startsWith(prefix)) this.logs.delete(key);
  }

  async sendToInstance(instanceId: string, envelope: InstanceEnvelope): Promise<boolean> {
    if (instanceId !== this.instanceId) return false;
    for (const handler of this.instanceHandlers) handler(envelope);
    return true;
  }

  async broadcast(envelope: InstanceEnvelope): Promise<void> {
    for (const handler of this.instanceHandlers) handler(envelope);
  }

  onInstanceMessage(handler: (envelope: InstanceEnvelope) => void): void {
    this.instanceHandlers.push(handler);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const set of this.listeners.values()) for (const listener of [...set]) listener.accept({ type: 'interrupted' });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, log] of this.logs) if (log.expiresAt <= now) this.logs.delete(key);
  }
}
