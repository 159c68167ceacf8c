import type { SessionSlots } from '../../limits/session-slots.js';

export class InMemorySessionSlots implements SessionSlots {
  /** Per session, each slot's expiry time. */
  private readonly held = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(sessionId: string, slot: string, limit: number, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const slots = this.held.get(sessionId) ?? new Map<string, number>();
    for (const [name, expiresAt] of slots) if (expiresAt <= now) slots.delete(name);
    if (slots.size >= limit) return false;
    slots.set(slot, now + ttlMs);
    this.held.set(sessionId, slots);
    return true;
  }

  async release(sessionId: string, slot: string): Promise<void> {
    const slots = this.held.get(sessionId);
    slots?.delete(slot);
    if (slots?.size === 0) this.held.delete(sessionId);
  }
}
