import type { SessionQuota } from '../../limits/session-quota.js';

export class InMemorySessionQuota implements SessionQuota {
  private readonly opened = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(key: string, limit: number) {
    const now = this.now();
    const recent = (this.opened.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= limit) {
      this.opened.set(key, recent);
      return { admitted: false as const, retryAfterMs: recent[0]! + this.windowMs - now };
    }
    recent.push(now);
    this.opened.set(key, recent);
    return { admitted: true as const };
  }
}
