/**
 * Slots one session holds at once across the fleet (its server-to-client requests waiting for an
 * answer, on whichever replica sent them). `take` holds one more slot, named by the caller, while
 * the session holds fewer than `limit`; `release` frees it. A slot not released lapses `ttlMs`
 * after it was taken (the replica holding it died), so a crash never keeps a session's slots.
 */
export interface SessionSlots {
  take(sessionId: string, slot: string, limit: number, ttlMs: number): Promise<boolean>;
  release(sessionId: string, slot: string): Promise<void>;
}
