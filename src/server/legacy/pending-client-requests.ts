import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import type { SessionSlots } from '../../limits/session-slots.js';

export interface AnswerTarget {
  deliverClientResponse(message: JSONRPCMessage): void;
}

interface Pending {
  target: AnswerTarget;
  originalId: RequestId;
  sessionId: string | undefined;
  createdAt: number;
}

const SEPARATOR = '~';
/** Instance ids are 9 random bytes, base64url: anything else in a response id is not ours to route. */
const INSTANCE_ID = /^[A-Za-z0-9_-]{12}$/;

export interface PendingOptions {
  /** Counts a session's waiting requests across the fleet; without it, each target counts its own. */
  slots?: SessionSlots;
  /** How long a slot outlives a replica that died holding it: the longest a request may wait. */
  slotTtlMs?: number;
  /** Past this age a request nobody answered is forgotten. */
  maxAgeMs?: number;
}

/**
 * Server-to-client requests (sampling, elicitation, roots) get fleet-unique ids naming the
 * instance that waits for the answer, `<instanceId>~<random>`, so the client's answer can be posted
 * to any replica and routed back, two replicas serving one session never reuse an id, and no client
 * can guess the id of a request sent to another (the sessionless mode has no session to check it against).
 * A session's waiting requests are counted in the store (SessionSlots), so its limit holds whatever
 * replica each was sent from; sessionless requests are counted per target.
 */
export class PendingClientRequests {
  private readonly pending = new Map<string, Pending>();
  /** Each target's waiting requests, original id -> fleet id: counting and lookups without a scan. */
  private readonly byTarget = new Map<AnswerTarget, Map<RequestId, string>>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly maxAgeMs: number;

  constructor(
    readonly instanceId: string,
    private readonly options: PendingOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 15 * 60_000;
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  /**
   * Throws PendingLimitError when the session (fleet-wide) or, without a session, `target` already
   * waits for `limit` answers.
   */
  async register(target: AnswerTarget, originalId: RequestId, sessionId: string | undefined, limit = Infinity): Promise<string> {
    const id = `${this.instanceId}${SEPARATOR}${randomBytes(12).toString('base64url')}`;
    const { slots } = this.options;
    if (slots && sessionId !== undefined && limit !== Infinity) {
      if (!(await slots.take(sessionId, id, limit, this.options.slotTtlMs ?? this.maxAgeMs))) throw new PendingLimitError(limit);
    } else if ((this.byTarget.get(target)?.size ?? 0) >= limit) {
      throw new PendingLimitError(limit);
    }
    this.pending.set(id, { target, originalId, sessionId, createdAt: Date.now() });
    let waiting = this.byTarget.get(target);
    if (!waiting) this.byTarget.set(target, (waiting = new Map()));
    waiting.set(originalId, id);
    return id;
  }

  /** The instance a response id belongs to, or undefined when the id is not one of ours. */
  static instanceOf(id: RequestId): string | undefined {
    if (typeof id !== 'string') return undefined;
    const at = id.indexOf(SEPARATOR);
    const instance = at > 0 ? id.slice(0, at) : undefined;
    return instance !== undefined && INSTANCE_ID.test(instance) ? instance : undefined;
  }

  /** The fleet id a target's request went out under, for the cancellation the SDK sends when it gives up. */
  fleetIdOf(target: AnswerTarget, originalId: RequestId): string | undefined {
    return this.byTarget.get(target)?.get(originalId);
  }

  /** Stops waiting for one request (the server cancelled it). */
  drop(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.releaseSlot(id, entry);
    const waiting = this.byTarget.get(entry.target);
    if (waiting?.get(entry.originalId) === id) waiting.delete(entry.originalId);
    if (waiting?.size === 0) this.byTarget.delete(entry.target);
  }

  /** Sent without waiting; a release the store misses lapses with the slot's TTL. */
  private releaseSlot(id: string, entry: Pending): void {
    if (this.options.slots && entry.sessionId !== undefined) this.options.slots.release(entry.sessionId, id).catch(() => {});
  }

  /** Hands the client's answer to the waiting handler; false when nothing waits for it in that session. */
  resolve(message: JSONRPCMessage & { id: RequestId }, sessionId: string | undefined): boolean {
    const key = String(message.id);
    const entry = this.pending.get(key);
    if (!entry || entry.sessionId !== sessionId) return false;
    this.drop(key);
    entry.target.deliverClientResponse({ ...message, id: entry.originalId } as JSONRPCMessage);
    return true;
  }

  forget(target: AnswerTarget): void {
    for (const id of this.byTarget.get(target)?.values() ?? []) {
      const entry = this.pending.get(id);
      this.pending.delete(id);
      if (entry) this.releaseSlot(id, entry);
    }
    this.byTarget.delete(target);
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.pending.clear();
    this.byTarget.clear();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.maxAgeMs;
    for (const [id, entry] of this.pending) if (entry.createdAt < cutoff) this.drop(id);
  }
}

/** A session has as many server-to-client requests waiting for answers as it may. */
export class PendingLimitError extends Error {
  constructor(readonly limit: number) {
    super(`this session already waits for ${limit} answers to server-to-client requests`);
    this.name = 'PendingLimitError';
  }
}
