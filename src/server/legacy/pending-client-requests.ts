import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";

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

/**
 * Server-to-client requests (sampling, elicitation, roots) get fleet-unique ids naming the
 * instance that waits for the answer, `<instanceId>~<n>`, so the client's answer can be posted to
 * any replica and routed back, and two replicas serving one session never reuse an id.
 */
export class PendingClientRequests {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly instanceId: string,
    private readonly maxAgeMs = 15 * 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  register(target: AnswerTarget, originalId: RequestId, sessionId: string | undefined): string {
    const id = `${this.instanceId}${SEPARATOR}${++this.counter}`;
    this.pending.set(id, { target, originalId, sessionId, createdAt: Date.now() });
    return id;
  }

  /** The instance a response id belongs to, or undefined when the id is not one of ours. */
  static instanceOf(id: RequestId): string | undefined {
    if (typeof id !== 'string') return undefined;
    const at = id.indexOf(SEPARATOR);
    return at > 0 ? id.slice(0, at) : undefined;
  }

  /** Hands the client's answer to the waiting handler; false when nothing waits for it in that session. */
  resolve(message: JSONRPCMessage & { id: RequestId }, sessionId: string | undefined): boolean {
    const key = String(message.id);
    const entry = this.pending.get(key);
    if (!entry || entry.sessionId !== sessionId) return false;
    this.pending.delete(key);
    entry.target.deliverClientResponse({ ...message, id: entry.originalId } as JSONRPCMessage);
    return true;
  }

  forget(target: AnswerTarget): void {
    for (const [id, entry] of this.pending) if (entry.target === target) this.pending.delete(id);
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.pending.clear();
  }

  private sweep(): void {
    const cutoff = Date.now() - this.maxAgeMs;
    for (const [id, entry] of this.pending) if (entry.createdAt < cutoff) this.pending.delete(id);
  }
}
