/**
 * How many sessions a key (a principal, or the whole fleet) opened within the last window (the
 * session TTL): `admit` counts one more, or answers how many ms until one leaves the window. A
 * session lives at least that long unless deleted, so this bounds the live sessions of a client
 * that keeps opening them; one that stays active past the window no longer counts.
 */
export interface SessionQuota {
  admit(key: string, limit: number): Promise<{ admitted: true } | { admitted: false; retryAfterMs: number }>;
}
