/** Counts events per key in fixed one-second windows; `take` says whether one more is allowed. */
export interface RateLimiter {
  take(key: string): Promise<boolean>;
}
