/** A read under way: its result is kept only if nothing invalidated the session since it was sent. */
interface PendingRead {
  readonly pending: true;
}

interface CachedRead<T> {
  readonly pending: false;
  readonly value: T;
  /** Past this (the replica's clock), the entry is read again. */
  readonly validUntil: number;
}

export type ReadTicket = PendingRead;

export interface SessionReadCacheOptions {
  /** Entries kept at the most; the oldest go first. */
  maxEntries: number;
  /** The longest an entry is served without a read, whatever the invalidations say. */
  maxAgeMs: number;
}

/**
 * This replica's copy of session records it read, served without a store round trip while the
 * store keeps it coherent: the cache is enabled only while the store is known to send this replica an
 * invalidation for every change to a session key (client tracking), and each invalidation drops
 * the entry. A read's result is kept only if no invalidation of that session (and no loss of the
 * invalidation stream) came between sending the read and its answer, so a change that raced the
 * read is never hidden.
 */
export class SessionReadCache<T> {
  private readonly entries = new Map<string, PendingRead | CachedRead<T>>();
  private enabled = false;

  constructor(private readonly options: SessionReadCacheOptions) {}

  get active(): boolean {
    return this.enabled;
  }

  /** Invalidations are flowing again: entries may be kept from now on. */
  enable(): void {
    this.enabled = true;
  }

  /** Invalidations may be lost from now on: nothing cached can be trusted or kept. */
  disable(): void {
    this.enabled = false;
    this.entries.clear();
  }

  /** The cached value, or undefined when there is none (or it is too old to serve). */
  get(id: string, now: number): T | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.pending) return undefined;
    if (now < entry.validUntil) return entry.value;
    this.entries.delete(id);
    return undefined;
  }

  /** Marks a read about to be sent; undefined when the cache is off (its result is not kept). */
  beginRead(id: string): ReadTicket | undefined {
    if (!this.enabled) return undefined;
    const existing = this.entries.get(id);
    // A read already under way for this session keeps its ticket: whichever answers first fills it.
    if (existing?.pending) return existing;
    const ticket: PendingRead = { pending: true };
    this.place(id, ticket);
    return ticket;
  }

  /** Keeps a read's value if its ticket is still the session's (nothing invalidated it meanwhile). */
  finishRead(id: string, ticket: ReadTicket | undefined, value: T, validUntil: number, now: number): void {
    if (ticket === undefined || this.entries.get(id) !== ticket) return;
    this.entries.set(id, { pending: false, value, validUntil: Math.min(validUntil, now + this.options.maxAgeMs) });
  }

  /** A read that failed or found nothing: its ticket goes, so the next touch reads again. */
  abandonRead(id: string, ticket: ReadTicket | undefined): void {
    if (ticket !== undefined && this.entries.get(id) === ticket) this.entries.delete(id);
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private place(id: string, entry: PendingRead | CachedRead<T>): void {
    this.entries.delete(id);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, entry);
  }
}
