/** Bounds on workload state: clients can create keys (a bump of a new counter), so they must expire and be capped. */
export interface StateLimits {
  /** A key unwritten this long disappears. */
  ttlSeconds: number;
  /** Writes of new keys are refused while this many live keys exist. */
  maxKeys: number;
}

export class StateLimitError extends Error {
  constructor(readonly maxKeys: number) {
    super(`the fleet's shared state holds its maximum of ${maxKeys} keys; try again when unused ones have expired`);
    this.name = 'StateLimitError';
  }
}
